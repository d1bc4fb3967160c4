-- Every finding of SPEC §5, one row each, with its severity from the catalog:
-- each input's own (08_input_finding.sql) and those of matching the two files.
-- `roster_row` is the member a finding concerns (internal: for the decisions);
-- match.* and my_number.* sit on the filing row and carry the matched member.
-- Details are kinds and values, as in 08_input_finding.sql.
-- reads: input_finding, roster, filings, filing_match, number_owner, member_filing, member, match_compare, catalog
-- makes: finding
CREATE OR REPLACE TABLE finding AS
WITH
fm AS (
    SELECT m.*, r.member_id FROM filing_match AS m LEFT JOIN roster AS r ON r.row = m.roster_row
),
raw AS (    SELECT 'my_number.duplicate' AS "check", 'filings' AS source, f.row, 'my_number' AS field,
           'my_number.duplicate' AS kind, f.my_number_masked AS v1, o.members::VARCHAR AS v2,
           (SELECT string_agg(DISTINCT x.member_id, ', ' ORDER BY x.member_id)
            FROM fm AS x JOIN filings AS y ON y.row = x.filing_row
            WHERE y.my_number_key = f.my_number_key AND x.roster_row IS NOT NULL) AS v3
    FROM filings AS f
    JOIN fm ON fm.filing_row = f.row AND fm.roster_row IS NOT NULL
    JOIN number_owner AS o ON o.my_number_key = f.my_number_key AND f.my_number_problem IS NULL
    WHERE o.members > 1

    UNION ALL BY NAME
    SELECT 'my_number.conflict' AS "check", 'filings' AS source, f.row, 'my_number' AS field,
           'my_number.conflict' AS kind, fm.member_id AS v1, mf.numbers::VARCHAR AS v2,
           f.my_number_masked AS v3
    FROM filings AS f
    JOIN fm ON fm.filing_row = f.row
    JOIN member_filing AS mf ON mf.roster_row = fm.roster_row
    WHERE mf.numbers > 1 AND f.my_number_problem IS DISTINCT FROM 'empty'

    UNION ALL BY NAME
    SELECT 'filing.orphan' AS "check", 'filings' AS source, f.row, 'employee_id' AS field,
           CASE WHEN f.employee_id IS NULL THEN 'orphan.no_employee_id'
                WHEN fm.candidates = 0 THEN 'orphan.no_candidate'
                ELSE 'orphan.none_match' END AS kind,
           f.employee_id AS v1, fm.candidates::VARCHAR AS v2
    FROM filings AS f JOIN fm ON fm.filing_row = f.row
    WHERE fm.roster_row IS NULL

    UNION ALL BY NAME
    SELECT 'filing.missing' AS "check", 'roster' AS source, row, 'my_number' AS field,
           'filing_missing' AS kind
    FROM member WHERE active AND NOT has_filing

    UNION ALL BY NAME
    SELECT 'match.birth_date' AS "check", 'filings' AS source, filing_row AS row,
           'birth_date' AS field, 'birth_date' AS kind,
           roster_birth_date::VARCHAR AS v1, filed_birth_date::VARCHAR AS v2
    FROM match_compare WHERE birth_differs

    UNION ALL BY NAME
    -- Codes (1, 2): the sentence shows them as words.
    SELECT 'match.sex' AS "check", 'filings' AS source, filing_row AS row, 'sex' AS field,
           'sex' AS kind, roster_sex AS v1, filed_sex AS v2
    FROM match_compare WHERE sex_differs

    UNION ALL BY NAME
    -- The pairs that differ; the others stay NULL and are left out of the sentence.
    SELECT 'match.identity' AS "check", 'filings' AS source, filing_row AS row,
           concat_ws(';', CASE WHEN name_differs THEN 'name' END,
                          CASE WHEN kana_differs THEN 'name_kana' END,
                          CASE WHEN address_differs THEN 'address' END) AS field,
           'identity' AS kind,
           CASE WHEN name_differs THEN roster_name END AS v1,
           CASE WHEN name_differs THEN filed_name END AS v2,
           CASE WHEN kana_differs THEN roster_kana END AS v3,
           CASE WHEN kana_differs THEN filed_kana END AS v4,
           CASE WHEN address_differs THEN roster_address END AS v5,
           CASE WHEN address_differs THEN filed_address END AS v6
    FROM match_compare WHERE identity_differs

    UNION ALL BY NAME
    SELECT 'match.name' AS "check", 'filings' AS source, filing_row AS row, 'name' AS field,
           'name' AS kind, roster_name AS v1, filed_name AS v2
    FROM match_compare WHERE name_differs AND NOT identity_differs

    UNION ALL BY NAME
    SELECT 'match.name_kana' AS "check", 'filings' AS source, filing_row AS row,
           'name_kana' AS field, 'name_kana' AS kind, roster_kana AS v1, filed_kana AS v2
    FROM match_compare WHERE kana_differs AND NOT identity_differs

    UNION ALL BY NAME
    SELECT 'match.address' AS "check", 'filings' AS source, filing_row AS row,
           'address' AS field, 'address' AS kind, roster_address AS v1, filed_address AS v2
    FROM match_compare WHERE address_differs AND NOT identity_differs

    UNION ALL BY NAME
    SELECT 'match.name_variant' AS "check", 'filings' AS source, filing_row AS row,
           concat_ws(';', CASE WHEN name_variant THEN 'name' END,
                          CASE WHEN kana_variant THEN 'name_kana' END) AS field,
           'variant' AS kind,
           CASE WHEN name_variant THEN roster_name END AS v1,
           CASE WHEN name_variant THEN filed_name END AS v2,
           CASE WHEN kana_variant THEN roster_kana END AS v3,
           CASE WHEN kana_variant THEN filed_kana END AS v4
    FROM match_compare WHERE name_variant OR kana_variant

    UNION ALL BY NAME
    SELECT 'overseas.emigrated_before_2015' AS "check", 'roster' AS source, row,
           'emigrated_on' AS field, 'overseas.emigrated_before_2015' AS kind,
           coalesce(emigrated_on, insured_emigrated_on)::VARCHAR AS v1
    FROM member WHERE emigrated_before_system

    UNION ALL BY NAME
    SELECT 'overseas.never_registered' AS "check", 'roster' AS source, row,
           'jp_registered' AS field,
           CASE WHEN jp_registered = 'no' THEN 'overseas.never_registered'
                ELSE 'overseas.born_abroad' END AS kind,
           birth_date::VARCHAR AS v1
    FROM member WHERE never_registered
)
-- A filing row's own findings now carry the member it matched.
SELECT i.* REPLACE (coalesce(i.member_id, fm.member_id) AS member_id,
                    coalesce(i.roster_row, fm.roster_row) AS roster_row)
FROM input_finding AS i
LEFT JOIN fm ON i.source = 'filings' AND fm.filing_row = i.row

UNION ALL BY NAME
SELECT
    raw."check", c.severity,
    CASE raw.source WHEN 'roster' THEN r.member_id ELSE fm.member_id END AS member_id,
    raw.source, raw.row, raw.field,
    raw.kind AS detail_kind, raw.v1 AS detail_v1, raw.v2 AS detail_v2, raw.v3 AS detail_v3,
    raw.v4 AS detail_v4, raw.v5 AS detail_v5, raw.v6 AS detail_v6,
    CASE raw.source WHEN 'roster' THEN raw.row ELSE fm.roster_row END AS roster_row,
    c.check_order
FROM raw
JOIN catalog AS c ON c."check" = raw."check"
LEFT JOIN roster AS r ON raw.source = 'roster' AND r.row = raw.row
LEFT JOIN fm ON raw.source = 'filings' AND fm.filing_row = raw.row;
