"""What CI systems read: JUnit XML, GitHub Actions annotations, the Markdown summary.

Rendering only: every function takes the gate's `Outcome` and returns text;
`flow` decides where it goes. Identifiers (member ids, finding ids, rows)
are written as they are; the free texts these files quote (paths, notes, the
waivers' reasons and approvers) are scrubbed where they are put in
(`recon.masking.scrub`), never the whole text: that would mask every member id
whose digits pass the My Number check digit.

Every value is data, never markup: people type the waivers and the roster, and
a reason such as `ok\r\r# recon gate: ✅ PASS` must not become a heading on
the CI page. Control characters are folded to a visible or space form
(`fold`), the Markdown escapes every value (`_md`, `_code`) and stays under
`SUMMARY_CAP` bytes, and the workflow commands escape as GitHub asks
(`command`).

These texts may leave the society's closed network (CI logs, pull request
pages), so they name a finding by its check, member id, field and row, never
by the values behind it: names, birth dates and addresses stay in
`findings.csv` and `report.html`, in the run's output folder.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from recon.findings import SEVERITIES, Check, catalog
from recon.gate.compare import NEW, OPEN, RESOLVED, Outcome, RosterDiff
from recon.gate.waivers import ACTIVE, EXPIRED, UNUSED
from recon.masking import scrub

LIST_CAP = 50  # rows per list in the Markdown summary
JUNIT_CAP = 200  # members per test case in JUnit
ANNOTATION_CAP = 30  # GitHub shows at most 10 errors and 10 warnings per step anyway
# GitHub takes at most 1 MiB of a step's summary and shows an error instead of a
# longer one: the summary lists what fits below this and points to the files.
SUMMARY_CAP = 1_000_000
CELL_CHARS = 200  # of one value in the summary; the files hold the whole text
MESSAGE_CHARS = 2_000  # of one annotation

# Line breaks of every kind are shown as ⏎ (a reason keeps its shape, and no value
# starts a line of its own); a tab is a space; other C0 controls their picture
# (␀, ␛); C1 controls and the marks that reorder text (bidi overrides, which can
# make an id read as another) the replacement character.
_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_FOLD = (
    {ord(c): "⏎" for c in _BREAKS}
    | {ord("\t"): " "}
    | {c: chr(0x2400 + c) for c in range(0x20) if chr(c) not in _BREAKS + "\t"}
    | {0x7F: "␡"}
    | {c: "\ufffd" for c in range(0x80, 0xA0) if c != 0x85}
    | {ord(c): "\ufffd" for c in _BIDI}
)
# What Markdown (GitHub's, with tables, strikethrough, math and autolinks) reads
# as markup anywhere in a line; `<`, `>` and `&` become entities instead.
_MARKUP = re.compile(r"([\\`*_\[\]|~#!$@{}])")
_LINE_START = re.compile(r"^(\s*)([-+=])|^(\s*\d+)([.)])")
_COLUMN = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_AUTOLINK = re.compile(r"(?i)(:)(//)|(www)(\.)")


def checks() -> tuple[Check, ...]:
    """The catalog, then the Great Expectations checks."""
    from recon.gx_checks import gx_catalog  # the GX suites are read only when needed

    try:
        return catalog() + gx_catalog()
    except Exception:  # noqa: BLE001 - without the GX suites the catalog still names every check
        return catalog()


def _titles(lang: str) -> dict[str, str]:
    return {c.code: c.title(lang) for c in checks()}


def fold(value: object) -> str:
    """The text on one line, every control character visible: what a log,
    an XML attribute or a table cell can hold without being broken by it."""
    return ("" if value is None else str(value)).translate(_FOLD)


def _where(row: dict) -> str:
    """`1201-1006-01 · birth_date · filings row 14`: never a value, on one line."""
    parts = [row.get("anchor") or row.get("member_id") or ""]
    if row.get("field"):
        parts.append(str(row["field"]))
    if row.get("row") is not None:
        parts.append(f"{row['source']} row {row['row']}")
    return fold(" · ".join(p for p in parts if p))


def verdict_line(outcome: Outcome) -> str:
    blocking = outcome.blocking.height
    if blocking:
        return f"gate: FAIL — {blocking} finding(s) at or above {outcome.fail_on} block the update"
    return "gate: pass — nothing new at or above " + outcome.fail_on


def terminal_lines(outcome: Outcome, cap: int = 20) -> list[str]:
    lines = []
    if outcome.baseline is None:
        lines.append(f"gate: no baseline: all {outcome.findings.height} finding(s) count as new")
    else:
        lines.append(
            f"gate: against {outcome.baseline}: {outcome.count(NEW)} new, "
            f"{outcome.count(OPEN)} still open, {outcome.count(RESOLVED)} resolved"
        )
        if outcome.diff is not None:
            lines.append("gate: roster " + diff_line(outcome.diff))
    waived = outcome.findings.filter(pl.col("waived")).height
    if outcome.waivers:
        by = {s: sum(w.status == s for w in outcome.waivers) for s in (ACTIVE, EXPIRED, UNUSED)}
        lines.append(
            f"gate: waivers: {by[ACTIVE]} active ({waived} finding(s) waived), "
            f"{by[EXPIRED]} expired, {by[UNUSED]} unused"
        )
    for row in outcome.blocking.head(cap).iter_rows(named=True):
        lines.append(f"  {row['severity']:<8} {row['check']:<32} {_where(row)}  ({row['why']})")
    if outcome.blocking.height > cap:
        lines.append(f"  … and {outcome.blocking.height - cap} more in gate.md")
    lines.append(verdict_line(outcome))
    return lines


def diff_line(diff: RosterDiff) -> str:
    return (
        f"{len(diff.added)} member(s) added, {len(diff.removed)} removed, "
        f"{len(diff.changed)} changed; {len(diff.moved_overseas)} household(s) moved "
        f"overseas, {len(diff.moved_back)} back"
    )


# --- JUnit XML -------------------------------------------------------------------


def junit_xml(outcome: Outcome, lang: str = "ja") -> str:
    """One test case per check; a failure lists the members whose findings block."""
    titles = _titles(lang)
    codes = list(titles)
    for code in [*outcome.findings["check"].to_list(), *outcome.resolved["check"].to_list()]:
        if code not in titles:
            codes.append(code)
            titles[code] = code
    by_check = {
        code: frame for (code,), frame in outcome.findings.group_by("check", maintain_order=True)
    }
    resolved = dict(outcome.resolved.group_by("check").len().iter_rows())
    failures = sum(1 for frame in by_check.values() if frame["blocking"].any())
    suites = ET.Element(
        "testsuites", name="recon gate", tests=str(len(codes)), failures=str(failures), errors="0"
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="recon gate",
        tests=str(len(codes)),
        failures=str(failures),
        errors="0",
        skipped="0",
        timestamp=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(outcome).items():
        ET.SubElement(properties, "property", name=name, value=fold(value))
    for code in codes:
        frame = by_check.get(code)
        case = ET.SubElement(
            suite,
            "testcase",
            classname="recon." + code.split(".", 1)[0],
            name=f"{code} — {titles[code]}" if titles[code] != code else code,
        )
        if frame is None:
            if resolved.get(code):
                ET.SubElement(case, "system-out").text = f"resolved: {resolved[code]}"
            continue
        blocking = frame.filter(pl.col("blocking"))
        if blocking.height:
            failure = ET.SubElement(
                case,
                "failure",
                type=blocking["severity"][0],
                message=f"{blocking.height} finding(s) block the update ({blocking['why'][0]})",
            )
            failure.text = _lines(blocking, JUNIT_CAP, with_why=True)
        counts = (
            f"new: {frame.filter(pl.col('status') == NEW).height}, "
            f"still open: {frame.filter(pl.col('status') == OPEN).height}, "
            f"resolved: {resolved.get(code, 0)}, waived: {frame['waived'].sum()}"
        )
        rest = frame.filter(~pl.col("blocking"))
        out = ET.SubElement(case, "system-out")
        out.text = counts + ("\n" + _lines(rest, JUNIT_CAP) if rest.height else "")
    notes = [_waiver_line(s) for s in outcome.waivers if s.status != ACTIVE]
    if notes:
        ET.SubElement(suite, "system-out").text = "\n".join(notes)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _properties(outcome: Outcome) -> dict[str, str]:
    ctx = outcome.context
    return {
        "roster": scrub(ctx.get("roster", "")),
        "filings": scrub(ctx.get("filings", "")),
        "as_of": ctx.get("as_of", ""),
        "baseline": scrub(outcome.baseline or "(none: every finding is new)"),
        "fail_on": outcome.fail_on,
        "strict": str(outcome.strict).lower(),
        "verdict": "pass" if outcome.passed else "fail",
    }


def _lines(frame: pl.DataFrame, cap: int, with_why: bool = False) -> str:
    lines = []
    for row in frame.head(cap).iter_rows(named=True):
        state = row["why"] if with_why else (row["status"] + (", waived" if row["waived"] else ""))
        lines.append(f"{_where(row)} ({state})")
    if frame.height > cap:
        lines.append(f"… and {frame.height - cap} more (findings.csv in the run's folder)")
    return "\n".join(lines)


def _waiver_line(status) -> str:
    w = status.waiver
    whom = w.member_id or w.finding
    text = {
        EXPIRED: f"expired on {w.expires_on}",
        UNUSED: "matches no finding",
        ACTIVE: f"holds until {w.expires_on}",
    }[status.status]
    note = f"; {scrub(status.note)}" if status.note else ""
    return fold(
        f"waiver {w.number} ({w.check} {whom}, approved by {scrub(w.approved_by)}): {text}{note}"
    )


def undecided_junit(message: str) -> str:
    """`message`: already fit to print (`recon.masking.error_text`)."""
    suites = ET.Element("testsuites", name="recon gate", tests="1", failures="0", errors="1")
    suite = ET.SubElement(suites, "testsuite", name="recon gate", tests="1", errors="1")
    case = ET.SubElement(suite, "testcase", classname="recon.gate", name="decision")
    ET.SubElement(case, "error", type="undecided", message=message[:500]).text = message
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


# --- GitHub Actions annotations -------------------------------------------------


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **props: str | int | None) -> str:
    """One workflow command line: `%`, CR and LF escaped as GitHub asks (and `:`, `,`
    in properties); other controls folded; the message at most MESSAGE_CHARS."""
    given = ",".join(
        f"{k}={_escape_property(_visible(str(v))[:MESSAGE_CHARS])}"
        for k, v in props.items()
        if v is not None
    )
    text = _visible(message)
    if len(text) > MESSAGE_CHARS:
        text = text[:MESSAGE_CHARS] + "…"
    return f"::{kind}{' ' + given if given else ''}::{_escape_data(text)}"


def _visible(text: str) -> str:
    """`fold`, but CR and LF kept: GitHub shows them, escaped, as a message's lines."""
    return "\n".join(fold(line) for line in text.replace("\r\n", "\n").split("\n"))


