-- Figures that changed since the warehouse this refresh replaces: a corrected re-delivery, a
-- withdrawn file, or late rows for a period already published. Only periods the previous
-- warehouse already held for the source are compared: a new quarter is new data, not a revision.
-- Needs `previous` (the published warehouse, attached read-only) and the parameters
-- $run_id and $revised_at.
INSERT INTO revisions BY NAME
WITH before AS (
    SELECT source_id, measure_id, area_code, period_start, period_grain, value, value_status
    FROM previous.observations
),
compared AS (
    SELECT o.*
    FROM observations AS o
    JOIN (SELECT DISTINCT source_id, period_start FROM before) USING (source_id, period_start)
),
changed AS (
    SELECT
        source_id, measure_id, area_code, period_start,
        coalesce(n.period_grain, b.period_grain) AS period_grain,
        b.value AS previous_value, b.value_status AS previous_status,
        n.value AS revised_value, n.value_status AS revised_status
    FROM before AS b
    FULL JOIN compared AS n USING (source_id, measure_id, area_code, period_start)
    WHERE b.value IS DISTINCT FROM n.value OR b.value_status IS DISTINCT FROM n.value_status
),
loaded_before AS (
    SELECT source_id, source_file, sha256, period_start, period_end
    FROM previous.load_log WHERE status = 'loaded'
),
loaded_now AS (
    SELECT source_id, source_file, sha256, period_start, period_end
    FROM load_log WHERE status = 'loaded'
)
SELECT
    changed.*,
    revised_value - previous_value AS change,
    (
        SELECT string_agg(DISTINCT n.source_file, '; ' ORDER BY n.source_file)
        FROM loaded_now AS n
        WHERE n.source_id = changed.source_id
          AND changed.period_start BETWEEN n.period_start AND n.period_end
          AND n.sha256 NOT IN (SELECT sha256 FROM loaded_before)
    ) AS deliveries_added,
    (
        SELECT string_agg(DISTINCT b.source_file, '; ' ORDER BY b.source_file)
        FROM loaded_before AS b
        WHERE b.source_id = changed.source_id
          AND changed.period_start BETWEEN b.period_start AND b.period_end
          AND b.sha256 NOT IN (SELECT sha256 FROM loaded_now)
    ) AS deliveries_withdrawn,
    $run_id AS revised_by_run_id,
    $revised_at AS revised_at
FROM changed;
