"""The gate's comparison stays bounded and gives the same identities as before.

Sizes are checked by row counts, never by time: 10,000 roster rows that share
one member id are one member in the baseline and one finding identity, and no
frame of the comparison grows with the square of anything.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import polars as pl
import pytest

from recon import pipeline
from recon.gate import baseline, flow, keys
from recon.gate.baseline import FILING_IDENTITY, letters
from recon.pipeline import Content
from recon.policy import load_policy
from recon.resources import shipped
from tests.conftest import FILINGS, ROSTER, filing, member, write_csv
from tests.test_gate import AS_OF, KEY, Gate, household

SHARED = 10_000


@pytest.fixture
def gate(tmp_path) -> Gate:
    return Gate(tmp_path)


def _accepted(repo: Path) -> None:
    """The files in `repo` committed as a new repository's accepted revision (HEAD)."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "accepted"], cwd=repo, check=True)


def _gate_at_head(repo: Path, out: Path) -> flow.Done:
    """The gate on the update in `repo`'s working tree, against its HEAD."""
    request = flow.Request(
        roster=repo / "roster.csv",
        filings=repo / "filings.csv",
        as_of=AS_OF,
        out=out,
        baseline_ref="HEAD",
    )
    return flow.run(request, {keys.ENV: KEY})


def _one_id_many_rows():
    """10,000 rows under member id 1234-7-00 (as a broken export repeats one person)."""
    twin = member(employee="E7")
    others = household("E1")
    rows = [dict(twin, name_kana=f"ヤマダ タロウ{'ア' * (i % 3)}") for i in range(SHARED)]
    return [*others, *rows], [filing(others[0]), filing(others[1]), filing(twin)]


def test_ten_thousand_rows_of_one_member_id_stay_one_member_and_one_identity(gate):
    roster, filings = _one_id_many_rows()
    first = gate(roster, filings)
    duplicates = first.result.findings.filter(pl.col("check") == "roster.duplicate_member")
    assert duplicates.height >= SHARED  # every repeated row is reported
    # The comparison frames: one row per finding of the run, not more.
    assert first.outcome.findings.height == first.result.findings.height
    again = gate(roster, filings, baseline=first.written)
    assert again.outcome.passed and again.outcome.count("new") == 0
    assert again.outcome.findings.height == again.result.findings.height
    ids = again.outcome.findings.filter(pl.col("check") == "roster.duplicate_member")
    assert ids["finding_id"].n_unique() == 1
    written = baseline.read(first.written, keys.Key(KEY.encode(), "t"))
    assert written.members.height == 3  # 1234-1-00, 1234-1-01 and the repeated 1234-7-00
    (count,) = written.findings.filter(pl.col("check") == "roster.duplicate_member")["count"]
    assert count == duplicates.height
    assert again.outcome.diff is not None and again.outcome.diff.empty


def test_a_repeated_member_id_in_the_revision_and_the_update_stays_bounded(gate, tmp_path):
    roster, filings = _one_id_many_rows()
    repo = tmp_path / "repo"
    repo.mkdir()
    write_csv(repo / "roster.csv", roster, ROSTER)
    write_csv(repo / "filings.csv", filings, FILINGS)
    _accepted(repo)
    # The update changes one of the repeated rows and adds a new error elsewhere.
    roster[5] = dict(roster[5], address="大阪府大阪市北区梅田1-1-1")
    changed = [filings[0], filing(household("E1")[1], sex="1"), filings[2]]
    write_csv(repo / "roster.csv", roster, ROSTER)
    write_csv(repo / "filings.csv", changed, FILINGS)
    done = _gate_at_head(repo, tmp_path / "out")
    assert done.outcome.findings.height == done.result.findings.height
    (blocking,) = done.outcome.blocking.select("check", "member_id").rows()
    assert blocking == ("match.sex", "1234-1-01")
    assert done.outcome.count("open") >= SHARED  # the repeated rows: known, not new
    assert done.outcome.diff.changed == {"1234-7-00": ["address"]}


# --- identities as before --------------------------------------------------------------


def _reference_ids(result, key: keys.Key) -> list[str]:
    """The per-row definition the gate used before it computed ids in DuckDB."""
    filings = {r["row"]: r for r in result.filing_rows.iter_rows(named=True)}
    ids = []
    for f in result.findings.iter_rows(named=True):
        check, member_id, source, field, line = (
            f["check"],
            f["member_id"],
            f["source"],
            f["field"],
            f["row"],
        )
        row = filings.get(line) if source == "filings" else None
        if member_id:
            ids.append(key.tag("member", check, member_id, field))
        elif row is not None and row.get("employee_id") is not None:
            values = [None if row.get(c) is None else str(row[c]) for c in FILING_IDENTITY]
            ids.append(key.tag("filing", check, field, *values))
        elif line is not None:
            ids.append(key.tag("row", check, source, field, line))
        else:
            ids.append(key.tag("table", check, source, field))
    return [letters(i) for i in ids]