def annotations(outcome: Outcome, lang: str = "ja", cap: int = ANNOTATION_CAP) -> list[str]:
    """`::error` for each blocking finding, `::warning` for new warnings and waivers to fix."""
    titles = _titles(lang)
    files = {
        "roster": _annotatable(outcome.context.get("roster")),
        "filings": _annotatable(outcome.context.get("filings")),
    }
    lines = []
    for row in outcome.blocking.iter_rows(named=True):
        lines.append(_finding_command("error", row, titles, files, row["why"]))
    new_warnings = outcome.findings.filter(
        ~pl.col("blocking") & (pl.col("status") == NEW) & (pl.col("severity") != "info")
    )
    for row in new_warnings.iter_rows(named=True):
        state = "new, waived" if row["waived"] else "new"
        lines.append(_finding_command("warning", row, titles, files, state))
    shown = lines[:cap]
    if len(lines) > cap:
        shown.append(command("warning", f"{len(lines) - cap} more finding(s): see gate.md"))
    for status in outcome.waivers:
        if status.status != ACTIVE:
            shown.append(command("warning", _waiver_line(status), title="recon gate: waiver"))
    return shown


def _finding_command(kind, row, titles, files, state) -> str:
    path = files.get(row["source"])
    line = row["row"] + 1 if path and row["row"] is not None else None  # + the header line
    title = f"recon gate: {row['check']} ({state})"
    message = f"{_where(row)}: {titles.get(row['check'], row['check'])}"
    return command(kind, message, file=path, line=line, title=title)


