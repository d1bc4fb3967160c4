-- 世帯: one row per household (記号-番号) with its insured person (被保険者).
-- Who is insured is decided by relation = 'self', never by branch 00.
-- reads: roster
-- makes: household
CREATE OR REPLACE TABLE household AS
SELECT
    household_id,
    count(*) FILTER (WHERE relation = 'self') AS insured_count,
    CASE WHEN count(*) FILTER (WHERE relation = 'self') = 1
         THEN any_value(row) FILTER (WHERE relation = 'self') END AS insured_row
FROM roster
GROUP BY household_id;
