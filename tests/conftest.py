"""Builders for small, real input files, and a helper that runs the real pipeline on them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import zlib
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from hypothesis import settings

from recon import pipeline
from recon.columns import FILINGS, ROSTER
from recon.policy import Policy, load_policy

# Speed is measured in bench/, never in unit tests: on a loaded CI runner one
# example of a property can take longer than hypothesis' 200 ms default.
settings.register_profile("recon", deadline=None)
settings.load_profile("recon")

AS_OF = dt.date(2025, 6, 30)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """`recon run` on the bundled sample as of AS_OF (the date tests/fixtures/
    build_sample.py derived its expectations for), once per session: its output
    folder and the finished process. Tests read the folder; none changes it."""
    out = tmp_path_factory.mktemp("sample") / "out"
    done = subprocess.run(
        [sys.executable, "-m", "recon", "run", "--as-of", AS_OF.isoformat(), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return out, done


# The reasons of members.csv the bundled sample holds (SPEC §6): the sample is the
# fixture of every decision, and the tests built on it (the sample's, explain's)
# hold it to these. not_registered needs the policy switch: tests cover it alone.
SAMPLE_CERTIFICATE_REASONS = frozenset(
    {
        "no_filing",
        "invalid_my_number",
        "emigrated_before_2015",
        "never_registered",
        "card_none",
        "card_lost",
        "card_renewing",
        "card_returned",
        "opted_out",
        "cert_expired",
        "needs_assistance",
    }
)
SAMPLE_CONFIRM_REASONS = frozenset(
    {
        "my_number_problem",
        "mismatch",
        "no_filing",
        "overseas",
        "emigrated_before_2015",
        "never_registered",
        "hr_confirm_address",
        "filing_problem",
        "roster_problem",
    }
)
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


def fresh_python(script: str) -> subprocess.CompletedProcess:
    """`script` in a fresh interpreter at the project's root: imports start from nothing."""
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def printed_by_fresh_python(script: str) -> str:
    """What `script` prints in a fresh interpreter (stripped); it must end well."""
    done = fresh_python(script)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


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


@pytest.fixture(autouse=True)
def _no_run_left_working():
    """A run's Great Expectations and explain folder go on in threads of their own
    (`pipeline.Later`) until something asks for them. A test that never asks must
    not leave them working into the next test, which may be timing or preparing
    GX's context itself."""
    yield
    for thread in threading.enumerate():
        if thread.name in ("recon-gx", "recon-explain"):
            thread.join(timeout=300)


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


# --- markers (pyproject.toml): where each applies, by file or by test ---------------------
# From a measured run (`pytest --durations=0`). `slow`: over about 2 s on a loaded
# 2-core machine, so that the inner loop (`pytest -m "not slow"`) stays under a minute
# there. The session summary names any test that started a process or took over
# SLOW_SECONDS without its marker, so this table cannot quietly go stale.
SLOW_SECONDS = 2.0
MARKS: dict[str, tuple[str, ...]] = {
    # Whole files: each test runs a whole reconciliation through Great Expectations
    # (1.5-2.5 s each, 10 s for the first), or starts processes. The rules they test
    # end to end are tested stage by stage, fast, in test_sql_stages.py.
    "tests/test_accuracy.py": ("slow",),
    "tests/test_bad_inputs.py": ("slow",),
    "tests/test_ci_texts.py": ("subprocess", "slow"),
    "tests/test_browser.py": ("browser", "subprocess", "slow"),
    "tests/test_cli.py": ("slow",),
    "tests/test_conservation.py": ("slow",),
    "tests/test_gate.py": ("slow",),
    "tests/test_gate_ci.py": ("subprocess", "slow"),
    "tests/test_lang.py": ("subprocess", "slow"),
    "tests/test_gate_example.py": ("subprocess", "slow"),
    "tests/test_gate_scale.py": ("subprocess", "slow"),
    "tests/test_gate_seal.py": ("subprocess", "slow"),
    "tests/test_gx.py": ("slow",),
    "tests/test_gx_public_api.py": ("subprocess", "slow"),
    "tests/test_interrupts.py": ("subprocess", "slow"),
    "tests/test_offline.py": ("slow",),
    "tests/test_outdir.py": ("subprocess", "slow"),
    "tests/test_packaging.py": ("subprocess", "slow"),
    "tests/test_privacy.py": ("slow",),
    "tests/test_proof.py": ("slow",),
    "tests/test_properties.py": ("slow",),
    "tests/test_real_ids.py": ("slow",),
    "tests/test_report.py": ("slow",),
    "tests/test_rules.py": ("slow",),
    "tests/test_sample.py": ("subprocess", "slow"),
    "tests/test_spill.py": ("slow",),
    "tests/test_synthetic.py": ("slow",),
    "tests/test_synthetic.py::test_sample_command_writes_three_files": ("subprocess",),
    "tests/test_synthetic.py::test_a_cp932_roster_beside_utf8_filings": ("subprocess",),
    # Single slow tests: mostly Hypothesis properties over many examples.
    "tests/test_read.py::test_every_encoding_and_format_gives_identical_outputs": ("slow",),
    "tests/test_mistakes.py::test_a_run_on_xls_files_gives_the_outputs_of_the_csv_files": ("slow",),
    "tests/test_dates.py::test_seven_digit_era_form_never_leaves_the_window": ("slow",),
    "tests/test_dates.py::test_output_is_a_plausible_date_or_the_stripped_input": ("slow",),
    "tests/test_dates.py::test_every_spelling_round_trips": ("slow",),
    "tests/test_text.py::test_address_key_is_idempotent": ("slow",),
    "tests/test_text.py::test_kana_plain_is_idempotent": ("slow",),
    "tests/test_findings_schema.py::test_the_runs_findings_are_findings": ("slow",),
    # Imports GX and builds its context in a fresh interpreter: 4-6 s.
    "tests/test_validate.py::test_nothing_imported_in_the_background_changes_the_environment": (
        "slow",
    ),
    "tests/test_waivers.py::test_the_cli_exits_2_for_a_waiver_for_ever": ("subprocess", "slow"),
    # 1.5-3 s each on a loaded machine: whole checks or runs of the sample, in process.
    "tests/test_exit_codes.py::test_too_little_memory_for_the_inputs_is_exit_2_with_an_amount_that_works": (  # noqa: E501
        "slow",
    ),
    "tests/test_exit_codes.py::test_a_key_file_saved_with_a_byte_order_mark_is_the_same_key": (
        "slow",
    ),
    "tests/test_waivers.py::test_the_join_gives_what_the_loop_gives": ("slow",),
    "tests/test_exit_codes.py::test_a_file_the_system_refuses_is_said_in_the_operators_language": (
        "slow",
    ),
    "tests/test_check_scope.py::test_check_says_that_it_matched_nothing": ("slow",),
    "tests/test_validate.py::test_the_run_command_loads_pandera_in_the_background_not_before_reading": (  # noqa: E501
        "slow",
    ),
}


