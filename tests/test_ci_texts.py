"""The texts CI shows are data, not markup: gate.md, --summary, $GITHUB_STEP_SUMMARY,
the workflow commands and JUnit, with hostile waivers and hostile roster values.

report.html is tested the same way in test_report.py and test_browser.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from recon.columns import INVISIBLE
from recon.gate import ci, flow, keys
from recon.output import tables
from tests.conftest import FILINGS, ROSTER, filing, member, my_number, run_args, write_csv

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date.today()
KEY = "k" * 32
LONG_ID = "5120-12345678-00"  # 12 digits: an identifier, shown exactly as read
TYPED = my_number(12345678901)  # a My Number someone typed into a reason

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "</table></details><details open>",
    "ok\r\r# recon gate: ✅ PASS\r",
    "a | b | c |",
    "`tick` **bold** _it_ ~~gone~~ [link](https://evil.example) ![img](x)",
    "line\n## heading\n- item\n1. first",
    "\u2028# sep\u2029> quote",
    "\u202eevil\u202c \u2066iso\u2069",
    "nul\x00 esc\x1b[31m bell\x07 del\x7f",
    "c1 \x85 \x9b",
    "::error title=forged::forged %0A::warning::x",
    "&lt;script&gt; &amp;",
    "$x^2$ @everyone www.evil.example",
    "\t# tab-heading",
]
IN_CSV = [v.replace("\x00", "") for v in HOSTILE]  # a NUL makes a CSV unreadable (exit 2)
OWN_HEADINGS = re.compile(
    r"^(## recon gate: (✅ pass|❌ FAIL)|### (Blocking|New, not blocking|Resolved since the "
    r"baseline|Waivers|Roster changes since the baseline)( \(\d+\))?)$"
)
CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def toml_text(value: str) -> str:
    """A TOML basic string holding `value` exactly (controls as \\u escapes)."""
    out = []
    for c in value:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def waiver(member_id: str, reason: str, approved_by: str, check="filing.missing") -> str:
    return (
        f"[[waiver]]\ncheck = {toml_text(check)}\nmember_id = {toml_text(member_id)}\n"
        f"reason = {toml_text(reason)}\napproved_by = {toml_text(approved_by)}\n"
        f"expires_on = {TODAY + dt.timedelta(days=30)}\n"
    )


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def assert_data_not_markup(text: str, what: str) -> None:
    assert "\r" not in text, what
    assert not CONTROLS.search(text), (what, CONTROLS.search(text))
    assert len(text.encode("utf-8")) < ci.SUMMARY_CAP, what
    lowered = text.lower()
    for raw in ("<script", "<img", "</table", "<details", "<"):
        assert raw not in lowered, (what, raw)
    headings = [line for line in text.splitlines() if re.match(r"^ {0,3}#", line)]
    assert headings and all(OWN_HEADINGS.match(h) for h in headings), (what, headings)
    assert sum(h.startswith("## ") for h in headings) == 1
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|---"):
            width = unescaped_pipes(line)
            for row in lines[i + 1 :]:
                if not row.startswith("|"):
                    break
                assert unescaped_pipes(row) == width, (what, row)
        # Nothing of a value starts a block: every line is recon's own.
        assert not re.match(r"^ {0,3}(>|[-+*] |\d+[.)] )", line) or line.startswith(
            ("- **", "  - ", "> ")
        ), (what, line)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A gate run on members whose ids carry the hostile strings, each waived by a
    waiver whose reason and approver carry them too; every CI text it writes."""
    folder = tmp_path_factory.mktemp("hostile")
    roster = [
        member(employee="E12345678", symbol="5120", name="<script>name-marker</script>"),
        *[
            member(employee=f"E{n}", symbol=value, name=f"{value} name-marker")
            for n, value in enumerate(IN_CSV, start=1)
        ],
    ]
    ids = [LONG_ID, *[f"{value}-{n}-00" for n, value in enumerate(IN_CSV, start=1)]]
    text = "".join(
        waiver(member_id, f"理由 {value} {TYPED}", f"承認 {value}")
        for member_id, value in zip(ids, ["long", *HOSTILE], strict=True)
    )
    text += waiver("<b>nobody</b>|", "理由 " + HOSTILE[3], "承認 " + HOSTILE[0], check="<i>x</i>|#")
    (folder / "waivers.toml").write_text(text, encoding="utf-8")
    request = flow.Request(
        roster=write_csv(folder / "roster.csv", roster, ROSTER),
        filings=write_csv(folder / "filings.csv", [filing(roster[0])], FILINGS),
        as_of=TODAY.isoformat(),
        out=folder / "out",
        waivers=folder / "waivers.toml",
        summary=folder / "summary.md",
        junit=folder / "junit.xml",
        lang="en",
    )
    environ = {
        keys.ENV: KEY,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(folder / "step.md"),
    }
    cwd = os.getcwd()
    os.chdir(folder)  # annotations point at CSV files under the working folder
    try:
        done = flow.run(request, environ)
        annotations = flow.publish(request, done.outcome, environ)
    finally:
        os.chdir(cwd)
    return {
        "done": done,
        "ids": ids,
        "gate.md": (done.written / "gate.md").read_text(encoding="utf-8"),
        "summary": (folder / "summary.md").read_text(encoding="utf-8"),
        "step": (folder / "step.md").read_text(encoding="utf-8"),
        "junit": folder / "junit.xml",
        "annotations": annotations,
        "terminal": ci.terminal_lines(done.outcome),
    }


