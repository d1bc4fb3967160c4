"""`recon gate` in-process: identities, new/open/resolved, waivers, the roster diff, CI files."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from recon.errors import InputError
from recon.gate import baseline, ci, flow, gitref, keys, waivers
from tests.conftest import FILINGS, ROSTER, filing, member, write_csv

KEY = "k" * 32
ENV = {keys.ENV: KEY}
TODAY = dt.date.today()
AS_OF = TODAY.isoformat()  # waivers are judged on the later of today and --as-of


class Gate:
    """Runs the gate on rows, each run in its own folder, as CI would on each update."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.n = 0

    def __call__(self, roster, filings, *, env=ENV, waiver_text=None, **options) -> flow.Done:
        self.n += 1
        folder = self.tmp / f"u{self.n}"
        folder.mkdir()
        if waiver_text is not None:
            options["waivers"] = folder / "waivers.toml"
            options["waivers"].write_text(waiver_text, encoding="utf-8")
        request = flow.Request(
            roster=write_csv(folder / "roster.csv", roster, ROSTER),
            filings=write_csv(folder / "filings.csv", filings, FILINGS),
            as_of=options.pop("as_of", AS_OF),
            out=folder / "out",
            **options,
        )
        return flow.run(request, env)


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    """The messages these tests read are the English ones (`--lang en`)."""
    monkeypatch.setenv("RECON_LANG", "en")


@pytest.fixture
def gate(tmp_path) -> Gate:
    return Gate(tmp_path)


def household(employee: str, **self_values):
    insured = member(employee=employee, **self_values)
    spouse = member(
        employee=employee,
        branch="01",
        relation="spouse",
        name="山田 花子",
        name_kana="ヤマダ ハナコ",
        birth_date="1982-07-15",
        sex="2",
    )
    return [insured, spouse]


def statuses(done: flow.Done) -> dict[tuple[str, str | None], str]:
    return {
        (r["check"], r["member_id"]): r["status"]
        for r in done.outcome.findings.iter_rows(named=True)
    }


# --- new, still open, resolved ----------------------------------------------------


def test_same_finding_in_baseline_passes_a_new_one_fails_a_fixed_one_is_resolved(gate):
    a, b = household("E1"), household("E2")
    wrong = filing(a[0], birth_date="1980-04-02")  # match.birth_date on 1234-1-00
    first = gate([*a, *b], [wrong, filing(a[1]), filing(b[0]), filing(b[1])])
    assert not first.outcome.passed  # no baseline: every finding is new
    accepted = first.written

    same = gate([*a, *b], [wrong, filing(a[1]), filing(b[0]), filing(b[1])], baseline=accepted)
    assert same.outcome.passed
    assert statuses(same)[("match.birth_date", "1234-1-00")] == "open"

    worse = filing(b[1], sex="1")  # a new error on another member
    new = gate([*a, *b], [wrong, filing(a[1]), filing(b[0]), worse], baseline=accepted)
    assert not new.outcome.passed
    (blocking,) = new.outcome.blocking.iter_rows(named=True)
    assert (blocking["check"], blocking["member_id"], blocking["why"]) == (
        "match.sex",
        "1234-2-01",
        "new",
    )

    fixed = gate(
        [*a, *b],
        [filing(a[0]), filing(a[1]), filing(b[0]), filing(b[1])],
        baseline=accepted,
        lang="en",
    )
    assert fixed.outcome.passed
    assert fixed.outcome.resolved.select("check", "member_id").rows() == [
        ("match.birth_date", "1234-1-00")
    ]
    md = (fixed.written / "gate.md").read_text(encoding="utf-8")
    assert "Resolved since the baseline (1)" in md and "1234-1-00" in md


