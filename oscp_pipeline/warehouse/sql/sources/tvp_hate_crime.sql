-- Thames Valley Police hate crimes and incidents: the total and each strand, monthly per district.
-- The total (offences, each counted once) and each strand (offences flagged with it) are separate
-- measures, never added together. The extract leaves out a district, month and measure with no
-- offences, so every district, and the county's unallocated part (figures the force could not
-- place in a district), gets a figure for every measure in every month of a loaded file:
-- 0 when the file has no row for it and set nothing aside; NULL 'not_available' when rows of the
-- file were set aside (the missing figure may be among them).

CREATE TABLE tvp_hate_crime AS
SELECT month, measure, measure_id, area_code, strand, value, source_file, row_number
FROM stg_tvp_hate_crime_accepted
ORDER BY month, measure_id, area_code;

CREATE TEMP TABLE obs_tvp_hate_crime AS
WITH delivered AS (
    SELECT source_file,
           unnest(generate_series(period_start, period_end, INTERVAL 1 MONTH))::DATE AS month
    FROM stg_load_log
    WHERE source_id = 'tvp_hate_crime' AND status = 'loaded'
),
doubtful AS (
    SELECT DISTINCT source_file
    FROM stg_set_aside
    WHERE source_id = 'tvp_hate_crime' AND reason_code NOT IN ('totals_line', 'superseded')
),
covered AS (
    SELECT m.measure_id, a.area_code, d.month,
           bool_or(d.source_file IN (SELECT source_file FROM doubtful)) AS doubtful
    FROM delivered AS d
    CROSS JOIN (
        SELECT area_code FROM partnership_area WHERE area_type IN ('district', 'unallocated')
    ) AS a
    CROSS JOIN (SELECT measure_id FROM dim_measure WHERE source_id = 'tvp_hate_crime') AS m
    GROUP BY ALL
),
figures AS (
    SELECT measure_id, area_code, month, sum(value) AS value
    FROM tvp_hate_crime
    GROUP BY ALL
)
SELECT 'tvp_hate_crime' AS source_id, measure_id, area_code, month AS period_start,
       'month' AS period_grain,
       CASE WHEN f.value IS NOT NULL THEN f.value WHEN NOT c.doubtful THEN 0 END::DOUBLE AS value,
       CASE WHEN f.value IS NULL AND c.doubtful THEN 'not_available' ELSE 'reported' END
           AS value_status
FROM covered AS c
FULL JOIN figures AS f USING (measure_id, area_code, month);
