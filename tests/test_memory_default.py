"""DuckDB's memory limit when the operator passes no --memory-limit.

An operator never knows to pass one, so the default must keep a big run within
the machine: a share of the machine's memory, or of its cgroup's limit (CI
runners and containers), and inputs too big for that limit copied under it.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from typer.testing import CliRunner

from recon import cli, match, normalize, read, stages, validate
from recon.policy import load_policy
from recon.resources import shipped

GIB = 2**30


def test_the_default_is_a_share_of_the_memory_given_whole_mebibytes():
    assert stages.default_memory_bytes(16 * GIB) == int(16 * GIB * 0.15) // 2**20 * 2**20
    assert stages.default_memory_limit(16 * GIB) == f"{int(16 * GIB * 0.15) // 2**20}MiB"
    # 24 GB machine: ~3.6 GB, the figure bench/README.md measured 5M members under.
    assert stages.default_memory_limit(24 * 10**9) == "3433MiB"


def test_a_small_machine_still_gets_the_floor():
    assert stages.default_memory_bytes(GIB) == stages.DEFAULT_MEMORY_FLOOR
    assert stages.default_memory_bytes(stages.DEFAULT_MEMORY_FLOOR * 10) == (
        stages.DEFAULT_MEMORY_FLOOR * 10 * 15 // 100 // 2**20 * 2**20
    )


def test_unknown_memory_leaves_duckdb_its_own_default(monkeypatch):
    monkeypatch.setattr(stages, "machine_memory", lambda: None)
    assert stages.default_memory_limit() is None
    with stages.session() as con:  # DuckDB's 80 % of the machine: some amount, no error
        assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]


@pytest.mark.parametrize(
    ("v2", "v1", "expected"),
    [
        ("max\n", None, "physical"),  # cgroup v2 without a limit
        ("7516192768\n", None, 7516192768),  # a 7 GiB CI runner (cgroup v2)
        (None, "9223372036854771712\n", "physical"),  # cgroup v1 without a limit
        (None, "4294967296\n", 4294967296),  # cgroup v1, 4 GiB
        (None, None, "physical"),  # no cgroup files at all
    ],
)
def test_a_cgroup_limit_below_the_machine_wins(tmp_path, monkeypatch, v2, v1, expected):
    paths = []
    for name, text in (("memory.max", v2), ("memory.limit_in_bytes", v1)):
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        paths.append(path)
    monkeypatch.setattr(stages, "_CGROUP_LIMITS", tuple(paths))
    physical = stages.os.sysconf("SC_PAGE_SIZE") * stages.os.sysconf("SC_PHYS_PAGES")
    want = physical if expected == "physical" else min(physical, expected)
    assert stages.machine_memory() == want


def test_a_session_without_a_limit_caps_duckdb_at_the_default(monkeypatch):
    monkeypatch.setattr(stages, "machine_memory", lambda: 8 * GIB)
    with stages.session() as con:
        setting = con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert setting == "1.1 GiB"  # 15 % of 8 GiB = 1228 MiB
    with stages.session("2GB") as con:  # an explicit limit is taken as given
        assert con.sql("SELECT current_setting('memory_limit')").fetchall()[0][0] == "1.8 GiB"


@pytest.fixture(scope="module")
def sample_inputs() -> dict[str, pl.DataFrame]:
    frames = {}
    for source in ("roster", "filings"):
        raw, _ = read.read_table(shipped("sample_data") / f"{source}.csv", source)
        frames[source] = validate.validate(normalize.normalize(raw, source), source)
    return {
        "roster": frames["roster"][0],
        "filings": frames["filings"][0],
        "validation_finding": frames["roster"][1].vstack(frames["filings"][1]),
    }


def _copied(con) -> bool:
    tables = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    return {"roster", "filings"} <= tables


@pytest.mark.parametrize(
    ("budget_of", "copied"),
    [
        (lambda held: held * 2 + 2, False),  # the inputs take under half the limit: views
        (lambda held: held * 2 - 2, True),  # over half: copied, so the limit covers them
    ],
    ids=["views", "copied"],
)
def test_inputs_over_half_the_default_limit_are_copied_under_it(
    monkeypatch, sample_inputs, budget_of, copied
):
    inputs = dict(sample_inputs)  # load empties the dict it is given
    held = sum(frame.estimated_size() for frame in inputs.values())
    monkeypatch.setattr(stages, "default_memory_bytes", lambda memory=None: budget_of(held))
    with stages.session("1GB") as con:  # DuckDB needs room for the copies
        match.load(con, inputs, load_policy(), dt.date(2025, 6, 30))
        assert _copied(con) is copied


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "15% of this computer's memory"), ("ja", "メモリの 15%")],
)
def test_help_names_the_default(lang, said, monkeypatch):
    monkeypatch.setenv("RECON_LANG", lang)
    shown = CliRunner().invoke(cli._app(lang), ["run", "--help"]).output
    # The help as one text, unwrapped (Japanese is folded anywhere, without spaces).
    out = "".join(shown.replace("│", " ").split())
    assert said.replace(" ", "") in out
    assert stages.default_memory_limit() in out
