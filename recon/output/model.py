"""The typed model of one run, built once, that every output is rendered from.

What was read (`InputFile`), what was found (the written findings), what was
decided (the members), and the counts (`Summary`). summary.json is this
model's `Summary.as_json()`: its keys and values are an interface (SPEC §8),
so `as_json` gives exactly the document earlier versions wrote.

The model reads a pipeline result through `RunResult`, the attributes it uses,
so that the output layer never imports the pipeline (which calls it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from recon import __version__
from recon.findings import FINDING_SCHEMA, SEVERITIES, Check, catalog
from recon.gx_checks import Quality, gx_catalog
from recon.masking import scrub, scrub_json, written_findings
from recon.policy import Policy
from recon.resources import shipped

DOCS_INDEX = "gx/index.html"
FINDING_COLUMNS = tuple(FINDING_SCHEMA)

MY_NUMBER_STATUSES = ("linked", "missing", "invalid", "conflict", "duplicate", "mismatch")
NOTICES = ("wave1", "wave2", "on_enrolment", "none")
CERTIFICATES = ("yes", "no")
DELIVERIES = ("household", "designated_address", "undeliverable", "none")


class ReadFile(Protocol):
    # Read-only: the pipeline's input files are frozen.
    @property
    def path(self) -> Path: ...
    @property
    def rows(self) -> int: ...
    @property
    def sha256(self) -> str: ...


class RunResult(Protocol):
    """What the output layer reads of `recon.pipeline.Result`."""

    as_of: dt.date
    policy: Policy

    @property
    def roster(self) -> ReadFile: ...
    @property
    def filings(self) -> ReadFile: ...

    # Every finding but Great Expectations', at once; `findings` and `quality`
    # wait for GX to finish (it runs while the report is being written).
    found: pl.DataFrame
    members: pl.DataFrame | None
    seconds: dict[str, float]
    conservation: dict[str, int | bool | None]

    @property
    def findings(self) -> pl.DataFrame: ...
    @property
    def quality(self) -> Quality | None: ...
    def quality_aside(self) -> Quality | None: ...


@dataclass(frozen=True)
class InputFile:
    """One input as the run read it; `path` scrubbed (a path is free text)."""

    role: str  # roster or filings
    path: str
    rows: int
    sha256: str
    bundled: bool  # the sample shipped with recon, shown as 同梱サンプル


@dataclass(frozen=True)
class CheckCount:
    severity: str
    count: int


@dataclass(frozen=True)
class FindingCounts:
    total: int
    by_severity: Mapping[str, int]
    by_check: Mapping[str, CheckCount]  # every check of the run, in catalog order


@dataclass(frozen=True)
class GxResult:
    check: str
    suite: str
    severity: str
    success: bool
    detail: str  # as summary.json has it: "3 of 48 rows (6.3%)", "observed 47"
    count: int | None  # rows that fail; None for a table-level expectation
    rows: int | None  # rows it was about; None for a table-level expectation
    observed: float | int | None  # a table-level expectation's value


@dataclass(frozen=True)
class GxSummary:
    expectations: int
    failed: int
    data_docs: str
    results: tuple[GxResult, ...]


@dataclass(frozen=True)
class MemberCounts:
    total: int
    active: int
    overseas_active: int
    my_number_status: Mapping[str, int]
    notice: Mapping[str, int]
    certificate: Mapping[str, int]
    certificate_reasons: Mapping[str, int]
    delivery: Mapping[str, int]
    must_confirm: int
    confirm_reasons: Mapping[str, int]
    confirm_by: Mapping[str, int]

    @property
    def notices(self) -> int:
        return sum(v for k, v in self.notice.items() if k != "none")


@dataclass(frozen=True)
class Summary:
    tool_name: str
    tool_version: str
    run_at: dt.datetime  # local time, with its offset
    as_of: dt.date
    policy: Mapping[str, Any]  # values scrubbed (free text)
    inputs: tuple[InputFile, ...]
    findings: FindingCounts
    conservation: Mapping[str, int | bool | None]
    seconds: Mapping[str, float]
    gx: GxSummary | None
    members: MemberCounts | None

    @property
    def verdict(self) -> str:
        return "blocked" if self.errors else "ready"

    @property
    def errors(self) -> int:
        return self.findings.by_severity.get("error", 0)

    def as_json(self) -> dict:
        """summary.json, key for key as SPEC §8 and earlier versions have it."""
        document: dict[str, Any] = {
            "tool": {"name": self.tool_name, "version": self.tool_version},
            "run_at": self.run_at.isoformat(timespec="seconds"),
            "as_of": self.as_of.isoformat(),
            "policy": dict(self.policy),
            "inputs": {
                f.role: {"path": f.path, "rows": f.rows, "sha256": f.sha256} for f in self.inputs
            },
            "verdict": self.verdict,
            "findings": {
                "total": self.findings.total,
                "by_severity": dict(self.findings.by_severity),
                "by_check": {
                    code: {"severity": c.severity, "count": c.count}
                    for code, c in self.findings.by_check.items()
                },
            },
            "conservation": dict(self.conservation),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }
        if self.gx is not None:
            document["gx"] = {
                "expectations": self.gx.expectations,
                "failed": self.gx.failed,
                "data_docs": self.gx.data_docs,
                "results": [
                    {
                        "check": r.check,
                        "suite": r.suite,
                        "severity": r.severity,
                        "success": r.success,
                        "detail": r.detail,
                    }
                    for r in self.gx.results
                ],
            }
        if self.members is not None:
            m = self.members
            document["members"] = {
                "total": m.total,
                "active": m.active,
                "overseas_active": m.overseas_active,
                "my_number_status": dict(m.my_number_status),
                "notice": dict(m.notice),
                "certificate": dict(m.certificate),
                "certificate_reasons": dict(m.certificate_reasons),
                "delivery": dict(m.delivery),
                "must_confirm": m.must_confirm,
                "confirm_reasons": dict(m.confirm_reasons),
                "confirm_by": dict(m.confirm_by),
            }
        return document


@dataclass(frozen=True)
class Run:
    """One run, as every output renders it."""

    summary: Summary
    checks: tuple[Check, ...]  # the catalog's, then the gx.* ones when GX ran
    findings: pl.DataFrame  # as written: details scrubbed once (`written_findings`)
    members: pl.DataFrame  # the decisions, one row per roster row
    quality: Quality | None  # Great Expectations' outcomes, for its Data Docs


def counts(frame: pl.DataFrame, column: str, values: tuple[str, ...] = ()) -> dict[str, int]:
    """Counts per value, with every expected value present even at zero."""
    counted = dict(frame.group_by(column).len().sort(column).iter_rows()) if frame.height else {}
    return {v: counted.get(v, 0) for v in values} | {
        str(k): v for k, v in counted.items() if k not in values
    }


def reason_counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
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


def all_checks(result: RunResult) -> tuple[Check, ...]:
    """The catalog's checks, then the gx.* checks when GX ran."""
    return catalog() + (gx_catalog() if result.quality is not None else ())


