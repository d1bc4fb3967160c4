"""Step 6, report: the SPEC §8 files, the action lists and exports, and report.html.

This module computes what the report says; `report_html` only renders it.
Privacy is by knowledge (`recon.masking`): identifiers are written as read;
the findings' free-text details are scrubbed once (`written_findings`) before
anything is derived from them, and the few other free texts (paths, policy
values) where they are composed. No page or file is scrubbed as a whole: that
would mask every member id whose digits happen to pass the check digit.
After writing, `recon.proof` reads the files back and proves them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from recon import __version__, explain, proof, report_html
from recon.decide import MEMBER_COLUMNS
from recon.findings import FINDING_SCHEMA, SEVERITIES, SEVERITY_RANK, Check, catalog
from recon.gx_checks import gx_catalog
from recon.masking import safe_frame, scrub, scrub_json, written_findings
from recon.wording import word, word_expr, words_expr

if TYPE_CHECKING:
    from recon.pipeline import Result

FINDING_COLUMNS = tuple(FINDING_SCHEMA)

# Rows of one list shown in the page; the full list is in the CSV beside it.
LIST_CAP = 500

DOCS_INDEX = "gx/index.html"
REPORT_HTML = "report.html"

# A cell that starts like a formula runs as one when Excel opens the CSV.
_FORMULA_START = r"^[=+\-@\t\r]"
_SEVERITY_RANK = SEVERITY_RANK
# What one cell of a list names: a member with 50,000 filings made a cell of
# 9.8 million characters, and Excel shows at most 32,767. The first ones (the
# most severe findings) are listed, the rest counted; the files hold them all.
CELL_FINDINGS = 10
CELL_MEMBERS = 50
CELL_CHARS = 30_000


def _counts(frame: pl.DataFrame, column: str, values: tuple[str, ...] = ()) -> dict[str, int]:
    """Counts per value, with every expected value present even at zero."""
    counted = dict(frame.group_by(column).len().sort(column).iter_rows()) if frame.height else {}
    return {v: counted.get(v, 0) for v in values} | {
        str(k): v for k, v in counted.items() if k not in values
    }


def _reason_counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    """Each `;`-separated reason, counted over the rows.

    Split per distinct combination (a few dozen), weighted by its rows: split
    per row, five million lists were exploded into a frame of their own.
    """
    combinations = frame.group_by(column).len()
    reasons = (
        combinations.with_columns(pl.col(column).str.split(";"))
        .explode(column)
        .filter(pl.col(column) != "")
        .group_by(column)
        .agg(pl.col("len").sum())
        .sort(column)
    )
    return {str(k): v for k, v in reasons.iter_rows()}


def all_checks(result: Result) -> tuple[Check, ...]:
    """The catalog's checks, then the gx.* checks when GX ran."""
    return catalog() + (gx_catalog() if result.quality is not None else ())


def summary(result: Result) -> dict:
    findings = result.findings
    by_check = _counts(findings, "check")
    summary_ = {
        "tool": {"name": "recon", "version": __version__},
        "run_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "as_of": result.as_of.isoformat(),
        "policy": result.policy.as_json(),
        "inputs": {
            name: {"path": str(f.path), "rows": f.rows, "sha256": f.sha256}
            for name, f in (("roster", result.roster), ("filings", result.filings))
        },
        "verdict": "blocked" if result.blocking else "ready",
        "findings": {
            "total": findings.height,
            "by_severity": _counts(findings, "severity", SEVERITIES),
            "by_check": {
                c.code: {"severity": c.severity, "count": by_check.get(c.code, 0)}
                for c in all_checks(result)
            },
        },
        "conservation": result.conservation,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }
    if result.quality is not None:
        outcomes = result.quality.outcomes
        summary_["gx"] = {
            "expectations": len(outcomes),
            "failed": sum(not o.success for o in outcomes),
            "data_docs": DOCS_INDEX,
            "results": [
                {
                    "check": o.check.check.code,
                    "suite": o.check.suite,
                    "severity": o.check.check.severity,
                    "success": o.success,
                    "detail": o.detail,
                }
                for o in outcomes
            ],
        }
    if result.members is not None:
        m = result.members
        summary_["members"] = {
            "total": m.height,
            "active": int(m["active"].sum()),
            "overseas_active": int((m["active"] & m["overseas_member"]).sum()),
            "my_number_status": _counts(
                m,
                "my_number_status",
                ("linked", "missing", "invalid", "conflict", "duplicate", "mismatch"),
            ),
            "notice": _counts(m, "notice", ("wave1", "wave2", "on_enrolment", "none")),
            "certificate": _counts(m, "certificate", ("yes", "no")),
            "certificate_reasons": _reason_counts(m, "certificate_reasons"),
            "delivery": _counts(
                m, "delivery", ("household", "designated_address", "undeliverable", "none")
            ),
            "must_confirm": int(m["must_confirm"].sum()),
            "confirm_reasons": _reason_counts(m, "confirm_reasons"),
            "confirm_by": _reason_counts(m, "confirm_by"),
        }
    return summary_


