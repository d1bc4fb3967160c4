"""Each rule of SPEC §3.2, §5 and §6 on small real inputs, boundary days included.

Every test runs the real pipeline (polars, Pandera, DuckDB) on CSV files it
writes; the run date is 2025-06-30 unless a test says otherwise.
"""

import datetime as dt

import polars as pl
import pytest

from tests.conftest import abroad, filing, member, my_number, person

# ---------------------------------------------------------------- matching (§3.2)


def test_filing_with_wrong_birth_date_is_matched_and_reported(reconcile):
    insured = member()
    run = reconcile([insured], [filing(insured, birth_date="1980-04-10")])
    assert run.checks() == ["match.birth_date"]
    assert run.finding("match.birth_date")["member_id"] == "1234-1-00"
    assert run.decision("1234-1-00")["my_number_status"] == "mismatch"


def test_branch_given_in_filing_decides_first(reconcile):
    twins = [
        member(branch="00"),
        member(branch="01", **person("child", "山田 一", "ヤマダ ハジメ", "2010-01-01")),
        member(branch="02", **person("child", "山田 二", "ヤマダ ツグ", "2010-01-01")),
    ]
    # Names of twin 01, branch of twin 02: the branch wins, the names are then mismatches.
    f = filing(twins[1], branch="02")
    run = reconcile(twins, [filing(twins[0]), f, filing(twins[2])])
    assert run.finding("match.identity")["member_id"] == "1234-1-02"


def test_key_finding_several_members_is_skipped(reconcile):
    people = [
        member(),
        member(branch="01", **person("child", "山田 優", "ヤマダ ユウ", "2012-01-01")),
        member(branch="02", **person("child", "山田 悠", "ヤマダ ユウ", "2014-01-01")),
    ]
    # Wrong birth date, so keys 2 and 3 find nobody; key 4 (kana + relation)
    # finds both children and is skipped; key 5 (kanji + relation) finds 優.
    f = filing(people[1], birth_date="2013-01-01")
    run = reconcile(people, [filing(people[0]), f, filing(people[2])])
    assert run.finding("match.birth_date")["member_id"] == "1234-1-01"
    assert "filing.orphan" not in run.checks()


def test_orphan_filing(reconcile):
    insured = member()
    stranger = filing(member(employee="E9"))
    run = reconcile([insured], [filing(insured), stranger])
    orphan = run.finding("filing.orphan")
    assert (orphan["member_id"], orphan["source"], orphan["row"]) == (None, "filings", 2)
    assert run.result.filing_match.height == 2  # conservation: the orphan is accounted for


def test_orphan_inside_a_known_household(reconcile):
    insured = member()
    other = filing(insured, **person("spouse", "佐藤 花子", "サトウ ハナコ", "1990-01-01"))
    run = reconcile([insured], [filing(insured), other])
    assert "加入者 1 人のいずれとも" in run.finding("filing.orphan")["detail"]


# ---------------------------------------------------------------- roster checks


def test_duplicate_member_on_both_rows(reconcile):
    a, b = member(), member(name="山田 次郎", name_kana="ヤマダ ジロウ", relation="child")
    run = reconcile([a, b], [filing(a)])
    dup = run.findings.filter(run.findings["check"] == "roster.duplicate_member")
    assert sorted(dup["row"].to_list()) == [1, 2]


def test_insurer_number_check_digit_and_silent_padding(reconcile):
    bad = member(employee="E1", insurer_number="06139918")
    padded = member(employee="E2", insurer_number="1040013")  # 01040013 lost its 0 in Excel
    run = reconcile([bad, padded], [filing(bad), filing(padded)])
    assert run.checks() == ["roster.insurer_number"]
    assert run.finding("roster.insurer_number")["member_id"] == "1234-1-00"


@pytest.mark.parametrize("relations", [("spouse", "child"), ("self", "self")])
def test_household_needs_exactly_one_insured(reconcile, relations):
    rows = [member(branch="00", relation=relations[0]), member(branch="01", relation=relations[1])]
    run = reconcile(rows, [])
    no_insured = run.findings.filter(run.findings["check"] == "roster.no_insured")
    assert sorted(no_insured["row"].to_list()) == [1, 2]
    assert run.decision("1234-1-01")["confirm_by"].endswith("society")


# ---------------------------------------------------------------- My Number checks


@pytest.mark.parametrize(
    ("number", "check"),
    [
        ("000000000000", "my_number.format"),
        ("23456789013", "my_number.format"),  # 023456789013 without its leading 0
        ("1.23457E+11", "my_number.format"),
        ("", "my_number.format"),
        ("123456789019", "my_number.check_digit"),
    ],
)
def test_number_problems(reconcile, number, check):
    insured = member()
    run = reconcile([insured], [filing(insured, number=number or " ")])
    assert run.checks() == [check]
    d = run.decision("1234-1-00")
    assert (d["my_number_status"], d["certificate_reasons"], d["notice"]) == (
        "invalid",
        "invalid_my_number",
        "none",
    )
    assert d["confirm_reasons"] == "my_number_problem"