def _bundled(path: Path) -> bool:
    """Whether `path` is a file of the sample shipped with recon."""
    try:
        return path.resolve().parent == shipped("sample_data").resolve()
    except (OSError, FileNotFoundError):
        return False


def summarize(result: RunResult, run_at: dt.datetime | None = None) -> Summary:
    """The counts of a run (the findings as found: scrubbing changes no count)."""
    findings = result.findings
    by_check = counts(findings, "check")
    gx = None
    if result.quality is not None:
        outcomes = result.quality.outcomes
        gx = GxSummary(
            expectations=len(outcomes),
            failed=sum(not o.success for o in outcomes),
            data_docs=DOCS_INDEX,
            results=tuple(
                GxResult(
                    check=o.check.check.code,
                    suite=o.check.suite,
                    severity=o.check.check.severity,
                    success=o.success,
                    detail=o.detail,
                    count=o.count,
                    rows=o.rows,
                    observed=o.observed,
                )
                for o in outcomes
            ),
        )
    members = None
    if result.members is not None:
        m = result.members
        members = MemberCounts(
            total=m.height,
            active=int(m["active"].sum()),
            overseas_active=int((m["active"] & m["overseas_member"]).sum()),
            my_number_status=counts(m, "my_number_status", MY_NUMBER_STATUSES),
            notice=counts(m, "notice", NOTICES),
            certificate=counts(m, "certificate", CERTIFICATES),
            certificate_reasons=reason_counts(m, "certificate_reasons"),
            delivery=counts(m, "delivery", DELIVERIES),
            must_confirm=int(m["must_confirm"].sum()),
            confirm_reasons=reason_counts(m, "confirm_reasons"),
            confirm_by=reason_counts(m, "confirm_by"),
        )
    return Summary(
        tool_name="recon",
        tool_version=__version__,
        run_at=run_at or dt.datetime.now().astimezone().replace(microsecond=0),
        as_of=result.as_of,
        # Free text in the summary: input paths and policy values (the SHA-256s are hashes).
        policy=scrub_json(result.policy.as_json()),
        inputs=tuple(
            InputFile(role, scrub(str(f.path)), f.rows, f.sha256, _bundled(f.path))
            for role, f in (("roster", result.roster), ("filings", result.filings))
        ),
        findings=FindingCounts(
            total=findings.height,
            by_severity=counts(findings, "severity", SEVERITIES),
            by_check={
                c.code: CheckCount(c.severity, by_check.get(c.code, 0)) for c in all_checks(result)
            },
        ),
        conservation=scrub_json(result.conservation),
        seconds=dict(result.seconds),
        gx=gx,
        members=members,
    )


def build(result: RunResult, written_found: pl.DataFrame) -> Run:
    """The model of `result` (once Great Expectations has finished), its findings
    as written: `written_found` is `written_findings(result.found)`, scrubbed
    once by the caller, which quoted them before GX had finished; GX's own,
    after them, are scrubbed here."""
    assert result.members is not None, "the output layer writes runs with decisions"
    summary = summarize(result)
    # GX's findings come after the others (`pipeline.Result.findings`).
    gx_findings = result.findings.slice(result.found.height)
    written = pl.concat([written_found, written_findings(gx_findings)])
    return Run(summary, all_checks(result), written, result.members, result.quality)
