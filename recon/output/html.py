"""report.html: one self-contained page that opens from disk with no network (SPEC §8, §9).

Rendered from Jinja2 templates (`templates/`) with autoescape on: every value
the page prints is escaped by the template engine, never by hand. Its texts
come from the catalog (`recon/texts/report.toml`), its style and script are
files of their own, inlined, and a Content Security Policy built from their
SHA-256 lets the page load nothing and run no script but its own.

Sections that only some runs have (the gate's waivers, `recon explain`'s) are
inputs of the render (`Section`): a written page is never edited.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import polars as pl
from markupsafe import Markup

from recon.explain import Explanation, outline
from recon.findings import SEVERITY_RANK
from recon.output import tables
from recon.output.model import Run, Summary
from recon.output.tables import ActionList
from recon.texts import text
from recon.wording import word

JST = dt.timezone(dt.timedelta(hours=9), "JST")
REPORT_HTML = "report.html"

# The files beside the page, in the order the page lists them.
FILES = (
    "members.csv",
    "findings.csv",
    "summary.json",
    "mailing.csv",
    "confirm_members.csv",
    "confirm_hr.csv",
    "confirm_society.csv",
    "overseas_households.csv",
    "no_my_number.csv",
    "certificates.csv",
)

_SEVERITY_COLOUR = {"error": "#b00020", "warning": "#d08a00", "info": "#35608f"}
_BAR_COLOUR = "#4a7ab5"
SORT_RANK = {**SEVERITY_RANK, "": len(SEVERITY_RANK)}


@dataclass(frozen=True)
class Cell:
    """A value with a CSS class for its cell, and the key it sorts by when not its text."""

    value: object
    css: str | None = None  # no class attribute at all
    sort: object = None
    href: str | None = None  # the value as a link (a member's explanation in the page)


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    ident: str = ""
    css: str = ""


@dataclass(frozen=True)
class Section:
    """A section of the page that only some runs have: its anchor, heading and body.

    `body` is markup rendered by `render_section` (escaped there), placed between
    the checks and the files, with a link in the navigation.
    """

    anchor: str
    title: str
    body: Markup


@dataclass(frozen=True)
class CheckRow:
    code: str
    severity: str
    status: str  # pass, fail, or noted (an info check that found something)
    count: int | None  # findings; for gx.* the rows that fail (None: a table-level check)
    title: str
    action: str
    detail: str  # gx.* checks: what GX found, in words; empty for the catalog's checks


@dataclass(frozen=True)
class Page:
    """Everything report.html shows of a run."""

    run: Run
    checks: tuple[CheckRow, ...]
    lists: tuple[ActionList, ...]
    envelopes: int
    envelopes_ready: int
    sections: tuple[Section, ...] = ()
    # The listed members' explanations (`recon.explain.explanations`), at most
    # `tables.explained_cap()`.
    explained: tuple[Explanation, ...] = ()

    @property
    def data_docs(self) -> str | None:
        return self.run.summary.gx.data_docs if self.run.summary.gx else None


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("recon.output", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


@cache
def asset(name: str) -> str:
    """A style or script file of the page, exactly as it is inlined (its hash is in the CSP)."""
    return resources.files("recon.output").joinpath("templates", name).read_text(encoding="utf-8")


def csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy() -> str:
    css, js = asset("report.css"), asset("report.js")
    return (
        f"default-src 'none'; img-src data:; style-src {csp_hash(css)}; script-src {csp_hash(js)}"
    )


def when(moment: dt.datetime, lang: str) -> str:
    """A time as the operator reads it, in Japan's time: `2026年11月28日 15:49`."""
    local = moment.astimezone(JST)
    return text(
        "report.page.time",
        lang,
        year=local.year,
        month=local.month,
        day=local.day,
        time=local.strftime("%H:%M"),
    )


def gx_words(result: Any, lang: str) -> str:
    """What a GX expectation found, in words: `45 行すべて適合`, `3 行が不適合（45 行中）`."""
    if result.rows is None:
        return text("report.gx.observed", lang, value=_number(result.observed))
    if result.rows == 0:
        return text("report.gx.no_rows", lang)
    if not result.count:
        return text("report.gx.all_pass", lang, rows=f"{result.rows:,}")
    return text("report.gx.some_fail", lang, count=f"{result.count:,}", rows=f"{result.rows:,}")


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else "—"


def check_rows(run: Run, lang: str) -> tuple[CheckRow, ...]:
    s = run.summary
    gx = {r.check: r for r in s.gx.results} if s.gx else {}
    rows = []
    for check in run.checks:
        count = s.findings.by_check[check.code].count
        outcome = gx.get(check.code)
        failed = not outcome.success if outcome else count > 0 and check.severity != "info"
        status = "fail" if failed else "noted" if count and check.severity == "info" else "pass"
        rows.append(
            CheckRow(
                code=check.code,
                severity=check.severity,
                status=status,
                count=outcome.count if outcome else count,
                title=check.title(lang),
                action=check.action(lang),
                detail=gx_words(outcome, lang) if outcome else "",
            )
        )
    return tuple(rows)


