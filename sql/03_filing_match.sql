-- Every filing row once: the roster member it belongs to (NULL: an orphan).
-- The keys are tried in order and the first that finds exactly one member wins;
-- a key that finds several members says nothing. Key 4 (kana + relation) is what
-- still matches a filing with a wrong birth date, so it is reported as
-- match.birth_date instead of an orphan.
-- reads: candidate_pair, filings
-- makes: filing_match
CREATE OR REPLACE TABLE filing_match AS
WITH hits AS (
    SELECT
        filing_row,
        count(*) AS candidates,
        count(*) FILTER (WHERE by_branch) AS n1, any_value(roster_row) FILTER (WHERE by_branch) AS m1,
        count(*) FILTER (WHERE by_birth_kana) AS n2, any_value(roster_row) FILTER (WHERE by_birth_kana) AS m2,
        count(*) FILTER (WHERE by_birth_name) AS n3, any_value(roster_row) FILTER (WHERE by_birth_name) AS m3,
        count(*) FILTER (WHERE by_kana_relation) AS n4, any_value(roster_row) FILTER (WHERE by_kana_relation) AS m4,
        count(*) FILTER (WHERE by_name_relation) AS n5, any_value(roster_row) FILTER (WHERE by_name_relation) AS m5
    FROM candidate_pair
    GROUP BY filing_row
)
SELECT
    f.row AS filing_row,
    CASE WHEN n1 = 1 THEN m1 WHEN n2 = 1 THEN m2 WHEN n3 = 1 THEN m3
         WHEN n4 = 1 THEN m4 WHEN n5 = 1 THEN m5 END AS roster_row,
    CASE WHEN n1 = 1 THEN 'branch' WHEN n2 = 1 THEN 'birth_date+name_kana'
         WHEN n3 = 1 THEN 'birth_date+name' WHEN n4 = 1 THEN 'name_kana+relation'
         WHEN n5 = 1 THEN 'name+relation' END AS matched_by,
    coalesce(h.candidates, 0) AS candidates,
    -- How many members each key found, for `recon explain` to show why the
    -- keys before the winning one said nothing (none, or several).
    CAST(least(coalesce(n1, 0), 65535) AS USMALLINT) AS hits_branch,
    CAST(least(coalesce(n2, 0), 65535) AS USMALLINT) AS hits_birth_kana,
    CAST(least(coalesce(n3, 0), 65535) AS USMALLINT) AS hits_birth_name,
    CAST(least(coalesce(n4, 0), 65535) AS USMALLINT) AS hits_kana_relation,
    CAST(least(coalesce(n5, 0), 65535) AS USMALLINT) AS hits_name_relation
FROM filings AS f
LEFT JOIN hits AS h ON h.filing_row = f.row;
