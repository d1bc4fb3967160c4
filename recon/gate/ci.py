"""What CI systems read: JUnit XML, GitHub Actions annotations, the Markdown summary.

Rendering only: every function takes the gate's `Outcome` and returns text;
`flow` decides where it goes. Identifiers (member ids, finding ids, rows)
are written as they are; the free texts these files quote (paths, notes, the
waivers' reasons and approvers) are scrubbed where they are put in
(`recon.masking.scrub`), never the whole text: that would mask every member id
whose digits pass the My Number check digit.

These texts may leave the society's closed network (CI logs, pull request
pages), so they name a finding by its check, member id, field and row, never
by the values behind it: names, birth dates and addresses stay in
`findings.csv` and `report.html`, in the run's output folder.
"""

from __future__ import annotations

import datetime as dt
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


def checks() -> tuple[Check, ...]:
    """The catalog, then the Great Expectations checks."""
    from recon.gx_checks import gx_catalog  # the GX suites are read only when needed

    try:
        return catalog() + gx_catalog()
    except Exception:  # noqa: BLE001 - without the GX suites the catalog still names every check
        return catalog()


def _titles(lang: str) -> dict[str, str]:
    return {c.code: c.title(lang) for c in checks()}


def _where(row: dict) -> str:
    """`1201-1006-01 · birth_date · filings row 14`: never a value."""
    parts = [row.get("anchor") or row.get("member_id") or ""]
    if row.get("field"):
        parts.append(str(row["field"]))
    if row.get("row") is not None:
        parts.append(f"{row['source']} row {row['row']}")
    return " · ".join(p for p in parts if p)


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
        ET.SubElement(properties, "property", name=name, value=str(value))
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
    return f"waiver {w.number} ({w.check} {whom}, approved by {scrub(w.approved_by)}): {text}{note}"


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
    given = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props.items() if v is not None)
    return f"::{kind}{' ' + given if given else ''}::{_escape_data(message)}"


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


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    header = list(header)
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _capped(frame: pl.DataFrame, cap: int = LIST_CAP) -> tuple[pl.DataFrame, str | None]:
    if frame.height <= cap:
        return frame, None
    return frame.head(cap), f"… and {frame.height - cap} more: see findings.csv and gate.json."


def _ids(values: list[str], cap: int = LIST_CAP) -> str:
    shown = ", ".join(f"`{v}`" for v in values[:cap])
    return shown + (f" … and {len(values) - cap} more" if len(values) > cap else "")


def markdown(outcome: Outcome, lang: str = "ja") -> str:
    titles = _titles(lang)
    ctx = outcome.context
    passed = outcome.passed
    lines = [
        f"## recon gate: {'✅ pass' if passed else '❌ FAIL'}",
        "",
        (
            f"Roster `{scrub(ctx.get('roster', ''))}` · "
            f"filings `{scrub(ctx.get('filings', ''))}` · "
            f"as of {ctx.get('as_of', '')} · fail on **{outcome.fail_on}**"
            + (" (strict)" if outcome.strict else "")
        ),
        "",
        (
            f"Baseline: `{scrub(outcome.baseline)}`"
            if outcome.baseline
            else "No baseline: every finding counts as new."
        ),
        "",
    ]
    if outcome.waivers:
        lines += [f"Waivers judged on {ctx.get('waivers_judged_on', '')}.", ""]
    for note in ctx.get("notes", []):
        lines += [f"> {scrub(note)}", ""]
    severities = SEVERITIES
    waived = outcome.findings.filter(pl.col("waived"))
    lines += _table(
        ["", *severities],
        [
            ["new", *[outcome.count(NEW, s) for s in severities]],
            ["still open", *[outcome.count(OPEN, s) for s in severities]],
            ["resolved", *[outcome.count(RESOLVED, s) for s in severities]],
            ["waived", *[waived.filter(pl.col("severity") == s).height for s in severities]],
        ],
    )
    lines.append("")

    def finding_rows(frame: pl.DataFrame, last: str) -> list[list[object]]:
        return [
            [
                f"`{r['check']}`",
                titles.get(r["check"], ""),
                r["anchor"],
                r["field"],
                f"{r['source']} {r['row']}" if r.get("row") is not None else r["source"],
                r[last],
            ]
            for r in frame.iter_rows(named=True)
        ]

    header = ["check", "title", "member / filing", "field", "row"]
    blocking, more = _capped(outcome.blocking)
    if blocking.height:
        lines += [f"### Blocking ({outcome.blocking.height})", ""]
        lines += _table([*header, "why"], finding_rows(blocking, "why"))
        lines += ["", more or ""]
    new_other = outcome.findings.filter(~pl.col("blocking") & (pl.col("status") == NEW))
    if new_other.height:
        shown, more = _capped(new_other.with_columns(state=_state_expr()))
        lines += [f"### New, not blocking ({new_other.height})", ""]
        lines += _table([*header, "state"], finding_rows(shown, "state"))
        lines += ["", more or ""]
    if outcome.resolved.height:
        shown, more = _capped(outcome.resolved)
        lines += [f"### Resolved since the baseline ({outcome.resolved.height})", ""]
        lines += _table(
            ["check", "title", "member / filing", "field", "severity"],
            [
                [
                    f"`{r['check']}`",
                    titles.get(r["check"], ""),
                    r["anchor"],
                    r["field"],
                    r["severity"],
                ]
                for r in shown.iter_rows(named=True)
            ],
        )
        lines += ["", more or ""]
    if outcome.waivers:
        lines += ["### Waivers", ""]
        lines += _table(
            ["#", "check", "member / finding", "reason", "approved by", "expires", "status"],
            [
                [
                    s.waiver.number,
                    f"`{s.waiver.check}`",
                    s.waiver.member_id or s.waiver.finding,
                    scrub(s.waiver.reason),
                    scrub(s.waiver.approved_by),
                    s.waiver.expires_on.isoformat(),
                    _waiver_status_text(s),
                ]
                for s in outcome.waivers
            ],
        )
        lines.append("")
    if outcome.diff is not None:
        lines += ["### Roster changes since the baseline", ""]
        lines += _diff_lines(outcome.diff)
        lines.append("")
    lines.append(
        "Details (names, dates, addresses as given) are in `findings.csv` and `report.html` "
        "in the run's output folder; this summary names members by id only."
    )
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


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
            lines.append(f"  - `{member}`: {', '.join(fields)}")
        if len(diff.changed) > LIST_CAP:
            lines.append(f"  - … and {len(diff.changed) - LIST_CAP} more (gate.json)")
    for label, items in (
        ("moved overseas", [f"`{h}` ({s})" for h, s in diff.moved_overseas]),
        ("back from overseas", [f"`{h}` (was {s})" for h, s in diff.moved_back]),
        ("overseas type changed", [f"`{h}` ({a} → {b})" for h, a, b in diff.overseas_changed]),
    ):
        if items:
            extra = f" … and {len(items) - LIST_CAP} more" if len(items) > LIST_CAP else ""
            lines.append(
                f"- **{len(items)} household(s) {label}:** {', '.join(items[:LIST_CAP])}{extra}"
            )
    return lines
