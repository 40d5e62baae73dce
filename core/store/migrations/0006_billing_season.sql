-- The 年度 (fiscal year, or SAJ season) a billing line is for, so a season's billing run can
-- tell which lines exist already and never bill twice. Lines written before this migration
-- carry it at the start of their description ("2026年度 一般会員会費 3,500円").
ALTER TABLE billing ADD COLUMN season INTEGER;
UPDATE billing SET season = TRY_CAST(regexp_extract(description, '^(\d{4})年度', 1) AS INTEGER);
