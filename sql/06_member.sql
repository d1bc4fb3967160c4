-- Each roster row with the facts the rules read: whether the member is active,
-- which row decides delivery (the insured person's, or the member's own when the
-- household has no single insured row), and the overseas conditions of SPEC §6.3.
-- reads: roster, params, household, member_filing, validation_finding
-- makes: member
CREATE OR REPLACE TABLE member AS
WITH
-- A join, not a correlated EXISTS: DuckDB materialized every pair to decorrelate it.
unreadable AS (
    SELECT row
    FROM validation_finding
    WHERE source = 'roster' AND field IN ('acquired_on', 'lost_on')
    GROUP BY row
),
base AS (
    SELECT
        -- Only what the findings and decisions read: names and addresses stay
        -- in `roster` (a million of them copied again cost more than the joins).
        r.row, r.member_id, r.household_id, r.relation, r.birth_date, r.acquired_on, r.lost_on,
        r.residence, r.emigrated_on, r.jp_registered, r.card_status, r.myna_registered,
        r.myna_opt_out, r.cert_expires_on, r.needs_assistance,
        -- SPEC §6: a member whose qualification dates cannot be read counts as
        -- active (nobody is dropped silently) but gets no document.
        u.row IS NOT NULL AS period_unreadable,
        u.row IS NOT NULL
            OR ((r.acquired_on IS NULL OR r.acquired_on <= p.as_of)
                AND (r.lost_on IS NULL OR p.as_of < r.lost_on)) AS active,
        mf.roster_row IS NOT NULL AS has_filing,
        mf.first_filed_on,
        -- An overseas member: own residence abroad, or a dependent of an insured
        -- person posted abroad with the family (家族帯同).
        coalesce(r.residence = 'overseas'
            OR (r.relation IS DISTINCT FROM 'self' AND i.residence = 'overseas'
                AND i.overseas_type = 'family_accompanied'), false) AS overseas_member,
        i.emigrated_on AS insured_emigrated_on,
        s.residence AS route_residence,
        s.overseas_type AS route_overseas_type,
        s.designated_address AS route_designated_address,
        p.my_number_system_start
    FROM roster AS r
    CROSS JOIN params AS p
    JOIN household AS h ON h.household_id = r.household_id
    LEFT JOIN roster AS i ON i.row = h.insured_row
    JOIN roster AS s ON s.row = coalesce(h.insured_row, r.row)
    LEFT JOIN member_filing AS mf ON mf.roster_row = r.row
    LEFT JOIN unreadable AS u ON u.row = r.row
),
registered AS (
    SELECT
        *,
        -- SPEC §6.3. A child born abroad after the insured person left, never
        -- resident in Japan, has no My Number, whenever it was born. A child with
        -- a departure date of its own lived in Japan, so it is not that child.
        NOT has_filing AND (
            coalesce(jp_registered = 'no', false)
            OR (jp_registered IS NULL AND relation = 'child' AND overseas_member
                AND emigrated_on IS NULL AND coalesce(birth_date > insured_emigrated_on, false))
        ) AS never_registered
    FROM base
)
SELECT
    * EXCLUDE (my_number_system_start),
    -- An overseas member without a date of their own left with the insured
    -- person, if born on or before that day. The two reasons never hold together:
    -- `jp_registered = no` says the member never lived in Japan, so never left it.
    NOT has_filing AND NOT never_registered AND coalesce(
        coalesce(emigrated_on, CASE WHEN overseas_member AND birth_date <= insured_emigrated_on
                                    THEN insured_emigrated_on END)
            < my_number_system_start,
        false) AS emigrated_before_system
FROM registered;
