-- data.police.uk street-level crime: the record table, and monthly counts per district.
-- Counts are zero-filled for every district in every month whose file was loaded:
-- a month with a file and no burglaries in West Oxfordshire is a 0, not a gap. A crime type
-- not yet published in a month (criminal damage before September 2011, bicycle theft before
-- May 2013: dim_crime_type.published_from) is NULL 'not_applicable' there, not 0, unless the
-- month's files hold rows of it.

-- Not sorted: a national year is millions of rows, and sorting them would double the build.
-- Filter or order by month, district_code or source_file when reading.
CREATE TABLE police_street_crime AS
SELECT month, crime_id, crime_type, crime_type_published, lsoa_code, lsoa_name, district_code,
       location, last_outcome_category, longitude, latitude, reported_by, source_file, row_number
FROM stg_police_uk_accepted;

CREATE TEMP TABLE obs_police_uk AS
WITH police_months AS (
    SELECT DISTINCT period_start AS month
    FROM stg_load_log
    WHERE source_id = 'police_uk' AND status = 'loaded'
),
police_measures AS (
    SELECT m.measure_id, m.crime_type, min(t.published_from) AS first_published
    FROM dim_measure AS m
    JOIN dim_crime_type AS t USING (crime_type)
    WHERE m.source_id = 'police_uk'
    GROUP BY ALL
),
police_counts AS (
    SELECT month, district_code, crime_type, count(*) AS n
    FROM police_street_crime
    GROUP BY ALL
),
published_types AS (
    SELECT DISTINCT month, crime_type FROM police_counts
),
police_by_type AS (
    SELECT m.measure_id, d.area_code, pm.month,
           pm.month >= m.first_published OR p.crime_type IS NOT NULL AS published,
           CASE WHEN published THEN coalesce(c.n, 0) END AS value
    FROM police_months AS pm
    CROSS JOIN (SELECT area_code FROM dim_area WHERE area_type = 'district') AS d
    CROSS JOIN police_measures AS m
    LEFT JOIN published_types AS p ON p.month = pm.month AND p.crime_type = m.crime_type
    LEFT JOIN police_counts AS c
        ON c.month = pm.month AND c.district_code = d.area_code AND c.crime_type = m.crime_type
),
police_all_crime AS (
    SELECT 'police_uk.all_crime' AS measure_id, area_code, month, TRUE AS published,
           sum(value) AS value
    FROM police_by_type
    WHERE measure_id <> 'police_uk.anti_social_behaviour'
    GROUP BY ALL
)
SELECT 'police_uk' AS source_id, measure_id, area_code, month AS period_start,
       'month' AS period_grain, value::DOUBLE AS value,
       CASE WHEN published THEN 'reported' ELSE 'not_applicable' END AS value_status
FROM (SELECT * FROM police_by_type UNION ALL SELECT * FROM police_all_crime);
