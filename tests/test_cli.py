"""The command line as an operator meets it: exit codes and messages (SPEC §7)."""

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recon import cli
from recon.errors import InputError
from recon.runs import parse_as_of
from tests.conftest import FILINGS, ROSTER, filing, member, write_csv

ROOT = Path(__file__).resolve().parent.parent


def recon(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`python -m recon` from another folder, on this checkout's code (not an installed copy)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "recon", *args], capture_output=True, text=True, cwd=cwd, env=env
    )


def _clean_inputs(tmp_path: Path) -> list[str]:
    insured = member()
    roster = write_csv(tmp_path / "roster.csv", [insured], ROSTER)
    filings = write_csv(tmp_path / "filings.csv", [filing(insured)], FILINGS)
    return ["--roster", str(roster), "--filings", str(filings), "--as-of", "2025-06-30"]


def test_run_on_clean_input_exits_0_and_says_where_the_report_is(tmp_path):
    done = recon("run", *_clean_inputs(tmp_path), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "report.html" in done.stdout and "ready" in done.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".recon-output",  # the marker that lets the next run replace this folder
        "certificates.csv",
        "confirm_hr.csv",
        "confirm_members.csv",
        "confirm_society.csv",
        "explain",  # what `recon explain MEMBER_ID` reads (one parquet file per table)
        "findings.csv",
        "gx",
        "mailing.csv",
        "members.csv",
        "no_my_number.csv",
        "overseas_households.csv",
        "report.html",
        "summary.json",
    ]


def test_gate_passes_clean_input_and_fails_on_warning_when_asked(tmp_path):
    args = _clean_inputs(tmp_path)
    assert recon("gate", *args, "--out", str(tmp_path / "a"), cwd=tmp_path).returncode == 0
    insured = member(employee="E2")  # no filing: filing.missing, a warning
    roster = write_csv(tmp_path / "roster2.csv", [member(), insured], ROSTER)
    args2 = ["--roster", str(roster), *args[2:]]
    assert recon("gate", *args2, "--out", str(tmp_path / "b"), cwd=tmp_path).returncode == 0
    failed = recon(
        "gate", *args2, "--out", str(tmp_path / "c"), "--fail-on", "warning", cwd=tmp_path
    )
    assert failed.returncode == 1 and "FAIL" in failed.stdout


