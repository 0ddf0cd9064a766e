-- District councils' quarterly fly-tipping returns: one row per district, quarter and land type,
-- and quarterly counts per district (each land type, and the total over land types). For every
-- quarter delivered, a land type a council did not list is 0; a council with no row at all for
-- that quarter made no return, so its figures are NULL and 'not_available', never 0.

CREATE TABLE district_flytipping_returns AS
SELECT financial_year, quarter_start, area_code, land_type, incidents, source_file, row_number
FROM stg_district_flytipping_returns_accepted
ORDER BY quarter_start, area_code, land_type;

CREATE TEMP TABLE obs_district_flytipping_returns AS
WITH delivered AS (
    SELECT DISTINCT
        unnest(generate_series(period_start, period_end, INTERVAL 3 MONTH))::DATE AS quarter_start
    FROM stg_load_log
    WHERE source_id = 'district_flytipping_returns' AND status = 'loaded'
        AND period_start IS NOT NULL
),
returned AS (
    SELECT DISTINCT area_code, quarter_start FROM district_flytipping_returns
),
land_measures AS (
    SELECT measure_id, replace(measure_id, 'district_flytipping_returns.', '') AS measure
    FROM dim_measure
    WHERE source_id = 'district_flytipping_returns'
        AND measure_id <> 'district_flytipping_returns.incidents_total'
),
counts AS (
    SELECT area_code, quarter_start, land_type || '_incidents' AS measure, sum(incidents) AS n
    FROM district_flytipping_returns
    GROUP BY ALL
),
by_land_type AS (
    SELECT m.measure_id, d.area_code, q.quarter_start,
           CASE WHEN r.area_code IS NOT NULL THEN coalesce(c.n, 0) END AS value
    FROM delivered AS q
    CROSS JOIN (SELECT area_code FROM partnership_area WHERE area_type = 'district') AS d
    CROSS JOIN land_measures AS m
    LEFT JOIN returned AS r ON r.area_code = d.area_code AND r.quarter_start = q.quarter_start
    LEFT JOIN counts AS c
        ON c.area_code = d.area_code AND c.quarter_start = q.quarter_start
        AND c.measure = m.measure
),
with_total AS (
    SELECT * FROM by_land_type
    UNION ALL
    SELECT 'district_flytipping_returns.incidents_total', area_code, quarter_start, sum(value)
    FROM by_land_type
    GROUP BY ALL
)
SELECT 'district_flytipping_returns' AS source_id, measure_id, area_code,
       quarter_start AS period_start, 'quarter' AS period_grain, value::DOUBLE AS value,
       CASE WHEN value IS NULL THEN 'not_available' ELSE 'reported' END AS value_status
FROM with_total;
