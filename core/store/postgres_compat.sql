-- Functions of DuckDB that PostgreSQL lacks, so that the product's statements (kept once, in
-- DuckDB's dialect, and translated by SQLGlot: core/store/postgres.py) run unchanged. Applied
-- on every `init` of a PostgreSQL store, before the migrations; each is CREATE OR REPLACE.

CREATE OR REPLACE FUNCTION to_years(n integer) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT make_interval(years => n) $$;
CREATE OR REPLACE FUNCTION to_months(n integer) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT make_interval(months => n) $$;
CREATE OR REPLACE FUNCTION to_days(n integer) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT make_interval(days => n) $$;
CREATE OR REPLACE FUNCTION to_hours(n numeric) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT n * interval '1 hour' $$;
CREATE OR REPLACE FUNCTION to_minutes(n numeric) RETURNS interval
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT n * interval '1 minute' $$;

-- contains(text, part): DuckDB's substring test
CREATE OR REPLACE FUNCTION contains(haystack text, needle text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT strpos(haystack, needle) > 0 $$;

-- regexp_extract(text, pattern[, group]): the group's text of the first match, '' for none
CREATE OR REPLACE FUNCTION regexp_extract(value text, pattern text, grp integer DEFAULT 0)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN NULL
                WHEN grp = 0 THEN coalesce(substring(value FROM pattern), '')
                ELSE coalesce((regexp_match(value, pattern))[grp], '') END $$;

-- length(array): DuckDB's len() of a list
CREATE OR REPLACE FUNCTION length(items anyarray) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(cardinality(items), 0) $$;

-- make_timestamp with the year DuckDB's EXTRACT gives (a number, not an integer)
CREATE OR REPLACE FUNCTION make_timestamp(y numeric, mo numeric, d numeric, h numeric,
                                          mi numeric, s numeric) RETURNS timestamp
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT make_timestamp(y::int, mo::int, d::int, h::int, mi::int, s::double precision) $$;

-- round(double, digits): DuckDB rounds any number to a number of digits
CREATE OR REPLACE FUNCTION round(value double precision, digits integer) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT round(value::numeric, digits) $$;

-- hash(value): DuckDB's hash is an unsigned 64-bit number; PostgreSQL's own 64-bit text hash
-- with the sign bit cleared keeps `hash(x) % n` in 0..n-1 as the product expects
CREATE OR REPLACE FUNCTION hash(value text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended(value, 0) & 9223372036854775807 $$;
CREATE OR REPLACE FUNCTION hash(value bigint) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashint8extended(value, 0) & 9223372036854775807 $$;

-- date_sub(part, start, end): DuckDB's count of whole parts between two dates (an age in years)
CREATE OR REPLACE FUNCTION date_sub(part text, first_day timestamp, last_day timestamp)
    RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE lower(part)
        WHEN 'year' THEN date_part('year', age(last_day, first_day))::bigint
        WHEN 'month' THEN (date_part('year', age(last_day, first_day)) * 12
                           + date_part('month', age(last_day, first_day)))::bigint
        WHEN 'day' THEN date_part('day', last_day - first_day)::bigint
    END $$;
