-- Tables every source feeds: the load log and the rows that were not loaded.

CREATE TABLE set_aside AS
SELECT source_id, source_file, row_number, reason_code, reason, record
FROM stg_set_aside
ORDER BY source_id, source_file, row_number;

CREATE TABLE load_log AS
SELECT source_id, source_file, sha256, encoding, period_start, period_end, rows_read,
       rows_loaded, rows_set_aside, status, message, loaded_at, run_id
FROM stg_load_log
ORDER BY source_id, source_file;