def _annotatable(path: str | None) -> str | None:
    """A CSV inside the working folder, as GitHub expects it: relative, with slashes."""
    if not path or not path.lower().endswith(".csv"):
        return None
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return None


# --- Markdown summary ------------------------------------------------------------


def _md(value: object, cap: int = CELL_CHARS) -> str:
    """A value as Markdown that shows it as it is and does nothing else."""
    text = fold(value)
    if len(text) > cap:
        text = text[:cap] + "…"
    text = _MARKUP.sub(r"\\\1", text)
    text = _AUTOLINK.sub(r"\1\3\\\2\4", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A value may open a blockquote's line (the notes): no list or heading from it.
    return _LINE_START.sub(_escape_start, text, count=1)


def _escape_start(m: re.Match) -> str:
    return f"{m[1]}\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"


def _column(name: str) -> str:
    """A roster column's name (recon's own, `postal_code`), as it is; anything else escaped."""
    return name if _COLUMN.fullmatch(name) else _md(name)


def _code(value: object, cap: int = CELL_CHARS) -> str:
    """An identifier or a path in `code`, as read; escaped text when a code span
    could not hold it (a backtick, a pipe, markup that code would show raw)."""
    text = fold(value)
    if text and len(text) <= cap and not any(c in text for c in "`|<>&"):
        return f"`{text}`"
    return _md(text, cap)


class _Page:
    """The summary's lines, under SUMMARY_CAP bytes whatever the inputs.

    What every summary has (headings, counts, the closing pointer) is always
    added; the lists take rows while `room` lasts, keeping `_RESERVED` bytes for
    what comes after them, and say how many they leave to the full files.
    """

    _RESERVED = 40_000

    def __init__(self, cap: int = SUMMARY_CAP):
        self.lines: list[str] = []
        self.room = cap

    def add(self, *lines: str) -> None:
        for line in lines:
            self.lines.append(line)
            self.room -= len(line.encode("utf-8")) + 1

    def fits(self, line: str) -> bool:
        return len(line.encode("utf-8")) + 1 <= self.room - self._RESERVED

    def table(
        self, header: list[str], rows: Iterable[list[str]], total: int, rest: str, cap: int
    ) -> None:
        """A table of at most `cap` rows (of `total`); `rest` names where the others are."""
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header))
        shown = 0
        for row in rows:
            line = "| " + " | ".join(row) + " |"
            if shown >= cap or not self.fits(line):
                break
            self.add(line)
            shown += 1
        self.add("")
        if total > shown:
            self.add(f"… and {total - shown} more: see {rest}.", "")


