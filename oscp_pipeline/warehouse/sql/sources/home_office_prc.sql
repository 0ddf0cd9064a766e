-- Home Office police recorded crime by CSP: one row per ONS CSP, quarter and offence code
-- (South Oxfordshire and Vale of White Horse rows kept apart here, added in observations),
-- and quarterly counts per CSP of the scope for the offence groups the scorecard uses. The
-- tables leave out an offence with no crimes, so a group with no row is 0; but a CSP (or one of
-- South and Vale's two ONS CSPs) with no row at all in a quarter others have was not supplied:
-- NULL 'not_available', never 0.

CREATE TABLE home_office_prc AS
SELECT financial_year, quarter_start, area_code, ons_csp_code, district_code, csp_name_published,
       offence_code, offence_description, offence_group, offence_subgroup, number_of_offences,
       is_adjustment, source_file, row_number
FROM stg_home_office_prc_accepted
ORDER BY quarter_start, ons_csp_code, offence_code;

CREATE TEMP TABLE obs_home_office_prc AS
WITH quarters AS (SELECT DISTINCT quarter_start FROM home_office_prc),
-- Every CSP of the scope, with the ONS CSPs whose rows make up its figure (South and Vale: two).
csp_parts AS (
    SELECT area_code, unnest(string_split(ons_csp_code, ';')) AS ons_csp_code
    FROM dim_area
    WHERE area_type = 'csp'
),
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
measures AS (SELECT DISTINCT measure FROM ref_offence_groups UNION SELECT 'all_recorded_crime'),
delivered AS (SELECT DISTINCT ons_csp_code, quarter_start FROM home_office_prc),
supplied AS (
    -- A CSP's quarter is supplied when every ONS CSP of it has rows in it.
    SELECT c.area_code, q.quarter_start, bool_and(d.ons_csp_code IS NOT NULL) AS supplied
    FROM quarters AS q
    CROSS JOIN csp_parts AS c
    LEFT JOIN delivered AS d
        ON d.ons_csp_code = c.ons_csp_code AND d.quarter_start = q.quarter_start
    GROUP BY ALL
)
SELECT 'home_office_prc' AS source_id, 'home_office_prc.' || m.measure AS measure_id,
       s.area_code, s.quarter_start AS period_start, 'quarter' AS period_grain,
       CASE WHEN s.supplied THEN coalesce(g.value, 0) END::DOUBLE AS value,
       CASE WHEN s.supplied THEN 'reported' ELSE 'not_available' END AS value_status
FROM supplied AS s
CROSS JOIN measures AS m
LEFT JOIN grouped AS g
    ON g.measure = m.measure AND g.area_code = s.area_code AND g.quarter_start = s.quarter_start;