@pytest.mark.parametrize("name", ["gate.md", "summary", "step"])
def test_the_summaries_show_hostile_values_as_data(published, name):
    text = published[name]
    if name == "summary":  # recon's own mark, the one HTML comment it writes
        mark, text = text.split("\n", 1)
        assert mark.startswith("<!-- ") and mark.endswith(" -->")
    assert_data_not_markup(text, name)
    # The values are shown, escaped, not dropped: the reason of each waiver is there.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "ok⏎⏎\\# recon gate: ✅ PASS⏎" in text
    assert "a \\| b \\| c \\|" in text
    assert "name-marker" not in text  # names never leave the run's folder
    # A typed My Number is masked (its mask's stars escaped, shown as ********9018).
    assert TYPED not in text and "\\*" * 8 + TYPED[-4:] in text
    assert f"`{LONG_ID}`" in text or f"| {LONG_ID} |" in text  # an id exactly as read


def test_every_waiver_is_listed_with_its_escaped_check_and_member(published):
    text = published["gate.md"]
    section = text.split("### Waivers")[1].split("###")[0]
    rows = [line for line in section.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) == len(HOSTILE) + 2
    assert "&lt;i&gt;x&lt;/i&gt;\\|\\#" in rows[-1] and "&lt;b&gt;nobody&lt;/b&gt;\\|" in rows[-1]


def test_workflow_commands_are_escaped_as_github_asks(published):
    lines = published["annotations"]
    assert lines
    for line in lines:
        assert "\r" not in line and "\n" not in line and not CONTROLS.search(line)
        kind, rest = re.match(r"^::(error|warning)(?: |::)(.*)$", line).groups()
        if "::" in rest and not line.startswith(f"::{kind}::"):
            props, _message = rest.split("::", 1)
            for prop in props.split(","):
                assert re.fullmatch(r"(file|line|title)=[^:,]*", prop), prop
    joined = "\n".join(lines)
    # A forged command stays inside a message: never a line of its own, never a
    # line break GitHub would decode ("%0A" in the data is sent as "%250A").
    assert not any(line.startswith("::error title=forged") for line in lines)
    assert "%0A::warning" not in joined
    assert "%250A::warning::x" in joined  # % itself escaped first
    assert any(LONG_ID in line for line in lines)  # identifiers as read


def test_the_terminal_and_junit_hold_no_control_characters(published):
    for line in published["terminal"]:
        assert not CONTROLS.search(line) and "\n" not in line
        assert not line.startswith("::")
    root = ET.parse(published["junit"]).getroot()  # parses: no control character in XML
    assert "⏎" in ET.tostring(root, encoding="unicode")


def test_a_gate_that_cannot_decide_shows_its_message_as_data(tmp_path):
    request = flow.Request(summary=tmp_path / "s.md", lang="en")
    step = tmp_path / "step.md"
    flow.undecided(request, HOSTILE[3] + " " + HOSTILE[0], {"GITHUB_STEP_SUMMARY": str(step)})
    text = step.read_text(encoding="utf-8")
    assert text.startswith("## recon gate: ❌ could not decide\n")
    assert_data_not_markup(text.replace("could not decide", "FAIL"), "undecided")