def _cell(value: object) -> Cell:
    if isinstance(value, Cell):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Cell(value, "num")
    return Cell(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], ident="", css="") -> Table:
    return Table(tuple(headers), tuple(tuple(_cell(v) for v in row) for row in rows), ident, css)


def _list_cell(column: str, value: object, severity: str) -> object:
    if column in ("household_id", "member_id"):
        return Cell(value, "id")
    if column == "priority_text":  # the severity in words: coloured and sorted as its code
        return Cell(value, f"sev-{severity}", SORT_RANK.get(severity, SORT_RANK[""]))
    return value


def list_table(a: ActionList, lang: str, anchors: dict[int, str] | None = None) -> Table:
    """A list's table; a member whose explanation the page holds (`anchors`, by
    roster row) links to it."""
    headers = [_column(c, lang) for c in a.shown.columns]
    rows = []
    # One entry per shown row (`ActionList` holds to it), or none for the list.
    none = [None] * a.shown.height
    roster_rows = a.roster_rows.to_list() if a.roster_rows is not None else none
    severities = a.severities.cast(pl.String).to_list() if a.severities is not None else none
    for row, roster_row, severity in zip(a.shown.iter_rows(), roster_rows, severities, strict=True):
        cells = [
            _list_cell(c, v, severity or "") for c, v in zip(a.shown.columns, row, strict=True)
        ]
        anchor = (anchors or {}).get(roster_row) if roster_row is not None else None
        if anchor and "member_id" in a.shown.columns:
            at = a.shown.columns.index("member_id")
            cells[at] = Cell(row[at], "id", href=f"#{anchor}")
        rows.append(cells)
    return table(headers, rows, f"table-{a.key}", "sortable")


def explanation_anchor(roster_row: int) -> str:
    """By roster row, not member id: two rows with one id are explained apart."""
    return f"explain-r{roster_row}"


def explanations_section(explained: Sequence[Explanation], lang: str) -> Section:
    """The members of the lists explained, as `recon explain` explains them."""
    x = lambda key, **values: text(f"report.page.explain.{key}", lang, **values)  # noqa: E731
    body = _templated(
        "explanations.html.j2",
        lang,
        intro=x("intro", n=f"{len(explained):,}", cap=f"{tables.explained_cap():,}"),
        rest=x("rest"),
        explained=[
            {"anchor": explanation_anchor(e.roster_row), "outline": outline(e, lang)}
            for e in explained
        ],
    )
    return Section("explain", x("title"), body)


def _column(column: str, lang: str) -> str:
    return text(f"report.page.columns.{column}", lang)


def _inputs(s: Summary, lang: str) -> Table:
    t = lambda key: text(f"report.page.{key}", lang)  # noqa: E731
    return table(
        [t("file"), t("path"), t("rows"), "SHA-256"],
        [
            [
                t(f.role),
                text("common.bundled_sample", lang) if f.bundled else f.path,
                f.rows,
                Cell(f.sha256, "mono"),
            ]
            for f in s.inputs
        ],
    )


def _charts(run: Run, lang: str) -> list[tuple[str, list[tuple[str, int, str]]]]:
    m = run.summary.members
    assert m is not None
    titles = {c.code: c.title(lang) for c in run.checks}

    def coded(kind: str, counts) -> list[tuple[str, int, str]]:
        return [(word(kind, k, lang), v, _BAR_COLOUR) for k, v in counts.items()]

    findings = [
        (titles.get(code, code), c.count, _SEVERITY_COLOUR[c.severity])
        for code, c in run.summary.findings.by_check.items()
        if c.count
    ]
    abroad = m.overseas_active
    residence = [
        (text("report.page.domestic", lang), m.active - abroad, _BAR_COLOUR),
        (text("report.page.abroad", lang), abroad, _SEVERITY_COLOUR["info"]),
    ]
    c = lambda key: text(f"report.page.charts.{key}", lang)  # noqa: E731
    return [
        (c("notice"), coded("notice", m.notice)),
        (c("certificate_reasons"), coded("certificate_reasons", m.certificate_reasons)),
        (c("delivery"), coded("delivery", m.delivery)),
        (c("overseas"), residence),
        (c("findings"), findings),
    ]


def _bars(rows: list[tuple[str, int, str]]) -> list[dict]:
    largest = max((v for _, v, _ in rows), default=0)
    return [
        {
            "label": label,
            "value": value,
            "colour": colour,
            "width": round(200 * value / largest) if largest else 0,
        }
        for label, value, colour in rows
    ]


