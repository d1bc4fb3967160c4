-- Each matched filing compared field by field with its member (SPEC §4, §5);
-- only the pairs that differ somewhere are kept, as only they make findings
-- (the million that agree, copied into the table, cost about a quarter of this stage).
-- A name or address difference needs both sides: an empty or unreadable value
-- is reported by validation only. A birth date or sex that cannot be read on
-- either side leaves the link unverified: it is also match.birth_date /
-- match.sex (SPEC §5, the 総点検 rule). Sex 3 (未設定) never mismatches. An
-- unreadable filed_on is validation's alone: it does not touch the link.
-- reads: filing_match, filings, roster, params, validation_finding
-- makes: match_compare
CREATE OR REPLACE TABLE match_compare AS
WITH
-- A join, not a correlated EXISTS: DuckDB materialized every pair to decorrelate it.
unreadable AS (
    SELECT
        source,
        row,
        bool_or(field = 'birth_date') AS birth_unreadable,
        bool_or(field = 'sex') AS sex_unreadable
    FROM validation_finding
    WHERE field IN ('birth_date', 'sex')
    GROUP BY source, row
),
pair AS (
    SELECT
        m.filing_row,
        m.roster_row,
        coalesce(f.birth_date <> r.birth_date, false)
            OR coalesce(uf.birth_unreadable OR ur.birth_unreadable, false) AS birth_differs,
        coalesce(f.sex IN ('1', '2') AND r.sex IN ('1', '2') AND f.sex <> r.sex, false)
            OR (coalesce(uf.sex_unreadable OR ur.sex_unreadable, false)
                AND f.sex IS DISTINCT FROM '3' AND r.sex IS DISTINCT FROM '3') AS sex_differs,
        coalesce(f.name_key <> r.name_key, false) AS name_differs,
        coalesce(CASE WHEN p.kana_fold_small THEN f.kana_key <> r.kana_key
                      ELSE f.kana_plain <> r.kana_plain END, false) AS kana_differs,
        coalesce(f.address_key <> r.address_key, false) AS address_differs,
        coalesce(f.name_plain <> r.name_plain AND f.name_key = r.name_key, false) AS name_variant,
        coalesce(p.kana_fold_small AND f.kana_plain <> r.kana_plain AND f.kana_key = r.kana_key, false)
            AS kana_variant,
        f.birth_date AS filed_birth_date, r.birth_date AS roster_birth_date,
        f.sex AS filed_sex, r.sex AS roster_sex,
        f.name AS filed_name, r.name AS roster_name,
        f.name_kana AS filed_kana, r.name_kana AS roster_kana,
        f.address AS filed_address, r.address AS roster_address
    FROM filing_match AS m
    CROSS JOIN params AS p
    JOIN filings AS f ON f.row = m.filing_row
    JOIN roster AS r ON r.row = m.roster_row
    LEFT JOIN unreadable AS uf ON uf.source = 'filings' AND uf.row = m.filing_row
    LEFT JOIN unreadable AS ur ON ur.source = 'roster' AND ur.row = m.roster_row
    WHERE m.roster_row IS NOT NULL
)
SELECT
    filing_row, roster_row,
    birth_differs, sex_differs, name_differs, kana_differs, address_differs,
    name_variant, kana_variant,
    -- The 2023 総点検 pattern: both names differ, or one name and the address.
    (name_differs AND kana_differs) OR ((name_differs OR kana_differs) AND address_differs) AS identity_differs,
    -- The values as given, kept only where a finding quotes them: most pairs
    -- agree, and a million pairs of names and addresses would fill memory.
    -- An unreadable value was nulled by validation: on a pair that differs, NULL is
    -- that side unreadable, which recon/details.py says in the operator's language.
    CASE WHEN birth_differs THEN CAST(filed_birth_date AS VARCHAR) END AS filed_birth_date,
    CASE WHEN birth_differs THEN CAST(roster_birth_date AS VARCHAR) END AS roster_birth_date,
    CASE WHEN sex_differs THEN filed_sex END AS filed_sex,
    CASE WHEN sex_differs THEN roster_sex END AS roster_sex,
    CASE WHEN name_differs OR name_variant THEN filed_name END AS filed_name,
    CASE WHEN name_differs OR name_variant THEN roster_name END AS roster_name,
    CASE WHEN kana_differs OR kana_variant THEN filed_kana END AS filed_kana,
    CASE WHEN kana_differs OR kana_variant THEN roster_kana END AS roster_kana,
    CASE WHEN address_differs THEN filed_address END AS filed_address,
    CASE WHEN address_differs THEN roster_address END AS roster_address
FROM pair
WHERE birth_differs OR sex_differs OR name_differs OR kana_differs OR address_differs
    OR name_variant OR kana_variant;