def test_duplicate_number_across_households(reconcile):
    a, b = (
        member(employee="E1"),
        member(employee="E2", name="佐藤 一郎", name_kana="サトウ イチロウ"),
    )
    same = my_number(90000000001)
    run = reconcile([a, b], [filing(a, number=same), filing(b, number=same)])
    dups = run.findings.filter(run.findings["check"] == "my_number.duplicate")
    assert sorted(dups["member_id"].to_list()) == ["1234-1-00", "1234-2-00"]
    assert "********" + same[-4:] in dups["detail"][0] and same not in dups["detail"][0]
    assert run.decision("1234-2-00")["my_number_status"] == "duplicate"


def test_conflicting_numbers_for_one_member(reconcile):
    insured = member()
    run = reconcile(
        [insured],
        [
            filing(insured, number=my_number(90000000001)),
            filing(insured, number=my_number(90000000002)),
        ],
    )
    assert run.checks() == ["my_number.conflict", "my_number.conflict"]
    assert run.decision("1234-1-00")["my_number_status"] == "conflict"


def test_refiling_the_same_number_is_no_conflict_and_earliest_filing_counts(reconcile):
    insured = member(acquired_on="2020-04-01")
    n = my_number(90000000001)
    run = reconcile(
        [insured],
        [
            filing(insured, number=n, filed_on="2024-10-01"),
            filing(insured, number=n, filed_on="2024-08-16"),
        ],
    )
    assert run.checks() == []
    assert run.decision("1234-1-00")["notice"] == "wave1"


def test_filing_missing_only_for_active_members(reconcile):
    active, retired = member(employee="E1"), member(employee="E2", lost_on="2025-01-01")
    run = reconcile([active, retired], [])
    missing = run.findings.filter(run.findings["check"] == "filing.missing")
    assert missing["member_id"].to_list() == ["1234-1-00"]
    assert run.decision("1234-2-00")["my_number_status"] == "missing"


# ---------------------------------------------------------------- field comparison (§4, §5)


def test_sex_mismatch_and_unset_sex(reconcile):
    a, b = member(employee="E1"), member(employee="E2", sex="3")
    run = reconcile([a, b], [filing(a, sex="2"), filing(b, sex="1")])
    assert run.checks() == ["match.sex"]
    assert run.finding("match.sex")["member_id"] == "1234-1-00"


@pytest.mark.parametrize(
    ("changes", "expected", "field"),
    [
        ({"name": "佐藤 太郎", "name_kana": "サトウ タロウ"}, "match.identity", "name;name_kana"),
        (
            {"name": "佐藤 太郎", "address": "大阪府大阪市北区梅田1-1-1"},
            "match.identity",
            "name;address",
        ),
        (
            {"name_kana": "サトウ タロウ", "address": "大阪府大阪市北区梅田1-1-1"},
            "match.identity",
            "name_kana;address",
        ),
        ({"name": "山田 大郎"}, "match.name", "name"),
        ({"name_kana": "ヤマダ ダイロウ"}, "match.name_kana", "name_kana"),
        ({"address": "大阪府大阪市北区梅田1-1-1"}, "match.address", "address"),
    ],
)
def test_name_and_address_rules(reconcile, changes, expected, field):
    insured = member()
    # With both names changed only the branch (key 1) can still find the member.
    run = reconcile(
        [insured], [filing(insured, branch="00", **{"address": insured["address"], **changes})]
    )
    assert run.checks() == [expected]  # identity replaces the warnings it combines
    assert run.finding(expected)["field"] == field
    status = run.decision("1234-1-00")["my_number_status"]
    assert status == ("mismatch" if expected == "match.identity" else "linked")


def test_width_hiragana_spaces_and_address_styles_are_plain_normalization(reconcile):
    insured = member(name_kana="ヤマダ タロウ", address="東京都千代田区千代田一丁目2番3号")
    f = filing(
        insured, name="山田　太郎", name_kana="やまだ　たろう", address="東京都千代田区千代田1-2-3"
    )
    half = filing(insured, name_kana="ﾔﾏﾀﾞ ﾀﾛｳ", address="東京都千代田区千代田１丁目２－３")
    run = reconcile([insured], [f, half])
    assert run.checks() == []


def test_variant_kanji_and_small_kana_are_info_only(reconcile):
    insured = member(name="髙橋 翔子", name_kana="タカハシ シヨウコ")
    run = reconcile([insured], [filing(insured, name="高橋 翔子", name_kana="タカハシ ショウコ")])
    variant = run.finding("match.name_variant")
    assert (variant["severity"], variant["field"]) == ("info", "name;name_kana")
    d = run.decision("1234-1-00")
    assert (d["my_number_status"], d["must_confirm"]) == ("linked", False)


@pytest.mark.parametrize(
    ("roster_name", "filed_name"),
    [
        ("スミス・ジョン", "スミス＝ジョン"),
        ("スミス・ジョン", "スミス ジョン"),
        ("スミス=ジョン", "ｽﾐｽ･ｼﾞｮﾝ"),
        ("一ヶ谷 太郎", "一ケ谷 太郎"),
        ("一ヵ谷 太郎", "一カ谷 太郎"),
    ],
)
def test_foreign_name_separators_and_ke_between_kanji_give_no_finding(
    reconcile, roster_name, filed_name
):
    # SPEC §4: plain normalization, so neither a mismatch nor a name_variant.
    kana = "スミス・ジョン" if "スミス" in roster_name else "イチガヤ タロウ"
    insured = member(name=roster_name, name_kana=kana)
    filed_kana = kana.replace("・", "＝")
    run = reconcile([insured], [filing(insured, name=filed_name, name_kana=filed_kana)])
    assert run.checks() == []


