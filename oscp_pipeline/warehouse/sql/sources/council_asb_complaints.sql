-- District council domestic noise and domestic waste complaints: one row per complaint, and
-- monthly counts per district. Counts are zero-filled for every month of every quarter a
-- council delivered, for each district its folder covers (the folder is the OSCP area's name
-- as a slug: `south_and_vale` covers South Oxfordshire and Vale of White Horse). When a file of
-- a folder covering several districts set aside rows it could not place in a district (a
-- district not in the layout's list, or a row whose cells cannot be read), a district-month of
-- that file with no complaint loaded is NULL 'not_available', not 0: its complaints may be
-- among those rows.

CREATE TABLE council_asb_complaints AS
SELECT reference, date_received, month, service, category, category_published, area_code,
       council_layout, source_file, row_number
FROM stg_council_asb_complaints_accepted
ORDER BY date_received, area_code, source_file, row_number;

CREATE TEMP TABLE obs_council_asb_complaints AS
WITH delivered AS (
    SELECT DISTINCT source_file, split_part(source_file, '/', 2) AS folder, period_start,
           period_end
    FROM stg_load_log
    WHERE source_id = 'council_asb_complaints' AND status = 'loaded'
),
folder_areas AS (
    SELECT trim(regexp_replace(lower(area_name), '[^a-z0-9]+', '_', 'g'), '_') AS folder,
           area_code
    FROM partnership_area
    WHERE area_type IN ('csp', 'district')
),
folder_districts AS (
    SELECT DISTINCT f.folder, district.area_code
    FROM folder_areas AS f
    JOIN partnership_area AS district
        ON district.area_type = 'district'
        AND (district.area_code = f.area_code OR district.csp_code = f.area_code)
),
folder_sizes AS (
    SELECT folder, count(*) AS districts_in_folder
    FROM folder_districts
    GROUP BY ALL
),
unplaced AS (
    SELECT DISTINCT source_file
    FROM stg_set_aside
    WHERE source_id = 'council_asb_complaints'
        AND reason_code IN ('unknown_district', 'malformed_row')
),
covered AS (
    SELECT fd.area_code,
           unnest(generate_series(d.period_start, d.period_end, INTERVAL 1 MONTH))::DATE AS month,
           districts_in_folder > 1
               AND d.source_file IN (SELECT source_file FROM unplaced) AS unplaced
    FROM delivered AS d
    JOIN folder_districts AS fd USING (folder)
    JOIN folder_sizes USING (folder)
),
covered_months AS (
    SELECT area_code, month, bool_or(unplaced) AS unplaced
    FROM covered
    GROUP BY ALL
),
services AS (
    SELECT * FROM (VALUES
        ('noise', 'council_asb_complaints.domestic_noise'),
        ('waste', 'council_asb_complaints.domestic_waste')
    ) AS s(service, measure_id)
),
counts AS (
    SELECT month, area_code, service, count(*) AS n
    FROM council_asb_complaints
    GROUP BY ALL
)
SELECT 'council_asb_complaints' AS source_id, s.measure_id, c.area_code, c.month AS period_start,
       'month' AS period_grain,
       CASE WHEN n.n IS NOT NULL THEN n.n WHEN NOT c.unplaced THEN 0 END::DOUBLE AS value,
       CASE WHEN n.n IS NULL AND c.unplaced THEN 'not_available' ELSE 'reported' END
           AS value_status
FROM covered_months AS c
CROSS JOIN services AS s
LEFT JOIN counts AS n
    ON n.month = c.month AND n.area_code = c.area_code AND n.service = s.service;