def members_frame(result: Result) -> pl.DataFrame:
    assert result.members is not None
    return result.members.select(MEMBER_COLUMNS).with_columns(
        pl.col("certificate_valid_until").cast(pl.String)
    )


def findings_frame(result: Result) -> pl.DataFrame:
    return result.findings.select(FINDING_COLUMNS)


@dataclass(frozen=True)
class CheckRow:
    code: str
    severity: str
    status: str  # pass, fail, or noted (an info check that found something)
    count: int | None  # findings; for gx.* the rows that fail (None: a table-level check)
    title: str
    action: str
    detail: str  # gx.* checks: "3 of 48 rows (6.3%)"; empty for the catalog's checks


@dataclass(frozen=True)
class ActionList:
    """One list of people or households to act on, and the CSV holding all of it."""

    key: str  # its heading in the page, and its file name without .csv
    shown: pl.DataFrame  # the first LIST_CAP rows, the page's columns only
    total: int

    @property
    def csv(self) -> str:
        return f"{self.key}.csv"


@dataclass(frozen=True)
class ReportData:
    summary: dict
    checks: tuple[CheckRow, ...]
    lists: tuple[ActionList, ...]
    envelopes: int
    envelopes_ready: int
    data_docs: str | None


def check_rows(result: Result, summary_: dict, lang: str) -> tuple[CheckRow, ...]:
    gx_outcomes = {o.check.check.code: o for o in result.quality.outcomes} if result.quality else {}
    rows = []
    for check in all_checks(result):
        count = summary_["findings"]["by_check"][check.code]["count"]
        outcome = gx_outcomes.get(check.code)
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
                detail=outcome.detail if outcome else "",
            )
        )
    return tuple(rows)


def _member_findings(result: Result, lang: str) -> pl.DataFrame:
    """Per roster row: the worst severity of its findings and what they say, in one line.

    Keyed by roster row, not member id: two rows with the same id (a duplicate
    member) each have findings of their own.
    """
    titles = {c.code: c.title(lang) for c in catalog()}
    return (
        result.findings.filter(pl.col("roster_row").is_not_null())
        .with_columns(
            rank=pl.col("severity").replace_strict(_SEVERITY_RANK, return_dtype=pl.Int8),
            said=pl.col("check").replace(titles) + ": " + pl.col("detail").fill_null(""),
        )
        .group_by("roster_row")
        .agg(
            rank=pl.col("rank").min(),
            findings=_listed(pl.col("said").sort_by("rank"), " / ", CELL_FINDINGS, lang),
        )
        .with_columns(
            priority=pl.col("rank").replace_strict(
                {v: k for k, v in _SEVERITY_RANK.items()}, return_dtype=pl.String
            )
        )
    )


def _listed(items: pl.Expr, separator: str, cap: int, lang: str) -> pl.Expr:
    """`items` of a group joined, at most `cap` of them and CELL_CHARS characters,
    then how many more: `…ほか 49,990 件` / `… and 49,990 more`."""
    shown = items.head(cap).str.join(separator)
    shown = (
        pl.when(shown.str.len_chars() > CELL_CHARS)
        .then(shown.str.slice(0, CELL_CHARS) + "…")
        .otherwise(shown)
    )
    more = items.len().cast(pl.Int64) - cap
    said = ("…ほか ", " 件") if lang == "ja" else ("… and ", " more")
    return (
        pl.when(more > 0)
        .then(pl.concat_str(shown, pl.lit(separator + said[0]), _thousands(more), pl.lit(said[1])))
        .otherwise(shown)
    )