@pytest.mark.parametrize(
    "invisible", ["\u00ad", "\u061c", "\u180e", "\u200b", "\u200e", "\u202b", "\u2067", "\ufeff"]
)
def test_a_character_that_shows_nothing_is_no_difference(reconcile, invisible):
    # Pasted from a web form or a word processor: a soft hyphen, a direction mark or
    # isolate, a zero-width. The operator sees the same name, kana and address, and
    # so does the comparison: no mismatch, no name_variant. Also where it splits
    # what NFKC would join (ﾀ + ﾞ) or a number (12 is not 1-2).
    insured = member(
        name="山田 太郎", name_kana="ヤマダ タロウ", address="東京都千代田区千代田12-3"
    )
    f = filing(
        insured,
        name=f"山田{invisible}太郎",
        name_kana=f"ﾔﾏﾀ{invisible}ﾞ ﾀﾛｳ",
        address=f"東京都{invisible}千代田区千代田1{invisible}2-3",
    )
    run = reconcile([insured], [f])
    assert run.checks() == []


def test_a_cell_of_only_invisible_characters_is_empty(reconcile):
    # A pasted zero-width space is no name: the filing lacks its name, as with an
    # empty cell, instead of differing from the roster's.
    insured = member()
    empty = reconcile([insured], [filing(insured, name="")])
    invisible = reconcile([insured], [filing(insured, name="\u200b\u2060 \ufeff")])
    assert invisible.checks() == empty.checks() and "match.name" not in invisible.checks()


def test_a_my_number_cell_of_only_invisible_characters_is_no_number(reconcile):
    insured = member()
    empty = reconcile([insured], [filing(insured, my_number="")])
    invisible = reconcile([insured], [filing(insured, my_number="\u200b")])
    # Said as a number not given, not as one of a single character.
    detail = invisible.finding("my_number.format")["detail"]
    assert (
        invisible.checks() == empty.checks()
        and detail == empty.finding("my_number.format")["detail"]
    )


def test_an_id_with_an_invisible_character_at_its_edge_is_the_same_id(reconcile):
    # <U+200B>1234 is the 記号 1234: the member joins its household, with no finding.
    insured = member()
    spouse = member("E1", "01", relation="spouse", name="山田 花子", name_kana="ヤマダ ハナコ")
    spouse["symbol"] = "\u200b" + spouse["symbol"]
    run = reconcile([insured, spouse], [filing(insured), filing(spouse)])
    assert run.checks() == []
    assert run.decision("1234-1-01")["household_id"] == "1234-1"


def test_a_direction_override_is_a_difference(reconcile):
    # 山田<U+202E>太郎 shows as 山田郎太: not the roster's name, whatever its characters.
    insured = member(name="山田 太郎")
    run = reconcile([insured], [filing(insured, name="山田\u202e太郎")])
    assert run.checks() == ["match.name"]


@pytest.mark.parametrize(
    ("roster_name", "filed_name", "check"),
    [
        ("齋藤 健", "斎藤 健", "match.name_variant"),
        ("齊藤 健", "斉藤 健", "match.name_variant"),
        ("齊藤 健", "斎藤 健", "match.name"),  # 斉 and 斎 are different characters
        ("斉藤 健", "斎藤 健", "match.name"),
    ],
)
def test_sai_variants_fold_to_their_own_standard(reconcile, roster_name, filed_name, check):
    insured = member(name=roster_name, name_kana="サイトウ ケン")
    run = reconcile([insured], [filing(insured, name=filed_name)])
    assert run.checks() == [check]


@pytest.mark.parametrize(
    ("roster_sex", "filed_sex", "checks"),
    [
        ("male", "M", []),
        ("M", "1", []),
        ("female", "F", []),
        ("f", "女", []),
        ("unset", "1", []),
        ("F", "male", ["match.sex"]),
        ("Female", "2", []),
    ],
)
def test_english_sex_codes(reconcile, roster_sex, filed_sex, checks):
    insured = member(sex=roster_sex)
    run = reconcile([insured], [filing(insured, sex=filed_sex)])
    assert run.checks() == checks


def test_gregorian_kanji_and_dotted_dates_are_read(reconcile):
    insured = member(birth_date="1980年4月1日", acquired_on="2024.8.17")
    f = filing(insured, birth_date="1980.4.1", filed_on="2024年8月1日")
    run = reconcile([insured], [f])
    assert run.checks() == []
    assert run.decision("1234-1-00")["notice"] == "wave2"  # event = 2024-08-17


def test_small_kana_switch_off_makes_it_a_kana_mismatch(reconcile):
    insured = member(name_kana="タカハシ シヨウコ")
    run = reconcile(
        [insured], [filing(insured, name_kana="タカハシ ショウコ")], kana_fold_small=False
    )
    assert run.checks() == ["match.name_kana"]


# ---------------------------------------------------------------- overseas (§6.3, §5)