def test_row_numbers_and_the_per_run_number_hash_are_not_part_of_an_identity(gate):
    a = household("E1")
    orphan = filing(a[0], employee_id="E9", name="誰 か", name_kana="ダレ カ")
    rows = [filing(a[0]), filing(a[1]), orphan]
    first = gate(a, rows)
    again = gate(list(reversed(a)), list(reversed(rows)), baseline=first.written)
    assert again.outcome.passed and again.outcome.count("new") == 0
    ids = set(first.outcome.findings["finding_id"])
    assert ids == set(again.outcome.findings["finding_id"])
    (anchor,) = again.outcome.findings.filter(pl.col("check") == "filing.orphan")["anchor"]
    assert anchor.startswith("filing E9 ********")


def test_strict_fails_on_what_is_still_open_and_fail_on_warning_on_new_warnings(gate):
    a = household("E1")
    wrong = filing(a[0], birth_date="1980-04-02")
    accepted = gate(a, [wrong, filing(a[1])]).written
    assert not gate(a, [wrong, filing(a[1])], baseline=accepted, strict=True).outcome.passed
    # The spouse's filing missing: filing.missing, a warning, new.
    warned = gate(a, [wrong], baseline=accepted)
    assert warned.outcome.passed
    assert not gate(a, [wrong], baseline=accepted, fail_on="warning").outcome.passed


# --- keys and baselines -----------------------------------------------------------


def test_a_baseline_needs_the_key_it_was_made_with(gate):
    a = household("E1")
    accepted = gate(a, [filing(a[0]), filing(a[1])]).written
    with pytest.raises(InputError, match="another key"):
        gate(a, [filing(a[0])], baseline=accepted, env={keys.ENV: "z" * 32})
    with pytest.raises(InputError, match="RECON_GATE_KEY"):
        gate(a, [filing(a[0])], baseline=accepted, env={})
    with pytest.raises(InputError, match="at least 16"):
        gate(a, [filing(a[0])], baseline=accepted, env={keys.ENV: "short"})
    (accepted / "baseline.json").write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not a baseline"):
        gate(a, [filing(a[0])], baseline=accepted)


def test_a_key_file_works_like_the_variable_and_the_key_is_never_written(gate, tmp_path):
    a = household("E1")
    key_file = tmp_path / "gate.key"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    done = gate(a, [filing(a[0]), filing(a[1])], env={}, key_file=key_file)
    again = gate(a, [filing(a[0]), filing(a[1])], baseline=done.written)  # key from ENV
    assert again.outcome.passed
    for path in done.written.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace")
    assert KEY not in repr(keys.load_key(key_file))


def test_without_a_key_the_gate_runs_but_leaves_no_baseline(gate):
    a = household("E1")
    done = gate(a, [filing(a[0]), filing(a[1])], env={})
    assert done.outcome.passed
    assert not (done.written / "baseline.json").exists()
    assert any("no baseline.json" in n for n in done.notes)
    with pytest.raises(InputError, match="no baseline.json"):
        gate(a, [filing(a[0])], baseline=done.written)


def test_baseline_json_holds_no_name_address_or_birth_date(gate):
    a = household("E1", address="北海道札幌市中央区北一条西2-3")
    done = gate(a, [filing(a[0]), filing(a[1], birth_date="1982-07-16")])
    text = (done.written / "baseline.json").read_text(encoding="utf-8")
    assert json.loads(text)["key_fingerprint"] == keys.Key(KEY.encode(), "t").fingerprint
    members = (done.written / "baseline-members.csv").read_text(encoding="utf-8")
    assert members.splitlines()[0] == "member_id,household_id,tags"
    text += members
    for value in ("山田", "ヤマダ", "札幌", "1980-04-01", "1982-07-15", "1982-07-16"):
        assert value not in text


def test_tags_never_look_like_a_number_to_the_scrubber():
    key = keys.Key(b"x" * 32, "t")
    for i in range(2000):
        tag = baseline.letters(key.tag(i, size=32))
        assert set(tag) <= set("abcdefghijklmnop")


# --- the roster diff ----------------------------------------------------------------


