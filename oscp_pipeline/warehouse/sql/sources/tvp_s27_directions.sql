-- Thames Valley Police section 27 directions to leave: one row per direction, and monthly
-- counts per district. Months before the repeal whose quarterly file was loaded are zero-filled
-- (no directions is 0, not a gap). From the repeal (its break date in series_break) to the end
-- of the latest quarter delivered, the power did not exist: those months are NULL with
-- value_status 'not_applicable', never 0.

CREATE TABLE tvp_s27_directions AS
SELECT date_issued, month, area_code, age_band, gender, source_file, row_number
FROM stg_tvp_s27_directions_accepted
ORDER BY date_issued, source_file, row_number;

CREATE TEMP TABLE obs_tvp_s27_directions AS
WITH repeal AS (
    SELECT break_date FROM series_break WHERE measure_id = 'tvp_s27_directions.directions'
),
delivered AS (
    SELECT period_start, period_end
    FROM stg_load_log
    WHERE source_id = 'tvp_s27_directions' AND status = 'loaded'
),
delivered_months AS (
    SELECT DISTINCT unnest(generate_series(period_start, period_end, INTERVAL 1 MONTH))::DATE
        AS month
    FROM delivered
),
months AS (
    SELECT month, FALSE AS after_repeal
    FROM delivered_months
    WHERE month < (SELECT break_date FROM repeal)
    UNION ALL
    SELECT unnest(generate_series(
        date_trunc('month', (SELECT break_date FROM repeal) + INTERVAL 1 MONTH - INTERVAL 1 DAY),
        (SELECT max(period_end) FROM delivered),
        INTERVAL 1 MONTH
    ))::DATE, TRUE
),
counts AS (
    SELECT month, area_code, count(*) AS n FROM tvp_s27_directions GROUP BY ALL
)
SELECT 'tvp_s27_directions' AS source_id, 'tvp_s27_directions.directions' AS measure_id,
       d.area_code, m.month AS period_start, 'month' AS period_grain,
       CASE WHEN m.after_repeal THEN NULL ELSE coalesce(c.n, 0) END::DOUBLE AS value,
       CASE WHEN m.after_repeal THEN 'not_applicable' ELSE 'reported' END AS value_status
FROM months AS m
CROSS JOIN (SELECT area_code FROM partnership_area WHERE area_type = 'district') AS d
LEFT JOIN counts AS c ON c.month = m.month AND c.area_code = d.area_code;
