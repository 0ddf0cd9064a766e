-- DEFRA fly-tipping incidents: annual counts per district, newest release per year.

CREATE TABLE defra_flytipping_incidents AS
SELECT financial_year, period_start, area_code, la_name_published, measure, value, value_status,
       source_file, row_number
FROM stg_defra_flytipping_accepted
ORDER BY period_start, area_code, measure;

CREATE TEMP TABLE obs_defra_flytipping AS
SELECT 'defra_flytipping' AS source_id, 'defra_flytipping.' || measure AS measure_id, area_code,
       period_start, 'financial_year' AS period_grain, value, value_status
FROM defra_flytipping_incidents;
