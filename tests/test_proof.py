"""The written files are read back and proven; a writer that loses or changes a row fails (exit 3).

Each test breaks one writer the way a future change could, runs `recon run`
over a previous report, and expects exit 3 naming the first differing id
(as it is: `1000-181800-00` passes the My Number check digit and is still an
id) and the previous report left as it was. The last tests hold the writing
beside Great Expectations to the same: what needs GX's outcome waits for it,
and a GX failure meanwhile rolls back too.
"""

import json
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from recon import cli, gx_checks, proof
from recon.errors import InvariantError
from recon.output import model, tables
from tests.conftest import FILINGS, ROSTER, filing, member, run_args, write_csv

PASSING_ID = "1000-181800-00"


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, Path]:
    unfiled = member(employee="E1", symbol="1000", number="181800", branch="00")  # filing.missing
    filed = member(employee="E2", symbol="5120", number="12345678", branch="00")
    spouse = member(employee="E2", symbol="5120", number="12345678", branch="01", relation="spouse")
    roster = write_csv(tmp_path / "roster.csv", [filed, unfiled, spouse], ROSTER)
    filings = write_csv(tmp_path / "filings.csv", [filing(filed), filing(spouse)], FILINGS)
    return roster, filings


def _run(inputs, out: Path):
    return CliRunner().invoke(cli.app, run_args(*inputs, out))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def previous(tmp_path, inputs) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / "out"
    done = _run(inputs, out)
    assert done.exit_code == 0, done.output
    return out, _files(out)


def _fails(inputs, previous, *said: str) -> None:
    out, before = previous
    done = _run(inputs, out)
    assert done.exit_code == 3, done.output
    text = " ".join(done.output.split())
    for part in said:
        assert part in text, text
    assert "Traceback" not in done.output
    assert _files(out) == before  # the previous report, untouched
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".out")] == []


CLAIMS = (
    "members_written_once",
    "findings_name_roster_members",
    "envelopes_name_households",
    "summary_counts_the_files",
)


def test_a_clean_run_proves_each_file_once(tmp_path, inputs, monkeypatch):
    # Each claim runs as soon as its files are written, some on the writer's threads.
    calls = []
    for name in CLAIMS:
        original = getattr(proof, name)
        monkeypatch.setattr(
            proof, name, lambda *a, _n=name, _o=original: calls.append(_n) or _o(*a)
        )
    assert _run(inputs, tmp_path / "clean").exit_code == 0
    assert sorted(calls) == sorted(CLAIMS)


def test_a_dropped_member_row_is_named(inputs, previous, monkeypatch):
    original = tables.members_frame
    monkeypatch.setattr(tables, "members_frame", lambda r: original(r).head(2))
    # members in input order: 5120-12345678-00, 1000-181800-00, 5120-12345678-01
    _fails(inputs, previous, "members.csv", "5120-12345678-01")


def test_a_doubled_member_row_is_named(inputs, previous, monkeypatch):
    original = tables.members_frame

    def doubled(result):
        frame = original(result)
        return pl.concat([frame.head(1), frame.slice(1, 1), frame.slice(1)])

    monkeypatch.setattr(tables, "members_frame", doubled)
    _fails(inputs, previous, "members.csv row 3", PASSING_ID, "5120-12345678-01")


def test_an_altered_member_id_is_named(inputs, previous, monkeypatch):
    original = tables.members_frame
    monkeypatch.setattr(
        tables,
        "members_frame",
        lambda r: original(r).with_columns(pl.col("member_id").str.replace("-00$", "-0")),
    )
    _fails(
        inputs, previous, "members.csv row 1", "member_id 5120-12345678-0;", "is 5120-12345678-00"
    )


def test_a_finding_naming_no_roster_member_is_named(inputs, previous, monkeypatch):
    original = tables.findings_frame
    monkeypatch.setattr(
        tables,
        "findings_frame",
        lambda r: original(r).with_columns(pl.col("member_id").str.replace("^1000", "1001")),
    )
    _fails(inputs, previous, "findings.csv", "1001-181800-00")


def test_an_envelope_to_no_household_is_named(inputs, previous, monkeypatch):
    original = tables.mailing
    monkeypatch.setattr(
        tables,
        "mailing",
        lambda m, lang: original(m, lang).with_columns(pl.col("household_id") + "9"),
    )
    _fails(inputs, previous, "mailing.csv", "household")