def test_roster_diff_names_added_removed_changed_fields_and_moves_abroad(gate):
    a, b, c = household("E1"), household("E2"), household("E3")
    accepted = gate([*a, *b], [filing(r) for r in (*a, *b)]).written
    moved = [
        member(
            employee="E2",
            residence="海外",
            overseas_type="単身赴任",
            address=b[0]["address"],
        ),
        b[1],
    ]
    changed = {**a[0], "address": "大阪府大阪市北区梅田1-1-1", "postal_code": "5300001"}
    # Same values in another spelling: not a change.
    respelled = {**a[1], "name_kana": "ﾔﾏﾀﾞ ﾊﾅｺ", "birth_date": "S57.7.15"}
    done = gate(
        [changed, respelled, *moved, c[0]],
        [filing(r) for r in (*a, *b, c[0])],
        baseline=accepted,
        lang="en",
    )
    diff = done.outcome.diff
    assert diff.added == ["1234-3-00"]
    assert diff.removed == []
    assert diff.changed == {
        "1234-1-00": ["postal_code", "address"],
        "1234-2-00": ["residence", "overseas_type"],
    }
    assert diff.moved_overseas == [("1234-2", "overseas/posted_alone")]
    back = gate([*a, *b], [filing(r) for r in (*a, *b)], baseline=done.written)
    assert back.outcome.diff.moved_back == [("1234-2", "overseas/posted_alone")]
    assert back.outcome.diff.removed == ["1234-3-00"]
    md = (done.written / "gate.md").read_text(encoding="utf-8")
    assert "`1234-1-00`: postal_code, address" in md and "moved overseas" in md


# --- waivers ------------------------------------------------------------------------


def _waiver(member_id, check="match.birth_date", expires=TODAY + dt.timedelta(days=30), **more):
    extra = "".join(f'{k} = "{v}"\n' for k, v in more.items())
    return (
        f'[[waiver]]\ncheck = "{check}"\nmember_id = "{member_id}"\n'
        f'reason = "koseki checked"\napproved_by = "佐藤"\nexpires_on = {expires}\n{extra}'
    )


def test_a_waiver_holds_until_its_date_then_the_finding_counts_again(gate):
    a = household("E1")
    wrong = [filing(a[0], birth_date="1980-04-02"), filing(a[1])]
    held = gate(a, wrong, waiver_text=_waiver("1234-1-00"))
    assert held.outcome.passed
    assert held.outcome.findings.filter(pl.col("waived"))["check"].to_list() == ["match.birth_date"]
    # The same finding, still open against that baseline, once the waiver has expired.
    later = (TODAY + dt.timedelta(days=31)).isoformat()
    expired = gate(a, wrong, waiver_text=_waiver("1234-1-00"), baseline=held.written, as_of=later)
    assert not expired.outcome.passed
    assert expired.outcome.blocking["why"].to_list() == ["its waiver has expired"]
    # Deleting the expired waiver does not help: the baseline accepted it only under one.
    deleted = gate(a, wrong, waiver_text="", baseline=held.written, as_of=later)
    assert deleted.outcome.blocking["why"].to_list() == [
        "accepted in the baseline under a waiver that no longer holds"
    ]


def test_unused_and_expired_waivers_are_reported_not_failed(gate):
    a = household("E1")
    text = _waiver("1234-9-00") + _waiver(
        "1234-1-00", check="match.sex", expires=TODAY - dt.timedelta(days=1)
    )
    done = gate(a, [filing(a[0]), filing(a[1])], waiver_text=text, lang="en")
    assert done.outcome.passed
    rows = waivers.report_rows(done.outcome.waivers)
    assert rows.select("member_id", "status", "matched").rows() == [
        ("1234-9-00", "unused", 0),
        ("1234-1-00", "expired", 0),
    ]
    assert set(rows.columns) >= {"check", "reason", "approved_by", "expires_on", "status"}
    md = (done.written / "gate.md").read_text(encoding="utf-8")
    assert "matches no finding" in md and "expired" in md and "koseki checked" in md
    assert (done.written / "waivers.csv").read_text(encoding="utf-8-sig").count("\n") == 3