def _ids(values: list[str], cap: int = LIST_CAP) -> str:
    shown = ", ".join(_code(v) for v in values[:cap])
    return shown + (f" … and {len(values) - cap} more" if len(values) > cap else "")


def markdown(outcome: Outcome, lang: str = "ja", size_cap: int = SUMMARY_CAP) -> str:
    titles = _titles(lang)
    ctx = outcome.context
    passed = outcome.passed
    page = _Page(size_cap)
    page.add(
        f"## recon gate: {'✅ pass' if passed else '❌ FAIL'}",
        "",
        (
            f"Roster {_code(scrub(ctx.get('roster', '')))} · "
            f"filings {_code(scrub(ctx.get('filings', '')))} · "
            f"as of {_md(ctx.get('as_of', ''))} · fail on **{_md(outcome.fail_on)}**"
            + (" (strict)" if outcome.strict else "")
        ),
        "",
        (
            f"Baseline: {_code(scrub(outcome.baseline))}"
            if outcome.baseline
            else "No baseline: every finding counts as new."
        ),
        "",
    )
    if outcome.waivers:
        page.add(f"Waivers judged on {_md(ctx.get('waivers_judged_on', ''))}.", "")
    for note in ctx.get("notes", []):
        line = f"> {_md(scrub(note), 1_000)}"
        if page.fits(line):
            page.add(line, "")
    severities = SEVERITIES
    waived = outcome.findings.filter(pl.col("waived"))
    counts = [
        ["new", *[outcome.count(NEW, s) for s in severities]],
        ["still open", *[outcome.count(OPEN, s) for s in severities]],
        ["resolved", *[outcome.count(RESOLVED, s) for s in severities]],
        ["waived", *[waived.filter(pl.col("severity") == s).height for s in severities]],
    ]
    page.add("|  | " + " | ".join(severities) + " |", "|" + "---|" * 4)
    page.add(*["| " + " | ".join(str(v) for v in row) + " |" for row in counts], "")

    def finding_rows(frame: pl.DataFrame, last: str) -> Iterable[list[str]]:
        for r in frame.iter_rows(named=True):
            where = f"{r['source']} {r['row']}" if r.get("row") is not None else r["source"]
            yield [
                _code(r["check"]),
                _md(titles.get(r["check"], "")),
                _md(r["anchor"]),
                _column(r["field"] or ""),
                _md(where),
                _md(r[last]),
            ]

    header = ["check", "title", "member / filing", "field", "row"]
    findings_files = "findings.csv and gate.json"
    if outcome.blocking.height:
        page.add(f"### Blocking ({outcome.blocking.height})", "")
        page.table(
            [*header, "why"],
            finding_rows(outcome.blocking.head(LIST_CAP), "why"),
            outcome.blocking.height,
            findings_files,
            LIST_CAP,
        )
    new_other = outcome.findings.filter(~pl.col("blocking") & (pl.col("status") == NEW))
    if new_other.height:
        shown = new_other.head(LIST_CAP).with_columns(state=_state_expr())
        page.add(f"### New, not blocking ({new_other.height})", "")
        page.table(
            [*header, "state"],
            finding_rows(shown, "state"),
            new_other.height,
            findings_files,
            LIST_CAP,
        )
    if outcome.resolved.height:
        page.add(f"### Resolved since the baseline ({outcome.resolved.height})", "")
        page.table(
            ["check", "title", "member / filing", "field", "severity"],
            (
                [
                    _code(r["check"]),
                    _md(titles.get(r["check"], "")),
                    _md(r["anchor"]),
                    _column(r["field"] or ""),
                    _md(r["severity"]),
                ]
                for r in outcome.resolved.head(LIST_CAP).iter_rows(named=True)
            ),
            outcome.resolved.height,
            "gate.json",
            LIST_CAP,
        )
    if outcome.waivers:
        page.add(f"### Waivers ({len(outcome.waivers)})", "")
        page.table(
            ["#", "check", "member / finding", "reason", "approved by", "expires", "status"],
            (
                [
                    str(s.waiver.number),
                    _code(s.waiver.check),
                    _md(s.waiver.member_id or s.waiver.finding),
                    _md(scrub(s.waiver.reason)),
                    _md(scrub(s.waiver.approved_by)),
                    s.waiver.expires_on.isoformat(),
                    _md(_waiver_status_text(s)),
                ]
                for s in outcome.waivers
            ),
            len(outcome.waivers),
            "waivers.csv and gate.json",
            len(outcome.waivers),
        )
    if outcome.diff is not None:
        page.add("### Roster changes since the baseline", "")
        for line in _diff_lines(outcome.diff):
            if not page.fits(line):
                page.add("- … the rest in gate.json (roster_diff)")
                break
            page.add(line)
        page.add("")
    page.add(
        "Details (names, dates, addresses as given) are in `findings.csv` and `report.html` "
        "in the run's output folder; this summary names members by id only."
    )
    return "\n".join(page.lines).replace("\n\n\n", "\n\n") + "\n"


