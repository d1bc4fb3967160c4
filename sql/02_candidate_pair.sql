-- Every (filing, roster member) pair that shares the employee id, with which of
-- the five matching keys of SPEC §3.2 holds for the pair. Kana keys have small
-- kana folded and name keys have variant kanji folded, always: matching must
-- find the person first; whether the names differ is reported afterwards.
-- reads: filings, roster
-- makes: candidate_pair
CREATE OR REPLACE TABLE candidate_pair AS
SELECT
    f.row AS filing_row,
    r.row AS roster_row,
    coalesce(f.branch = r.branch, false) AS by_branch,
    coalesce(f.birth_date = r.birth_date AND f.kana_key = r.kana_key, false) AS by_birth_kana,
    coalesce(f.birth_date = r.birth_date AND f.name_key = r.name_key, false) AS by_birth_name,
    coalesce(f.kana_key = r.kana_key AND f.relation = r.relation, false) AS by_kana_relation,
    coalesce(f.name_key = r.name_key AND f.relation = r.relation, false) AS by_name_relation
FROM filings AS f
JOIN roster AS r ON f.employee_key = r.employee_key;
