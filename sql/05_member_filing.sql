-- What the filings say about each member that has at least one.
-- `numbers` counts distinct cleaned numbers whatever their validity: a typo next
-- to a good number is still two numbers for one person (my_number.conflict).
-- reads: filing_match, filings, number_owner
-- makes: member_filing
CREATE OR REPLACE TABLE member_filing AS
SELECT
    m.roster_row,
    count(*) AS filings,
    min(f.filed_on) AS first_filed_on,
    count(DISTINCT f.my_number_key) FILTER (WHERE f.my_number_problem IS DISTINCT FROM 'empty') AS numbers,
    bool_or(f.my_number_problem IS NOT NULL) AS any_invalid,
    coalesce(bool_or(o.members > 1), false) AS any_duplicate
FROM filing_match AS m
JOIN filings AS f ON f.row = m.filing_row
LEFT JOIN number_owner AS o ON o.my_number_key = f.my_number_key AND f.my_number_problem IS NULL
WHERE m.roster_row IS NOT NULL
GROUP BY m.roster_row;