def test_control_characters_fold_to_a_visible_or_space_form():
    assert ci.fold("a\r\nb\tc\x00d\x1be\x7ff\x9bg\u2028h\u202ei") == "a⏎⏎b c␀d␛e␡f\ufffdg⏎h\ufffdi"
    assert ci.command("warning", "x\r\n%y", title="a:b,c") == "::warning title=a%3Ab%2Cc::x%0A%25y"
    long = ci.command("error", "x" * 10_000)
    assert len(long) < ci.MESSAGE_CHARS + 50 and long.endswith("…")


def test_ten_megabytes_of_waivers_give_a_summary_under_the_cap(tmp_path):
    roster = [member(employee="E1")]
    reason = "戸籍で確認済み <b>|</b> " * 120  # about 2,800 bytes each
    text = "".join(waiver(f"9999-{n}-00", reason, "適用課 佐藤") for n in range(3_600))
    assert len(text.encode("utf-8")) > 10_000_000
    (tmp_path / "waivers.toml").write_text(text, encoding="utf-8")
    request = flow.Request(
        roster=write_csv(tmp_path / "roster.csv", roster, ROSTER),
        filings=write_csv(tmp_path / "filings.csv", [filing(roster[0])], FILINGS),
        as_of=TODAY.isoformat(),
        out=tmp_path / "out",
        waivers=tmp_path / "waivers.toml",
        lang="en",
    )
    done = flow.run(request, {keys.ENV: KEY})
    md = (done.written / "gate.md").read_text(encoding="utf-8")
    assert 500_000 < len(md.encode("utf-8")) < ci.SUMMARY_CAP
    assert_data_not_markup(md, "gate.md")
    listed = len(re.findall(r"^\| \d+ \|", md, flags=re.M))
    (more,) = re.findall(r"^… and (\d+) more: see waivers\.csv and gate\.json\.$", md, flags=re.M)
    assert listed + int(more) == 3_600 and listed > 100
    assert md.rstrip().endswith("this summary names members by id only.")
    assert (done.written / "waivers.csv").read_text(encoding="utf-8-sig").count("\n") == 3_601


# --- the lists' cells (confirm_members.csv and the other per-audience lists) ----------


def test_a_cell_lists_the_first_findings_and_counts_the_rest(tmp_path):
    """One member filed 50,000 times: its cell stays far below Excel's 32,767 characters."""
    insured = member(employee="E1", birth_date="1980-04-01")
    filings = [
        filing(insured, number=my_number(10_000_000 + n), birth_date="1980-04-02")
        for n in range(50_000)
    ]
    roster = write_csv(tmp_path / "roster.csv", [insured], ROSTER)
    filed = write_csv(tmp_path / "filings.csv", filings, FILINGS)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "recon", *run_args(roster, filed, out)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr
    findings = pl.read_csv(out / "findings.csv", infer_schema=False)
    # A cell says each finding once: the same words twice count once.
    mine = findings.filter(pl.col("member_id") == "1234-1-00").unique(["check", "detail"]).height
    assert mine > 10_000
    listed = tables.read_list(out / "confirm_members.csv")  # its header row is in words
    (cell,) = listed.filter(pl.col("member_id") == "1234-1-00")["findings"].to_list()
    assert len(cell) < 32_767
    more = f"{mine - 10:,}"
    assert cell.endswith(f" / … and {more} more"), cell[-80:]  # RECON_LANG=en
    # Ten findings (a detail may hold " / " itself), then the count: not 100,000.
    assert len(cell) < 3_000 and cell.count("… and") == 1


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    # These tests read recon's English messages (`--lang en`); tests/test_lang.py
    # checks the Japanese default.
    monkeypatch.setenv("RECON_LANG", "en")


def test_every_mark_the_summary_replaces_is_nothing_or_an_override():
    # ci shows the marks that reorder text as U+FFFD; comparison removes the ones that
    # show nothing (columns.INVISIBLE). The two lists must not drift apart: each of
    # ci's marks is one of those, or a direction override, which is never removed.
    assert set(ci._BIDI) <= set(INVISIBLE) | {"\u202d", "\u202e"}