@pytest.mark.parametrize("secret", [b"k" * 32, b"a much longer key " * 8])  # > one block
def test_finding_ids_are_the_keyed_tags_they_always_were(secret):
    result = pipeline.analyse(
        shipped("sample_data") / "roster.csv",
        shipped("sample_data") / "filings.csv",
        load_policy(None),
        dt.date(2025, 6, 30),
        keep_rows=True,
    )
    key = keys.Key(secret, "t")
    rows = baseline.keep(result.roster_rows, result.filing_rows, key, fingerprint=False)
    identified = baseline.identify(result.findings, rows, key)
    kinds = set()
    for f in result.findings.iter_rows(named=True):
        kinds.add("member" if f["member_id"] else "filing" if f["source"] == "filings" else "other")
    assert {"member", "filing"} <= kinds  # the sample has orphan filings and member findings
    assert identified.height == result.findings.height
    assert identified["finding_id"].to_list() == _reference_ids(result, key)
    assert identified.drop("finding_id", "anchor").equals(result.findings)


def test_whole_table_and_row_findings_get_the_same_tags_as_before():
    key = keys.Key(b"z" * 32, "t")
    findings = pl.DataFrame(
        {
            "check": ["gx.members_equal_roster_rows", "input.invalid_value", "roster.x"],
            "severity": ["error", "error", "warning"],
            "member_id": [None, None, ""],
            "source": ["roster", "filings", "roster"],
            "row": [None, 12, 3],
            "field": ["row", None, "sex"],
            "detail": ["", "", ""],
        },
        schema_overrides={"row": pl.Int64},
    )
    identified = baseline.identify(findings, None, key)
    expected = [
        letters(key.tag("table", "gx.members_equal_roster_rows", "roster", "row")),
        letters(key.tag("row", "input.invalid_value", "filings", None, 12)),
        letters(key.tag("row", "roster.x", "roster", "sex", 3)),
    ]
    assert identified["finding_id"].to_list() == expected
    assert identified["anchor"].to_list() == [
        "roster (whole table)",
        "filings row 12",
        "roster row 3",
    ]


# --- roster fingerprints -----------------------------------------------------------------


def _roster(**columns) -> pl.DataFrame:
    base = {"member_id": ["1-1-00", "1-1-01", "2-1-00"], "household_id": ["1-1", "1-1", "2-1"]}
    return pl.DataFrame({**base, **columns})


def test_a_fields_tag_changes_with_its_value_only_and_is_private_to_its_member():
    key = keys.Key(b"f" * 32, "t")
    born = ["1980-04-01", "1980-04-01", "1990-01-01"]
    tags = baseline.roster_fingerprints(_roster(birth_date=born, sex=["1", "2", "1"]), key)
    again = baseline.roster_fingerprints(_roster(birth_date=born, sex=["1", "2", "1"]), key)
    assert tags.equals(again)  # the same member and value: the same tag, every run
    birth = tags[baseline.tag_column("birth_date")].to_list()
    assert birth[0] != birth[1]  # two members born the same day: unrelated tags
    moved = baseline.roster_fingerprints(
        _roster(birth_date=["1980-04-02", *born[1:]], sex=["1", "2", "1"]), key
    )
    differs = [
        f
        for f in baseline.ROSTER_FIELDS
        if moved[baseline.tag_column(f)][0] != tags[baseline.tag_column(f)][0]
    ]
    assert differs == ["birth_date"]
    other_key = baseline.roster_fingerprints(
        _roster(birth_date=born, sex=["1", "2", "1"]), keys.Key(b"g" * 32, "t")
    )
    assert not other_key[baseline.tag_column("sex")].equals(tags[baseline.tag_column("sex")])


def test_tags_survive_the_members_file_round_trip(gate):
    a = household("E1")
    done = gate(a, [filing(a[0]), filing(a[1])])
    read = baseline.read(done.written, keys.Key(KEY.encode(), "t"))
    folder = done.written.parent
    roster = pipeline.analyse(
        folder / "roster.csv",
        folder / "filings.csv",
        load_policy(None),
        dt.date.fromisoformat(AS_OF),
        scope="findings",
        keep_rows=True,
    ).roster_rows
    assert read.members.sort("member_id").equals(
        baseline.roster_fingerprints(roster, keys.Key(KEY.encode(), "t")).sort("member_id")
    )


# --- what the gate holds while the run's peaks pass ----------------------------------


def _git_pair(tmp_path):
    """A repository whose HEAD is an accepted roster, and an update in the working tree."""
    a, b = household("E1"), household("E2")
    repo = tmp_path / "repo"
    repo.mkdir()
    write_csv(repo / "roster.csv", [*a, *b], ROSTER)
    orphan = filing(member(employee="E9"))
    write_csv(repo / "filings.csv", [filing(a[0]), filing(b[0]), orphan], FILINGS)
    _accepted(repo)
    write_csv(repo / "filings.csv", [filing(a[0]), filing(b[0], sex="2")], FILINGS)
    return repo