@pytest.mark.parametrize(("emigrated", "flagged"), [("2015-10-14", True), ("2015-10-15", False)])
def test_emigrated_before_my_number_system(reconcile, emigrated, flagged):
    insured = member(**abroad("posted_alone", emigrated_on=emigrated))
    run = reconcile([insured], [])
    assert ("overseas.emigrated_before_2015" in run.checks()) is flagged
    reasons = run.decision("1234-1-00")["certificate_reasons"]
    assert reasons == ("no_filing;emigrated_before_2015" if flagged else "no_filing")


def test_emigrated_before_2015_needs_no_filing(reconcile):
    insured = member(**abroad("posted_alone", emigrated_on="2010-01-01"))
    run = reconcile([insured], [filing(insured)])
    assert "overseas.emigrated_before_2015" not in run.checks()


def _family_abroad(child_birth: str, emigrated: str = "2016-04-01", **child):
    """An insured person posted abroad with the family (家族帯同), and one child."""
    insured = member(
        **abroad(
            "family_accompanied", emigrated_on=emigrated, designated_address="東京都港区芝1-1-1"
        )
    )
    kid = member(
        **{"branch": "01"} | person("child", "山田 花", "ヤマダ ハナ", child_birth) | child
    )
    return insured, kid


@pytest.mark.parametrize(
    ("birth", "registered", "flagged"),
    [
        ("2017-01-01", "", True),  # born abroad after the family left, never registered
        ("2016-04-01", "", False),  # born on the day the insured left: not after it
        ("2014-01-01", "", False),  # born in Japan before they left
        ("2010-01-01", "いいえ", True),  # 住民登録 no: always
    ],
)
def test_never_registered(reconcile, birth, registered, flagged):
    insured, kid = _family_abroad(birth, jp_registered=registered)
    run = reconcile([insured, kid], [filing(insured)])
    assert ("overseas.never_registered" in run.checks("1234-1-01")) is flagged
    d = run.decision("1234-1-01")
    assert ("never_registered" in d["certificate_reasons"]) is flagged
    assert "overseas" in d["confirm_reasons"]  # dependent of a family posted abroad together


@pytest.mark.parametrize("birth", ["2015-10-14", "2015-10-15"])
def test_child_born_abroad_is_never_registered_before_or_after_system_start(reconcile, birth):
    # SPEC §6.3 rev 2: born after the insured person left (2010), no filing, 住民登録 empty:
    # never_registered whichever side of 2015-10-15 it was born on, and never
    # emigrated_before_2015 although the insured person left before that day.
    insured, kid = _family_abroad(birth, emigrated="2010-01-01")
    run = reconcile([insured, kid], [filing(insured)])
    assert run.checks("1234-1-01") == ["filing.missing", "overseas.never_registered"]
    d = run.decision("1234-1-01")
    assert d["certificate_reasons"] == "no_filing;never_registered"
    assert d["confirm_reasons"] == "no_filing;overseas;never_registered;hr_confirm_address"


def test_never_registered_needs_no_filing(reconcile):
    # 住民登録 no, but a filing came: the member has a number after all (SPEC §6.3).
    insured = member(jp_registered="no")
    run = reconcile([insured], [filing(insured)])
    assert run.checks() == []
    assert run.decision("1234-1-00")["certificate"] == "no"


def test_never_registered_and_emigrated_before_2015_never_hold_together(reconcile):
    # 住民登録 no with a departure before 2015: never resident, so never left (SPEC §6.3).
    insured = member(**abroad("single", emigrated_on="2010-01-01", jp_registered="no"))
    run = reconcile([insured], [])
    assert "overseas.emigrated_before_2015" not in run.checks()
    assert "overseas.never_registered" in run.checks()
    assert run.decision("1234-1-00")["certificate_reasons"] == "no_filing;never_registered"


def test_inherited_departure_needs_a_known_birth_on_or_before_it(reconcile):
    # A dependent whose birth date cannot be read is not known to have left with the family.
    insured, kid = _family_abroad("R06.13.40", emigrated="2014-03-01")
    run = reconcile([insured, kid], [])
    assert "overseas.emigrated_before_2015" not in run.checks("1234-1-01")
    assert "overseas.emigrated_before_2015" in run.checks("1234-1-00")  # his own date


# ---------------------------------------------------------------- active (§6)


@pytest.mark.parametrize(
    ("acquired", "lost", "active"),
    [
        ("2025-06-30", "", True),  # joined on the run date
        ("2025-07-01", "", False),  # joins tomorrow
        ("2020-04-01", "2025-06-30", False),  # lost_on equal to the run date
        ("2020-04-01", "2025-07-01", True),
    ],
)
def test_active_boundaries(reconcile, acquired, lost, active):
    insured = member(acquired_on=acquired, lost_on=lost, card_status="none")
    run = reconcile([insured], [])
    d = run.decision("1234-1-00")
    assert d["active"] is active
    if not active:
        assert (d["notice"], d["certificate"], d["delivery"], d["must_confirm"]) == (
            "none",
            "no",
            "none",
            False,
        )
        assert (d["certificate_reasons"], d["confirm_reasons"], d["confirm_by"]) == ("", "", "")
        assert d["my_number_status"] == "missing"  # computed for everyone


# ---------------------------------------------------------------- notice wave (§6.1)


