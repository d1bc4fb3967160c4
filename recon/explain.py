"""`recon explain MEMBER_ID`: every decision of SPEC §6 for one member, and why.

For the help desk, with Splink's waterfall as the model: every value a person
sees is traced to the rule that produced it and the values that rule compared.

Three parts, kept apart:

- writing (`encoded_facts`, `encoded_folder`, `write_files`): the folder
  `explain/` in the output folder, one parquet file per table as the run
  holds it — the decisions (`members`), the facts the SQL rules compared
  (`roster`, `filings`; sql/06, sql/09), which filing rows matched which
  member with the hits of each matching key (`matches`, sql/03), and the
  findings. Nothing is joined, sorted or nested, and every file is encoded
  in memory (beside validation, and beside GX while the report is written),
  so writing the folder is writing bytes. Every file passes the same door as
  every output (`masking.safe_frame`): no My Number column, only
  `********9018`; the findings' details are scrubbed as findings.csv has
  them (`masking.written_findings`). The outdir swap makes them 0600 like
  the rest.
- reading (`lookup`): the member's rows from those files (a filtered scan
  reads a few milliseconds' worth), joined into a model (`Explanation`) of
  codes and values, in no language.
- rendering (`render_text`, `render_json`): the model in the operator's
  language (recon.texts, area `explain`); codes stay as SPEC gives them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from recon import __version__, outdir
from recon.columns import EDGES, MEMBER_COLUMNS
from recon.errors import InputError
from recon.masking import safe_frame, written_findings
from recon.resources import shipped
from recon.texts import text
from recon.wording import word

if TYPE_CHECKING:
    from recon.pipeline import Result
    from recon.policy import Policy

# The folder `recon run` writes for `recon explain`: one parquet file per table.
EXPLAIN_DIR = "explain"
PARTS = ("members", "roster", "matches", "filings", "findings")
# Raised when the files' columns change: an older folder is refused, not misread.
FORMAT = 2
_META_KEY = "recon.explain"
_FINDING_COLUMNS = ("roster_row", "check", "severity", "source", "row", "field", "detail")

# What the rules read from the validated rows (no name, no address, no number).
ROSTER_FACTS = (
    "row",
    "acquired_on",
    "lost_on",
    "birth_date",
    "sex",
    "residence",
    "overseas_type",
    "emigrated_on",
    "jp_registered",
    "card_status",
    "myna_registered",
    "myna_opt_out",
    "cert_expires_on",
    "needs_assistance",
)
FILING_FACTS = (
    "row",
    "employee_id",
    "relation",
    "branch",
    "birth_date",
    "sex",
    "filed_on",
    "my_number_masked",
    "my_number_problem",
)
# The five keys of SPEC §3.2, in the order they are tried: (number, matched_by, hits column).
MATCH_KEYS = (
    (1, "branch", "hits_branch"),
    (2, "birth_date+name_kana", "hits_birth_kana"),
    (3, "birth_date+name", "hits_birth_name"),
    (4, "name_kana+relation", "hits_kana_relation"),
    (5, "name+relation", "hits_name_relation"),
)
# sql/03's filing_match as the explain folder keeps it: which key matched, after what.
_MATCH_COLUMNS = (
    "filing_row",
    "roster_row",
    "matched_by",
    "candidates",
    *(h for *_, h in MATCH_KEYS),
)
# Decided by sql/10_decision.sql and carried on `Result.members`: members.csv's
# columns, and what the rules behind them compared.
_DECIDED = (
    "row",
    "relation",
    *MEMBER_COLUMNS,
    "overseas_member",
    "period_unreadable",
    "has_filing",
    "first_filed_on",
    "notice_event",
    "never_registered",
    "emigrated_before_system",
    "insured_emigrated_on",
    "route_residence",
    "overseas_type",
    "route_has_designated_address",
    "has_number_finding",
    "has_mismatch",
    "has_unknown_type",
    "has_filing_problem",
    "has_roster_problem",
)
# The deliveries whose address global HR confirms (SPEC §6.5).
HR_DELIVERIES = ("designated_address", "undeliverable")
_POLICY_KEYS = (
    "notice_snapshot",
    "card_issuance_end",
    "my_number_system_start",
    "certificate_max_years",
    "certificate_for_unregistered",
)


@dataclass(frozen=True)
class SourceFacts:
    """The columns of the validated rows the rules compared, kept for the explain folder.

    Encoded once, as the parquet files the folder will hold, right after each
    file is validated: compressed bytes (about a tenth of the columns) wait in
    memory while DuckDB runs, and are written out as they are. No name,
    address or My Number, only `********9018`.
    """

    roster: bytes
    filings: bytes


def encoded_facts(frame: pl.DataFrame, source: str) -> bytes:
    """One file's facts (`ROSTER_FACTS` or `FILING_FACTS`), as explain/<source>.parquet."""
    columns = ROSTER_FACTS if source == "roster" else FILING_FACTS
    return _encoded(frame.select(columns))


