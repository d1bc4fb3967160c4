-- For each valid My Number: how many different roster members it was matched to.
-- More than one is the typical wrong link of 2023 (my_number.duplicate).
-- reads: filing_match, filings
-- makes: number_owner
CREATE OR REPLACE TABLE number_owner AS
SELECT f.my_number_key, count(DISTINCT m.roster_row) AS members
FROM filing_match AS m
JOIN filings AS f ON f.row = m.filing_row
WHERE m.roster_row IS NOT NULL AND f.my_number_problem IS NULL
GROUP BY f.my_number_key;