@pytest.mark.parametrize(
    ("acquired", "filed", "wave"),
    [
        ("2020-04-01", "2024-08-16", "wave1"),
        ("2020-04-01", "2024-08-17", "wave2"),
        ("2024-08-16", "2024-01-01", "wave1"),  # joined on the snapshot day, filed before
        ("2024-08-17", "2024-01-01", "wave2"),
        ("2024-12-01", "2024-01-01", "wave2"),
        ("2020-04-01", "2024-12-01", "wave2"),
        ("2024-12-02", "2024-01-01", "on_enrolment"),
        ("2020-04-01", "2024-12-02", "on_enrolment"),
    ],
)
def test_notice_wave_boundaries(reconcile, acquired, filed, wave):
    insured = member(acquired_on=acquired)
    run = reconcile([insured], [filing(insured, filed_on=filed)])
    d = run.decision("1234-1-00")
    assert (d["notice"], d["certificate"], d["delivery"]) == (wave, "no", "household")


def test_policy_dates_come_from_the_policy(reconcile):
    insured = member()
    run = reconcile(
        [insured], [filing(insured, filed_on="2024-08-20")], notice_snapshot=dt.date(2024, 8, 31)
    )
    assert run.decision("1234-1-00")["notice"] == "wave1"


# ---------------------------------------------------------------- certificate (§6.2)


@pytest.mark.parametrize(
    ("values", "reasons"),
    [
        ({"card_status": "未取得"}, "card_none"),
        ({"card_status": "紛失"}, "card_lost"),
        ({"card_status": "更新中"}, "card_renewing"),
        ({"card_status": "返納"}, "card_returned"),
        ({"myna_opt_out": "はい"}, "opted_out"),
        ({"cert_expires_on": "2025-06-29"}, "cert_expired"),
        ({"cert_expires_on": "2025-06-30"}, ""),  # valid through the run date
        ({"myna_registered": "いいえ"}, ""),  # the national switch is off by default
        ({"needs_assistance": "はい"}, "needs_assistance"),
        (
            {"card_status": "返納", "needs_assistance": "yes", "myna_opt_out": "yes"},
            "card_returned;opted_out;needs_assistance",
        ),
    ],
)
def test_certificate_reasons(reconcile, values, reasons):
    insured = member(**values)
    run = reconcile([insured], [filing(insured)])
    d = run.decision("1234-1-00")
    assert d["certificate_reasons"] == reasons
    assert d["certificate"] == ("yes" if reasons else "no")
    assert d["certificate_valid_until"] == (dt.date(2030, 6, 29) if reasons else None)
    assert d["notice"] == "wave1"  # a certificate does not replace the notice of a linked member


def test_not_registered_needs_the_policy_switch(reconcile):
    insured = member(myna_registered="no")
    run = reconcile([insured], [filing(insured)], certificate_for_unregistered=True)
    assert run.decision("1234-1-00")["certificate_reasons"] == "not_registered"


def test_certificate_validity_ends_before_loss(reconcile):
    insured = member(lost_on="2026-03-31")
    run = reconcile([insured], [])
    assert run.decision("1234-1-00")["certificate_valid_until"] == dt.date(2026, 3, 30)


def test_certificate_max_years_from_policy(reconcile):
    insured = member()
    run = reconcile([insured], [], certificate_max_years=3)
    assert run.decision("1234-1-00")["certificate_valid_until"] == dt.date(2028, 6, 29)


@pytest.mark.parametrize(
    ("as_of", "years", "until"),
    [
        (dt.date(2028, 2, 29), 5, dt.date(2033, 2, 28)),  # no 29 Feb in 2033: last day of Feb
        (dt.date(2024, 2, 29), 4, dt.date(2028, 2, 28)),  # 2028-02-29 exists: the day before
        (dt.date(2025, 3, 1), 5, dt.date(2030, 2, 28)),
        (dt.date(2027, 3, 1), 5, dt.date(2032, 2, 29)),  # the day before is a leap day
        (dt.date(2025, 12, 31), 5, dt.date(2030, 12, 30)),
        (dt.date(2026, 1, 1), 5, dt.date(2030, 12, 31)),
    ],
)
def test_certificate_validity_by_the_civil_code(reconcile, as_of, years, until):
    # SPEC §6.2, 民法143条: the day before the same date N years on; without such a
    # date, the last day of that month.
    insured = member(card_status="none")
    run = reconcile([insured], [filing(insured)], as_of=as_of, certificate_max_years=years)
    assert run.decision("1234-1-00")["certificate_valid_until"] == until


@pytest.mark.parametrize(
    ("lost", "until"),
    [
        ("2033-03-01", dt.date(2033, 2, 28)),  # the period ends first
        ("2033-02-28", dt.date(2033, 2, 27)),  # the day before the loss ends first
    ],
)
def test_civil_code_period_is_capped_by_the_loss(reconcile, lost, until):
    insured = member(card_status="none", lost_on=lost)
    run = reconcile([insured], [filing(insured)], as_of=dt.date(2028, 2, 29))
    assert run.decision("1234-1-00")["certificate_valid_until"] == until


# ------------------------------------------------ delivery (§6.4) and confirmation (§6.5)


def _household(insured_values: dict, spouse_values: dict | None = None):
    insured = member(**insured_values)
    spouse = member(
        branch="01",
        **person("spouse", "山田 花子", "ヤマダ ハナコ", "1982-01-01", sex="2"),
        **(spouse_values or {}),
    )
    return [insured, spouse], [filing(insured), filing(spouse)]