def render(page: Page, lang: str = "ja") -> str:
    """The whole page."""
    s = page.run.summary
    m = s.members
    assert m is not None
    t = lambda key, **values: text(f"report.page.{key}", lang, **values)  # noqa: E731
    errors = s.errors
    verdict = t("blocked_one") if s.verdict == "blocked" and errors == 1 else t(s.verdict, n=errors)
    policy = table(["", ""], [[k, v] for k, v in s.policy.items()])
    warnings = s.findings.by_severity.get("warning", 0)
    share = m.overseas_active / m.active if m.active else 0.0
    anchors = {e.roster_row: explanation_anchor(e.roster_row) for e in page.explained}
    sections = page.sections
    if page.explained:
        sections = (explanations_section(page.explained, lang), *sections)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            lang=lang,
            t=t,
            # Our own text, no data: quoted as it is, the same bytes as earlier pages.
            csp=Markup(content_security_policy()),
            css=Markup(asset("report.css")),
            js=Markup(asset("report.js")),
            summary=s,
            verdict=verdict,
            # A normal run, but nobody may miss that no filing was read.
            no_filings=next(f.rows == 0 for f in s.inputs if f.role == "filings")
            and text("read.no_filings.report", lang),
            run_at=when(s.run_at, lang),
            policy=policy,
            inputs=_inputs(s, lang),
            nav=("summary", "actions", "checks"),
            sections=sections,
            tiles=[
                (t("tiles.active"), f"{m.active:,}", t("of", n=f"{m.total:,}"), ""),
                (t("tiles.notices"), f"{m.notices:,}", "", ""),
                (t("tiles.certificates"), f"{m.certificate.get('yes', 0):,}", "", ""),
                (
                    t("tiles.must_confirm"),
                    f"{m.must_confirm:,}",
                    "",
                    "warn" if m.must_confirm else "",
                ),
                (t("tiles.envelopes"), f"{page.envelopes:,}", f"({page.envelopes_ready:,})", ""),
                (t("tiles.errors"), f"{errors:,}", "", "bad" if errors else ""),
                (t("tiles.warnings"), f"{warnings:,}", "", "warn" if warnings else ""),
                (t("tiles.overseas"), f"{share:.1%}", f"({m.overseas_active:,})", ""),
            ],
            charts=[(title, _bars(rows)) for title, rows in _charts(page.run, lang)],
            lists=[
                {
                    "list": a,
                    "title": t(f"lists.{a.key}"),
                    "note": t(
                        "cap" if a.total > a.shown.height else "all_in",
                        cap=f"{a.shown.height:,}",
                        n=f"{a.total:,}",
                        csv="\x00",
                    ).partition("\x00"),
                    "table": list_table(a, lang, anchors) if a.total else None,
                }
                for a in page.lists
            ],
            gx=s.gx,
            data_docs=page.data_docs,
            checks=page.checks,
            severity=lambda code: word("severity", code, lang),
            sort_rank=SORT_RANK,
            files=[(name, text(f"report.page.files.{name}", lang)) for name in FILES],
        )
    )


def _templated(name: str, lang: str, **values: Any) -> Markup:
    return Markup(_environment().get_template(name).render(lang=lang, **values))


_WAIVER_CSS = {"active": "pass", "expired": "fail", "unused": "noted"}
_WAIVER_SORT = {"expired": 0, "unused": 1, "active": 2}
_WAIVER_COLUMNS = (
    "check",
    "member",
    "field",
    "reason",
    "approved_by",
    "expires_on",
    "status",
    "matched",
)


def waivers_section(
    rows: pl.DataFrame, lang: str, *, source: str, judged_on: str, csv: str | None
) -> Section:
    """The gate's waivers: each with its reason, approver, expiry and state.

    `rows`: `recon.output.waiver_rows`, masked; `source` the waivers file, scrubbed.
    """
    w = lambda key, **values: text(f"report.page.waivers.{key}", lang, **values)  # noqa: E731
    listed = table(
        [w(f"columns.{c}") for c in _WAIVER_COLUMNS],
        [
            [
                Cell(r["check"], "id"),
                Cell(r["member"], "id"),
                r["field"],
                r["reason"],
                r["approved_by"],
                Cell(r["expires_on"], "id"),
                Cell(
                    r["status_text"],
                    _WAIVER_CSS.get(r["status"], ""),
                    _WAIVER_SORT.get(r["status"], 3),
                ),
                r["matched"],
            ]
            for r in rows.iter_rows(named=True)
        ],
        "table-waivers",
        "sortable",
    )
    body = _templated(
        "waivers.html.j2",
        lang,
        intro=w("intro", source=source, n=rows.height, day=judged_on),
        csv=csv,
        csv_text=w("csv", csv="\x00").partition("\x00") if csv else None,
        nothing=w("none"),
        listed=listed if rows.height else None,
    )
    return Section("waivers", w("title"), body)
