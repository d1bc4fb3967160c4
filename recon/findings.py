"""Findings: the typed result of every check, and the catalog that defines them.

A finding is one row of `findings.csv` (SPEC §8). Steps produce findings as
frames with the columns of `FINDING_SCHEMA` minus `severity`; the severity is
always taken from the catalog, so one file decides what blocks issuance.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from typing import Literal

import polars as pl

from recon.resources import shipped

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

FINDING_SCHEMA = {
    "check": pl.String,
    "severity": pl.String,
    "member_id": pl.String,
    "source": pl.String,
    "row": pl.Int64,
    "field": pl.String,
    "detail": pl.String,
}


@dataclass(frozen=True)
class Check:
    code: str
    severity: Severity
    title_ja: str
    title_en: str
    action_ja: str
    action_en: str


@cache
def catalog() -> tuple[Check, ...]:
    data = tomllib.loads((shipped("checks") / "catalog.toml").read_text(encoding="utf-8"))
    return tuple(Check(**entry) for entry in data["check"])


def catalog_frame() -> pl.DataFrame:
    """The catalog as a frame, with its order, for joins in polars and DuckDB."""
    checks = catalog()
    return pl.DataFrame(
        {
            "check": [c.code for c in checks],
            "severity": [c.severity for c in checks],
            "check_order": list(range(len(checks))),
        }
    )


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema={k: v for k, v in FINDING_SCHEMA.items() if k != "severity"})