@pytest.mark.parametrize(
    ("insured_values", "delivery", "insured_reasons", "spouse_reasons"),
    [
        ({}, "household", "", ""),
        ({"residence": "海外", "overseas_type": "単身赴任"}, "household", "overseas", ""),
        (
            {
                "residence": "海外",
                "overseas_type": "単身",
                "designated_address": "東京都港区芝1-1-1",
            },
            "designated_address",
            "overseas;hr_confirm_address",
            "hr_confirm_address",
        ),
        (
            {
                "residence": "海外",
                "overseas_type": "家族帯同",
                "designated_address": "東京都港区芝1-1-1",
            },
            "designated_address",
            "overseas;hr_confirm_address",
            "overseas;hr_confirm_address",
        ),
        (
            {"residence": "海外", "overseas_type": "家族帯同"},
            # overseas.* is not a roster.* finding: no roster_problem (SPEC §6.5)
            "undeliverable",
            "overseas;hr_confirm_address",
            "overseas;hr_confirm_address",
        ),
    ],
)
def test_delivery_and_confirmation(
    reconcile, insured_values, delivery, insured_reasons, spouse_reasons
):
    rows, filings = _household(insured_values)
    run = reconcile(rows, filings)
    insured, spouse = run.decision("1234-1-00"), run.decision("1234-1-01")
    assert (insured["delivery"], spouse["delivery"]) == (delivery, delivery)
    assert insured["confirm_reasons"] == insured_reasons
    assert spouse["confirm_reasons"] == spouse_reasons
    if delivery == "undeliverable":
        assert run.checks("1234-1-00") == ["overseas.no_designated_address"]
        assert insured["confirm_by"] == "member;hr"


def test_no_documents_means_no_delivery(reconcile):
    insured = member()
    run = reconcile([insured], [filing(insured, number="123456789019")])
    d = run.decision("1234-1-00")
    # An invalid number: no notice, but a certificate, so it is still delivered.
    assert (d["notice"], d["certificate"], d["delivery"]) == ("none", "yes", "household")


def test_household_without_insured_is_routed_by_own_row(reconcile):
    spouse = member(relation="spouse", **abroad("single", designated_address="東京都港区芝1-1-1"))
    run = reconcile([spouse], [filing(spouse)])
    assert run.decision("1234-1-00")["delivery"] == "designated_address"


@pytest.mark.parametrize(
    ("designated", "delivery"),
    [("東京都港区芝1-1-1", "designated_address"), ("", "undeliverable")],
)
def test_overseas_insured_without_type(reconcile, designated, delivery):
    # SPEC §5/§6.4/§6.5: overseas.unknown_type (error) on the insured person's row; the
    # documents go to the designated address if there is one, else they are held; HR
    # confirms. An empty type is no unreadable value: no input.invalid_value, no
    # roster_problem.
    rows, filings = _household({"residence": "overseas", "designated_address": designated})
    run = reconcile(rows, filings)
    finding = run.finding("overseas.unknown_type")
    assert (finding["severity"], finding["member_id"], finding["source"], finding["row"]) == (
        "error",
        "1234-1-00",
        "roster",
        1,
    )
    assert finding["field"] == "overseas_type"
    assert run.checks() == ["overseas.unknown_type"]
    insured, spouse = run.decision("1234-1-00"), run.decision("1234-1-01")
    assert (insured["delivery"], spouse["delivery"]) == (delivery, delivery)
    assert insured["confirm_reasons"] == "overseas;hr_confirm_address"
    assert insured["confirm_by"] == "member;hr"
    # The spouse's residence is domestic and the type unknown: not an overseas member.
    assert spouse["confirm_reasons"] == "hr_confirm_address"


def test_unknown_type_asks_hr_even_with_nothing_to_mail(reconcile):
    # No document (linked, card held, but no readable filing date) -> delivery none;
    # the finding alone makes it hr_confirm_address (SPEC §6.5).
    insured = member(residence="overseas")
    run = reconcile([insured], [filing(insured, filed_on="2024-13-01")])
    d = run.decision("1234-1-00")
    assert (d["notice"], d["certificate"], d["delivery"]) == ("none", "no", "none")
    assert d["confirm_reasons"] == "overseas;hr_confirm_address;filing_problem"
    assert d["confirm_by"] == "member;hr"


def test_unreadable_overseas_type_is_no_unknown_type_but_is_routed_like_one(reconcile):
    rows, filings = _household(
        {"residence": "海外", "overseas_type": "赴任", "designated_address": "東京都港区芝1-1-1"}
    )
    run = reconcile(rows, filings)
    assert run.checks() == ["input.invalid_value"]
    insured = run.decision("1234-1-00")
    assert insured["delivery"] == "designated_address"
    assert insured["confirm_reasons"] == "overseas;hr_confirm_address;roster_problem"


def test_unreadable_residence_holds_the_documents(reconcile):
    # Every document is in one envelope or undeliverable (SPEC §6.4): a residence
    # nobody can read leaves the address unknown.
    rows, filings = _household({"residence": "どこか"})
    run = reconcile(rows, filings)
    assert run.checks() == ["input.invalid_value"]
    spouse = run.decision("1234-1-01")
    assert (spouse["notice"], spouse["delivery"]) == ("wave1", "undeliverable")
    assert spouse["confirm_reasons"] == "hr_confirm_address"


