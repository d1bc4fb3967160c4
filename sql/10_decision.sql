-- The decisions of SPEC §6 for every roster row: My Number status, notice wave,
-- certificate, delivery route and who must confirm what.
-- A view: recon/decide.py reads it once, in roster order, and nothing else does
-- (written into a table first, the million rows were copied once more for nothing).
-- reads: finding, member, member_filing, params
-- makes: decision
CREATE OR REPLACE VIEW decision AS
WITH
flags AS (
    SELECT
        roster_row,
        bool_or("check" LIKE 'my_number.%') AS has_number_finding,
        bool_or("check" LIKE 'match.%' AND severity IN ('error', 'warning')) AS has_mismatch,
        bool_or("check" IN ('match.birth_date', 'match.sex', 'match.identity')) AS has_match_error,
        bool_or(source = 'roster' AND ("check" LIKE 'roster.%' OR "check" = 'input.invalid_value'))
            AS has_roster_problem,
        -- An unreadable value on one of the member's matched filing rows: the employer re-files.
        bool_or(source = 'filings' AND "check" = 'input.invalid_value') AS has_filing_problem,
        bool_or("check" = 'overseas.unknown_type') AS has_unknown_type
    FROM finding
    WHERE roster_row IS NOT NULL
    GROUP BY roster_row
),
status AS (
    SELECT
        m.*,
        coalesce(fl.has_number_finding, false) AS has_number_finding,
        coalesce(fl.has_mismatch, false) AS has_mismatch,
        coalesce(fl.has_roster_problem, false) AS has_roster_problem,
        coalesce(fl.has_filing_problem, false) AS has_filing_problem,
        coalesce(fl.has_unknown_type, false) AS has_unknown_type,
        CASE
            WHEN mf.roster_row IS NULL THEN 'missing'
            WHEN mf.any_invalid THEN 'invalid'
            WHEN mf.numbers > 1 THEN 'conflict'
            WHEN mf.any_duplicate THEN 'duplicate'
            WHEN coalesce(fl.has_match_error, false) THEN 'mismatch'
            ELSE 'linked'
        END AS my_number_status,
        -- The later of joining and the earliest READABLE filing decides the wave
        -- (SPEC §6.1: min() skips the unreadable ones, nulled by validation); NULL
        -- when no date can be read: no wave, and filing_problem asks for a re-filing.
        CASE WHEN m.acquired_on IS NOT NULL AND mf.first_filed_on IS NOT NULL
             THEN greatest(m.acquired_on, mf.first_filed_on) END AS notice_event
    FROM member AS m
    LEFT JOIN member_filing AS mf ON mf.roster_row = m.row
    LEFT JOIN flags AS fl ON fl.roster_row = m.row
),
documents AS (
    SELECT
        s.*,
        CASE
            WHEN NOT s.active OR s.period_unreadable OR s.my_number_status <> 'linked'
                 OR s.notice_event IS NULL THEN 'none'
            WHEN s.notice_event <= p.notice_snapshot THEN 'wave1'
            WHEN s.notice_event <= p.card_issuance_end THEN 'wave2'
            ELSE 'on_enrolment'
        END AS notice,
        -- Nothing is printed from a record whose qualification dates cannot be read (SPEC §6).
        CASE WHEN s.active AND NOT s.period_unreadable THEN concat_ws(';',
            CASE WHEN NOT s.has_filing THEN 'no_filing' END,
            CASE WHEN s.has_filing AND s.my_number_status <> 'linked' THEN 'invalid_my_number' END,
            CASE WHEN s.emigrated_before_system THEN 'emigrated_before_2015' END,
            CASE WHEN s.never_registered THEN 'never_registered' END,
            CASE WHEN s.card_status = 'none' THEN 'card_none' END,
            CASE WHEN s.card_status = 'lost' THEN 'card_lost' END,
            CASE WHEN s.card_status = 'renewing' THEN 'card_renewing' END,
            CASE WHEN s.card_status = 'returned' THEN 'card_returned' END,
            CASE WHEN s.myna_opt_out = 'yes' THEN 'opted_out' END,
            CASE WHEN s.cert_expires_on < p.as_of THEN 'cert_expired' END,
            CASE WHEN p.certificate_for_unregistered AND s.myna_registered = 'no' THEN 'not_registered' END,
            CASE WHEN s.needs_assistance = 'yes' THEN 'needs_assistance' END
        ) ELSE '' END AS certificate_reasons,
        p.as_of,
        CAST(p.as_of + to_years(p.certificate_max_years) AS DATE) AS period_end
    FROM status AS s CROSS JOIN params AS p
),
routed AS (
    SELECT
        d.*,
        CASE
            WHEN NOT d.active OR (d.notice = 'none' AND d.certificate_reasons = '') THEN 'none'
            WHEN d.route_residence = 'domestic' OR d.route_overseas_type = 'posted_alone' THEN 'household'
            -- Abroad as single or family_accompanied, or abroad with no type (or one
            -- nobody could read): the designated address when one is on file (SPEC §6.4).
            WHEN d.route_residence = 'overseas' AND d.route_designated_address IS NOT NULL
                THEN 'designated_address'
            -- Every document is in one envelope or undeliverable: where it would
            -- go is unknown (abroad without an address, or a residence nobody
            -- could read), so it is held.
            ELSE 'undeliverable'
        END AS delivery
    FROM documents AS d
),
confirming AS (
    SELECT
        r.*,
        r.active AND (r.has_number_finding OR r.has_mismatch OR NOT r.has_filing OR r.overseas_member
                      OR r.emigrated_before_system OR r.never_registered OR r.has_filing_problem)
            AS member_confirms,
        r.active AND (r.delivery IN ('designated_address', 'undeliverable') OR r.has_unknown_type)
            AS hr_confirms,
        r.active AND r.has_roster_problem AS society_confirms,
        CASE WHEN r.active THEN concat_ws(';',
            CASE WHEN r.has_number_finding THEN 'my_number_problem' END,
            CASE WHEN r.has_mismatch THEN 'mismatch' END,
            CASE WHEN NOT r.has_filing THEN 'no_filing' END,
            CASE WHEN r.overseas_member THEN 'overseas' END,
            CASE WHEN r.emigrated_before_system THEN 'emigrated_before_2015' END,
            CASE WHEN r.never_registered THEN 'never_registered' END,
            CASE WHEN r.delivery IN ('designated_address', 'undeliverable') OR r.has_unknown_type
                 THEN 'hr_confirm_address' END,
            CASE WHEN r.has_filing_problem THEN 'filing_problem' END,
            CASE WHEN r.has_roster_problem THEN 'roster_problem' END
        ) ELSE '' END AS confirm_reasons
    FROM routed AS r
)
-- Each code column is typed as the values SPEC gives it (ENUM): a value
-- outside them fails the run here instead of reaching a file. It also reaches
-- polars as a dictionary (a categorical): the writers, Great Expectations and
-- the explain folder then work on its few values, not on a million strings
-- (0.5 CPU-s of a 1M run: bench/README.md). A test holds these lists to the
-- Python side's (recon/output/model.py, recon/normalize/codes.py).
SELECT
    row,
    member_id,
    household_id,
    active,
    CAST(my_number_status AS ENUM('linked', 'missing', 'invalid', 'conflict', 'duplicate', 'mismatch'))
        AS my_number_status,
    CAST(notice AS ENUM('wave1', 'wave2', 'on_enrolment', 'none')) AS notice,
    CAST(CASE WHEN certificate_reasons <> '' THEN 'yes' ELSE 'no' END AS ENUM('yes', 'no'))
        AS certificate,
    certificate_reasons,
    -- 民法143条: the period ends the day before the same date N years on; where
    -- that year has no such date (29 February), on the last day of the month,
    -- which is the day DuckDB's year arithmetic lands on (2028-02-29 + 5 years
    -- = 2033-02-28). Never past the day before the loss of qualification.
    CASE WHEN certificate_reasons <> ''
         THEN least(CASE WHEN day(period_end) = day(as_of) THEN period_end - 1 ELSE period_end END,
                    CAST(lost_on AS DATE) - 1) END AS certificate_valid_until,
    CAST(delivery AS ENUM('household', 'designated_address', 'undeliverable', 'none')) AS delivery,
    confirm_reasons <> '' AS must_confirm,
    confirm_reasons,
    concat_ws(';',
        CASE WHEN member_confirms THEN 'member' END,
        CASE WHEN hr_confirms THEN 'hr' END,
        CASE WHEN society_confirms THEN 'society' END) AS confirm_by,
    -- kept for the report's lists; not written to members.csv
    overseas_member,
    CAST(relation AS ENUM('self', 'spouse', 'child', 'parent', 'other')) AS relation,
    CAST(route_overseas_type AS ENUM('posted_alone', 'single', 'family_accompanied')) AS overseas_type,
    -- the facts the rules above compared, for `recon explain` (explain.parquet)
    period_unreadable,
    has_filing,
    first_filed_on,
    notice_event,
    never_registered,
    emigrated_before_system,
    insured_emigrated_on,
    CAST(route_residence AS ENUM('domestic', 'overseas')) AS route_residence,
    route_designated_address IS NOT NULL AS route_has_designated_address,
    has_number_finding,
    has_mismatch,
    has_unknown_type,
    has_filing_problem,
    has_roster_problem
FROM confirming;
