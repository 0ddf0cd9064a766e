-- Thames Valley Police domestic abuse crimes and incidents: monthly figures per district.
-- Each sheet of a workbook is logged on its own as '<workbook>#Crimes' or '<workbook>#Incidents';
-- the sheet names the measure. Every district, and the county's unallocated part, gets a figure
-- for every month a loaded sheet covers: the sheet's figure; 0 for an area the sheet leaves out
-- when nothing of the sheet was set aside; NULL 'not_available' when a row of the sheet was set
-- aside (a figure that did not reconcile, an unknown district, ...), since the missing figure
-- may be among those rows.

CREATE TABLE tvp_domestic_abuse AS
SELECT month, measure, area_code, value, source_file, row_number, sheet
FROM stg_tvp_domestic_abuse_accepted
ORDER BY month, measure, area_code;

CREATE TEMP TABLE obs_tvp_domestic_abuse AS
WITH delivered AS (
    SELECT source_file, lower(regexp_extract(source_file, '#([^#]*)$', 1)) AS measure,
           unnest(generate_series(period_start, period_end, INTERVAL 1 MONTH))::DATE AS month
    FROM stg_load_log
    WHERE source_id = 'tvp_domestic_abuse' AND status = 'loaded'
),
doubtful AS (
    SELECT DISTINCT source_file
    FROM stg_set_aside
    WHERE source_id = 'tvp_domestic_abuse' AND reason_code NOT IN ('totals_line', 'superseded')
),
covered AS (
    SELECT d.measure, a.area_code, d.month,
           bool_or(d.source_file IN (SELECT source_file FROM doubtful)) AS doubtful
    FROM delivered AS d
    CROSS JOIN (
        SELECT area_code FROM partnership_area WHERE area_type IN ('district', 'unallocated')
    ) AS a
    GROUP BY ALL
),
figures AS (
    SELECT measure, area_code, month, sum(value) AS value
    FROM tvp_domestic_abuse
    GROUP BY ALL
)
SELECT 'tvp_domestic_abuse' AS source_id, 'tvp_domestic_abuse.' || measure AS measure_id,
       area_code, month AS period_start, 'month' AS period_grain,
       CASE WHEN f.value IS NOT NULL THEN f.value WHEN NOT c.doubtful THEN 0 END::DOUBLE AS value,
       CASE WHEN f.value IS NULL AND c.doubtful THEN 'not_available' ELSE 'reported' END
           AS value_status
FROM covered AS c
FULL JOIN figures AS f USING (measure, area_code, month);