def test_while_the_pipeline_runs_the_gate_holds_no_revision_bytes_tags_or_identities(
    tmp_path, monkeypatch
):
    repo = _git_pair(tmp_path)
    seen = []
    analyse = pipeline.analyse

    def watched(roster, filings, *args, on_rows, **kwargs):
        def after_rows(roster_rows, filing_rows):
            on_rows(roster_rows, filing_rows)
            # What on_rows kept is parked: tags beside the report, identities compressed.
            parked = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.gate-"))
            files = [f.name for p in tmp_path.iterdir() if p.name in parked for f in p.iterdir()]
            seen.append(
                {
                    "bytes": [len(c.data) for c in (roster, filings) if isinstance(c, Content)],
                    "parked": len(parked),
                    "files": len(files),
                }
            )

        return analyse(roster, filings, *args, on_rows=after_rows, **kwargs)

    monkeypatch.setattr(flow.pipeline, "analyse", watched)
    done = _gate_at_head(repo, tmp_path / "out")
    # The revision's analysis first: its bytes are emptied once read, its members' tags on
    # disk; then the update's, with the revision's tags and its own parked (2 files).
    assert seen == [
        {"bytes": [0, 0], "parked": 1, "files": 1},
        {"bytes": [], "parked": 1, "files": 2},
    ]
    (blocking,) = done.outcome.blocking.select("check", "member_id").rows()
    assert blocking == ("match.sex", "1234-2-00")
    assert done.outcome.count("resolved") == 1  # the orphan filing E9, by its identity
    assert done.outcome.diff is not None and done.outcome.diff.empty
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    read = baseline.read(done.written, keys.Key(KEY.encode(), "t"))
    assert read.members.height == 4


def test_a_killed_gates_parked_folder_is_removed_by_the_next_gate(tmp_path):
    child = subprocess.Popen(["true"])  # its pid is free once it has been waited for
    child.wait()
    a = household("E1")
    left = tmp_path / f".out.gate-{child.pid}-abc123"
    left.mkdir()
    (left / "parked-1.arrow").write_bytes(b"tags")
    alive = tmp_path / f".out.gate-{os.getpid()}-live01"  # this process's: a live gate's
    alive.mkdir()
    request = flow.Request(
        roster=write_csv(tmp_path / "roster.csv", a, ROSTER),
        filings=write_csv(tmp_path / "filings.csv", [filing(a[0])], FILINGS),
        as_of=AS_OF,
        out=tmp_path / "out",
    )
    done = flow.run(request, {keys.ENV: KEY})
    assert not left.exists()
    assert alive.exists()
    assert (done.written / baseline.FILE).is_file()
    assert baseline.read(done.written, keys.Key(KEY.encode(), "t")).members.height == 2


def test_a_parked_frame_comes_back_as_it_was(tmp_path):
    frame = pl.DataFrame(
        {
            "member_id": ["1000-181800-00", None, "5120-12345678-00"],
            "kana": ["ヤマダ\x1fタロウ", "", None],
            "tag": pl.Series([0, 2**32 - 1, 7], dtype=pl.UInt32),
            "row": pl.Series([1, None, 2**40], dtype=pl.Int64),
            "born": [dt.date(1990, 1, 10), None, dt.date(2000, 2, 29)],
        }
    )

    class Holder:
        on_disk = frame
        compressed = frame.clone()

    parking = flow._Parking(flow.Request(out=tmp_path / "out"))
    try:
        with parking.away(Holder, on_disk=("on_disk",), compressed=("compressed",)):
            assert Holder.on_disk is None and Holder.compressed is None
            assert len(list(parking.folder().iterdir())) == 1  # the tags' file; names in memory
        assert Holder.on_disk.equals(frame) and Holder.compressed.equals(frame)
        assert Holder.on_disk.schema == frame.schema == Holder.compressed.schema
        assert list(parking.folder().iterdir()) == []
        with parking.away(Holder, on_disk=("on_disk",)) as back:
            back()  # back before the block ends (the gate's files, inside the report's write)
            assert Holder.on_disk.equals(frame)
            assert list(parking.folder().iterdir()) == []
        assert Holder.on_disk.equals(frame)  # and not twice
    finally:
        parking.close()
    with parking.away(None, on_disk=("members",)):  # no revision: nothing to park
        pass


def test_the_gates_findings_wait_compressed_while_the_report_is_written(gate, monkeypatch):
    outcomes, during_report = [], []
    compare_, write = flow.compare.compare, pipeline.output.write

    def compared(*args, **kwargs):
        outcomes.append(compare_(*args, **kwargs))
        return outcomes[-1]

    def report(*args, **kwargs):
        during_report.append(outcomes[-1].findings)
        return write(*args, **kwargs)

    monkeypatch.setattr(flow.compare, "compare", compared)
    monkeypatch.setattr(pipeline.output, "write", report)
    a = household("E1")
    done = gate(a, [filing(a[0], sex="2"), filing(a[1])])
    assert during_report == [None]
    assert done.outcome.findings.height == done.result.findings.height
    (blocking,) = done.outcome.blocking.select("check", "member_id").rows()
    assert blocking == ("match.sex", "1234-1-00")
    written = (done.written / flow.GATE_JSON).read_text(encoding="utf-8")
    assert '"match.sex"' in written and '"status": "new"' in written