@pytest.mark.parametrize(
    "tamper, said",
    [
        (lambda s: s["members"].update(total=s["members"]["total"] + 1), "members.total"),
        (lambda s: s["findings"].update(total=s["findings"]["total"] - 1), "findings.total"),
        (
            lambda s: s["findings"]["by_check"]["filing.missing"].update(count=0),
            "findings check filing.missing",
        ),
        (
            lambda s: s["findings"]["by_severity"].update(warning=7),
            "findings severity warning",
        ),
    ],
    ids=["members", "findings", "per check", "per severity"],
)
def test_a_summary_count_that_is_not_the_files_rows(inputs, previous, monkeypatch, tamper, said):
    original = model.Summary.as_json

    def wrong(summary):
        counted = original(summary)
        tamper(counted)
        return counted

    monkeypatch.setattr(model.Summary, "as_json", wrong)
    _fails(inputs, previous, "summary.json", said)


# --- written beside Great Expectations -----------------------------------------------------
# GX validates the run on a thread of its own while the files that need none of its
# outcome are written (`output.writer.write`); the rest wait for it.


def _staged(out: Path, name: str) -> bool:
    """Whether a staging folder of `out` (`outdir.replace`) holds the file `name` yet."""
    return any(out.parent.glob(f".{out.name}.tmp-*/{name}"))


def test_the_files_that_need_no_gx_outcome_are_written_while_gx_works(
    inputs, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    original = gx_checks.validate
    staged_first: list[str] = []

    def held_back(*args, **kwargs):
        # GX's outcome is held back until the writer has written what needs none of it.
        # A writer that waited for GX first would never write them: the wait runs out.
        deadline = time.monotonic() + 30
        wanted = ("members.csv", "mailing.csv", "confirm_hr.csv")
        while not all(_staged(out, name) for name in wanted) and time.monotonic() < deadline:
            time.sleep(0.05)
        staged_first.extend(name for name in wanted if _staged(out, name))
        staged_first.extend(n for n in ("findings.csv", "summary.json") if _staged(out, n))
        return original(*args, **kwargs)

    monkeypatch.setattr(gx_checks, "validate", held_back)
    done = _run(inputs, out)
    assert done.exit_code == 0, done.output
    # Written while GX worked; findings.csv and summary.json hold GX's findings: after it.
    assert staged_first == ["members.csv", "mailing.csv", "confirm_hr.csv"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["gx"]["expectations"] == len(gx_checks.gx_catalog())
    # How long the writing waited for GX, beside GX's own time: the thread that waits
    # to write GX's Data Docs is not the run waiting, and is not counted.
    assert summary["seconds"]["gx.waited"] >= 0
    assert summary["seconds"]["gx"] >= summary["seconds"]["gx.waited"]


def test_gx_findings_are_written_after_the_others_with_every_count(tmp_path):
    # Two of three members without a filing: over a 50 % limit, GX warns about the roster.
    people = [
        member(employee="E1", branch="00"),
        member(employee="E1", branch="01", relation="spouse"),
        member(employee="E1", branch="02", relation="child"),
    ]
    roster = write_csv(tmp_path / "roster.csv", people, ROSTER)
    filings = write_csv(tmp_path / "filings.csv", [filing(people[0])], FILINGS)
    policy = tmp_path / "policy.toml"
    policy.write_text("filing_missing_max_percent = 50\n", encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(cli.app, [*run_args(roster, filings, out), "--policy", str(policy)])
    assert done.exit_code == 0, done.output
    written = pl.read_csv(out / "findings.csv", infer_schema=False)
    checks = written["check"].to_list()
    assert checks[-1] == "gx.filing_missing_share", checks
    assert not any(c.startswith("gx.") for c in checks[:-1])
    assert written.row(-1, named=True)["detail"] == "3 行中 2 行（66.7%）"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["findings"]["total"] == written.height
    assert summary["findings"]["by_check"]["gx.filing_missing_share"]["count"] == 1


def test_a_gx_failure_while_the_report_is_written_leaves_the_previous_report(
    inputs, previous, monkeypatch
):
    def broken(*args, **kwargs):
        raise InvariantError("GX suite recon.members: notice_is_one_value could not run: probe")

    monkeypatch.setattr(gx_checks, "validate", broken)
    _fails(inputs, previous, "notice_is_one_value could not run")
