-- Conformed dimensions, taken from the reference data shipped with the pipeline.

-- The areas of the configured scope: the partnership's own, and in the national scope every
-- district, CSP and police force area of England and Wales.
CREATE TABLE dim_area AS
SELECT area_code, area_name, area_type, gss_code, csp_code, county_code, ons_csp_code,
       police_force_code, sort_order
FROM ref_areas
ORDER BY sort_order;

-- The partnership's own areas: partner extracts cover these, and only these are zero-filled
-- from them, whatever the scope.
CREATE TEMP TABLE partnership_area AS
SELECT area_code, area_name, area_type, csp_code, county_code
FROM ref_partnership_areas;

CREATE TABLE dim_population AS
SELECT area_code, year, population, is_estimate, source
FROM ref_population
ORDER BY area_code, year;

CREATE TABLE dim_crime_type AS
SELECT crime_type_published, crime_type, comparable_group, published_from, published_to, note
FROM ref_crime_types;

CREATE TABLE dim_measure AS
SELECT measure_id, source_id, measure_name, unit, period_grain, crime_type
FROM ref_measures
ORDER BY measure_id;

CREATE TABLE dim_indicator AS
SELECT indicator_id, indicator_name, measure_id, polarity, unit, owner, description, area_levels,
       min_history, suppression, notes
FROM ref_indicators;

CREATE TABLE dim_indicator_measure AS
SELECT indicator_id, measure_id
FROM ref_indicator_measures
ORDER BY indicator_id, measure_id;

CREATE TABLE dim_indicator_target AS
SELECT indicator_id, financial_year, target_change_pct
FROM ref_indicator_targets
ORDER BY indicator_id, financial_year;

CREATE TABLE series_break AS
SELECT source_id, measure_id, break_date, description
FROM ref_series_breaks
ORDER BY break_date, measure_id;