# Single tests that start a process (python -m recon, git, unshare), by file.
STARTS_A_PROCESS: dict[str, tuple[str, ...]] = {
    "tests/test_cli.py": (
        "test_run_on_clean_input_exits_0_and_says_where_the_report_is",
        "test_gate_passes_clean_input_and_fails_on_warning_when_asked",
        "test_gate_fails_on_error",
        "test_missing_column_exits_2_with_one_paragraph_and_no_traceback",
        "test_failed_run_leaves_the_previous_report_untouched",
        "test_bad_as_of_and_bad_policy_exit_2",
        "test_help_is_for_an_operator",
        "test_check_prints_counts_and_writes_nothing",
        "test_brackets_in_a_message_are_printed_not_parsed",
        "test_as_of_at_its_earliest_runs",
        "test_openblas_starts_no_thread_of_its_own_unless_the_user_asks",
        "test_polars_allocator_keeps_freed_memory_a_while_unless_the_user_says_otherwise",
    ),
    "tests/test_gx.py": ("test_preload_in_a_background_thread_while_a_run_imports_and_works",),
    "tests/test_gate.py": (
        "test_a_baseline_ref_outside_git_is_said_in_the_operators_language",
        "test_a_file_git_cannot_give_is_said_by_gits_last_line_only",
    ),
    "tests/test_privacy.py": ("test_every_byte_written_or_printed_by_a_generated_run",),
    "tests/test_real_ids.py": (
        "test_member_ids_are_written_as_read_in_members_and_mailing",
        "test_findings_name_members_and_employee_ids_as_read_and_nothing_blocks_on_them",
        "test_the_shifted_number_is_masked_in_every_file_that_writes_the_name",
        "test_nothing_but_the_shifted_number_is_masked_and_it_is_nowhere_in_full",
        "test_the_explain_folder_quotes_each_members_findings_as_findings_csv_does",
        "test_a_number_shifted_into_a_filings_branch_is_masked_everywhere",
    ),
    "tests/test_spill.py": (
        "test_run_with_memory_limit_and_spill_dir_leaves_nothing_behind",
        "test_check_takes_the_memory_limit_and_spill_dir_too",
        "test_a_spill_folder_left_by_a_killed_run_is_removed_by_the_next_session",
    ),
    "tests/test_interrupts.py": (
        "test_signal_during_writing_rolls_back",
        "test_signal_while_the_program_is_still_loading_exits_130",
        "test_staging_left_by_a_killed_run_is_removed_but_a_live_one_kept",
    ),
    "tests/test_offline.py": ("test_whole_run_in_a_namespace_without_network",),
    "tests/test_validate.py": (
        "test_the_run_command_loads_pandera_in_the_background_not_before_reading",
        "test_nothing_imported_in_the_background_changes_the_environment",
    ),
}


def pytest_collection_modifyitems(config, items):  # noqa: ARG001 - pytest hook signature
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        test = item.nodeid.split("[", 1)[0]
        for name in (*MARKS.get(path, ()), *MARKS.get(test, ())):
            item.add_marker(name)
        if item.originalname in STARTS_A_PROCESS.get(path, ()):
            item.add_marker("subprocess")


_unmarked: dict[str, set[str]] = {"subprocess": set(), "slow": set()}
_seconds: defaultdict[str, float] = defaultdict(float)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):  # noqa: ARG001 - pytest hook signature
    """Notes a test that starts a process (its fixtures included) or is slow, unmarked."""
    real = subprocess.Popen.__init__

    def noted(self, *args, **kwargs):
        if not item.get_closest_marker("subprocess"):
            _unmarked["subprocess"].add(item.nodeid)
        real(self, *args, **kwargs)

    subprocess.Popen.__init__ = noted  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.Popen.__init__ = real  # type: ignore[method-assign]
    if _seconds[item.nodeid] > SLOW_SECONDS and not item.get_closest_marker("slow"):
        _unmarked["slow"].add(item.nodeid)


def pytest_runtest_logreport(report):
    _seconds[report.nodeid] += report.duration


def pytest_terminal_summary(terminalreporter):
    for marker, tests in _unmarked.items():
        if tests:
            terminalreporter.write_line(
                f"not marked {marker} in tests/conftest.py MARKS, but "
                + ("started a process" if marker == "subprocess" else f"over {SLOW_SECONDS} s")
                + ": "
                + ", ".join(sorted(tests)),
                yellow=True,
            )
