-- Record-level tables: every accepted row, traceable to its file and row number,
-- and every row that was not loaded, with the reason.

CREATE TABLE police_street_crime AS
SELECT month, crime_id, crime_type, crime_type_published, lsoa_code, lsoa_name, district_code,
       location, last_outcome_category, longitude, latitude, reported_by, source_file, row_number
FROM stg_police_uk_accepted
ORDER BY month, source_file, row_number;

CREATE TABLE defra_flytipping_incidents AS
SELECT financial_year, period_start, area_code, la_name_published, measure, value, value_status,
       source_file, row_number
FROM stg_defra_flytipping_accepted
ORDER BY period_start, area_code, measure;

CREATE TABLE set_aside AS
SELECT source_id, source_file, row_number, reason_code, reason, record
FROM stg_set_aside
ORDER BY source_id, source_file, row_number;

CREATE TABLE load_log AS
SELECT source_id, source_file, sha256, encoding, period_start, period_end, rows_read,
       rows_loaded, rows_set_aside, status, message, loaded_at, run_id
FROM stg_load_log
ORDER BY source_id, source_file;
