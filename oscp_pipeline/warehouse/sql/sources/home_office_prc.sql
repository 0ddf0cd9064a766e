-- Home Office police recorded crime by CSP: one row per OSCP CSP, quarter and offence code
-- (South Oxfordshire and Vale of White Horse rows kept apart here, added in observations),
-- and quarterly counts per OSCP CSP for the offence groups the scorecard uses.

CREATE TABLE home_office_prc AS
SELECT financial_year, quarter_start, area_code, district_code, csp_name_published, offence_code,
       offence_description, offence_group, offence_subgroup, number_of_offences, is_adjustment,
       source_file, row_number
FROM stg_home_office_prc_accepted
ORDER BY quarter_start, district_code, offence_code;

CREATE TEMP TABLE obs_home_office_prc AS
WITH quarters AS (SELECT DISTINCT quarter_start FROM home_office_prc),
csps AS (SELECT area_code FROM partnership_area WHERE area_type = 'csp'),
grouped AS (
    SELECT g.measure, p.area_code, p.quarter_start, sum(p.number_of_offences) AS value
    FROM home_office_prc AS p
    JOIN ref_offence_groups AS g USING (offence_code)
    GROUP BY ALL
    UNION ALL
    SELECT 'all_recorded_crime', area_code, quarter_start, sum(number_of_offences)
    FROM home_office_prc
    GROUP BY ALL
),
measures AS (SELECT DISTINCT measure FROM ref_offence_groups UNION SELECT 'all_recorded_crime')
SELECT 'home_office_prc' AS source_id, 'home_office_prc.' || m.measure AS measure_id,
       c.area_code, q.quarter_start AS period_start, 'quarter' AS period_grain,
       coalesce(g.value, 0)::DOUBLE AS value, 'reported' AS value_status
FROM quarters AS q
CROSS JOIN csps AS c
CROSS JOIN measures AS m
LEFT JOIN grouped AS g
    ON g.measure = m.measure AND g.area_code = c.area_code AND g.quarter_start = q.quarter_start;
