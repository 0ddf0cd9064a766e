-- Financial quarters (Q1 = April-June) spanning every financial year with observations.

CREATE TABLE dim_quarter AS
WITH bounds AS (
    SELECT
        make_date(year(min(period_start)) - (month(min(period_start)) < 4)::INT, 4, 1) AS first_q,
        make_date(year(max(period_start)) + (month(max(period_start)) >= 4)::INT, 1, 1) AS last_q
    FROM observations
),
quarters AS (
    SELECT unnest(generate_series(first_q, last_q, INTERVAL 3 MONTH))::DATE AS quarter_start
    FROM bounds
    WHERE first_q IS NOT NULL
),
labelled AS (
    SELECT quarter_start, year(quarter_start) - (month(quarter_start) < 4)::INT AS fy_start
    FROM quarters
)
SELECT
    quarter_start,
    (quarter_start + INTERVAL 3 MONTH - INTERVAL 1 DAY)::DATE AS quarter_end,
    fy_start || '-' || lpad(((fy_start + 1) % 100)::VARCHAR, 2, '0') || ' Q'
        || ((month(quarter_start) + 8) % 12 // 3 + 1) AS fy_quarter,
    fy_start || '-' || lpad(((fy_start + 1) % 100)::VARCHAR, 2, '0') AS financial_year,
    ((month(quarter_start) + 8) % 12 // 3 + 1)::INTEGER AS quarter
FROM labelled
ORDER BY quarter_start;
