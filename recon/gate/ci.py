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
from recon.helptext import cells
from recon.masking import scrub
from recon.texts import current, text
from recon.wording import word


def _t(key: str, lang: str | None = None, **values) -> str:
    return text(f"gate.{key}", lang, **values)


# compare.py's reasons (in gate.json as they are) -> the catalog's words for people.
_WHY = {
    "new; its waiver has expired": "new_expired",
    "new": "new",
    "its waiver has expired": "expired",
    "accepted in the baseline under a waiver that no longer holds": "was_waived",
    "still open (--strict)": "strict",
}


def why_text(why: str | None, lang: str | None = None) -> str:
    """Why a finding blocks, in `lang`; a reason the catalog lacks is shown as given."""
    if why is None:
        return ""
    return _t(f"why.{_WHY[why]}", lang) if why in _WHY else why


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


def _where(row: dict, lang: str | None = None) -> str:
    """`1201-1006-01 · birth_date · filings row 14`: never a value, on one line."""
    parts = [row.get("anchor") or row.get("member_id") or ""]
    if row.get("field"):
        parts.append(str(row["field"]))
    if row.get("row") is not None:
        source = text(f"explain.source.{row['source']}", lang)
        parts.append(_t("where.row", lang, source=source, row=row["row"]))
    return fold(" · ".join(p for p in parts if p))


def verdict_line(outcome: Outcome, lang: str | None = None) -> str:
    blocking = outcome.blocking.height
    if blocking:
        return _t("verdict.fail", lang, count=blocking, fail_on=outcome.fail_on)
    return _t("verdict.pass", lang, fail_on=outcome.fail_on)


def terminal_lines(outcome: Outcome, cap: int = 20, lang: str | None = None) -> list[str]:
    lines = []
    if outcome.baseline is None:
        lines.append(_t("terminal.no_baseline", lang, count=outcome.findings.height))
    else:
        lines.append(
            _t(
                "terminal.against",
                lang,
                baseline=outcome.baseline,
                new=outcome.count(NEW),
                open=outcome.count(OPEN),
                resolved=outcome.count(RESOLVED),
            )
        )
        if outcome.diff is not None:
            lines.append(_t("terminal.roster", lang, diff=diff_line(outcome.diff, lang)))
    waived = outcome.findings.filter(pl.col("waived")).height
    if outcome.waivers:
        by = {s: sum(w.status == s for w in outcome.waivers) for s in (ACTIVE, EXPIRED, UNUSED)}
        lines.append(
            _t(
                "terminal.waivers",
                lang,
                active=by[ACTIVE],
                waived=waived,
                expired=by[EXPIRED],
                unused=by[UNUSED],
            )
        )
    for row in outcome.blocking.head(cap).iter_rows(named=True):
        severity = word("severity", row["severity"], lang or current())
        padding = " " * max(1, 9 - cells(severity))  # エラー is six cells wide, error five
        lines.append(
            f"  {severity}{padding}{row['check']:<32} {_where(row, lang)}  "
            f"({why_text(row['why'], lang)})"
        )
    if outcome.blocking.height > cap:
        lines.append(_t("terminal.more", lang, count=outcome.blocking.height - cap))
    lines.append(verdict_line(outcome, lang))
    return lines


