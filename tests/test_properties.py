"""Invariants that must hold for any input (hypothesis), on the real pipeline."""

import random

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon.normalize.dates import iso_dates
from tests.conftest import filing, member, my_number

DATES = [
    "2015-10-14",
    "2015-10-15",
    "2024-08-16",
    "2024-08-17",
    "2024-12-01",
    "2024-12-02",
    "2025-06-30",
    "2025-07-01",
    "R6.8.16",
    "H27.10.15",
    "bad",
]
PERSON = st.fixed_dictionaries(
    {
        "relation": st.sampled_from(["本人", "妻", "長男", "父", "その他"]),
        "acquired_on": st.sampled_from(DATES[2:8]),
        "lost_on": st.sampled_from(["", "", "2025-06-30", "2025-07-01", "2026-01-01"]),
        "card_status": st.sampled_from(["", "保有", "未取得", "紛失", "更新中", "返納"]),
        "myna_opt_out": st.sampled_from(["", "はい"]),
        "cert_expires_on": st.sampled_from(["", "2025-06-29", "2025-06-30"]),
        "needs_assistance": st.sampled_from(["", "はい"]),
        "jp_registered": st.sampled_from(["", "", "いいえ"]),
        "emigrated_on": st.sampled_from(["", "", "2015-10-14", "2016-01-01"]),
        "birth_date": st.sampled_from(["1980-04-01", "2017-01-01", "2012-05-05"]),
    }
)
HOUSEHOLD = st.fixed_dictionaries(
    {
        "residence": st.sampled_from(["", "海外"]),
        "overseas_type": st.sampled_from(["単身赴任", "単身", "家族帯同"]),
        "designated_address": st.sampled_from(["", "東京都港区芝1-1-1"]),
        "people": st.lists(PERSON, min_size=1, max_size=4),
    }
)
FILING = st.sampled_from(
    ["none", "good", "good", "refiled", "wrong_birth", "bad_digit", "shared", "other_number"]
)


def _inputs(households, filing_kinds):
    roster, filings = [], []
    kinds = iter(filing_kinds * 20)
    for h, household in enumerate(households):
        for b, person in enumerate(household["people"]):
            values = {**person, "name": f"山田 {h}{b}", "name_kana": f"ヤマダ {'アイウエオ'[b]}{h}"}
            if b == 0:
                values |= {
                    k: household[k] for k in ("residence", "overseas_type", "designated_address")
                }
            row = member(employee=f"E{h}", branch=f"{b:02d}", **values)
            roster.append(row)
            kind = next(kinds)
            own = my_number(90000000000 + h * 10 + b)
            if kind in ("good", "refiled", "other_number"):
                filings.append(filing(row, number=own))
            if kind == "refiled":
                filings.append(filing(row, number=own, filed_on="2024-12-05"))
            if kind == "other_number":
                filings.append(filing(row, number=my_number(80000000000 + h * 10 + b)))
            if kind == "wrong_birth":
                filings.append(filing(row, number=own, birth_date="1999-09-09"))
            if kind == "bad_digit":
                filings.append(filing(row, number=own[:-1] + str((int(own[-1]) + 1) % 10)))
            if kind == "shared":
                filings.append(filing(row, number=my_number(90000000000)))
    return roster, filings


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(st.lists(HOUSEHOLD, min_size=1, max_size=4), st.lists(FILING, min_size=1, max_size=6))
def test_decision_invariants(reconcile, households, filing_kinds):
    run = reconcile(*_inputs(households, filing_kinds))
    for d in run.members.iter_rows(named=True):
        assert (d["certificate"] == "no") == (d["certificate_reasons"] == "")
        assert (d["certificate_valid_until"] is None) == (d["certificate"] == "no")
        assert d["must_confirm"] == (d["confirm_reasons"] != "") == (d["confirm_by"] != "")
        if not d["active"]:
            assert (d["notice"], d["certificate"], d["delivery"], d["must_confirm"]) == (
                "none",
                "no",
                "none",
                False,
            )
        if d["notice"] != "none":
            assert d["active"] and d["my_number_status"] == "linked"
        if d["delivery"] != "none":
            assert d["active"] and (d["notice"] != "none" or d["certificate"] == "yes")
    assert run.members.height == sum(len(h["people"]) for h in households)


@SETTINGS
@given(
    st.lists(HOUSEHOLD, min_size=1, max_size=3),
    st.lists(FILING, min_size=1, max_size=6),
    st.randoms(),
)
def test_permuting_rows_changes_no_decision(
    reconcile, households, filing_kinds, rng: random.Random
):
    roster, filings = _inputs(households, filing_kinds)
    first = reconcile(roster, filings)
    shuffled_roster, shuffled_filings = roster[:], filings[:]
    rng.shuffle(shuffled_roster)
    rng.shuffle(shuffled_filings)
    second = reconcile(shuffled_roster, shuffled_filings)

    def decisions(run):
        return sorted(run.members.drop("row").iter_rows())

    def findings(run):
        return sorted(
            run.findings.select("check", "member_id", "source", "field").iter_rows(), key=str
        )

    assert decisions(first) == decisions(second)
    assert findings(first) == findings(second)


@given(
    st.lists(
        st.text(alphabet="0123456789RHS令和平成年月日元./- ", max_size=14), min_size=1, max_size=20
    )
)
def test_date_normalization_is_idempotent(values):
    frame = pl.DataFrame({"d": values})
    once = iso_dates(frame, ["d"])
    assert iso_dates(once, ["d"]).equals(once)
