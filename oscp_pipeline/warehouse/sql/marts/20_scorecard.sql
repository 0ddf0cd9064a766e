-- First scorecard: one row per indicator, area (district, CSP, county) and complete quarter,
-- compared with the same quarter of the previous year (crime and ASB are seasonal).
-- A quarter counts only when every month of it was loaded; a change is only shown when last
-- year's value exists and is not zero (never an infinite or made-up percentage).

CREATE TABLE scorecard AS
WITH monthly AS (
    SELECT i.indicator_id, o.measure_id, o.area_code, o.period_start, o.value
    FROM observations AS o
    JOIN dim_indicator AS i USING (measure_id)
    WHERE o.period_grain = 'month'
),
district_quarter AS (
    SELECT indicator_id, measure_id, area_code,
           date_trunc('quarter', period_start)::DATE AS quarter_start,
           sum(value) AS value, count(DISTINCT period_start) AS months
    FROM monthly
    GROUP BY ALL
),
complete AS (
    SELECT * FROM district_quarter WHERE months = 3
),
all_levels AS (
    SELECT c.indicator_id, c.measure_id, c.area_code, c.quarter_start, c.value
    FROM complete AS c
    UNION ALL
    SELECT c.indicator_id, c.measure_id, a.csp_code, c.quarter_start, sum(c.value)
    FROM complete AS c JOIN dim_area AS a USING (area_code)
    WHERE a.csp_code IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT c.indicator_id, c.measure_id, a.county_code, c.quarter_start, sum(c.value)
    FROM complete AS c JOIN dim_area AS a USING (area_code)
    GROUP BY ALL
),
compared AS (
    SELECT
        cur.*,
        prev.value AS value_same_quarter_last_year,
        (cur.quarter_start - INTERVAL 1 YEAR)::DATE AS comparison_quarter_start
    FROM all_levels AS cur
    LEFT JOIN all_levels AS prev
        ON prev.indicator_id = cur.indicator_id
        AND prev.area_code = cur.area_code
        AND prev.quarter_start = (cur.quarter_start - INTERVAL 1 YEAR)::DATE
)
SELECT
    c.indicator_id,
    i.indicator_name,
    c.area_code,
    a.area_name,
    a.area_type,
    c.quarter_start,
    q.fy_quarter,
    q.financial_year,
    c.value,
    c.value_same_quarter_last_year,
    c.value - c.value_same_quarter_last_year AS change,
    CASE WHEN c.value_same_quarter_last_year > 0
        THEN round(100.0 * (c.value - c.value_same_quarter_last_year)
                   / c.value_same_quarter_last_year, 1)
    END AS change_pct,
    EXISTS (
        SELECT 1 FROM series_break AS b
        WHERE b.measure_id = c.measure_id
          AND b.break_date > c.comparison_quarter_start
          AND b.break_date < (c.quarter_start + INTERVAL 3 MONTH)
    ) AS series_break,
    i.polarity
FROM compared AS c
JOIN dim_indicator AS i USING (indicator_id)
JOIN dim_area AS a USING (area_code)
JOIN dim_quarter AS q USING (quarter_start)
ORDER BY c.indicator_id, a.sort_order, c.quarter_start;