def test_the_waivers_appear_in_the_report_with_their_state(gate):
    a = household("E1")
    wrong = [filing(a[0], birth_date="1980-04-02"), filing(a[1])]
    text = _waiver("1234-1-00") + _waiver(
        "1234-9-00", check="match.sex", expires=TODAY - dt.timedelta(days=1)
    )
    done = gate(a, wrong, waiver_text=text)
    page = (done.written / "report.html").read_text(encoding="utf-8")
    section = page.split('<h2 id="waivers">免除</h2>')[1].split("<h2")[0]
    assert '<a href="#waivers">免除</a>' in page
    assert str(done.outcome.context["waivers_judged_on"]) in section
    assert 'href="waivers.csv"' in section
    rows = section.split("<tbody>")[1].split("</tr>")[:2]
    assert "1234-1-00" in rows[0] and "koseki checked" in rows[0] and "佐藤" in rows[0]
    assert (TODAY + dt.timedelta(days=30)).isoformat() in rows[0]
    assert "有効" in rows[0] and '<td class="num">1</td>' in rows[0]
    assert "1234-9-00" in rows[1] and "期限切れ" in rows[1]
    english = gate(a, wrong, waiver_text=_waiver("1234-8-00"), lang="en")
    page = (english.written / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="waivers">Waivers</h2>' in page
    assert "matches no finding: can be removed" in page


def test_a_gate_run_without_waivers_has_no_waiver_section_and_an_empty_file_says_so(gate):
    a = household("E1")
    plain = gate(a, [filing(a[0]), filing(a[1])])
    page = (plain.written / "report.html").read_text(encoding="utf-8")
    assert 'id="waivers"' not in page and "#waivers" not in page
    empty = gate(a, [filing(a[0]), filing(a[1])], waiver_text="")
    page = (empty.written / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="waivers">免除</h2>' in page and "免除ファイルに免除はありません" in page
    assert not (empty.written / "waivers.csv").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[waiver]]\ncheck = 'x'\n", "lacks reason, approved_by, expires_on"),
        (
            "[[waiver]]\ncheck='x'\nmember_id='m'\nreason='r'\napproved_by='a'\nexpires_on='soon'\n",
            "YYYY-MM-DD",
        ),
        (
            "[[waiver]]\ncheck='x'\nreason='r'\napproved_by='a'\nexpires_on=2025-01-01\n",
            "names no finding",
        ),
        (
            "[[waiver]]\ncheck='x'\nmember='m'\nreason='r'\napproved_by='a'\nexpires_on=2025-01-01\n",
            "unknown key",
        ),
        ("[waiver\n", "not valid TOML"),
    ],
)
def test_a_malformed_waivers_file_stops_the_gate(tmp_path, text, message):
    path = tmp_path / "waivers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        waivers.load(path)


def test_an_orphan_filing_is_waived_by_its_printed_id(gate):
    a = household("E1")
    orphan = filing(a[0], employee_id="E9", name="誰 か", name_kana="ダレ カ")
    first = gate(a, [filing(a[0]), filing(a[1]), orphan])
    (finding_id,) = first.outcome.findings.filter(pl.col("check") == "filing.orphan")["finding_id"]
    text = _waiver("x", check="filing.orphan").replace(
        'member_id = "x"', f'finding = "{finding_id}"'
    )
    done = gate(a, [filing(a[0]), filing(a[1]), orphan], waiver_text=text)
    assert done.outcome.passed
    with pytest.raises(InputError, match="finding id"):
        gate(a, [filing(a[0])], waiver_text=text, env={})


# --- what CI reads ------------------------------------------------------------------


def test_junit_has_one_case_per_check_and_fails_only_the_blocking_ones(gate, tmp_path):
    a = household("E1")
    done = gate(a, [filing(a[0], birth_date="1980-04-02")])
    flow.publish(flow.Request(junit=tmp_path / "j" / "junit.xml"), done.outcome, {})
    tree = ET.parse(tmp_path / "j" / "junit.xml")
    cases = tree.findall(".//testcase")
    assert len(cases) == len(ci.checks())
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name").split(" ")[0] for c in failed] == ["match.birth_date"]
    assert "1234-1-00" in failed[0].find("failure").text
    assert "1980-04-02" not in ET.tostring(tree.getroot(), encoding="unicode")