def _thousands(n: pl.Expr) -> pl.Expr:
    """49990 → `49,990`."""
    groups = [n // 1_000_000_000, n // 1_000_000 % 1000, n // 1000 % 1000, n % 1000]
    text = pl.concat_str(
        [g.cast(pl.String).str.zfill(3) for g in groups], separator=","
    ).str.strip_chars_start("0,")
    return pl.when(n == 0).then(pl.lit("0")).otherwise(text)


def _with_findings(result: Result, lang: str) -> pl.DataFrame:
    """Every member with the rank of its worst finding and what its findings say."""
    assert result.members is not None
    # The findings' columns lined up with the members, then set beside them: a
    # join would copy every member column.
    said = (
        result.members.select("row")
        .join(
            _member_findings(result, lang),
            left_on="row",
            right_on="roster_row",
            how="left",
            maintain_order="left",
        )
        .drop("row")
    )
    return result.members.hstack(said).with_columns(
        rank=pl.col("rank").fill_null(len(_SEVERITY_RANK))
    )


def _in_words(m: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The members a list shows, with the words of their single codes.

    Only for the rows a list keeps: eight text columns for every member were
    2 GB at 5M members, nearly all of it for people on no list.
    """
    return m.with_columns(
        relation_text=word_expr("relation", "relation", lang),
        notice_text=word_expr("notice", "notice", lang),
        delivery_text=word_expr("delivery", "delivery", lang),
        overseas_type_text=word_expr("overseas_type", "overseas_type", lang),
        certificate_valid_until=pl.col("certificate_valid_until").cast(pl.String),
        priority=pl.col("priority").fill_null(""),
        findings=pl.col("findings").fill_null(""),
    )


def _people(m: pl.DataFrame, lang: str) -> pl.DataFrame:
    """A few members, most urgent first, with their `;`-lists of reasons in words too."""
    return (
        _in_words(m, lang)
        .sort("rank", "household_id", "member_id", "row")
        .with_columns(
            certificate_reasons_text=words_expr("certificate_reasons", "certificate_reasons", lang),
            confirm_reasons_text=words_expr("confirm_reasons", "confirm_reasons", lang),
        )
    )


def _households(m: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The households living abroad or with an address for HR to confirm, one row each."""
    wanted = m.filter(
        pl.col("overseas_type").is_not_null()
        | pl.col("overseas_member")
        | pl.col("confirm_by").str.contains("hr")
    )["household_id"]
    return (
        _in_words(m.filter(pl.col("household_id").is_in(wanted.implode())), lang)
        .sort("household_id", "member_id", "row")
        .group_by("household_id", maintain_order=True)
        .agg(
            overseas_type=pl.col("overseas_type").drop_nulls().first(),
            overseas_type_text=pl.col("overseas_type_text").drop_nulls().first(),
            delivery=pl.col("delivery").filter(pl.col("delivery") != "none").first(),
            delivery_text=pl.col("delivery_text").filter(pl.col("delivery") != "none").first(),
            members=pl.len(),
            overseas_members=pl.col("overseas_member").sum(),
            with_documents=(pl.col("delivery") != "none").sum(),
            # A comma between ids: what a person reads as a list.
            member_ids=_listed(pl.col("member_id"), ", ", CELL_MEMBERS, lang),
            hr_confirms=pl.col("confirm_by").str.contains("hr").any(),
            rank=pl.col("rank").min(),
        )
        .sort("rank", "household_id")
    )


def _documents(lang: str) -> dict[str, str]:
    """What is in the envelope for one member, by `notice|certificate`."""
    notice = "資格情報のお知らせ（{}）" if lang == "ja" else "notice ({})"
    certificate = "資格確認書" if lang == "ja" else "certificate"
    sep = "・" if lang == "ja" else " + "
    out = {}
    for wave in ("wave1", "wave2", "on_enrolment"):
        sent = notice.format(word("notice", wave, lang))
        out[f"{wave}|no"] = sent
        out[f"{wave}|yes"] = sent + sep + certificate
    out["none|yes"] = certificate
    return out


def mailing(m: pl.DataFrame, lang: str) -> pl.DataFrame:
    """One row per envelope: a household's mail, to its address or its designated one."""
    inside = pl.concat_str("notice", "certificate", separator="|").replace_strict(
        _documents(lang), default=""
    )
    return (
        # Only what an envelope needs, as narrow as it goes, before sorting: the
        # sort copies every column (at 5M members the worded table was 3.5 GB,
        # and the codes' words are looked up per envelope afterwards instead).
        m.filter(pl.col("delivery") != "none")
        .select(
            "household_id",
            "member_id",
            "row",
            "delivery",
            document=pl.col("member_id") + " " + inside,
            notice=pl.col("notice") != "none",
            certificate=pl.col("certificate") == "yes",
            held=pl.col("rank") == _SEVERITY_RANK["error"],
        )
        .sort("household_id", "member_id", "row")
        .group_by("household_id", "delivery", maintain_order=True)
        .agg(
            notices=pl.col("notice").sum(),
            certificates=pl.col("certificate").sum(),
            documents=pl.col("document").str.join("; "),
            members_with_errors=pl.col("held").sum(),
        )
        .with_columns(
            delivery_text=word_expr("delivery", "delivery", lang),
            hold_reasons=pl.concat_str(
                pl.when(pl.col("delivery") == "undeliverable").then(pl.lit("undeliverable")),
                pl.when(pl.col("members_with_errors") > 0).then(pl.lit("error_finding")),
                separator=";",
                ignore_nulls=True,
            ),
        )
        .with_columns(
            ready=pl.when(pl.col("hold_reasons") == "").then(pl.lit("yes")).otherwise(pl.lit("no"))
        )
        .with_row_index("envelope", offset=1)
    )


_PERSON = ["household_id", "member_id", "relation_text"]
_HOUSEHOLD = ["household_id", "overseas_type_text", "delivery_text"]


def _lists(m: pl.DataFrame, lang: str) -> list[tuple[str, list[str], list[str], pl.DataFrame]]:
    """Each list: its key, the page's columns, the columns only its CSV adds, its rows."""
    households = _households(m, lang)
    certificates = _people(m.filter(pl.col("certificate") == "yes"), lang)
    confirming = _people(m.filter(pl.col("must_confirm")), lang)
    reasons = ["certificate_reasons_text", "certificate_valid_until", "delivery_text"]
    return [
        (
            "confirm_members",
            [*_PERSON, "priority", "confirm_reasons_text", "findings", "delivery_text"],
            ["confirm_reasons", "my_number_status", "notice", "certificate", "delivery"],
            confirming.filter(pl.col("confirm_by").str.contains("member")),
        ),
        (
            "confirm_hr",
            [*_HOUSEHOLD, "members", "member_ids"],
            ["overseas_type", "delivery", "with_documents"],
            households.filter(pl.col("hr_confirms")),
        ),
        (
            "confirm_society",
            [*_PERSON, "priority", "findings"],
            ["confirm_reasons"],
            confirming.filter(pl.col("confirm_by").str.contains("society")),
        ),
        (
            "overseas_households",
            [*_HOUSEHOLD, "members", "overseas_members", "with_documents"],
            ["overseas_type", "delivery", "member_ids"],
            households.filter(
                pl.col("overseas_type").is_not_null() | (pl.col("overseas_members") > 0)
            ),
        ),
        (
            "no_my_number",
            [*_PERSON, *reasons],
            ["certificate_reasons", "delivery"],
            certificates.filter(
                pl.col("certificate_reasons").str.contains("never_registered|emigrated_before_2015")
            ),
        ),
        (
            "certificates",
            [*_PERSON, *reasons],
            ["certificate_reasons", "delivery"],
            certificates,
        ),
    ]


def excel_csv(frame: pl.DataFrame, path: Path, free_text: tuple[str, ...] = ()) -> None:
    """UTF-8 with BOM so that Excel reads the Japanese; formulas neutralized; the
    `free_text` columns scrubbed (the others are identifiers, codes and words)."""
    frame = safe_frame(frame, free_text)
    text = [c for c, t in frame.schema.items() if t == pl.String]
    frame.with_columns(_neutralized(frame.get_column(c)) for c in text).write_csv(
        path, include_bom=True
    )


def _neutralized(cells: pl.Series) -> pl.Series:
    """A `'` before each cell Excel would run as a formula; the column as it is when
    none would (at 5M members a copy of every text column was gigabytes)."""
    where = cells.str.contains(_FORMULA_START).fill_null(False).arg_true()
    if where.is_empty():
        return cells
    return cells.scatter(where, "'" + cells.gather(where))


def write_all(result: Result, folder: Path, lang: str = "ja") -> None:
    """Every file of the report into `folder` (the staging folder), then their proof.

    A failed proof raises `InvariantError` before the pipeline renames the
    folder into place, so the previous report stays.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # Scrubbed once, here: findings.csv, the lists' `findings` column and the
    # page all quote these details.
    result = dataclasses.replace(result, findings=written_findings(result.findings))
    # Great Expectations renders its Data Docs in Python, and polars groups the
    # envelopes, while the member and finding tables are written beside them;
    # leaving the `with` waits for all, so that an error or an interrupt never
    # leaves a file half written after a rollback.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="recon-write") as pool:
        docs_written = None
        if result.quality is not None:
            docs_written = pool.submit(result.quality.write_docs, folder / Path(DOCS_INDEX).parent)
        _write_tables(result, folder, lang, pool)
        explain.write_file(result, folder)  # `recon explain`: the decisions and why, per member
        if docs_written is not None:
            docs_written.result()
    proof.prove(result, folder)


def _write_tables(result: Result, folder: Path, lang: str, pool: ThreadPoolExecutor) -> None:
    m = _with_findings(result, lang)
    envelopes_written = pool.submit(_write_mailing, m, lang, folder)
    # Free text in the summary: input paths and policy values; the SHA-256s are hashes.
    summary_ = scrub_json(summary(result), keep=frozenset({"sha256"}))
    safe_frame(members_frame(result)).write_csv(folder / "members.csv")  # ids and codes only
    safe_frame(findings_frame(result)).write_csv(folder / "findings.csv")  # details: see write_all
    (folder / "summary.json").write_text(
        json.dumps(summary_, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    data_docs = DOCS_INDEX if result.quality is not None else None

    # The lists only after the envelopes: both at once raised the peak by 0.5 GB at 5M.
    envelopes, ready = envelopes_written.result()
    lists = []
    for key, shown, extra, rows in _lists(m, lang):
        excel_csv(rows.select(*shown, *extra), folder / f"{key}.csv")
        # Ids, codes, words and the written findings' details: nothing left to scrub.
        lists.append(ActionList(key, safe_frame(rows.select(shown).head(LIST_CAP)), rows.height))
    data = ReportData(
        summary=summary_,
        checks=check_rows(result, summary_, lang),
        lists=tuple(lists),
        envelopes=envelopes,
        envelopes_ready=ready,
        data_docs=data_docs,
    )
    (folder / REPORT_HTML).write_text(report_html.render(data, lang), encoding="utf-8")


def _write_mailing(m: pl.DataFrame, lang: str, folder: Path) -> tuple[int, int]:
    """mailing.csv; (envelopes, envelopes ready to mail)."""
    envelopes = mailing(m, lang)
    excel_csv(
        envelopes.select(
            "envelope",
            "household_id",
            "delivery",
            "delivery_text",
            "notices",
            "certificates",
            "documents",
            "ready",
            "hold_reasons",
        ),
        folder / "mailing.csv",
    )
    return envelopes.height, envelopes.filter(pl.col("ready") == "yes").height


# --- the gate's waivers -------------------------------------------------------------


@dataclass(frozen=True)
class WaiverList:
    """The waivers of a gate run, as the page shows them (all of them: people type them)."""

    rows: pl.DataFrame  # masked; columns of `waiver_rows`
    source: str  # the waivers file
    judged_on: str  # the day expiry was judged on
    csv: str | None  # the file beside the page that holds them too


def waiver_rows(rows: pl.DataFrame, lang: str) -> pl.DataFrame:
    """`recon.gate.waivers.report_rows` in the page's words, the typed texts scrubbed."""
    return safe_frame(
        rows.select(
            "check",
            pl.coalesce("member_id", "finding").alias("member"),
            "field",
            "reason",
            "approved_by",
            pl.col("expires_on").cast(pl.String),
            "status",
            pl.concat_str(
                word_expr("status", "waiver_status", lang),
                pl.when(pl.col("note").fill_null("") != "").then(
                    pl.format(
                        "（{}）" if lang == "ja" else " ({})",
                        word_expr("note", "waiver_note", lang),
                    )
                ),
                ignore_nulls=True,
            ).alias("status_text"),
            "matched",
        ),
        free_text=("reason", "approved_by"),
    )


def add_waivers(
    folder: Path,
    rows: pl.DataFrame,
    lang: str = "ja",
    *,
    source: str,
    judged_on: str,
    csv: str | None = None,
) -> None:
    """Add the waivers section to the report.html already written in `folder`.

    `recon gate` calls this from the writer it hands `pipeline.write`, which
    writes the page without knowing about waivers: the section goes into the
    slot the page keeps for it, in the same staging folder, before the swap.
    """
    waivers = WaiverList(waiver_rows(rows, lang), scrub(source), judged_on, csv)
    page = (folder / REPORT_HTML).read_text(encoding="utf-8")
    section = report_html.waivers_section(waivers, lang)
    (folder / REPORT_HTML).write_text(report_html.add_section(page, section), encoding="utf-8")