def test_confirm_reasons_in_spec_order(reconcile):
    # SPEC §6.5 order: my_number_problem, mismatch, no_filing, overseas,
    # emigrated_before_2015, never_registered, hr_confirm_address, filing_problem,
    # roster_problem. no_filing excludes the first two, so two members cover it all.
    insured = member(
        **abroad("family_accompanied", emigrated_on="2016-04-01"), birth_date="R06.13.40"
    )
    kid = member(
        branch="01",
        **person("child", "山田 花", "ヤマダ ハナ", "2017-01-01"),
        lost_on="2099-13-01",
    )
    run = reconcile(
        [insured, kid],
        [
            filing(
                insured, number="123456789019", name="山田 大郎", filed_on="2024-02-30", branch="00"
            )
        ],
    )
    d = run.decision("1234-1-00")
    assert d["confirm_reasons"] == (
        "my_number_problem;mismatch;overseas;hr_confirm_address;filing_problem;roster_problem"
    )
    assert d["confirm_by"] == "member;hr;society"
    k = run.decision("1234-1-01")
    assert k["confirm_reasons"] == "no_filing;overseas;never_registered;roster_problem"
    assert k["confirm_by"] == "member;society"
    emigrated = reconcile([member(**abroad("single", emigrated_on="2010-01-01"))], [])
    e = emigrated.decision("1234-1-00")
    assert e["confirm_reasons"] == "no_filing;overseas;emigrated_before_2015;hr_confirm_address"


def test_mismatch_and_number_problem_reasons(reconcile):
    insured = member()
    run = reconcile([insured], [filing(insured, number="123456789019", name="山田 大郎")])
    assert run.decision("1234-1-00")["confirm_reasons"] == "my_number_problem;mismatch"


@pytest.mark.parametrize(
    "dates",
    [
        {"acquired_on": "R06.13.40"},
        {"acquired_on": ""},  # required, so empty is unreadable too
        {"lost_on": "2025-02-30"},
        {"lost_on": "R99.1.1"},  # outside the plausible window
    ],
)
def test_unreadable_qualification_date_counts_active_with_no_document(reconcile, dates):
    # SPEC §6: active, notice none, certificate no, delivery none, roster_problem.
    # No card and no filing: every certificate reason would hold for a readable record.
    insured = member(card_status="none", **dates)
    linked = member(branch="01", **person("spouse", "山田 花子", "ヤマダ ハナコ", "1982-01-01"))
    linked.update(dates)
    run = reconcile([insured, linked], [filing(linked)])
    for member_id, reasons in (
        ("1234-1-00", "no_filing;roster_problem"),
        ("1234-1-01", "roster_problem"),
    ):
        d = run.decision(member_id)
        assert d["active"] is True
        assert (d["notice"], d["certificate"], d["certificate_reasons"]) == ("none", "no", "")
        assert (d["certificate_valid_until"], d["delivery"]) == (None, "none")
        assert (d["must_confirm"], d["confirm_reasons"]) == (True, reasons)
        assert d["confirm_by"].endswith("society")
    assert "filing.missing" in run.checks("1234-1-00")  # active: its filing is asked for


@pytest.mark.parametrize(
    ("child_birth", "emigrated", "never"),
    [
        ("2012-01-01", True, False),  # born in Japan, left with the family in 2014
        ("2014-03-01", True, False),  # born on the day the family left
        ("2017-01-01", False, True),  # born abroad: never left Japan, never registered
    ],
)
def test_dependent_inherits_departure_only_if_born_before_it(
    reconcile, child_birth, emigrated, never
):
    insured, kid = _family_abroad(child_birth, emigrated="2014-03-01")
    run = reconcile([insured, kid], [])
    checks = run.checks("1234-1-01")
    assert ("overseas.emigrated_before_2015" in checks) is emigrated
    assert ("overseas.never_registered" in checks) is never


def test_member_id_keeps_empty_parts(reconcile):
    no_symbol = member(employee="E1", symbol="", number="1001")
    no_number = member(employee="E2", symbol="1001", number="")
    run = reconcile([no_symbol, no_number], [])
    assert run.members["member_id"].to_list() == ["-1001-00", "1001--00"]
    assert "roster.duplicate_member" not in run.checks()


def test_orphan_without_employee_id_says_so(reconcile):
    insured = member()
    run = reconcile([insured], [filing(insured), filing(insured, employee_id="")])
    assert run.finding("filing.orphan")["detail"] == "届出に社員番号がありません"


