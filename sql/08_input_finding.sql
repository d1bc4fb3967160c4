-- The findings each input shows on its own (SPEC §5): unreadable values, check
-- digits, duplicate members, households without one insured person, overseas
-- households without an address. `recon check` stops here; 09_finding.sql adds
-- what only matching the two files can show.
-- A finding's detail is not written here: each row carries its detail kind and
-- the values it quotes (v1-v6, as text), and recon/details.py fills them into
-- the catalog's sentence of that kind (recon/texts/details.toml) in the
-- operator's language. Validation's details come written (kind `given`).
-- `roster_row` is the member a finding concerns (internal: for the decisions);
-- on a filing row it stays NULL, as does `member_id`, until matching says whose it is.
-- reads: validation_finding, roster, filings, household, catalog
-- makes: input_finding
CREATE OR REPLACE TABLE input_finding AS
WITH
raw AS (
    SELECT "check", source, row, field, 'given' AS kind, detail AS v1,
           NULL::VARCHAR AS v2, NULL::VARCHAR AS v3, NULL::VARCHAR AS v4,
           NULL::VARCHAR AS v5, NULL::VARCHAR AS v6
    FROM validation_finding

    UNION ALL BY NAME
    -- A grouped count, not a window: partitioning a million ids cost 0.23 s.
    SELECT 'roster.duplicate_member' AS "check", 'roster' AS source, r.row, 'branch' AS field,
           'duplicate_member' AS kind, r.member_id AS v1, d.rows::VARCHAR AS v2
    FROM roster AS r
    JOIN (SELECT member_id, count(*) AS rows FROM roster GROUP BY member_id HAVING count(*) > 1) AS d
      ON d.member_id = r.member_id

    UNION ALL BY NAME
    -- NULL when the number is not 8 digits: validation reports that one.
    SELECT 'roster.insurer_number' AS "check", 'roster' AS source, row, 'insurer_number' AS field,
           'insurer_check_digit' AS kind, insurer_number AS v1
    FROM roster WHERE NOT insurer_check_ok

    UNION ALL BY NAME
    SELECT 'roster.no_insured' AS "check", 'roster' AS source, r.row, 'relation' AS field,
           'no_insured' AS kind, r.household_id AS v1, h.insured_count::VARCHAR AS v2
    FROM roster AS r JOIN household AS h ON h.household_id = r.household_id
    WHERE h.insured_count <> 1

    UNION ALL BY NAME
    SELECT 'my_number.format' AS "check", 'filings' AS source, row, 'my_number' AS field,
           CASE WHEN my_number_problem IN ('empty', 'placeholder', 'exponent', 'lost_leading_zero')
                THEN 'my_number.' || my_number_problem ELSE 'my_number.length' END AS kind,
           my_number_length::VARCHAR AS v1
    FROM filings WHERE my_number_problem NOT IN ('check_digit')

    UNION ALL BY NAME
    SELECT 'my_number.check_digit' AS "check", 'filings' AS source, row, 'my_number' AS field,
           'my_number.check_digit' AS kind, my_number_masked AS v1
    FROM filings WHERE my_number_problem = 'check_digit'

    UNION ALL BY NAME
    SELECT 'overseas.no_designated_address' AS "check", 'roster' AS source, row,
           'designated_address' AS field, 'overseas.no_designated_address' AS kind,
           overseas_type AS v1
    FROM roster
    WHERE relation = 'self' AND residence = 'overseas'
      AND overseas_type IN ('single', 'family_accompanied') AND designated_address IS NULL

    UNION ALL BY NAME
    -- Empty, not unreadable: an unreadable type is validation's input.invalid_value.
    SELECT 'overseas.unknown_type' AS "check", 'roster' AS source, r.row,
           'overseas_type' AS field, 'overseas.unknown_type' AS kind
    FROM roster AS r
    LEFT JOIN validation_finding AS v
      ON v.source = 'roster' AND v.row = r.row AND v.field = 'overseas_type'
    WHERE r.relation = 'self' AND r.residence = 'overseas' AND r.overseas_type IS NULL
      AND v.row IS NULL

)
-- The finding's columns (recon/findings.py), as 09_finding.sql gives them too.
SELECT
    raw."check", c.severity, r.member_id, raw.source, raw.row, raw.field,
    raw.kind AS detail_kind, raw.v1 AS detail_v1, raw.v2 AS detail_v2, raw.v3 AS detail_v3,
    raw.v4 AS detail_v4, raw.v5 AS detail_v5, raw.v6 AS detail_v6,
    CASE raw.source WHEN 'roster' THEN raw.row END AS roster_row,
    c.check_order
FROM raw
JOIN catalog AS c ON c."check" = raw."check"
LEFT JOIN roster AS r ON raw.source = 'roster' AND r.row = raw.row;