def test_annotations_are_github_workflow_commands(gate, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = household("E1")
    done = gate(a, [filing(a[0], birth_date="1980-04-02")])
    lines = flow.publish(flow.Request(), done.outcome, {"GITHUB_ACTIONS": "true"})
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 1 and len(warnings) == 1  # the spouse's missing filing, new
    assert errors[0].startswith("::error file=u1/filings.csv,line=2,title=recon gate%3A ")
    assert "1234-1-00" in errors[0] and "\n" not in errors[0]
    assert flow.publish(flow.Request(), done.outcome, {}) == []


def test_the_step_summary_is_appended_when_github_gives_one(gate, tmp_path):
    a = household("E1")
    done = gate(a, [filing(a[0]), filing(a[1])], lang="en")
    step = tmp_path / "step.md"
    step.write_text("earlier step\n", encoding="utf-8")
    flow.publish(flow.Request(lang="en"), done.outcome, {"GITHUB_STEP_SUMMARY": str(step)})
    text = step.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n") and "## recon gate: ✅ pass" in text


def test_a_gate_that_cannot_decide_says_so_in_its_ci_files(tmp_path):
    request = flow.Request(junit=tmp_path / "junit.xml", summary=tmp_path / "s.md", lang="en")
    lines = flow.undecided(request, "baseline made with another key", {"GITHUB_ACTIONS": "true"})
    assert lines[0].startswith("::error title=recon gate%3A could not decide::")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.find(".//error") is not None
    assert "could not decide" in (tmp_path / "s.md").read_text(encoding="utf-8")


def test_the_terminal_names_severity_and_file_in_the_chosen_language(gate):
    from recon.gate import ci

    a = household("E1")
    done = gate(a, [filing(a[0], birth_date="1980-04-02"), filing(a[1])])
    (ja,) = [
        line for line in ci.terminal_lines(done.outcome, lang="ja") if "match.birth_date" in line
    ]
    assert ja.startswith("  エラー") and "事業主届出 1 行目" in ja
    assert "error" not in ja and "filings" not in ja
    (en,) = [
        line for line in ci.terminal_lines(done.outcome, lang="en") if "match.birth_date" in line
    ]
    assert en.startswith("  error") and "filings row 1" in en


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_baseline_ref_outside_git_is_said_in_the_operators_language(tmp_path, monkeypatch, lang):
    monkeypatch.setenv("RECON_LANG", lang)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no repository above it
    roster = tmp_path / "roster.csv"
    roster.write_text("x\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        gitref.files_at("HEAD", {"roster": roster})
    ja, en = "git リポジトリの中にないため", "is not inside a git repository"
    said = str(refused.value)
    assert (ja if lang == "ja" else en) in said and (en if lang == "ja" else ja) not in said


def test_a_file_git_cannot_give_is_said_by_gits_last_line_only(tmp_path, monkeypatch):
    # A smudge filter that fails may print what it was filtering: only git's verdict
    # is quoted, so that none of the file's text reaches the message (or CI's log).
    monkeypatch.setenv("RECON_LANG", "en")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "ci@example.org")
    git("config", "user.name", "ci")
    (repo / "roster.csv").write_text("山田 太郎,123456789018\n", encoding="utf-8")
    git("add", "roster.csv")
    git("commit", "-q", "-m", "accepted")
    (repo / ".gitattributes").write_text("*.csv filter=noisy\n", encoding="utf-8")
    git("config", "filter.noisy.smudge", "sh -c 'cat >&2; exit 1'")
    git("config", "filter.noisy.required", "true")
    with pytest.raises(InputError) as refused:
        gitref.files_at("HEAD", {"roster": repo / "roster.csv"})
    said = str(refused.value)
    assert "--baseline-ref HEAD: cannot read roster.csv (git: " in said
    assert "山田" not in said and "123456789018" not in said and "\n" not in said, said
