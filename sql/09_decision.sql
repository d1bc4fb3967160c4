-- The decisions of SPEC §6 for every roster row: My Number status, notice wave,
-- certificate, delivery route and who must confirm what.
CREATE OR REPLACE TABLE decision AS
WITH
flags AS (
    SELECT
        roster_row,
        bool_or("check" LIKE 'my_number.%') AS has_number_finding,
        bool_or("check" LIKE 'match.%' AND severity IN ('error', 'warning')) AS has_mismatch,
        bool_or("check" IN ('match.birth_date', 'match.sex', 'match.identity')) AS has_match_error,
        bool_or(source = 'roster' AND ("check" LIKE 'roster.%' OR "check" = 'input.invalid_value'))
            AS has_roster_problem
    FROM finding
    WHERE roster_row IS NOT NULL
    GROUP BY roster_row
),
unverified AS (
    SELECT roster_row FROM match_compare WHERE unverifiable GROUP BY roster_row
),
status AS (
    SELECT
        m.*,
        coalesce(fl.has_number_finding, false) AS has_number_finding,
        coalesce(fl.has_mismatch, false) OR u.roster_row IS NOT NULL AS has_mismatch,
        coalesce(fl.has_roster_problem, false) AS has_roster_problem,
        CASE
            WHEN mf.roster_row IS NULL THEN 'missing'
            WHEN mf.any_invalid THEN 'invalid'
            WHEN mf.numbers > 1 THEN 'conflict'
            WHEN mf.any_duplicate THEN 'duplicate'
            WHEN coalesce(fl.has_match_error, false) OR u.roster_row IS NOT NULL THEN 'mismatch'
            ELSE 'linked'
        END AS my_number_status,
        -- The later of joining and filing decides the wave (NULL when acquired_on is unreadable).
        CASE WHEN m.acquired_on IS NOT NULL AND mf.first_filed_on IS NOT NULL
             THEN greatest(m.acquired_on, mf.first_filed_on) END AS notice_event
    FROM member AS m
    LEFT JOIN member_filing AS mf ON mf.roster_row = m.row
    LEFT JOIN flags AS fl ON fl.roster_row = m.row
    LEFT JOIN unverified AS u ON u.roster_row = m.row
),
documents AS (
    SELECT
        s.*,
        CASE
            WHEN NOT s.active OR s.my_number_status <> 'linked' OR s.notice_event IS NULL THEN 'none'
            WHEN s.notice_event <= p.notice_snapshot THEN 'wave1'
            WHEN s.notice_event <= p.card_issuance_end THEN 'wave2'
            ELSE 'on_enrolment'
        END AS notice,
        CASE WHEN s.active THEN concat_ws(';',
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
        p.certificate_max_years
    FROM status AS s CROSS JOIN params AS p
),
routed AS (
    SELECT
        d.*,
        CASE
            WHEN NOT d.active OR (d.notice = 'none' AND d.certificate_reasons = '') THEN 'none'
            WHEN d.route_residence = 'domestic' OR d.route_overseas_type = 'posted_alone' THEN 'household'
            WHEN d.route_overseas_type IN ('single', 'family_accompanied') AND d.route_designated_address IS NOT NULL
                THEN 'designated_address'
            WHEN d.route_overseas_type IN ('single', 'family_accompanied') THEN 'undeliverable'
            ELSE 'none'
        END AS delivery
    FROM documents AS d
),
confirming AS (
    SELECT
        r.*,
        r.active AND (r.has_number_finding OR r.has_mismatch OR NOT r.has_filing OR r.overseas_member
                      OR r.emigrated_before_system OR r.never_registered) AS member_confirms,
        r.active AND r.delivery IN ('designated_address', 'undeliverable') AS hr_confirms,
        r.active AND r.has_roster_problem AS society_confirms,
        CASE WHEN r.active THEN concat_ws(';',
            CASE WHEN r.has_number_finding THEN 'my_number_problem' END,
            CASE WHEN r.has_mismatch THEN 'mismatch' END,
            CASE WHEN NOT r.has_filing THEN 'no_filing' END,
            CASE WHEN r.overseas_member THEN 'overseas' END,
            CASE WHEN r.emigrated_before_system THEN 'emigrated_before_2015' END,
            CASE WHEN r.never_registered THEN 'never_registered' END,
            CASE WHEN r.delivery IN ('designated_address', 'undeliverable') THEN 'hr_confirm_address' END,
            CASE WHEN r.has_roster_problem THEN 'roster_problem' END
        ) ELSE '' END AS confirm_reasons
    FROM routed AS r
)
SELECT
    row,
    member_id,
    household_id,
    active,
    my_number_status,
    notice,
    CASE WHEN certificate_reasons <> '' THEN 'yes' ELSE 'no' END AS certificate,
    certificate_reasons,
    CASE WHEN certificate_reasons <> ''
         THEN least(CAST(as_of + to_years(certificate_max_years) AS DATE) - 1,
                    CAST(lost_on AS DATE) - 1) END AS certificate_valid_until,
    delivery,
    confirm_reasons <> '' AS must_confirm,
    confirm_reasons,
    concat_ws(';',
        CASE WHEN member_confirms THEN 'member' END,
        CASE WHEN hr_confirms THEN 'hr' END,
        CASE WHEN society_confirms THEN 'society' END) AS confirm_by,
    -- kept for the report's lists; not written to members.csv
    overseas_member,
    relation,
    route_overseas_type AS overseas_type
FROM confirming;
