"""Step 6, report: members.csv, findings.csv, summary.json and report.html (SPEC §8).

Every file is written through `recon.masking.safe_frame` / `scrub`: the one
privacy boundary of the tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from recon import __version__, report_html
from recon.decide import MEMBER_COLUMNS
from recon.findings import FINDING_SCHEMA, SEVERITIES, catalog
from recon.masking import safe_frame, scrub

if TYPE_CHECKING:
    from recon.pipeline import Result

FINDING_COLUMNS = tuple(FINDING_SCHEMA)


def _counts(frame: pl.DataFrame, column: str, values: tuple[str, ...] = ()) -> dict[str, int]:
    """Counts per value, with every expected value present even at zero."""
    counted = dict(frame.group_by(column).len().sort(column).iter_rows()) if frame.height else {}
    return {v: counted.get(v, 0) for v in values} | {
        str(k): v for k, v in counted.items() if k not in values
    }


def _reason_counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    exploded = (
        frame.select(pl.col(column).str.split(";")).explode(column).filter(pl.col(column) != "")
    )
    return _counts(exploded, column)


def summary(result: Result) -> dict:
    findings = result.findings
    by_check = _counts(findings, "check")
    summary_ = {
        "tool": {"name": "recon", "version": __version__},
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
                for c in catalog()
            },
        },
        "conservation": conservation(result),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }
    if result.members is not None:
        m = result.members
        summary_["members"] = {
            "total": m.height,
            "active": int(m["active"].sum()),
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


def conservation(result: Result) -> dict:
    """Every roster row and every filing row accounted for exactly once."""
    matched = result.filing_match.filter(pl.col("roster_row").is_not_null()).height
    member_rows = result.members.height if result.members is not None else None
    return {
        "roster_rows": result.roster.rows,
        "member_rows": member_rows,
        "filing_rows": result.filings.rows,
        "filings_matched": matched,
        "filings_orphaned": result.filing_match.height - matched,
        "holds": (member_rows in (None, result.roster.rows))
        and matched + (result.filing_match.height - matched) == result.filings.rows,
    }


def members_frame(result: Result) -> pl.DataFrame:
    assert result.members is not None
    return result.members.select(MEMBER_COLUMNS).with_columns(
        pl.col("certificate_valid_until").cast(pl.String)
    )


def findings_frame(result: Result) -> pl.DataFrame:
    return result.findings.select(FINDING_COLUMNS)


def write_all(result: Result, folder: Path, lang: str = "ja") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    summary_ = summary(result)
    safe_frame(members_frame(result)).write_csv(folder / "members.csv")
    safe_frame(findings_frame(result)).write_csv(folder / "findings.csv")
    (folder / "summary.json").write_text(
        scrub(json.dumps(summary_, ensure_ascii=False, indent=2)) + "\n", encoding="utf-8"
    )
    page = report_html.render(
        summary_, safe_frame(findings_frame(result)), safe_frame(_lists(result)), lang
    )
    (folder / "report.html").write_text(scrub(page), encoding="utf-8")


def _lists(result: Result) -> pl.DataFrame:
    """The members a person has to act on, with what the report lists show."""
    assert result.members is not None
    return result.members.filter(pl.col("must_confirm")).select(
        "member_id",
        "household_id",
        "relation",
        "overseas_type",
        "confirm_reasons",
        "confirm_by",
        "certificate",
        "delivery",
    )