def _encoded(frame: pl.DataFrame, metadata: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    safe_frame(frame).write_parquet(
        buffer, compression="zstd", compression_level=1, statistics=True, metadata=metadata
    )
    return buffer.getvalue()


@dataclass(frozen=True)
class EncodedFolder:
    """The explain folder's files (`PARTS`), encoded in memory before the report is written.

    The decisions, matches and findings are encoded while Great Expectations
    validates the same run (`pipeline.analyse`): GX holds the GIL most of its
    time, polars' parquet writer hardly ever, so the two share the machine
    instead of taking turns. Writing the folder is then only writing bytes.
    """

    parts: dict[str, bytes]  # part -> its parquet file, in `PARTS` order


def encoded_folder(
    facts: SourceFacts,
    members: pl.DataFrame,
    filing_match: pl.DataFrame,
    findings: pl.DataFrame,
    as_of: dt.date,
    policy: Policy,
) -> EncodedFolder:
    """The explain folder of a run, from what the run holds in memory.

    `findings` are the run's findings as found; only those about a member are
    kept, with their details as findings.csv writes them (`written_findings`
    works row by row, so it gives these rows what it gives them among all).
    Great Expectations' findings are about whole tables, never a member: a
    run's findings before GX's are the folder's findings after them.
    """
    about_a_member = findings.filter(pl.col("roster_row").is_not_null())
    parts = {
        "members": _encoded(members.select(_DECIDED), {_META_KEY: json.dumps(_run(as_of, policy))}),
        "roster": facts.roster,
        "matches": _encoded(
            filing_match.filter(pl.col("roster_row").is_not_null()).select(_MATCH_COLUMNS)
        ),
        "filings": facts.filings,
        "findings": _encoded(written_findings(about_a_member).select(_FINDING_COLUMNS)),
    }
    return EncodedFolder({part: parts[part] for part in PARTS})


def write_files(encoded: EncodedFolder | None, folder: Path) -> None:
    """The explain folder, into `folder` (the staging folder of `pipeline.write`).

    One file per table as the run holds it: no join, sort or nesting (a single
    nested file sorted by member id took 15 s at 1M members). A lookup joins
    the few rows of one member. Nothing when the run decided nothing.
    """
    if encoded is None:
        return
    target = folder / EXPLAIN_DIR
    target.mkdir()
    for part, data in encoded.parts.items():
        (target / f"{part}.parquet").write_bytes(data)


def _run(as_of: dt.date, policy: Policy) -> dict[str, Any]:
    """What every explanation of the run shares: its day and its policy's dates."""
    return {
        "format": FORMAT,
        "recon_version": __version__,
        "as_of": as_of.isoformat(),
        "policy": {k: _plain(getattr(policy, k)) for k in _POLICY_KEYS},
    }


def explanations(result: Result, written: pl.DataFrame, rows: pl.Series) -> list[Explanation]:
    """The explanations of the roster `rows`, from the run in memory: the same rows
    `write_files` writes and `lookup` reads back, so report.html says what
    `recon explain` says. Empty when the run decided nothing."""
    if (
        result.members is None
        or result.filing_match is None
        or result.explain_folder is None
        or rows.is_empty()
    ):
        return []
    members = result.members.select(_DECIDED)
    encoded = result.explain_folder.parts
    tables = {
        "members": members.lazy(),
        "roster": pl.scan_parquet(encoded["roster"]),
        "matches": result.filing_match.lazy(),
        "filings": pl.scan_parquet(encoded["filings"]),
        "findings": written.lazy(),
    }
    chosen = members.filter(pl.col("row").is_in(rows.cast(members.schema["row"]).implode()))
    return _assembled(chosen, tables, _run(result.as_of, result.policy))


def _assembled(
    chosen: pl.DataFrame, tables: dict[str, pl.LazyFrame], run: dict[str, Any]
) -> list[Explanation]:
    """The explanations of the `chosen` member rows, joined from the run's tables.

    The same code for the run in memory (report.html) and the folder on disk
    (`recon explain`), so the two cannot say different things. Only the chosen
    rows, their households' insured persons and their filings are read.
    """
    rows = chosen["row"].implode()
    households = chosen["household_id"].unique().implode()
    # SPEC §3.1 / sql/01: the insured person is the household's one row with relation self.
    insured = (
        tables["members"]
        .filter(pl.col("household_id").is_in(households) & (pl.col("relation") == "self"))
        .group_by("household_id")
        .agg(
            insured_count=pl.len().cast(pl.Int64),
            insured_member_id=pl.col("member_id").first(),
            insured_row=pl.col("row").first(),
        )
        .with_columns(
            insured_member_id=pl.when(pl.col("insured_count") == 1).then("insured_member_id"),
            insured_row=pl.when(pl.col("insured_count") == 1).then("insured_row"),
        )
        .collect()
    )
    matches = (
        tables["matches"].filter(pl.col("roster_row").is_in(rows)).select(_MATCH_COLUMNS).collect()
    )
    filings = (
        matches.join(
            tables["filings"]
            .filter(pl.col("row").is_in(matches["filing_row"].implode()))
            .rename({"row": "filing_row"})
            .collect(),
            on="filing_row",
            how="left",
        )
        .sort("roster_row", "filing_row")
        .group_by("roster_row", maintain_order=True)
        .agg(filings=pl.struct(pl.exclude("roster_row")))
    )
    findings = (
        tables["findings"]
        .filter(pl.col("roster_row").is_in(rows))
        .select(_FINDING_COLUMNS)
        .collect()
        .group_by("roster_row", maintain_order=True)
        .agg(findings=pl.struct(pl.exclude("roster_row")))
    )
    roster = tables["roster"].filter(pl.col("row").is_in(rows)).collect()
    frame = (
        chosen.rename({"overseas_type": "route_overseas_type"})
        .join(roster, on="row", how="left")
        .join(insured, on="household_id", how="left")
        .join(filings, left_on="row", right_on="roster_row", how="left")
        .join(findings, left_on="row", right_on="roster_row", how="left")
        .with_columns(insured_count=pl.col("insured_count").fill_null(0))
        .sort("member_id", "row")
    )
    return [_explanation(r, run) for r in frame.iter_rows(named=True)]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# --- reading ------------------------------------------------------------------------


@dataclass
class Decision:
    """One decision: its SPEC code and value, the rule that produced it, what it compared."""

    decision: str  # active, my_number_status, notice, certificate, delivery, must_confirm
    value: Any
    rule: str  # key under `explain.rule` in recon/texts/explain.toml
    inputs: dict[str, Any] = field(default_factory=dict)
    reasons: list[Decision] = field(default_factory=list)  # certificate and confirm reasons


@dataclass
class Explanation:
    """Everything `recon explain` says about one roster row, as codes and values."""

    member_id: str
    household_id: str
    roster_row: int
    relation: str | None
    as_of: str
    policy: dict[str, Any]
    decisions: list[Decision]
    filings: list[dict[str, Any]]
    household: dict[str, Any]
    findings: list[dict[str, Any]]
    confirm_by: list[str]


# Shown in messages as the shape of a member id. Its twelve digits happen to pass the
# My Number check digit, and it is still an identifier, never masked (SPEC §9).
_EXAMPLE_ID = "1000-181800-00"


class ExplainError(InputError):
    """No explanation can be given: no explain file, or no such member (exit 2)."""

    def __init__(self, message: str, identifiers: tuple[str, ...] = ()):
        super().__init__(message)
        self.identifiers = identifiers


def member_key(member_id: str) -> str:
    """The id as the roster's member ids are written (SPEC §9: NFKC, trimmed, a one-digit
    枝番 padded to two): `1201-1001-0` asks for `1201-1001-00`."""
    # Stripped as the roster's own ids are (recon/normalize): spaces and pasted invisibles.
    key = unicodedata.normalize("NFKC", member_id).strip(EDGES)
    household, dash, branch = key.rpartition("-")
    if dash and len(branch) == 1 and branch.isascii() and branch.isdigit():
        return f"{household}-0{branch}"
    return key


def lookup(folder: Path, member_id: str) -> list[Explanation]:
    """The explanations of every roster row with `member_id` (two rows: a duplicate id)."""
    where = folder / EXPLAIN_DIR
    entry = f"{EXPLAIN_DIR}/members.parquet"  # holds the run's day and policy
    wanted = member_key(member_id)
    if not wanted:
        raise ExplainError(text("explain.error.no_member_id", example=_EXAMPLE_ID), (_EXAMPLE_ID,))
    if not folder.is_dir():
        key = "explain.error.not_a_folder" if folder.exists() else "explain.error.no_folder"
        raise ExplainError(text(key, folder=folder))
    marker = outdir.read_marker(folder)
    # The current folder, a folder of inputs, or one `recon sample` wrote: no run's output.
    if marker is None or marker["kind"] != outdir.REPORT:
        raise ExplainError(text("explain.error.not_output", folder=folder))
    if not (folder / entry).is_file():
        raise ExplainError(text("explain.error.no_file", folder=folder, file=entry))
    try:
        run = json.loads(pl.read_parquet_metadata(folder / entry).get(_META_KEY, "null"))
    except (OSError, ValueError, pl.exceptions.PolarsError):
        run = None
    if not isinstance(run, dict) or run.get("format") != FORMAT:
        raise ExplainError(text("explain.error.old_file", folder=folder, file=entry))
    tables = {part: pl.scan_parquet(where / f"{part}.parquet", glob=False) for part in PARTS}
    household = wanted.rsplit("-", 1)[0]
    # Each file's row-group statistics and the filter's pushdown leave most of it unread.
    chosen = tables["members"].filter(pl.col("member_id") == wanted).collect()
    if chosen.is_empty():
        others = (
            tables["members"]
            .filter(pl.col("household_id") == household)
            .select("member_id")
            .collect()["member_id"]
            .sort()
            .to_list()
        )
        # Only the roster's ids are kept from the scrubber: what was typed is not one
        # (a help desk may paste a My Number by mistake), and is masked if it is one.
        if others:
            raise ExplainError(
                text(
                    "explain.error.no_member_in_household",
                    member_id=wanted,
                    household_id=household,
                    members=", ".join(others),
                ),
                (household, *others),
            )
        raise ExplainError(
            text("explain.error.no_member", member_id=wanted, folder=folder, example=_EXAMPLE_ID),
            (_EXAMPLE_ID,),
        )
    return sorted(_assembled(chosen, tables, run), key=lambda e: e.roster_row)


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else value


def _explanation(r: dict[str, Any], run: dict[str, Any]) -> Explanation:
    policy = run["policy"]
    as_of = run["as_of"]
    findings = [dict(f) for f in r["findings"] or []]
    filings = [_filing(f, r) for f in r["filings"] or []]
    active = _active(r, as_of)
    status = _status(r, filings, findings)
    decisions = [
        active,
        status,
        _notice(r, policy, filings),
        _certificate(r, as_of, policy),
        _delivery(r),
        _confirm(r, findings),
    ]
    household = {
        "household_id": r["household_id"],
        "insured_member_id": r["insured_member_id"],
        "insured_row": r["insured_row"],
        "insured_count": r["insured_count"],
        "residence": r["route_residence"],
        "overseas_type": r["route_overseas_type"],
        "designated_address_on_file": r["route_has_designated_address"],
        "overseas_member": r["overseas_member"],
    }
    return Explanation(
        member_id=r["member_id"],
        household_id=r["household_id"],
        roster_row=r["row"],
        relation=r["relation"],
        as_of=as_of,
        policy=policy,
        decisions=decisions,
        filings=filings,
        household=household,
        findings=[{**f, "who": _who(f)} for f in findings],
        confirm_by=[c for c in (r["confirm_by"] or "").split(";") if c],
    )


def _filing(f: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
    """A matched filing row: which key matched it, after what the earlier keys found."""
    keys = [{"key": n, "name": name, "hits": f[h]} for n, name, h in MATCH_KEYS]
    matched = next(n for n, name, _ in MATCH_KEYS if name == f["matched_by"])
    return {
        "filing_row": f["filing_row"],
        "employee_id": f["employee_id"],
        "matched_by": f["matched_by"],
        "match_key": matched,
        "keys": keys,
        "candidates": f["candidates"],
        "my_number": f["my_number_masked"],
        "my_number_problem": f["my_number_problem"],
        "filed_on": _iso(f["filed_on"]),
        "birth_date": {"roster": _iso(r["birth_date"]), "filing": _iso(f["birth_date"])},
        "sex": {"roster": r["sex"], "filing": f["sex"]},
    }


def _active(r: dict[str, Any], as_of: str) -> Decision:
    inputs = {
        "acquired_on": _iso(r["acquired_on"]),
        "lost_on": _iso(r["lost_on"]),
        "as_of": as_of,
    }
    if r["period_unreadable"]:
        rule = "active.unreadable"
    elif not r["active"]:
        lost_on = _iso(r["lost_on"])
        lost = lost_on is not None and lost_on <= as_of
        rule = "active.lost" if lost else "active.not_yet"
    else:
        rule = "active.yes" if r["lost_on"] is not None else "active.yes_open"
    return Decision("active", r["active"], rule, inputs)


def _status(r: dict[str, Any], filings: list[dict], findings: list[dict]) -> Decision:
    value = r["my_number_status"]
    numbers = sorted({f["my_number"] for f in filings if f["my_number"]})
    problems = sorted({f["my_number_problem"] for f in filings if f["my_number_problem"]})
    errors = sorted(
        {
            f["check"]
            for f in findings
            if f["check"] in ("match.birth_date", "match.sex", "match.identity")
        }
    )
    inputs = {
        "filings": len(filings),
        "numbers": numbers,
        "number_problems": problems,
        "match_errors": errors,
    }
    return Decision("my_number_status", value, f"my_number_status.{value}", inputs)


def _notice(r: dict[str, Any], policy: dict[str, Any], filings: list[dict]) -> Decision:
    value = r["notice"]
    inputs = {
        "acquired_on": _iso(r["acquired_on"]),
        "first_filed_on": _iso(r["first_filed_on"]),
        "event": _iso(r["notice_event"]),
        "notice_snapshot": policy["notice_snapshot"],
        "card_issuance_end": policy["card_issuance_end"],
        "my_number_status": r["my_number_status"],
    }
    if not r["active"]:
        rule = "notice.inactive"
    elif r["period_unreadable"]:
        rule = "notice.unreadable"
    elif r["my_number_status"] != "linked":
        rule = "notice.not_linked"
    elif r["notice_event"] is None:
        rule = "notice.no_filed_on"
    else:
        rule = f"notice.{value}"
    return Decision("notice", value, rule, inputs)


def _certificate(r: dict[str, Any], as_of: str, policy: dict[str, Any]) -> Decision:
    value = r["certificate"]
    codes = [c for c in (r["certificate_reasons"] or "").split(";") if c]
    emigrated = r["emigrated_on"] or r["insured_emigrated_on"]
    facts = {
        "no_filing": {},
        "invalid_my_number": {"my_number_status": r["my_number_status"]},
        "emigrated_before_2015": {
            "emigrated_on": _iso(emigrated),
            "own": r["emigrated_on"] is not None,
            "my_number_system_start": policy["my_number_system_start"],
        },
        "never_registered": {
            "jp_registered": r["jp_registered"],
            "birth_date": _iso(r["birth_date"]),
            "insured_emigrated_on": _iso(r["insured_emigrated_on"]),
        },
        "card_none": {"card_status": r["card_status"]},
        "card_lost": {"card_status": r["card_status"]},
        "card_renewing": {"card_status": r["card_status"]},
        "card_returned": {"card_status": r["card_status"]},
        "opted_out": {"myna_opt_out": r["myna_opt_out"]},
        "cert_expired": {"cert_expires_on": _iso(r["cert_expires_on"]), "as_of": as_of},
        "not_registered": {"myna_registered": r["myna_registered"]},
        "needs_assistance": {"needs_assistance": r["needs_assistance"]},
    }
    reasons = []
    for code in codes:
        rule = f"certificate_reason.{code}"
        if code == "never_registered" and r["jp_registered"] != "no":
            rule = "certificate_reason.never_registered_child"
        if code == "emigrated_before_2015" and r["emigrated_on"] is None:
            rule = "certificate_reason.emigrated_before_2015_insured"
        reasons.append(Decision("certificate_reason", code, rule, facts.get(code, {})))
    inputs: dict[str, Any] = {
        "card_status": r["card_status"],
        "myna_registered": r["myna_registered"],
        "myna_opt_out": r["myna_opt_out"],
        "cert_expires_on": _iso(r["cert_expires_on"]),
        "as_of": as_of,
        "certificate_max_years": policy["certificate_max_years"],
        "lost_on": _iso(r["lost_on"]),
        "valid_until": _iso(r["certificate_valid_until"]),
    }
    if not r["active"]:
        rule = "certificate.inactive"
    elif r["period_unreadable"]:
        rule = "certificate.unreadable"
    elif value == "yes":
        rule = "certificate.yes_until_loss" if _ends_at_loss(r) else "certificate.yes"
    else:
        rule = "certificate.no"
    return Decision("certificate", value, rule, inputs, reasons)


def _ends_at_loss(r: dict[str, Any]) -> bool:
    lost = r["lost_on"]
    until = r["certificate_valid_until"]
    return lost is not None and until is not None and until == lost - dt.timedelta(days=1)


def _delivery(r: dict[str, Any]) -> Decision:
    value = r["delivery"]
    inputs = {
        "residence": r["route_residence"],
        "overseas_type": r["route_overseas_type"],
        "designated_address_on_file": r["route_has_designated_address"],
        "from_member_id": r["insured_member_id"] or r["member_id"],
        "notice": r["notice"],
        "certificate": r["certificate"],
    }
    if value == "none":
        rule = "delivery.inactive" if not r["active"] else "delivery.none"
    elif value == "household":
        rule = (
            "delivery.household_domestic"
            if r["route_residence"] == "domestic"
            else "delivery.household_posted_alone"
        )
    elif value == "designated_address":
        rule = "delivery.designated_address"
    elif r["route_residence"] == "overseas":
        rule = "delivery.undeliverable_overseas"
    else:
        rule = "delivery.undeliverable_unknown"
    return Decision("delivery", value, rule, inputs)


def _checks(findings: list[dict], test) -> list[str]:
    return sorted({f["check"] for f in findings if test(f)})


def _confirm(r: dict[str, Any], findings: list[dict]) -> Decision:
    codes = [c for c in (r["confirm_reasons"] or "").split(";") if c]
    facts = {
        "my_number_problem": {
            "checks": _checks(findings, lambda f: f["check"].startswith("my_number."))
        },
        "mismatch": {
            "checks": _checks(
                findings,
                lambda f: f["check"].startswith("match.") and f["severity"] != "info",
            )
        },
        "no_filing": {},
        "overseas": {
            "residence": r["residence"],
            "insured_overseas_type": r["route_overseas_type"],
        },
        "emigrated_before_2015": {},
        "never_registered": {},
        "hr_confirm_address": {
            "delivery": r["delivery"],
            "unknown_type": r["has_unknown_type"],
        },
        "filing_problem": {
            "rows": sorted(
                {
                    f["row"]
                    for f in findings
                    if f["source"] == "filings" and f["check"] == "input.invalid_value"
                }
            )
        },
        "roster_problem": {
            "checks": _checks(
                findings,
                lambda f: (
                    f["source"] == "roster"
                    and (f["check"].startswith("roster.") or f["check"] == "input.invalid_value")
                ),
            )
        },
    }
    reasons = []
    for code in codes:
        rule = f"confirm_reason.{code}"
        if code == "hr_confirm_address" and r["delivery"] not in HR_DELIVERIES:
            rule = "confirm_reason.hr_confirm_address_unknown_type"
        if code == "overseas":
            own = r["residence"] == "overseas"
            rule = "confirm_reason.overseas_own" if own else "confirm_reason.overseas_family"
        reasons.append(Decision("confirm_reason", code, rule, facts.get(code, {})))
    if not r["active"]:
        rule = "must_confirm.inactive"
    else:
        rule = "must_confirm.yes" if r["must_confirm"] else "must_confirm.no"
    inputs = {"confirm_by": r["confirm_by"] or ""}
    return Decision("must_confirm", r["must_confirm"], rule, inputs, reasons)


def _who(f: dict[str, Any]) -> str | None:
    """Who acts on a finding: the `confirm_by` value of the reason it gives (SPEC §6.5)."""
    check, source = f["check"], f["source"]
    if f["severity"] == "info" and check.startswith("match."):
        return None  # recorded only
    if check == "input.invalid_value":
        return "society" if source == "roster" else "member"
    if check.startswith("roster."):
        return "society"
    if check in ("overseas.no_designated_address", "overseas.unknown_type"):
        return "hr"
    return "member"


# --- rendering ----------------------------------------------------------------------


def _t(name: str, lang: str, /, **values: Any) -> str:
    return text(f"explain.{name}", lang, **values)


def _shown(value: Any, lang: str) -> str:
    """A value as a person reads it: empty and unreadable values said in words."""
    if value is None or value == "":
        return _t("value.empty", lang)
    if isinstance(value, bool):
        return _t("value.yes" if value else "value.no", lang)
    if isinstance(value, list):
        return _t("list_sep", lang).join(str(v) for v in value) if value else _t("value.none", lang)
    return str(value)


def why(decision: Decision, lang: str) -> str:
    """The sentence that says which rule gave the value, with the values it compared."""
    shown = {k: _shown(v, lang) for k, v in decision.inputs.items()}
    for kind in ("overseas_type", "insured_overseas_type"):
        if decision.inputs.get(kind):
            code = decision.inputs[kind]
            shown[kind] = _paren(code, word("overseas_type", code, lang), lang)
    if decision.inputs.get("my_number_status"):
        status = decision.inputs["my_number_status"]
        shown["my_number_status"] = _paren(status, word("my_number_status", status, lang), lang)
    if decision.inputs.get("delivery"):
        delivery = decision.inputs["delivery"]
        shown["delivery"] = _paren(delivery, word("delivery", delivery, lang), lang)
    if decision.inputs.get("checks") is not None:
        shown["checks"] = _shown(decision.inputs["checks"], lang)
    return _t(f"rule.{decision.rule}", lang, **shown)


def _value_words(decision: Decision, lang: str) -> str:
    value = decision.value
    kinds = {
        "my_number_status": "my_number_status",
        "notice": "notice",
        "certificate": "certificate",
        "delivery": "delivery",
        "certificate_reason": "certificate_reasons",
        "confirm_reason": "confirm_reasons",
    }
    if decision.decision in kinds:
        return word(kinds[decision.decision], value, lang)
    return _shown(value, lang)


def _code(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_json(explanations: list[Explanation], lang: str) -> str:
    """The same content for tools: codes as SPEC gives them, and the sentences in `lang`."""
    return json.dumps(
        {
            "lang": lang,
            "members": [_as_json(e, lang) for e in explanations],
        },
        ensure_ascii=False,
        indent=2,
    )


def _decision_json(d: Decision, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "decision": d.decision,
        "value": d.value,
        "words": _value_words(d, lang),
        "rule": d.rule,
        "inputs": d.inputs,
        "why": why(d, lang),
    }
    if d.reasons or d.decision in ("certificate", "must_confirm"):
        out["reasons"] = [_decision_json(r, lang) for r in d.reasons]
    return out


@cache
def _check_texts() -> dict[str, dict[str, str]]:
    """Title and action of each check, from checks/catalog.toml (as `recon.findings.catalog`).

    Read here with tomllib alone: `recon.findings` loads pandera, a second of
    the help desk's wait for two strings.
    """
    data = tomllib.loads((shipped("checks") / "catalog.toml").read_text(encoding="utf-8"))
    return {entry["code"]: entry for entry in data["check"]}


def _title(check: str, lang: str) -> str:
    entry = _check_texts().get(check)
    return entry[f"title_{lang}"] if entry else check


def _action(check: str, lang: str) -> str | None:
    entry = _check_texts().get(check)
    return entry[f"action_{lang}"] if entry else None


def _as_json(e: Explanation, lang: str) -> dict[str, Any]:
    return {
        "member_id": e.member_id,
        "household_id": e.household_id,
        "roster_row": e.roster_row,
        "relation": e.relation,
        "as_of": e.as_of,
        "policy": e.policy,
        "decisions": [_decision_json(d, lang) for d in e.decisions],
        "filings": [{**f, "why": _filing_why(f, lang)} for f in e.filings],
        "household": e.household,
        "findings": [
            {**f, "title": _title(f["check"], lang), "action": _action(f["check"], lang)}
            for f in e.findings
        ],
        "confirm_by": e.confirm_by,
    }


def _filing_why(f: dict[str, Any], lang: str) -> list[str]:
    """The waterfall of one filing: what each key found, down to the one that matched."""
    lines = []
    for key in f["keys"]:
        name = _t(f"match_key.{key['name']}", lang)
        if key["key"] == f["match_key"]:
            lines.append(_t("filing.key_matched", lang, key=key["key"], name=name))
            break
        said = "filing.key_none" if key["hits"] == 0 else "filing.key_several"
        lines.append(_t(said, lang, key=key["key"], name=name, hits=key["hits"]))
    return lines


def render_text(explanations: list[Explanation], lang: str) -> str:
    """What the help desk reads, one block per roster row."""
    return "\n\n".join(_block(e, lang) for e in explanations) + "\n"


@dataclass(frozen=True)
class Line:
    """One line of an explanation, and the lines that say why under it."""

    text: str
    subs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """A part of an explanation (the decisions, the filings, ...): its title and lines."""

    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Outline:
    """An explanation in `lang`, as the terminal and report.html both show it: the same
    sentences, laid out by each (`render_text`, recon.output.html)."""

    heading: str
    run_line: str
    parts: tuple[Part, ...]


def _block(e: Explanation, lang: str) -> str:
    o = outline(e, lang)
    out = [o.heading, o.run_line]
    for part in o.parts:
        out += ["", part.title]
        for line in part.lines:
            out.append("  " + line.text)
            out += ["      " + sub for sub in line.subs]
    return "\n".join(out)


def outline(e: Explanation, lang: str) -> Outline:
    """Every sentence `recon explain` says of one roster row, in `lang`."""
    heading = _t(
        "heading",
        lang,
        member_id=e.member_id,
        household_id=e.household_id,
        row=e.roster_row,
        relation=word("relation", e.relation, lang) if e.relation else _t("value.empty", lang),
    )
    run_line = _t(
        "run_line",
        lang,
        as_of=e.as_of,
        snapshot=e.policy["notice_snapshot"],
        card_end=e.policy["card_issuance_end"],
        system_start=e.policy["my_number_system_start"],
    )
    decisions = []
    for d in e.decisions:
        said = _t(
            "decision_line",
            lang,
            label=_t(f"decision.{d.decision}", lang),
            code=_code(d.value),
            words=_value_words(d, lang),
        )
        subs = [why(d, lang)]
        for reason in d.reasons:
            named = _paren(reason.value, _value_words(reason, lang), lang)
            subs.append(f"- {named}: {why(reason, lang)}")
        decisions.append(Line(said, tuple(subs)))
    filings = [] if e.filings else [Line(_t("filing.none", lang))]
    for f in e.filings:
        said = _t(
            "filing.line",
            lang,
            row=f["filing_row"],
            employee_id=f["employee_id"] or _t("value.empty", lang),
            key=f["match_key"],
            matched_by=f["matched_by"],
            my_number=f["my_number"] or _t("value.empty", lang),
            filed_on=_shown(f["filed_on"], lang),
        )
        subs = []
        if f["my_number_problem"]:
            subs.append(_t("filing.problem", lang, problem=f["my_number_problem"]))
        subs += _filing_why(f, lang)
        subs.append(
            _t(
                "filing.compared",
                lang,
                roster_birth=_shown(f["birth_date"]["roster"], lang),
                filing_birth=_shown(f["birth_date"]["filing"], lang),
                roster_sex=_sex(f["sex"]["roster"], lang),
                filing_sex=_sex(f["sex"]["filing"], lang),
            )
        )
        filings.append(Line(said, tuple(subs)))
    h = e.household
    if h["insured_count"] == 1:
        insured = _t("household.insured", lang, member_id=h["insured_member_id"])
    else:
        insured = _t("household.no_insured", lang, count=h["insured_count"])
    route = _t(
        "household.route",
        lang,
        residence=_residence(h["residence"], lang),
        overseas_type=(
            _paren(h["overseas_type"], word("overseas_type", h["overseas_type"], lang), lang)
            if h["overseas_type"]
            else _t("value.empty", lang)
        ),
        designated=_shown(h["designated_address_on_file"], lang),
    )
    abroad = _t("household.overseas_member", lang, value=_shown(h["overseas_member"], lang))
    household = [Line(insured), Line(route), Line(abroad)]
    findings = [] if e.findings else [Line(_t("finding.none", lang))]
    for f in e.findings:
        said = _t(
            "finding.line",
            lang,
            severity=word("severity", f["severity"], lang),
            check=f["check"],
            title=_title(f["check"], lang),
            source=_t(f"source.{f['source']}", lang),
            row=f["row"],
            field=f["field"] or "",
        )
        subs = []
        if f["detail"]:
            subs.append(_t("finding.detail", lang, detail=f["detail"]))
        action = _action(f["check"], lang)
        if action:
            subs.append(_t("finding.action", lang, action=action))
        who = word("confirm_by", f["who"], lang) if f["who"] else _t("finding.no_one", lang)
        subs.append(_t("finding.who", lang, who=who))
        findings.append(Line(said, tuple(subs)))
    who_acts = [
        Line(f"- {_paren(who, word('confirm_by', who, lang), lang)}") for who in e.confirm_by
    ] or [Line(_t("who.no_one", lang))]
    parts = [
        ("decisions", decisions),
        ("filings", filings),
        ("household", household),
        ("findings", findings),
        ("who", who_acts),
    ]
    return Outline(
        heading,
        run_line,
        tuple(Part(_t(f"section.{key}", lang), tuple(lines)) for key, lines in parts),
    )


def _sex(code: str | None, lang: str) -> str:
    if code is None:
        return _t("value.unreadable", lang)
    return _paren(code, _t(f"sex.{code}", lang), lang) if code in ("1", "2", "3") else code


def _residence(code: str | None, lang: str) -> str:
    if code is None:
        return _t("value.unreadable", lang)
    return _paren(code, _t(f"residence.{code}", lang), lang)


def _paren(code: str, words: str, lang: str) -> str:
    """A code with its words beside it: `wave1（第1弾）`, `wave1 (wave 1)`."""
    return f"{code}（{words}）" if lang == "ja" else f"{code} ({words})"