@pytest.mark.parametrize(
    ("roster_values", "filing_values", "unverified"),
    [
        ({}, {"birth_date": "R06.13.40"}, "match.birth_date"),
        ({"birth_date": "R06.13.40"}, {"birth_date": "1980-04-01"}, "match.birth_date"),
        ({}, {"sex": "9"}, "match.sex"),
        ({"sex": "9"}, {"sex": "1"}, "match.sex"),
        ({"sex": "9"}, {"sex": "9"}, "match.sex"),
        ({"sex": "3"}, {"sex": "9"}, None),  # 未設定 is never compared, so nothing was missed
        ({"sex": "9"}, {"sex": "3"}, None),
    ],
)
def test_unreadable_birth_date_or_sex_on_either_side_suspends_the_link(
    reconcile, roster_values, filing_values, unverified
):
    # SPEC §5: input.invalid_value on the row that holds the bad value AND the
    # match.* error (on the filing row); the invalid value on a matched filing
    # row carries the member's id.
    insured = member(**roster_values)
    # The branch keeps the filing matched whatever its birth date says.
    run = reconcile([insured], [filing(insured, branch="00", **filing_values)])
    invalid = run.findings.filter(pl.col("check") == "input.invalid_value")
    bad_sides = {
        side
        for side, v in (("roster", roster_values), ("filings", filing_values))
        if any(x in ("R06.13.40", "9") for x in v.values())
    }
    assert set(invalid["source"]) == bad_sides
    assert set(invalid["member_id"]) == {"1234-1-00"}
    d = run.decision("1234-1-00")
    confirm = ";".join(
        r
        for r, holds in (
            ("mismatch", unverified is not None),
            ("filing_problem", "filings" in bad_sides),
            ("roster_problem", "roster" in bad_sides),
        )
        if holds
    )
    assert d["confirm_reasons"] == confirm
    if unverified is None:
        assert run.checks() == ["input.invalid_value"]
        assert d["my_number_status"] == "linked"
        return
    found = run.finding(unverified)
    assert (found["source"], found["row"], found["member_id"]) == ("filings", 1, "1234-1-00")
    # Said in the operator's language, as the rest of the sentence is.
    assert "（読み取れない値）" in found["detail"] and "(unreadable)" not in found["detail"]
    assert (d["my_number_status"], d["notice"], d["certificate_reasons"]) == (
        "mismatch",
        "none",
        "invalid_my_number",
    )


def test_unreadable_filed_on_is_no_mismatch_but_decides_no_wave(reconcile):
    # SPEC §5/§6.1: only input.invalid_value; the link stands; no readable filing date,
    # so no wave, and the employer re-files (filing_problem, confirmed by the member).
    insured = member()
    run = reconcile([insured], [filing(insured, filed_on="2024-02-30")])
    assert run.checks() == ["input.invalid_value"]
    invalid = run.finding("input.invalid_value")
    assert (invalid["source"], invalid["field"], invalid["member_id"]) == (
        "filings",
        "filed_on",
        "1234-1-00",
    )
    d = run.decision("1234-1-00")
    assert (d["my_number_status"], d["notice"], d["certificate"], d["delivery"]) == (
        "linked",
        "none",
        "no",
        "none",
    )
    assert (d["must_confirm"], d["confirm_reasons"], d["confirm_by"]) == (
        True,
        "filing_problem",
        "member",
    )


@pytest.mark.parametrize(("readable", "wave"), [("2024-08-16", "wave1"), ("2024-08-17", "wave2")])
def test_wave_from_the_earliest_readable_filing(reconcile, readable, wave):
    # The unreadable re-filing is skipped, not taken as the earliest (SPEC §6.1).
    insured = member()
    n = my_number(90000000001)
    unreadable = filing(insured, number=n, filed_on="R06.13.40")
    run = reconcile([insured], [unreadable, filing(insured, number=n, filed_on=readable)])
    d = run.decision("1234-1-00")
    assert (d["my_number_status"], d["notice"]) == ("linked", wave)
    assert d["confirm_reasons"] == "filing_problem"


def test_invalid_value_on_an_orphan_filing_has_no_member(reconcile):
    insured = member()
    stranger = filing(member(employee="E9"), filed_on="2024-02-30")
    run = reconcile([insured], [filing(insured), stranger])
    invalid = run.finding("input.invalid_value")
    assert (invalid["row"], invalid["member_id"]) == (2, None)
    assert run.decision("1234-1-00")["confirm_reasons"] == ""


def test_conflict_stands_when_one_number_is_invalid(reconcile):
    # A typo later re-filed correctly: a person confirms which number is the member's.
    insured = member()
    good = my_number(90000000001)
    typo = good[:11] + str((int(good[11]) + 1) % 10)
    run = reconcile([insured], [filing(insured, number=typo), filing(insured, number=good)])
    assert run.checks() == ["my_number.check_digit", "my_number.conflict", "my_number.conflict"]
    conflicts = run.findings.filter(pl.col("check") == "my_number.conflict")
    assert sorted(conflicts["row"].to_list()) == [1, 2]
    d = run.decision("1234-1-00")
    # invalid comes before conflict in SPEC §8's order of statuses.
    assert (d["my_number_status"], d["confirm_reasons"]) == ("invalid", "my_number_problem")


def test_full_width_ids_are_read_as_their_ascii_digits(reconcile):
    # Typed in a Japanese IME: the roster's ids in full width, the filing's in ASCII.
    insured = member(employee="Ｅ１", symbol="１２３４", number="１００１", branch="０１")
    plain = member(employee="E2", number="1002")
    run = reconcile([insured, plain], [filing(insured, employee_id="E1"), filing(plain)])
    assert run.members["member_id"].to_list() == ["1234-1001-01", "1234-1002-00"]
    assert run.decision("1234-1001-01")["my_number_status"] == "linked"
    assert "filing.orphan" not in run.checks()
