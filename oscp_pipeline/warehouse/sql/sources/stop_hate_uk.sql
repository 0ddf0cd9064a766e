-- Stop Hate UK third-party hate reports: one row per report, one row per report and motivation,
-- and monthly counts per district (plus Oxfordshire, district not known). Counts are zero-filled
-- for every month of every quarter whose export was loaded: no reports is 0, not a gap.

CREATE TABLE stop_hate_uk_reports AS
SELECT reference, date_received, month, report_type, incident_type, method_of_contact,
       area_code, motivation_count, source_file, row_number
FROM stg_stop_hate_uk_accepted
ORDER BY date_received, reference;

CREATE TABLE stop_hate_uk_report_motivations AS
SELECT reference, unnest(string_split(motivations, ';')) AS motivation
FROM stg_stop_hate_uk_accepted
ORDER BY reference, motivation;

CREATE TEMP TABLE obs_stop_hate_uk AS
WITH covered_months AS (
    SELECT DISTINCT unnest(generate_series(period_start, period_end, INTERVAL 1 MONTH))::DATE
        AS month
    FROM stg_load_log
    WHERE source_id = 'stop_hate_uk' AND status = 'loaded'
),
report_areas AS (
    SELECT area_code FROM partnership_area WHERE area_type IN ('district', 'unallocated')
),
report_measures AS (
    SELECT * FROM (VALUES
        ('stop_hate_uk.reports', FALSE),
        ('stop_hate_uk.incident_reports', TRUE)
    ) AS m (measure_id, incidents_only)
),
counted AS (
    SELECT m.measure_id, a.area_code, c.month,
           count(r.reference) FILTER (
               WHERE NOT m.incidents_only OR r.report_type = 'Incident report'
           ) AS n
    FROM covered_months AS c
    CROSS JOIN report_areas AS a
    CROSS JOIN report_measures AS m
    LEFT JOIN stop_hate_uk_reports AS r ON r.month = c.month AND r.area_code = a.area_code
    GROUP BY ALL
)
SELECT 'stop_hate_uk' AS source_id, measure_id, area_code, month AS period_start,
       'month' AS period_grain, n::DOUBLE AS value, 'reported' AS value_status
FROM counted;