def diff_line(diff: RosterDiff, lang: str | None = None) -> str:
    return _t(
        "diff",
        lang,
        added=len(diff.added),
        removed=len(diff.removed),
        changed=len(diff.changed),
        overseas=len(diff.moved_overseas),
        back=len(diff.moved_back),
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
    for name, value in _properties(outcome, lang).items():
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
                said = _t("junit.resolved", lang, count=resolved[code])
                ET.SubElement(case, "system-out").text = said
            continue
        blocking = frame.filter(pl.col("blocking"))
        if blocking.height:
            failure = ET.SubElement(
                case,
                "failure",
                type=blocking["severity"][0],
                message=_t(
                    "junit.blocking",
                    lang,
                    count=blocking.height,
                    why=why_text(blocking["why"][0], lang),
                ),
            )
            failure.text = _lines(blocking, JUNIT_CAP, lang, with_why=True)
        counts = _t(
            "junit.counts",
            lang,
            new=frame.filter(pl.col("status") == NEW).height,
            open=frame.filter(pl.col("status") == OPEN).height,
            resolved=resolved.get(code, 0),
            waived=frame["waived"].sum(),
        )
        rest = frame.filter(~pl.col("blocking"))
        out = ET.SubElement(case, "system-out")
        out.text = counts + ("\n" + _lines(rest, JUNIT_CAP, lang) if rest.height else "")
    notes = [_waiver_line(s, lang) for s in outcome.waivers if s.status != ACTIVE]
    if notes:
        ET.SubElement(suite, "system-out").text = "\n".join(notes)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _properties(outcome: Outcome, lang: str) -> dict[str, str]:
    ctx = outcome.context
    return {
        "roster": scrub(ctx.get("roster", "")),
        "filings": scrub(ctx.get("filings", "")),
        "as_of": ctx.get("as_of", ""),
        "baseline": scrub(outcome.baseline or _t("junit.no_baseline", lang)),
        "fail_on": outcome.fail_on,
        "strict": str(outcome.strict).lower(),
        "verdict": "pass" if outcome.passed else "fail",
    }


def _lines(frame: pl.DataFrame, cap: int, lang: str, with_why: bool = False) -> str:
    lines = []
    for row in frame.head(cap).iter_rows(named=True):
        if with_why:
            state = why_text(row["why"], lang)
        else:
            state = _t(f"state.{row['status']}", lang)
            state = _t("junit.waived", lang, state=state) if row["waived"] else state
        lines.append(_t("junit.line", lang, where=_where(row, lang), state=state))
    if frame.height > cap:
        lines.append(_t("junit.more", lang, count=frame.height - cap))
    return "\n".join(lines)


def _waiver_line(status, lang: str | None = None) -> str:
    w = status.waiver
    whom = w.member_id or w.finding
    state = {
        EXPIRED: _t("waiver.expired", lang, date=w.expires_on),
        UNUSED: _t("waiver.unused", lang),
        ACTIVE: _t("waiver.active", lang, date=w.expires_on),
    }[status.status]
    note = f"; {_note(status.note, lang)}" if status.note else ""
    return fold(
        _t(
            "waiver.line",
            lang,
            number=w.number,
            check=w.check,
            whom=whom,
            approved_by=scrub(w.approved_by),
            state=state,
            note=note,
        )
    )


def undecided_title(lang: str | None = None) -> str:
    """The title of the annotation of a gate that could not decide."""
    return _t("annotation.undecided", lang)


def undecided_junit(message: str) -> str:
    """`message`: already fit to print (`recon.masking.error_text`), in the chosen language;
    the rest are codes a CI reads (`decision`, `undecided`)."""
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


def annotation_lines(outcome: Outcome, lang: str = "ja", cap: int = ANNOTATION_CAP) -> list[str]:
    """`::error` for each blocking finding, `::warning` for new warnings and waivers to fix."""
    titles = _titles(lang)
    files = {
        "roster": _annotatable(outcome.context.get("roster")),
        "filings": _annotatable(outcome.context.get("filings")),
    }
    lines = []
    for row in outcome.blocking.iter_rows(named=True):
        why = why_text(row["why"], lang)
        lines.append(_finding_command("error", row, titles, files, why, lang))
    new_warnings = outcome.findings.filter(
        ~pl.col("blocking") & (pl.col("status") == NEW) & (pl.col("severity") != "info")
    )
    for row in new_warnings.iter_rows(named=True):
        state = _t("state.new_waived" if row["waived"] else "state.new", lang)
        lines.append(_finding_command("warning", row, titles, files, state, lang))
    shown = lines[:cap]
    if len(lines) > cap:
        shown.append(command("warning", _t("annotation.more", lang, count=len(lines) - cap)))
    for status in outcome.waivers:
        if status.status != ACTIVE:
            title = _t("annotation.waiver_title", lang)
            shown.append(command("warning", _waiver_line(status, lang), title=title))
    return shown


def _finding_command(kind, row, titles, files, state, lang) -> str:
    path = files.get(row["source"])
    line = row["row"] + 1 if path and row["row"] is not None else None  # + the header line
    title = _t("annotation.title", lang, check=row["check"], state=state)
    message = f"{_where(row, lang)}: {titles.get(row['check'], row['check'])}"
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
            self.add(_t("md.more", count=total - shown, where=rest), "")


def _ids(values: list[str], lang: str | None = None, cap: int = LIST_CAP) -> str:
    shown = ", ".join(_code(v) for v in values[:cap])
    return shown + (_t("md.ids_more", lang, count=len(values) - cap) if len(values) > cap else "")


def markdown(outcome: Outcome, lang: str = "ja", size_cap: int = SUMMARY_CAP) -> str:
    titles = _titles(lang)
    ctx = outcome.context
    passed = outcome.passed
    page = _Page(size_cap)
    page.add(
        _t("md.title_pass" if passed else "md.title_fail", lang),
        "",
        _t(
            "md.inputs",
            lang,
            roster=_code(scrub(ctx.get("roster", ""))),
            filings=_code(scrub(ctx.get("filings", ""))),
            as_of=_md(ctx.get("as_of", "")),
            fail_on=_md(outcome.fail_on),
            strict=_t("md.strict", lang) if outcome.strict else "",
        ),
        "",
        (
            _t("md.baseline", lang, baseline=_code(scrub(outcome.baseline)))
            if outcome.baseline
            else _t("md.no_baseline", lang)
        ),
        "",
    )
    if outcome.waivers:
        page.add(_t("md.waivers_judged", lang, date=_md(ctx.get("waivers_judged_on", ""))), "")
    for note in ctx.get("notes", []):
        line = f"> {_md(scrub(note), 1_000)}"
        if page.fits(line):
            page.add(line, "")
    severities = SEVERITIES
    waived = outcome.findings.filter(pl.col("waived"))
    counts = [
        [_t("md.count.new", lang), *[outcome.count(NEW, s) for s in severities]],
        [_t("md.count.open", lang), *[outcome.count(OPEN, s) for s in severities]],
        [_t("md.count.resolved", lang), *[outcome.count(RESOLVED, s) for s in severities]],
        [
            _t("md.count.waived", lang),
            *[waived.filter(pl.col("severity") == s).height for s in severities],
        ],
    ]
    shown_severities = [word("severity", s, lang) for s in severities]
    page.add("|  | " + " | ".join(shown_severities) + " |", "|" + "---|" * 4)
    page.add(*["| " + " | ".join(str(v) for v in row) + " |" for row in counts], "")

    def finding_rows(frame: pl.DataFrame, last: str) -> Iterable[list[str]]:
        for r in frame.iter_rows(named=True):
            where = f"{r['source']} {r['row']}" if r.get("row") is not None else r["source"]
            last_value = why_text(r[last], lang) if last == "why" else r[last]
            yield [
                _code(r["check"]),
                _md(titles.get(r["check"], "")),
                _md(r["anchor"]),
                _column(r["field"] or ""),
                _md(where),
                _md(last_value),
            ]

    column = {k: _t(f"md.column.{k}", lang) for k in _COLUMNS}
    header = [column[k] for k in ("check", "title", "anchor", "field", "row")]
    findings_files = _t("md.findings_files", lang)
    if outcome.blocking.height:
        page.add(_t("md.blocking", lang, count=outcome.blocking.height), "")
        page.table(
            [*header, column["why"]],
            finding_rows(outcome.blocking.head(LIST_CAP), "why"),
            outcome.blocking.height,
            findings_files,
            LIST_CAP,
        )
    new_other = outcome.findings.filter(~pl.col("blocking") & (pl.col("status") == NEW))
    if new_other.height:
        shown = new_other.head(LIST_CAP).with_columns(state=_state_expr(lang))
        page.add(_t("md.new_other", lang, count=new_other.height), "")
        page.table(
            [*header, column["state"]],
            finding_rows(shown, "state"),
            new_other.height,
            findings_files,
            LIST_CAP,
        )
    if outcome.resolved.height:
        page.add(_t("md.resolved", lang, count=outcome.resolved.height), "")
        page.table(
            [column[k] for k in ("check", "title", "anchor", "field", "severity")],
            (
                [
                    _code(r["check"]),
                    _md(titles.get(r["check"], "")),
                    _md(r["anchor"]),
                    _column(r["field"] or ""),
                    _md(word("severity", r["severity"], lang)),
                ]
                for r in outcome.resolved.head(LIST_CAP).iter_rows(named=True)
            ),
            outcome.resolved.height,
            "gate.json",
            LIST_CAP,
        )
    if outcome.waivers:
        page.add(_t("md.waivers", lang, count=len(outcome.waivers)), "")
        waiver_columns = ("check", "member_or_finding", "reason", "approved_by", "expires")
        page.table(
            ["#", *(column[k] for k in waiver_columns), column["status"]],
            (
                [
                    str(s.waiver.number),
                    _code(s.waiver.check),
                    _md(s.waiver.member_id or s.waiver.finding),
                    _md(scrub(s.waiver.reason)),
                    _md(scrub(s.waiver.approved_by)),
                    s.waiver.expires_on.isoformat(),
                    _md(_waiver_status_text(s, lang)),
                ]
                for s in outcome.waivers
            ),
            len(outcome.waivers),
            _t("md.waiver_files", lang),
            len(outcome.waivers),
        )
    if outcome.diff is not None:
        page.add(_t("md.roster_changes", lang), "")
        for line in _diff_lines(outcome.diff, lang):
            if not page.fits(line):
                page.add(_t("md.diff_rest", lang))
                break
            page.add(line)
        page.add("")
    page.add(_t("md.footer", lang))
    return "\n".join(page.lines).replace("\n\n\n", "\n\n") + "\n"


def undecided_markdown(message: str, lang: str | None = None) -> str:
    """The summary of a gate that could not decide; `message` is shown as data."""
    return f"{_t('md.title_undecided', lang)}\n\n{_md(message, 4_000)}\n"


_COLUMNS = (
    *("check", "title", "anchor", "field", "row", "why", "state", "severity"),
    *("member_or_finding", "reason", "approved_by", "expires", "status"),
)


def _state_expr(lang: str | None = None) -> pl.Expr:
    waived, below = _t("state.waived", lang), _t("state.below_fail_on", lang)
    return pl.when(pl.col("waived")).then(pl.lit(waived)).otherwise(pl.lit(below))


def _waiver_status_text(status, lang: str | None = None) -> str:
    if status.status == ACTIVE:
        said = _t("waiver.status_active", lang, count=status.matched)
    elif status.status == EXPIRED and status.matched:
        said = _t("waiver.status_expired_matches", lang, count=status.matched)
    elif status.status == EXPIRED:
        said = _t("waiver.status_expired", lang)
    else:
        said = _t("waiver.status_unused", lang)
    return said + (f"; {_note(status.note, lang)}" if status.note else "")


def _note(note: str, lang: str | None = None) -> str:
    """A waiver's note (a code of `recon.gate.waivers`) in words, scrubbed as free text."""
    return scrub(word("waiver_note", note, lang or current()))


def _diff_lines(diff: RosterDiff, lang: str | None = None) -> list[str]:
    if diff.empty:
        return [_t("md.diff.none", lang)]
    lines = []
    if diff.added:
        lines.append(_t("md.diff.added", lang, count=len(diff.added), ids=_ids(diff.added, lang)))
    if diff.removed:
        ids = _ids(diff.removed, lang)
        lines.append(_t("md.diff.removed", lang, count=len(diff.removed), ids=ids))
    if diff.changed:
        lines.append(_t("md.diff.changed", lang, count=len(diff.changed)))
        for member, fields in list(diff.changed.items())[:LIST_CAP]:
            lines.append(f"  - {_code(member)}: {', '.join(_column(f) for f in fields)}")
        if len(diff.changed) > LIST_CAP:
            lines.append(_t("md.diff.changed_more", lang, count=len(diff.changed) - LIST_CAP))
    for label, items in (
        ("moved_overseas", [f"{_code(h)} ({_md(s)})" for h, s in diff.moved_overseas]),
        (
            "moved_back",
            [f"{_code(h)} ({_t('md.diff.was', lang, value=_md(s))})" for h, s in diff.moved_back],
        ),
        (
            "overseas_changed",
            [f"{_code(h)} ({_md(a)} → {_md(b)})" for h, a, b in diff.overseas_changed],
        ),
    ):
        if items:
            more = len(items) - LIST_CAP
            extra = _t("md.ids_more", lang, count=more) if more > 0 else ""
            lines.append(
                _t(
                    "md.diff.households",
                    lang,
                    label=_t(f"md.diff.{label}", lang),
                    count=len(items),
                    items=", ".join(items[:LIST_CAP]),
                    extra=extra,
                )
            )
    return lines