def test_gate_fails_on_error(tmp_path):
    insured = member()
    roster = write_csv(tmp_path / "r.csv", [insured], ROSTER)
    filings = write_csv(tmp_path / "f.csv", [filing(insured, number="123456789019")], FILINGS)
    done = recon(
        "gate",
        "--roster",
        str(roster),
        "--filings",
        str(filings),
        "--out",
        str(tmp_path / "o"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "123456789019" not in done.stdout + done.stderr


def test_missing_column_exits_2_with_one_paragraph_and_no_traceback(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("記号,番号\n1,2\n", encoding="utf-8")
    done = recon("check", "--roster", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert str(bad) in done.stderr and "insurer_number (保険者番号)" in done.stderr


def test_failed_run_leaves_the_previous_report_untouched(tmp_path):
    out = tmp_path / "out"
    assert recon("run", *_clean_inputs(tmp_path), "--out", str(out), cwd=tmp_path).returncode == 0
    before = (out / "members.csv").read_bytes()
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"\xff\xfe\x00")
    done = recon("run", "--roster", str(bad), "--out", str(out), cwd=tmp_path)
    assert done.returncode == 2
    assert (out / "members.csv").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_bad_as_of_and_bad_policy_exit_2(tmp_path):
    args = _clean_inputs(tmp_path)
    assert (
        recon("check", *args[:4], "--policy", str(tmp_path / "none.toml"), cwd=tmp_path).returncode
        == 2
    )
    done = recon("run", *args[:4], "--as-of", "R6.13.1", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2 and "令和7年6月30日" in done.stderr


def test_help_is_for_an_operator(tmp_path):
    done = recon("run", "--help", cwd=tmp_path)
    assert done.returncode == 0
    assert "--as-of" in done.stdout and "加入者台帳" in done.stdout


def test_broken_invariant_exits_3_without_traceback(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from recon import cli, pipeline
    from recon.errors import InvariantError

    def broken(result):
        raise InvariantError("conservation failed: 2 roster rows but 1 distinct member rows")

    monkeypatch.setattr(pipeline, "check_conservation", broken)
    done = CliRunner().invoke(cli.app, ["check", *_clean_inputs(tmp_path)[:4]])
    assert done.exit_code == 3
    assert "internal error" in done.output and "Traceback" not in done.output


def test_check_prints_counts_and_writes_nothing(tmp_path):
    done = recon("check", *_clean_inputs(tmp_path)[:4], cwd=tmp_path)
    assert done.returncode == 0 and "ready" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["filings.csv", "roster.csv"]


def test_brackets_in_a_message_are_printed_not_parsed(tmp_path):
    odd = tmp_path / "roster[old].csv"
    odd.write_text("記号,note[/x]\n1,2\n", encoding="utf-8")  # the message quotes the headers
    done = recon("check", "--roster", str(odd), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "roster[old].csv" in done.stderr and "note[/x]" in done.stderr
    assert "[input.missing_column]" in done.stderr


def _years_later(day, years: int):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("R6.13.16", "is not a date of the calendar; write it like 2025-06-30"),
        ("2025-W27-1", "is not a date"),  # an ISO week date: valid ISO, not what --help promises
        ("", "is not a date"),
        ("2025-02-29", "is not a date"),
        ("2025-13-01", "is not a date"),
        ("令和7年2月29日", "is not a date"),
        ("H27.10.4", "before 2015-10-05"),  # read, then found too early
        ("2015-10-04", "before 2015-10-05, when My Numbers were first assigned"),
        ("1900-01-01", "before 2015-10-05"),
        (_years_later(dt.date.today(), 3).isoformat(), "more than 2 years after today"),
        ("2099-12-31", "more than 2 years after today"),
        ("9999-12-31", "is not a date"),  # past 2099: no date the inputs would take either
    ],
)
@pytest.mark.parametrize("command", ["run", "gate"])
def test_bad_as_of_exits_2_naming_the_option(tmp_path, command, as_of, says):
    out = tmp_path / "out"
    args = [command, *_clean_inputs(tmp_path)[:4], "--as-of", as_of, "--out", str(out)]
    done = CliRunner().invoke(cli.app, args)
    assert done.exit_code == 2, done.output
    assert isinstance(done.exception, SystemExit), done.exception  # never a traceback
    assert "--as-of" in done.output and says in done.output, done.output
    assert not out.exists()


@pytest.mark.parametrize(
    "written",
    [
        "2025-06-30",
        "2025/6/30",
        "2025.6.30",
        "20250630",
        "2025年6月30日",
        "令和7年6月30日",
        "R7.6.30",
        "R07.06.30",
        "r7/6/30",
        "9070630",
        "２０２５－０６－３０",
        " 2025-06-30 ",
    ],
)
def test_as_of_takes_the_date_forms_of_the_inputs(written):
    # SPEC §7: one parser for the inputs' dates and the run date.
    assert parse_as_of(written, dt.date(2025, 7, 1)) == dt.date(2025, 6, 30)


def test_as_of_in_era_form_runs(tmp_path):
    out = tmp_path / "out"
    args = ["run", *_clean_inputs(tmp_path)[:4], "--as-of", "令和7年6月30日", "--out", str(out)]
    done = CliRunner().invoke(cli.app, args)
    assert done.exit_code == 0, done.output
    summary = (out / "summary.json").read_text(encoding="utf-8")
    assert '"as_of": "2025-06-30"' in summary


def test_as_of_limits():
    today = dt.date(2025, 6, 30)
    assert parse_as_of(None, today) == today
    assert parse_as_of("2015-10-05", today) == dt.date(2015, 10, 5)  # the first day of My Numbers
    assert parse_as_of("2027-06-30", today) == dt.date(2027, 6, 30)  # two years ahead, exactly
    assert parse_as_of(" 20250630 ", today) == today  # compact form, as in the inputs
    with pytest.raises(InputError, match="more than 2 years after today"):
        parse_as_of("2027-07-01", today)
    leap = dt.date(2024, 2, 29)
    assert parse_as_of("2026-02-28", leap) == dt.date(2026, 2, 28)
    with pytest.raises(InputError, match="up to 2026-02-28"):
        parse_as_of("2026-03-01", leap)


def test_as_of_at_its_earliest_runs(tmp_path):
    out = tmp_path / "out"
    done = recon(
        "run",
        *_clean_inputs(tmp_path)[:4],
        "--as-of",
        "2015-10-05",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "members.csv").exists()


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    # These tests read recon's English messages (`--lang en`); tests/test_lang.py
    # checks the Japanese default.
    monkeypatch.setenv("RECON_LANG", "en")


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--bogus"],
        ["run", "--as-of"],
        ["run", "--as-of", "2025-02-30", "--out", "/nonexistent/x"],
        ["check", "--bogus"],
        ["gate", "--bogus"],
        ["sample", "--members", "many"],
    ],
)
def test_a_command_alone_says_what_the_whole_application_says(argv, capsys):
    """`recon run …` builds only `run` (the others' imports were a tenth of a
    second before any work began); its options, checks and messages are the
    whole application's."""
    import typer

    def said(app) -> tuple[object, str]:
        try:
            returned = app(argv, standalone_mode=False)  # the command's own refusal: 2
        except Exception as exc:  # noqa: BLE001 - the usage error, compared as printed
            return cli.usage_error(exc), capsys.readouterr().err
        return returned, capsys.readouterr().err

    alone = cli._for(argv)
    assert list(typer.main.get_group(alone).commands) == [argv[0]]
    whole = said(cli._app())
    assert whole[0] is not None
    assert said(alone) == whole


@pytest.mark.parametrize(
    "argv", [[], ["--help"], ["run", "--help"], ["-h", "run"], ["--lang", "en", "run"], ["nope"]]
)
def test_help_and_anything_but_a_command_first_get_the_whole_application(argv):
    import typer

    assert list(typer.main.get_group(cli._for(argv)).commands) == list(cli.COMMANDS)


def _under_main(script: str, variable: str, env: dict[str, str]):
    """`script` (which runs `recon.cli.main`) in a fresh interpreter, with `variable`
    unset unless `env` sets it, as a user would have it."""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != variable} | env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


# numpy's OpenBLAS threads, counted as numpy loads inside the command (`recon.cli.main`).
_BLAS_THREADS = """
import os, sys
from recon import cli

def probe(standalone_mode=True):
    before = len(os.listdir("/proc/self/task"))
    import numpy  # noqa: F401
    print(len(os.listdir("/proc/self/task")) - before, os.environ["OPENBLAS_NUM_THREADS"])

cli.app = probe
sys.argv = ["recon", "run"]
cli.main()
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="threads counted in /proc")
def test_openblas_starts_no_thread_of_its_own_unless_the_user_asks():
    """OpenBLAS spun a thread per core (0.2 CPU-s of a run) for algebra recon never does."""

    def printed(**env: str) -> str:
        return _under_main(_BLAS_THREADS, "OPENBLAS_NUM_THREADS", env).stdout.strip()

    assert printed() == "0 1"
    assert printed(OPENBLAS_NUM_THREADS="2") == "1 2"  # the user's setting is kept


# The options polars' allocator runs with in a `recon` process: polars is not loaded
# before `recon.cli.main` sets them up, and a polars started with that environment
# prints them (jemalloc's `stats_print`, at an exit `main` itself skips).
_ALLOCATOR_OPTIONS = """
import os, subprocess, sys
from recon import cli

def probe(standalone_mode=True):
    assert "polars" not in sys.modules
    env = os.environ | {"_RJEM_MALLOC_CONF": os.environ["_RJEM_MALLOC_CONF"] + ",stats_print:true"}
    load = "import polars; polars.DataFrame({'a': [1, 2]}).sum()"
    subprocess.run([sys.executable, "-c", load], env=env, check=True)

cli.app = probe
sys.argv = ["recon", "run"]
cli.main()
"""


def test_polars_allocator_keeps_freed_memory_a_while_unless_the_user_says_otherwise():
    """Large columns went to an arena that gave memory back at once: a quarter of a
    1M run's CPU was the kernel faulting fresh pages in. The name of the variable
    is polars' own: if polars renamed it or changed allocator, this fails."""

    def options(**env: str) -> dict[str, str]:
        done = _under_main(_ALLOCATOR_OPTIONS, "_RJEM_MALLOC_CONF", env)
        found = re.findall(r"opt\.(\w+): (\S+)", done.stderr)
        assert found, done.stderr[-2000:]
        return dict(found)

    ours = options()
    assert (ours["oversize_threshold"], ours["dirty_decay_ms"]) == ("0", "3000")
    assert ours["background_thread"] == "true"  # polars' own settings stay
    theirs = options(_RJEM_MALLOC_CONF="dirty_decay_ms:700")
    assert (theirs["oversize_threshold"], theirs["dirty_decay_ms"]) == ("8388608", "700")