def undecided_markdown(message: str) -> str:
    """The summary of a gate that could not decide; `message` is shown as data."""
    return f"## recon gate: ❌ could not decide\n\n{_md(message, 4_000)}\n"


def _state_expr() -> pl.Expr:
    return pl.when(pl.col("waived")).then(pl.lit("waived")).otherwise(pl.lit("below --fail-on"))


def _waiver_status_text(status) -> str:
    text = {
        ACTIVE: f"active, waives {status.matched}",
        EXPIRED: "⚠️ expired" + (f" (matches {status.matched})" if status.matched else ""),
        UNUSED: "⚠️ matches no finding",
    }[status.status]
    return text + (f"; {scrub(status.note)}" if status.note else "")


def _diff_lines(diff: RosterDiff) -> list[str]:
    if diff.empty:
        return ["No member added, removed or changed."]
    lines = []
    if diff.added:
        lines.append(f"- **{len(diff.added)} added:** {_ids(diff.added)}")
    if diff.removed:
        lines.append(f"- **{len(diff.removed)} removed:** {_ids(diff.removed)}")
    if diff.changed:
        lines.append(f"- **{len(diff.changed)} changed:**")
        for member, fields in list(diff.changed.items())[:LIST_CAP]:
            lines.append(f"  - {_code(member)}: {', '.join(_column(f) for f in fields)}")
        if len(diff.changed) > LIST_CAP:
            lines.append(f"  - … and {len(diff.changed) - LIST_CAP} more (gate.json)")
    for label, items in (
        ("moved overseas", [f"{_code(h)} ({_md(s)})" for h, s in diff.moved_overseas]),
        ("back from overseas", [f"{_code(h)} (was {_md(s)})" for h, s in diff.moved_back]),
        (
            "overseas type changed",
            [f"{_code(h)} ({_md(a)} → {_md(b)})" for h, a, b in diff.overseas_changed],
        ),
    ):
        if items:
            extra = f" … and {len(items) - LIST_CAP} more" if len(items) > LIST_CAP else ""
            lines.append(
                f"- **{len(items)} household(s) {label}:** {', '.join(items[:LIST_CAP])}{extra}"
            )
    return lines
