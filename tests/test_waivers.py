"""Waivers are reviewed decisions: who and why are readable, none holds for ever,
and matching them is a join whose answer is the one a plain loop gives."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.errors import InputError
from recon.gate import flow, keys, waivers
from recon.masking import error_text
from tests.conftest import FILINGS, ROSTER, filing, member, write_csv

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
LONG_ID = "5120-12345678-00"  # 12 digits: an identifier, never masked


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    """These tests read the English messages; the Japanese ones are read at the end."""
    monkeypatch.setenv("RECON_LANG", "en")


def _entry(number_of: int = 1, **values) -> str:
    fields = {
        "check": '"match.birth_date"',
        "member_id": f'"{LONG_ID}"',
        "reason": '"戸籍で確認済み"',
        "approved_by": '"佐藤 (適用課)"',
        "expires_on": (TODAY + dt.timedelta(days=30)).isoformat(),
    } | values
    body = "".join(f"{k} = {v}\n" for k, v in fields.items() if v is not None)
    return "[[waiver]]\n" + body


def _load(tmp_path: Path, text: str):
    path = tmp_path / "waivers.toml"
    path.write_text(text, encoding="utf-8")
    return path, waivers.load(path)


# --- who and why -------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["   ", "\u3000\u3000", "\t", " \u3000\t ", "\u200b"])
@pytest.mark.parametrize("key", ["reason", "approved_by"])
def test_a_blank_reason_or_approver_stops_the_gate_naming_the_waiver(tmp_path, key, blank):
    text = _entry() + "\n" + _entry(**{key: f'"{blank}"'})
    with pytest.raises(InputError) as caught:
        _load(tmp_path, text)
    message = error_text(caught.value)
    assert str(tmp_path / "waivers.toml") in message
    assert "waiver 2 (match.birth_date " + LONG_ID + ")" in message  # the id as written
    assert key in message and "only blanks" in message


def test_waiver_messages_are_japanese_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_LANG", "ja")
    with pytest.raises(InputError) as caught:
        _load(tmp_path, _entry() + _entry(reason='"  "'))
    message = error_text(caught.value)
    assert f"2 番目の免除（match.birth_date {LONG_ID}）: reason が空白だけです。" in message
    assert "only blanks" not in message and " / " not in message
    with pytest.raises(InputError) as caught:
        _load(tmp_path, _entry(expires_on='"2025-07-31"'))
    assert "は日付ではありません。引用符なしで書いてください" in str(caught.value)
    _, late = _load(tmp_path, _entry(expires_on="9999-12-31"))
    with pytest.raises(InputError) as caught:
        waivers.refuse_beyond(late, dt.date(2025, 6, 30), 5, "waivers.toml")
    assert "expires_on 9999-12-31 は遅すぎます" in str(caught.value)
    assert "2030-06-29 以前の日付にして" in str(caught.value)


def test_a_reason_with_text_around_blanks_is_a_reason(tmp_path):
    _, read = _load(tmp_path, _entry(reason='"\u3000確認済み\u3000"', approved_by='" 佐藤 "'))
    assert (read[0].reason, read[0].approved_by) == ("確認済み", "佐藤")


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ('"2025-07-31"', "without quotes"),  # a string, even a well-formed one
        ('"soon"', "YYYY-MM-DD"),
        ("2025-07-31T10:00:00", "without a time"),
        ("2025-07-31T10:00:00+09:00", "without a time"),
        ("10:00:00", "YYYY-MM-DD"),
        ("20250731", "YYYY-MM-DD"),
    ],
)
def test_an_expiry_that_is_not_a_toml_date_stops_the_gate(tmp_path, written, says):
    with pytest.raises(InputError, match=says) as caught:
        _load(tmp_path, _entry(expires_on=written))
    assert "waiver 1 (match.birth_date" in str(caught.value)


@pytest.mark.parametrize(
    ("day", "years", "latest"),
    [
        (dt.date(2025, 6, 30), 5, dt.date(2030, 6, 29)),
        (dt.date(2025, 1, 1), 5, dt.date(2029, 12, 31)),
        (dt.date(2028, 2, 29), 5, dt.date(2033, 2, 28)),  # SPEC §6.2's own example
        (dt.date(2028, 2, 29), 4, dt.date(2032, 2, 28)),  # a leap year again: still the day before
        (dt.date(2028, 3, 1), 5, dt.date(2033, 2, 28)),
        (dt.date(2025, 6, 30), 1, dt.date(2026, 6, 29)),
    ],
)
def test_the_latest_expiry_counts_a_period_as_a_certificate_does(day, years, latest):
    assert waivers.latest_expiry(day, years) == latest


def test_a_waiver_may_hold_through_the_last_day_and_not_one_day_more(tmp_path):
    day = dt.date(2025, 6, 30)
    last = dt.date(2030, 6, 29)
    _, fine = _load(tmp_path, _entry(expires_on=last.isoformat()))
    waivers.refuse_beyond(fine, day, 5, "waivers.toml")
    one_more = (last + dt.timedelta(days=1)).isoformat()
    _, late = _load(tmp_path, _entry() + _entry(expires_on=one_more))
    with pytest.raises(InputError) as caught:
        waivers.refuse_beyond(late, day, 5, "roster/waivers.toml")
    message = error_text(caught.value)
    assert message.startswith("roster/waivers.toml: waiver 2 (match.birth_date " + LONG_ID + ")")
    assert "2030-06-30" in message and "no later than 2030-06-29" in message


def _gate(tmp_path: Path, waiver_text: str, as_of: dt.date, policy: str | None = None):
    roster = [member(employee="E1")]
    request = flow.Request(
        roster=write_csv(tmp_path / "roster.csv", roster, ROSTER),
        filings=write_csv(tmp_path / "filings.csv", [filing(roster[0])], FILINGS),
        as_of=as_of.isoformat(),
        out=tmp_path / "out",
        waivers=tmp_path / "waivers.toml",
    )
    request.waivers.write_text(waiver_text, encoding="utf-8")
    if policy is not None:
        request.policy = tmp_path / "policy.toml"
        request.policy.write_text(policy, encoding="utf-8")
    return flow.run(request, {keys.ENV: "k" * 32})


def test_the_gate_refuses_a_waiver_for_ever_before_the_long_run(tmp_path):
    text = _entry(member_id='"1234-1-00"', expires_on="9999-12-31")
    with pytest.raises(InputError, match="9999-12-31") as caught:
        _gate(tmp_path, text, TODAY)
    assert str(waivers.latest_expiry(TODAY, 5)) in str(caught.value)
    assert not (tmp_path / "out").exists()  # stopped before anything was written


def test_the_limit_counts_from_the_later_of_today_and_as_of(tmp_path):
    later = TODAY + dt.timedelta(days=400)
    beyond_today = waivers.latest_expiry(TODAY, 5) + dt.timedelta(days=10)
    text = _entry(member_id='"1234-1-00"', expires_on=beyond_today.isoformat())
    done = _gate(tmp_path, text, later)  # judged on `later`: within its five years
    assert [s.status for s in done.outcome.waivers] == ["unused"]
    back_dated = tmp_path / "back"
    back_dated.mkdir()
    with pytest.raises(InputError, match=str(waivers.latest_expiry(TODAY, 5))):
        _gate(back_dated, text, TODAY - dt.timedelta(days=400))  # today counts, not --as-of


def test_the_limit_follows_the_policys_certificate_years(tmp_path):
    policy = (ROOT / "recon" / "policy.toml").read_text(encoding="utf-8")
    policy = policy.replace("certificate_max_years = 5", "certificate_max_years = 1")
    assert "certificate_max_years = 1" in policy
    two_years = TODAY + dt.timedelta(days=730)
    text = _entry(member_id='"1234-1-00"', expires_on=two_years.isoformat())
    with pytest.raises(InputError, match=str(waivers.latest_expiry(TODAY, 1))):
        _gate(tmp_path, text, TODAY, policy)


def test_the_cli_exits_2_for_a_waiver_for_ever(tmp_path):
    path = tmp_path / "waivers.toml"
    path.write_text(_entry(expires_on="9999-12-31"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "recon", "gate", "--waivers", str(path),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    # No RECON_LANG in its environment: the Japanese default.
    assert f"1 番目の免除（match.birth_date {LONG_ID}）" in done.stdout + done.stderr


# --- matching: a join, with the answer of a plain loop --------------------------------


def _reference(findings: pl.DataFrame, given: list[waivers.Waiver], day: dt.date):
    """The loop recon used before the join: every finding against every waiver."""

    def matches(w, check, member, field_, finding_id):
        if w.check != check:
            return False
        if w.member_id and w.member_id != member:
            return False
        if w.finding and w.finding != finding_id:
            return False
        return not (w.field and w.field != field_)

    chosen, matched = [], {w.number: 0 for w in given}
    for row in findings.select("check", "member_id", "field", "finding_id").iter_rows():
        hits = [w for w in given if matches(w, *row)]
        for w in hits:
            matched[w.number] += 1
        chosen.append(max(hits, key=lambda w: (w.holds_on(day), w.expires_on), default=None))
    rows = [
        (
            w.number if w else None,
            None if w is None else "active" if w.holds_on(day) else "expired",
            w.expires_on.isoformat() if w else None,
        )
        for w in chosen
    ]
    statuses = [
        ("expired" if not w.holds_on(day) else "active" if matched[w.number] else "unused",
         matched[w.number])
        for w in given
    ]  # fmt: skip
    return rows, statuses


CHECKS = ["match.birth_date", "match.sex", "filing.orphan"]
MEMBERS = ["1-1-00", "1-1-01", "5120-12345678-00", None]
FIELDS = ["birth_date", "sex", None]
FINDING_IDS = ["f-a", "f-b", "f-c"]
DAY = dt.date(2025, 6, 30)

finding_rows = st.lists(
    st.tuples(
        st.sampled_from(CHECKS),
        st.sampled_from(MEMBERS),
        st.sampled_from(FIELDS),
        st.sampled_from(FINDING_IDS),
    ),
    max_size=14,
)
waiver_specs = st.lists(
    st.tuples(
        st.sampled_from([*CHECKS, "gx.unknown"]),
        st.sampled_from(MEMBERS),
        st.sampled_from([*FINDING_IDS, None]),
        st.sampled_from(FIELDS),
        st.integers(-3, 3),  # expiry around the day: expired, the day itself, holding
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(finding_rows, waiver_specs)
def test_the_join_gives_what_the_loop_gives(rows, specs):
    findings = pl.DataFrame(
        rows, schema=["check", "member_id", "field", "finding_id"], orient="row"
    ).with_columns(severity=pl.lit("error"))
    given_waivers = [
        waivers.Waiver(
            number=n,
            check=check,
            reason="r",
            approved_by="a",
            expires_on=DAY + dt.timedelta(days=days),
            member_id=member_id,
            finding=finding_id if finding_id or member_id else "f-a",
            field=field_,
        )
        for n, (check, member_id, finding_id, field_, days) in enumerate(specs, start=1)
    ]
    out, statuses = waivers.apply(findings, given_waivers, DAY)
    rows_expected, statuses_expected = _reference(findings, given_waivers, DAY)
    assert out.columns == [*findings.columns, "waiver", "waiver_state", "waived_until"]
    assert out.drop("waiver", "waiver_state", "waived_until").equals(findings)
    assert out.select("waiver", "waiver_state", "waived_until").rows() == rows_expected
    assert [(s.status, s.matched) for s in statuses] == statuses_expected
    assert [s.note for s in statuses] == [
        "unknown check code" if w.check not in CHECKS and not w.check.startswith("gx.") else ""
        for w in given_waivers
    ]


def test_ties_go_to_the_first_waiver_in_the_file():
    findings = pl.DataFrame(
        {"check": ["match.sex"], "member_id": ["1-1-00"], "field": ["sex"], "finding_id": ["x"]}
    )
    same = [waivers.Waiver(n, "match.sex", "r", "a", DAY, member_id="1-1-00") for n in (1, 2, 3)]
    out, statuses = waivers.apply(findings, same, DAY)
    assert out["waiver"].to_list() == [1]
    assert [s.matched for s in statuses] == [1, 1, 1]


def test_no_waivers_leave_the_findings_unwaived():
    findings = pl.DataFrame(
        {"check": ["match.sex"], "member_id": [None], "field": [None], "finding_id": ["x"]},
        schema={c: pl.String for c in ("check", "member_id", "field", "finding_id")},
    )
    out, statuses = waivers.apply(findings, [], DAY)
    assert out["waiver"].to_list() == [None] and statuses == ()
    assert out.schema["waiver"] == pl.Int64 and out.schema["waived_until"] == pl.String
