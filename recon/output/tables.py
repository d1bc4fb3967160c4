"""The CSV files of a run (SPEC §8), and the per-audience lists and the envelopes.

Privacy is by knowledge (`recon.masking`): identifiers are written as read;
the findings' details were scrubbed once when the model was built. Every list
holds its own audience's rows, and each of its cells says a finding once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.columns import MEMBER_COLUMNS
from recon.findings import SEVERITY_RANK, catalog
from recon.masking import safe_frame
from recon.output.model import FINDING_COLUMNS, Run
from recon.texts import LANGS, text
from recon.wording import word, word_expr, words_expr

# Rows of one list shown in the page; the full list is in the CSV beside it.
LIST_CAP = 500
# How many members' explanations the page holds: each is ≈ 3 KB, and a page must stay
# small enough to open at once on a society's office PC (≈ 1.5 MB for 20,000 members,
# tests/test_report.py). `recon explain ID` answers for anyone else.
EXPLAINED_CAP = 150


def explained_cap() -> int:
    """The most explanations the page holds (never more than a list shows)."""
    return min(LIST_CAP, EXPLAINED_CAP)


# A cell that starts like a formula runs as one when Excel opens the CSV.
_FORMULA_START = r"^[=+\-@\t\r]"
# What one cell of a list names: a member with 50,000 filings made a cell of
# 9.8 million characters, and Excel shows at most 32,767. The first ones (the
# most severe findings) are listed, the rest counted; the files hold them all.
CELL_FINDINGS = 10
CELL_MEMBERS = 50
CELL_CHARS = 30_000

# Who acts on which reason to confirm (sql/10_decision.sql): the employer asks the
# member about everything but the address (global HR) and the roster (the society).
_MEMBER_REASONS = frozenset(
    {
        "my_number_problem",
        "mismatch",
        "no_filing",
        "overseas",
        "emigrated_before_2015",
        "never_registered",
        "filing_problem",
    }
)


def _roster_problem() -> pl.Expr:
    """A finding the society fixes in its roster (as `has_roster_problem` in the SQL)."""
    return (pl.col("source") == "roster") & (
        pl.col("check").str.starts_with("roster.") | (pl.col("check") == "input.invalid_value")
    )


@dataclass(frozen=True)
class ActionList:
    """One list of people or households to act on, and the CSV holding all of it."""

    key: str  # its heading in the page, and its file name without .csv
    shown: pl.DataFrame  # the first LIST_CAP rows, the page's columns only
    total: int
    # A list of people: the roster row of each shown row (whose explanation the page
    # may hold); None for a list of households.
    roster_rows: pl.Series | None = None
    # A list showing 優先度: each shown row's severity code, which colours and sorts
    # the word the page shows; None for a list without one.
    severities: pl.Series | None = None

    def __post_init__(self) -> None:
        # The page colours, sorts and links each shown row by these: one entry per row,
        # and a list that shows 優先度 always has its codes.
        for name, per_row in (("roster_rows", self.roster_rows), ("severities", self.severities)):
            if per_row is not None and per_row.len() != self.shown.height:
                raise ValueError(
                    f"{self.key}: {per_row.len()} {name} for {self.shown.height} shown rows"
                )
        if "priority_text" in self.shown.columns and self.severities is None:
            raise ValueError(f"{self.key} shows priority_text without its severities")

    @property
    def csv(self) -> str:
        return f"{self.key}.csv"


def members_frame(members: pl.DataFrame) -> pl.DataFrame:
    return members.select(MEMBER_COLUMNS).with_columns(
        pl.col("certificate_valid_until").cast(pl.String)
    )


def findings_frame(run: Run) -> pl.DataFrame:
    return run.findings.select(FINDING_COLUMNS)


def excel_csv(
    frame: pl.DataFrame, path: Path, free_text: tuple[str, ...] = (), lang: str | None = None
) -> None:
    """UTF-8 with BOM so that Excel reads the Japanese; formulas neutralized; the
    `free_text` columns scrubbed (the others are identifiers, codes and words).

    With `lang`, the header row is in that language (`header`): the file is read
    by people. Named after the scrubbing, which knows the columns by their codes.
    """
    frame = safe_frame(frame, free_text)
    columns = [c for c, t in frame.schema.items() if t in (pl.String, pl.Categorical)]
    frame = frame.with_columns(neutralized(frame.get_column(c)) for c in columns)
    if lang is not None:
        frame = frame.rename({c: header(c, lang) for c in frame.columns})
    frame.write_csv(path, include_bom=True)


def header(column: str, lang: str) -> str:
    """A list's column as its header row and the page's table name it."""
    return text(f"report.page.columns.{column}", lang)


def list_codes(names: list[str], lang: str | None = None) -> dict[str, str]:
    """A list's header row back to its column codes, for a script reading the file.

    The language is the one the run wrote it in; None: whichever of the catalog's
    languages names every column. A header neither names raises ValueError: a
    column read by position or by a guessed name would be read wrong in silence.
    """
    for candidate in (lang,) if lang else LANGS:
        codes = {header(c, candidate): c for c in LIST_COLUMNS}
        if all(n in codes for n in names):
            return {n: codes[n] for n in names}
    unknown = [n for n in names if n not in {header(c, la) for c in LIST_COLUMNS for la in LANGS}]
    raise ValueError(f"not a header of recon's lists: {', '.join(unknown) or ', '.join(names)}")


def read_list(path: Path, lang: str | None = None) -> pl.DataFrame:
    """A list recon wrote (confirm_members.csv, mailing.csv, ...), every cell as text,
    with its columns named by their codes again, whatever language the run used."""
    scan = pl.scan_csv(path, infer_schema=False, glob=False)
    return scan.rename(list_codes(scan.collect_schema().names(), lang)).collect()


def neutralized(cells: pl.Series) -> pl.Series:
    """The cells as `excel_csv` writes them: a `'` before each one Excel would run as
    a formula; the column as it is when none would (at 5M members a copy of every
    text column was gigabytes). A categorical column (the decisions' codes) is
    looked at through its few values, and made text only if one would run."""
    if cells.dtype == pl.Categorical:
        if not cells.unique().cast(pl.String).str.contains(_FORMULA_START).any():
            return cells
        cells = cells.cast(pl.String)
    where = cells.str.contains(_FORMULA_START).fill_null(False).arg_true()
    if where.is_empty():
        return cells
    return cells.scatter(where, "'" + cells.gather(where))


def _member_findings(findings: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Per roster row: the worst severity of its findings (`rank`), and what they say
    in one line for the employer's list and one for the society's, each finding
    once, with the worst severity of that line (`findings_rank`, `society_findings_rank`).

    Keyed by roster row, not member id: two rows with the same id (a duplicate
    member) each have findings of their own.
    """
    titles = {c.code: c.title(lang) for c in catalog()}
    said = pl.col("check").replace(titles) + ": " + pl.col("detail").fill_null("")
    found = (
        findings.filter(pl.col("roster_row").is_not_null())
        .select(
            "roster_row",
            rank=pl.col("severity").replace_strict(SEVERITY_RANK, return_dtype=pl.Int8),
            said=said,
            society=_roster_problem(),
        )
        # The same words twice in one cell (a member matched by two filing rows
        # with the same problem) say nothing more: each is listed once.
        .unique(["roster_row", "said"], keep="first", maintain_order=True)
        # Worst first, then in the order the findings were made. Sorted once here
        # and aggregated with plain `head`/`len`: a filter and sort_by inside the
        # aggregation ran per group (5.6 s for 157,000 members at 1M).
        .with_columns(made=pl.int_range(pl.len()))
        .sort("roster_row", "rank", "made")
    )
    cells = [
        found.filter(audience)
        .group_by("roster_row")
        # Sorted worst first: a row's first finding is its worst for this audience.
        .agg(items=pl.col("said").head(CELL_FINDINGS), count=pl.len(), worst=pl.col("rank").first())
        .select(
            "roster_row",
            _listed("items", "count", " / ", CELL_FINDINGS, lang).alias(name),
            pl.col("worst").alias(f"{name}_rank"),
        )
        for name, audience in (("findings", ~pl.col("society")), ("society_findings", "society"))
    ]
    return (
        found.group_by("roster_row")
        .agg(rank=pl.col("rank").min())
        .join(cells[0], on="roster_row", how="left")
        .join(cells[1], on="roster_row", how="left")
        # A member with findings for one audience only: the other's cell is empty.
        .with_columns(pl.col("findings", "society_findings").fill_null(""))
    )


def _listed(items: str, count: str, separator: str, cap: int, lang: str) -> pl.Expr:
    """A group's first `cap` items (the list column `items`, `count` in all) joined,
    at most CELL_CHARS characters, then how many more: `…ほか 49,990 件` / `… and
    49,990 more`."""
    shown = pl.col(items).list.join(separator)
    shown = (
        pl.when(shown.str.len_chars() > CELL_CHARS)
        .then(shown.str.slice(0, CELL_CHARS) + "…")
        .otherwise(shown)
    )
    more = pl.col(count).cast(pl.Int64) - cap
    before, _, after = text("report.list.more", lang).partition("{n}")
    return (
        pl.when(more > 0)
        .then(pl.concat_str(shown, pl.lit(separator + before), _thousands(more), pl.lit(after)))
        .otherwise(shown)
    )


def _thousands(n: pl.Expr) -> pl.Expr:
    """49990 → `49,990`."""
    groups = [n // 1_000_000_000, n // 1_000_000 % 1000, n // 1000 % 1000, n % 1000]
    digits = pl.concat_str(
        [g.cast(pl.String).str.zfill(3) for g in groups], separator=","
    ).str.strip_chars_start("0,")
    return pl.when(n == 0).then(pl.lit("0")).otherwise(digits)


def with_findings(members: pl.DataFrame, findings: pl.DataFrame, lang: str) -> pl.DataFrame:
    """Every member with the rank of its worst finding and what its findings (as
    written) say. Only findings about a member count: Great Expectations' (about
    whole tables) may still be at work."""
    # The findings' columns lined up with the members, then set beside them: a
    # join would copy every member column.
    said = (
        members.select("row")
        .join(
            _member_findings(findings, lang),
            left_on="row",
            right_on="roster_row",
            how="left",
            maintain_order="left",
        )
        .drop("row")
    )
    ranks = ("rank", "findings_rank", "society_findings_rank")
    return members.hstack(said).with_columns(pl.col(ranks).fill_null(len(SEVERITY_RANK)))


def _audience(m: pl.DataFrame, cell: str, lang: str) -> pl.DataFrame:
    """The members one audience's list shows, with that audience's findings (`cell`)
    and the priority they give, worst first: a member whose only error is for the
    society is no error on the employer's list (its line does not say it either)."""
    rank = pl.col(f"{cell}_rank")
    priority = rank.replace_strict(
        {v: k for k, v in SEVERITY_RANK.items()}, default="", return_dtype=pl.String
    )
    return m.with_columns(findings=pl.col(cell), rank=rank, priority=priority).with_columns(
        priority_text=word_expr("priority", "severity", lang)
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
        findings=pl.col("findings").fill_null(""),
        society_findings=pl.col("society_findings").fill_null(""),
    )


def _people(m: pl.DataFrame, lang: str, reasons: frozenset[str] | None = None) -> pl.DataFrame:
    """A few members, most urgent first, with their `;`-lists of reasons in words too
    (of the confirm reasons, only `reasons`, those of the list's audience)."""
    return (
        _in_words(m, lang)
        .sort("rank", "household_id", "member_id", "row")
        .with_columns(
            certificate_reasons_text=words_expr("certificate_reasons", "certificate_reasons", lang),
            confirm_reasons_text=words_expr("confirm_reasons", "confirm_reasons", lang, reasons),
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
            member_ids=pl.col("member_id").head(CELL_MEMBERS),
            hr_confirms=pl.col("confirm_by").str.contains("hr").any(),
            rank=pl.col("rank").min(),
        )
        # A comma between ids: what a person reads as a list.
        .with_columns(member_ids=_listed("member_ids", "members", ", ", CELL_MEMBERS, lang))
        .sort("rank", "household_id")
    )


def _documents(lang: str) -> dict[str, str]:
    """What is in the envelope for one member, by `notice|certificate`."""
    certificate = text("report.mailing.certificate", lang)
    out = {}
    for wave in ("wave1", "wave2", "on_enrolment"):
        sent = text("report.mailing.notice", lang, wave=word("notice", wave, lang))
        out[f"{wave}|no"] = sent
        out[f"{wave}|yes"] = text("report.mailing.both", lang, notice=sent, certificate=certificate)
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
            held=pl.col("rank") == SEVERITY_RANK["error"],
        )
        .sort("household_id", "member_id", "row")
        .group_by("household_id", "delivery", maintain_order=True)
        .agg(
            notices=pl.col("notice").sum(),
            certificates=pl.col("certificate").sum(),
            # Gathered as a list and joined after: `str.join` inside the aggregation
            # ran group by group (6.3 s and +2.4 GB at 5M members).
            documents=pl.col("document"),
            members_with_errors=pl.col("held").sum(),
        )
        .with_columns(
            documents=pl.col("documents").list.join("; "),
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


def write_mailing(m: pl.DataFrame, lang: str, folder: Path) -> tuple[int, int]:
    """mailing.csv; (envelopes, envelopes ready to mail)."""
    envelopes = mailing(m, lang)
    excel_csv(envelopes.select(MAILING_COLUMNS), folder / "mailing.csv", lang=lang)
    return envelopes.height, envelopes.filter(pl.col("ready") == "yes").height


MAILING_COLUMNS = (
    "envelope",
    "household_id",
    "delivery",
    "delivery_text",
    "notices",
    "certificates",
    "documents",
    "ready",
    "hold_reasons",
)
_PERSON = ["household_id", "member_id", "relation_text"]
_HOUSEHOLD = ["household_id", "overseas_type_text", "delivery_text"]


def lists(m: pl.DataFrame, lang: str) -> list[tuple[str, list[str], list[str], pl.DataFrame]]:
    """Each list: its key, the page's columns, the columns only its CSV adds, its rows."""
    households = _households(m, lang)
    certificates = _people(m.filter(pl.col("certificate") == "yes"), lang)
    confirming = m.filter(pl.col("must_confirm"))
    reasons = ["certificate_reasons_text", "certificate_valid_until", "delivery_text"]
    return [
        (
            "confirm_members",
            [*_PERSON, "priority_text", "confirm_reasons_text", "findings", "delivery_text"],
            [
                "priority",
                "confirm_reasons",
                "my_number_status",
                "notice",
                "certificate",
                "delivery",
            ],
            _people(
                _audience(
                    confirming.filter(pl.col("confirm_by").str.contains("member")), "findings", lang
                ),
                lang,
                _MEMBER_REASONS,
            ),
        ),
        (
            "confirm_hr",
            [*_HOUSEHOLD, "members", "member_ids"],
            ["overseas_type", "delivery", "with_documents"],
            households.filter(pl.col("hr_confirms")),
        ),
        (
            "confirm_society",
            [*_PERSON, "priority_text", "findings"],
            ["priority", "confirm_reasons"],
            # The society's own findings only: the roster entries it fixes.
            _people(
                _audience(
                    confirming.filter(pl.col("confirm_by").str.contains("society")),
                    "society_findings",
                    lang,
                ),
                lang,
            ),
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


def write_lists(m: pl.DataFrame, lang: str, folder: Path) -> tuple[ActionList, ...]:
    """Each list's CSV (all of it), and the first LIST_CAP rows of it for the page."""
    written = []
    for key, shown, extra, rows in lists(m, lang):
        excel_csv(rows.select(*shown, *extra), folder / f"{key}.csv", lang=lang)
        # Ids, codes, words and the written findings' details: nothing left to scrub.
        page = rows.head(LIST_CAP)
        people = page.get_column("row") if "row" in page.columns else None
        severities = page.get_column("priority") if "priority_text" in shown else None
        written.append(
            ActionList(key, safe_frame(page.select(shown)), rows.height, people, severities)
        )
    return tuple(written)


def explained_rows(lists: tuple[ActionList, ...]) -> pl.Series:
    """The roster rows whose explanation the page holds: those its lists of people
    show, in the page's order, each once, at most `explained_cap()` of them
    (`recon explain ID` gives any other)."""
    shown = [a.roster_rows for a in lists if a.roster_rows is not None]
    if not shown:
        return pl.Series("row", [], pl.Int64)
    return pl.concat(shown).unique(maintain_order=True).head(explained_cap())


# Every column a list or mailing.csv has, by its code (`header` gives its name in a file).
LIST_COLUMNS = tuple(
    dict.fromkeys(
        [
            *MAILING_COLUMNS,
            *_PERSON,
            *_HOUSEHOLD,
            "priority_text",
            "priority",
            "findings",
            "delivery_text",
            "confirm_reasons_text",
            "certificate_reasons_text",
            "certificate_valid_until",
            "members",
            "member_ids",
            "overseas_members",
            "with_documents",
            "confirm_reasons",
            "my_number_status",
            "notice",
            "certificate",
            "delivery",
            "overseas_type",
            "certificate_reasons",
        ]
    )
)
