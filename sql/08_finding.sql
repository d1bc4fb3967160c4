-- Every finding of SPEC §5, one row each, with its severity from the catalog.
-- `roster_row` is the member a finding concerns (internal: for the decisions);
-- match.* and my_number.* sit on the filing row and carry the matched member.
-- reads: validation_finding, roster, filings, household, filing_match, number_owner, member_filing, member, match_compare, catalog
-- makes: finding
CREATE OR REPLACE TABLE finding AS
WITH
fm AS (
    SELECT m.*, r.member_id FROM filing_match AS m LEFT JOIN roster AS r ON r.row = m.roster_row
),
raw AS (
    SELECT "check", source, row, field, detail FROM validation_finding

    UNION ALL
    -- A grouped count, not a window: partitioning a million ids cost 0.23 s.
    SELECT 'roster.duplicate_member', 'roster', r.row, 'branch',
           format('member_id {} is on {} roster rows', r.member_id, d.rows)
    FROM roster AS r
    JOIN (SELECT member_id, count(*) AS rows FROM roster GROUP BY member_id HAVING count(*) > 1) AS d
      ON d.member_id = r.member_id

    UNION ALL
    -- NULL when the number is not 8 digits: validation reports that one.
    SELECT 'roster.insurer_number', 'roster', row, 'insurer_number',
           format('check digit of {} is wrong', insurer_number)
    FROM roster WHERE NOT insurer_check_ok

    UNION ALL
    SELECT 'roster.no_insured', 'roster', r.row, 'relation',
           format('household {} has {} rows with relation 本人 (self); it needs exactly one',
                  r.household_id, h.insured_count)
    FROM roster AS r JOIN household AS h ON h.household_id = r.household_id
    WHERE h.insured_count <> 1

    UNION ALL
    SELECT 'my_number.format', 'filings', row, 'my_number',
           CASE my_number_problem
               WHEN 'empty' THEN 'no number given'
               WHEN 'placeholder' THEN 'all twelve digits are 0: a placeholder, not a number'
               WHEN 'exponent' THEN 'a spreadsheet turned the number into exponent form (1.2E+11); '
                                    || 're-export the column as text'
               WHEN 'lost_leading_zero' THEN '11 digits: a spreadsheet probably dropped a leading 0; '
                                             || 'ask for the number again'
               ELSE format('{} characters where 12 digits are needed', my_number_length)
           END
    FROM filings WHERE my_number_problem NOT IN ('check_digit')

    UNION ALL
    SELECT 'my_number.check_digit', 'filings', row, 'my_number',
           format('check digit of {} does not match the other 11 digits', my_number_masked)
    FROM filings WHERE my_number_problem = 'check_digit'

    UNION ALL
    SELECT 'my_number.duplicate', 'filings', f.row, 'my_number',
           format('{} is filed for {} different members: {}', f.my_number_masked, o.members,
                  (SELECT string_agg(DISTINCT x.member_id, ', ' ORDER BY x.member_id)
                   FROM fm AS x JOIN filings AS y ON y.row = x.filing_row
                   WHERE y.my_number_key = f.my_number_key AND x.roster_row IS NOT NULL))
    FROM filings AS f
    JOIN fm ON fm.filing_row = f.row AND fm.roster_row IS NOT NULL
    JOIN number_owner AS o ON o.my_number_key = f.my_number_key AND f.my_number_problem IS NULL
    WHERE o.members > 1

    UNION ALL
    SELECT 'my_number.conflict', 'filings', f.row, 'my_number',
           format('member {} has {} different numbers filed; this filing says {}',
                  fm.member_id, mf.numbers, f.my_number_masked)
    FROM filings AS f
    JOIN fm ON fm.filing_row = f.row
    JOIN member_filing AS mf ON mf.roster_row = fm.roster_row
    WHERE mf.numbers > 1 AND f.my_number_problem IS DISTINCT FROM 'empty'

    UNION ALL
    SELECT 'filing.orphan', 'filings', f.row, 'employee_id',
           CASE WHEN f.employee_id IS NULL THEN 'the filing has no employee id'
                WHEN fm.candidates = 0
                THEN format('no roster member has employee id {}', f.employee_id)
                ELSE format('none of the {} roster members of employee {} matches by branch, '
                            || 'birth date, kana or name', fm.candidates, f.employee_id) END
    FROM filings AS f JOIN fm ON fm.filing_row = f.row
    WHERE fm.roster_row IS NULL

    UNION ALL
    SELECT 'filing.missing', 'roster', row, 'my_number', 'no My Number filing matches this active member'
    FROM member WHERE active AND NOT has_filing

    UNION ALL
    SELECT 'match.birth_date', 'filings', filing_row, 'birth_date',
           format('roster {} / filing {}', roster_birth_date, filed_birth_date)
    FROM match_compare WHERE birth_differs

    UNION ALL
    SELECT 'match.sex', 'filings', filing_row, 'sex', format('roster {} / filing {}', roster_sex, filed_sex)
    FROM match_compare WHERE sex_differs

    UNION ALL
    SELECT 'match.identity', 'filings', filing_row,
           concat_ws(';', CASE WHEN name_differs THEN 'name' END,
                          CASE WHEN kana_differs THEN 'name_kana' END,
                          CASE WHEN address_differs THEN 'address' END),
           concat_ws('; ',
                     CASE WHEN name_differs THEN format('name: roster {} / filing {}', roster_name, filed_name) END,
                     CASE WHEN kana_differs THEN format('kana: roster {} / filing {}', roster_kana, filed_kana) END,
                     CASE WHEN address_differs
                          THEN format('address: roster {} / filing {}', roster_address, filed_address) END)
    FROM match_compare WHERE identity_differs

    UNION ALL
    SELECT 'match.name', 'filings', filing_row, 'name', format('roster {} / filing {}', roster_name, filed_name)
    FROM match_compare WHERE name_differs AND NOT identity_differs

    UNION ALL
    SELECT 'match.name_kana', 'filings', filing_row, 'name_kana',
           format('roster {} / filing {}', roster_kana, filed_kana)
    FROM match_compare WHERE kana_differs AND NOT identity_differs

    UNION ALL
    SELECT 'match.address', 'filings', filing_row, 'address',
           format('roster {} / filing {}', roster_address, filed_address)
    FROM match_compare WHERE address_differs AND NOT identity_differs

    UNION ALL
    SELECT 'match.name_variant', 'filings', filing_row,
           concat_ws(';', CASE WHEN name_variant THEN 'name' END, CASE WHEN kana_variant THEN 'name_kana' END),
           concat_ws('; ',
                     CASE WHEN name_variant THEN format('name: roster {} / filing {}', roster_name, filed_name) END,
                     CASE WHEN kana_variant THEN format('kana: roster {} / filing {}', roster_kana, filed_kana) END)
           || ' (variant kanji or small kana only)'
    FROM match_compare WHERE name_variant OR kana_variant

    UNION ALL
    SELECT 'overseas.no_designated_address', 'roster', row, 'designated_address',
           'insured person lives overseas (' || overseas_type || ') and no domestic mailing address is on file'
    FROM roster
    WHERE relation = 'self' AND residence = 'overseas'
      AND overseas_type IN ('single', 'family_accompanied') AND designated_address IS NULL

    UNION ALL
    -- Empty, not unreadable: an unreadable type is validation's input.invalid_value.
    SELECT 'overseas.unknown_type', 'roster', r.row, 'overseas_type',
           'insured person lives overseas and 海外赴任区分 (overseas type) is empty: '
           || 'the mailing address cannot be decided'
    FROM roster AS r
    LEFT JOIN validation_finding AS v
      ON v.source = 'roster' AND v.row = r.row AND v.field = 'overseas_type'
    WHERE r.relation = 'self' AND r.residence = 'overseas' AND r.overseas_type IS NULL
      AND v.row IS NULL

    UNION ALL
    SELECT 'overseas.emigrated_before_2015', 'roster', row, 'emigrated_on',
           format('left Japan on {} and has no filing: no My Number was ever assigned',
                  coalesce(emigrated_on, insured_emigrated_on))
    FROM member WHERE emigrated_before_system

    UNION ALL
    SELECT 'overseas.never_registered', 'roster', row, 'jp_registered',
           CASE WHEN jp_registered = 'no' THEN 'never registered as a resident in Japan (住民登録 no)'
                ELSE format('born abroad on {} after the insured person left Japan, no filing', birth_date) END
    FROM member WHERE never_registered
)
SELECT
    raw."check",
    c.severity,
    CASE raw.source WHEN 'roster' THEN r.member_id ELSE fm.member_id END AS member_id,
    raw.source,
    raw.row,
    raw.field,
    -- Details quote values as given; a 1 MB cell must not make a 1 MB finding.
    CASE WHEN length(raw.detail) > 300 THEN left(raw.detail, 300) || '…' ELSE raw.detail END AS detail,
    CASE raw.source WHEN 'roster' THEN raw.row ELSE fm.roster_row END AS roster_row,
    c.check_order
FROM raw
JOIN catalog AS c ON c."check" = raw."check"
LEFT JOIN roster AS r ON raw.source = 'roster' AND r.row = raw.row
LEFT JOIN fm ON raw.source = 'filings' AND fm.filing_row = raw.row;
