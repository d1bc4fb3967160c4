"""Builders for small, real input files, and a helper that runs the real pipeline on them."""

from __future__ import annotations

import datetime as dt
import os
import zlib
from pathlib import Path

import polars as pl
import pytest

from recon import pipeline
from recon.columns import FILINGS, ROSTER
from recon.policy import Policy, load_policy

AS_OF = dt.date(2025, 6, 30)
INSURER = "06139919"


def my_number(body: int) -> str:
    """A synthetic My Number with a valid check digit (総務省令第85号 第5条)."""
    digits = f"{body:011d}"
    total = sum(int(digits[-n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = total % 11
    return digits + str(0 if r <= 1 else 11 - r)


def member(employee: str = "E1", branch: str = "00", **values: str) -> dict[str, str]:
    """One roster row; the defaults make an active, domestic, card-holding insured person."""
    row = {
        "insurer_number": INSURER,
        "symbol": "1234",
        "number": employee.removeprefix("E"),
        "branch": branch,
        "relation": "self",
        "name": "山田 太郎",
        "name_kana": "ヤマダ タロウ",
        "birth_date": "1980-04-01",
        "sex": "1",
        "postal_code": "1000001",
        "address": "東京都千代田区千代田1-2-3",
        "acquired_on": "2020-04-01",
        "lost_on": "",
        "employee_id": employee,
        "residence": "",
        "overseas_type": "",
        "designated_address": "",
        "emigrated_on": "",
        "jp_registered": "",
        "card_status": "held",
        "myna_registered": "yes",
        "myna_opt_out": "",
        "cert_expires_on": "",
        "needs_assistance": "",
    }
    row.update(values)
    return row


def person(
    relation: str, name: str, name_kana: str, birth_date: str, **values: str
) -> dict[str, str]:
    """Who someone is, for `member(**person(...))` or `filing(row, **person(...))`."""
    return {
        "relation": relation,
        "name": name,
        "name_kana": name_kana,
        "birth_date": birth_date,
        **values,
    }


def abroad(overseas_type: str, **values: str) -> dict[str, str]:
    """A member living abroad (SPEC §6.4), for `member(**abroad(...))`."""
    return {"residence": "overseas", "overseas_type": overseas_type, **values}


def filing(of: dict[str, str], number: str | None = None, **values: str) -> dict[str, str]:
    """A filing that agrees with roster row `of`, with a valid number unless told otherwise."""
    row = {
        "employee_id": of["employee_id"],
        "relation": of["relation"],
        "name": of["name"],
        "name_kana": of["name_kana"],
        "birth_date": of["birth_date"],
        "sex": of["sex"],
        "address": "",
        "my_number": number
        or my_number(90000000000 + zlib.crc32((of["employee_id"] + of["branch"]).encode()) % 10**9),
        "filed_on": "2024-05-01",
        "branch": "",
    }
    row.update(values)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns, encoding: str = "utf-8") -> Path:
    names = [c.name for c in columns]
    frame = pl.DataFrame(
        [{n: r.get(n, "") for n in names} for r in rows], schema={n: pl.String for n in names}
    )
    path.write_bytes(frame.write_csv().encode(encoding))
    return path


def run_args(roster: Path, filings: Path, out: Path) -> list[str]:
    """The arguments of `recon run` on these files as of AS_OF, writing to `out`."""
    return [
        "run",
        "--roster",
        str(roster),
        "--filings",
        str(filings),
        "--as-of",
        AS_OF.isoformat(),
        "--out",
        str(out),
    ]


class Run:
    """The pipeline run on real files built from rows, with easy access to the outcome."""

    def __init__(
        self, tmp: Path, roster: list[dict], filings: list[dict], policy: Policy, as_of: dt.date
    ):
        self.result = pipeline.analyse(
            write_csv(tmp / "roster.csv", roster, ROSTER),
            write_csv(tmp / "filings.csv", filings, FILINGS),
            policy,
            as_of,
        )
        self.members = self.result.members
        self.findings = self.result.findings

    def decision(self, member_id: str) -> dict:
        rows = self.members.filter(pl.col("member_id") == member_id).to_dicts()
        assert len(rows) == 1, f"{member_id}: {len(rows)} rows"
        return rows[0]

    def checks(self, member_id: str | None = None, source: str | None = None) -> list[str]:
        f = self.findings
        if member_id is not None:
            f = f.filter(pl.col("member_id") == member_id)
        if source is not None:
            f = f.filter(pl.col("source") == source)
        return sorted(f["check"].to_list())

    def finding(self, check: str) -> dict:
        rows = self.findings.filter(pl.col("check") == check).to_dicts()
        assert len(rows) == 1, f"{check}: {len(rows)} findings"
        return rows[0]


@pytest.fixture
def reconcile(tmp_path):
    """reconcile(roster_rows, filing_rows, as_of=..., **policy_overrides) -> Run."""
    counter = iter(range(1000))

    def _run(roster, filings, as_of: dt.date = AS_OF, **policy) -> Run:
        folder = tmp_path / f"run{next(counter)}"
        folder.mkdir()
        base = load_policy()
        return Run(folder, roster, filings, Policy(**{**base.__dict__, **policy}), as_of)

    return _run


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001 - pytest hook signature
    """In CI a skipped test is a failed one: a skip there hides a missing install step.

    On a developer's machine a test that needs what is not installed (Chromium) may
    skip; `.ci/run` installs everything, so nothing may skip there.
    """
    if not os.environ.get("CI"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; in CI every test must run", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
