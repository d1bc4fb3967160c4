"""The policy file (SPEC §2): shipped defaults, overrides, and clear refusals."""

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recon import cli
from recon.errors import InputError
from recon.policy import DEFAULT_POLICY, load_policy


@pytest.fixture(autouse=True)
def _english_texts(monkeypatch):
    """These tests read the English messages; tests/test_lang.py reads the Japanese."""
    monkeypatch.setenv("RECON_LANG", "en")


def test_shipped_defaults_are_the_spec_defaults():
    p = load_policy()
    assert (p.notice_snapshot, p.notice_first_wave_from, p.card_issuance_end) == (
        dt.date(2024, 8, 16),
        dt.date(2024, 10, 29),
        dt.date(2024, 12, 1),
    )
    assert (p.notice_second_wave, p.transition_end, p.my_number_system_start) == (
        "2025-01",
        dt.date(2025, 12, 1),
        dt.date(2015, 10, 15),
    )
    assert (p.certificate_max_years, p.kana_fold_small, p.certificate_for_unregistered) == (
        5,
        True,
        False,
    )


def test_override_replaces_only_its_keys(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("my_number_system_start = 2015-10-05\ncertificate_for_unregistered = true\n")
    p = load_policy(path)
    assert (
        p.my_number_system_start == dt.date(2015, 10, 5) and p.certificate_for_unregistered is True
    )
    assert p.notice_snapshot == dt.date(2024, 8, 16)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("notice_snapshot = '2024-08-16'\n", "must be a date written bare"),
        ("certificate_max_years = 'five'\n", "must be a whole number"),
        ("snapshot = 2024-08-16\n", "unknown policy key"),
        ("notice_snapshot = \n", "not valid TOML"),
    ],
)
def test_bad_policy_is_an_input_error(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_policy(path)


# Each bad policy: the file's text and what the message must say; the message must
# also name the file and the key the text starts with.
BAD_POLICIES = [
    # A boolean is not a number, though Python's bool is an int.
    ("certificate_max_years = true", "is a boolean"),
    ("filing_missing_max_percent = false", "is a boolean"),
    # Wrong types in general.
    ("certificate_max_years = 5.0", "is a decimal number"),
    ("certificate_max_years = 'five'", "must be a whole number"),
    ("certificate_max_years = [5]", "is an array"),
    ("kana_fold_small = 1", "must be true or false"),
    ("certificate_for_unregistered = 'yes'", "true or false"),
    ("notice_snapshot = '2024-08-16'", "written bare"),
    ("notice_snapshot = 2024-08-16T09:00:00", "is a date with a time"),
    ("transition_end = 10:00:00", "is a time of day"),
    ("notice_second_wave = 2025-01-01", 'a month in quotes, like "2025-01"'),
    ("notice_second_wave = '2025-13'", "is not a month"),
    ("notice_second_wave = 'January'", "is not a month"),
    # Unknown keys, with a hint when one is close.
    ("snapshot = 2024-08-16", "did you mean notice_snapshot?"),
    ("[notice]\nsnapshot = 2024-08-16", "unknown policy key"),
    # Out of range.
    ("certificate_max_years = 0", "between 1 and 10"),
    ("certificate_max_years = 11", "between 1 and 10"),
    ("certificate_max_years = -5", "out of range"),
    ("filing_missing_max_percent = -1", "between 0 and 100"),
    ("filing_missing_max_percent = 101", "between 0 and 100"),
    ("notice_snapshot = 2204-08-16", "out of range"),
    ("card_issuance_end = 2014-12-01", "between 2021-10-20 and 2030-12-31"),
    ("notice_second_wave = '2205-01'", "between 2021-10 and 2030-12"),
    ("my_number_system_start = 2015-10-04", "out of range"),
    ("my_number_system_start = 2016-01-02", "between 2015-10-05 and 2016-01-01"),
    # Dates that do not exist, or are not written as TOML dates.
    ("notice_snapshot = 2024-02-30", "not a real date"),
    ("transition_end = 2025-02-29", "not a real date"),
    ("transition_end = 2025-13-01", "not a real date"),
    ("notice_snapshot = 2024-8-16", "two-digit month and day, 2024-08-16"),
    # Dates in an impossible order: the message names both keys.
    ("transition_end = 2024-11-30", "card_issuance_end = 2024-12-01 and transition_end"),
    ("notice_snapshot = 2024-12-02", "must not come after card_issuance_end"),
    ("notice_second_wave = '2024-11'", "wrong order"),
    # Not TOML at all: the line and key are named.
    ("notice_snapshot = ", "not valid TOML"),
    ("certificate_max_years = 5\ncertificate_max_years = 6", "line 2"),
    # A date key written twice: the date is right, the repetition is wrong.
    ("notice_snapshot = 2024-08-16\nnotice_snapshot = 2024-08-16", "a key is written twice"),
]


def _bad_policy(tmp_path, text: str) -> tuple[Path, str]:
    """The policy file written from `text`, and the key its message must name."""
    path = tmp_path / "p.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path, re.match(r"\[?(\w+)", text)[1]


@pytest.mark.parametrize(("text", "says"), BAD_POLICIES, ids=[t for t, _ in BAD_POLICIES])
def test_bad_policy_names_file_and_key(tmp_path, text, says):
    path, key = _bad_policy(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert str(path) in message and key in message and says in message, message
    assert str(DEFAULT_POLICY) not in message  # the user's file is at fault, not the shipped one


@pytest.mark.parametrize(("text", "says"), BAD_POLICIES, ids=[t for t, _ in BAD_POLICIES])
def test_bad_policy_exits_2_through_the_cli(tmp_path, text, says):
    path, key = _bad_policy(tmp_path, text)
    done = CliRunner().invoke(cli.app, ["check", "--policy", str(path)])
    assert done.exit_code == 2, done.output
    assert isinstance(done.exception, SystemExit), done.exception  # never a traceback
    assert "Traceback" not in done.output
    assert str(path) in done.output and key in done.output and says in done.output, done.output


@pytest.mark.parametrize("command", ["run", "gate"])
def test_run_and_gate_refuse_a_bad_policy_before_writing(tmp_path, command):
    path = tmp_path / "p.toml"
    path.write_text("certificate_max_years = true\n", encoding="utf-8")
    out = tmp_path / "out"
    done = CliRunner().invoke(cli.app, [command, "--policy", str(path), "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert "certificate_max_years" in done.output and str(path) in done.output
    assert not out.exists()


@pytest.mark.parametrize(
    "text",
    [
        "certificate_max_years = 1\n",
        "certificate_max_years = 10\n",
        "filing_missing_max_percent = 0\n",
        "filing_missing_max_percent = 100\n",
        "my_number_system_start = 2016-01-01\n",
        "notice_snapshot = 2024-02-29\n",  # a leap day is a real date
        "notice_second_wave = '2024-12'\n",  # the month card issuance ended
        "kana_fold_small = false\n",
        "",  # an empty policy keeps every default
    ],
)
def test_values_at_the_limits_are_accepted(tmp_path, text):
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    load_policy(path)


def test_every_problem_is_named_at_once(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("certificate_max_years = true\nkana_fold_small = 'no'\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_policy(path)
    assert "certificate_max_years" in str(caught.value) and "kana_fold_small" in str(caught.value)


def test_a_policy_that_is_not_utf8_is_an_input_error(tmp_path):
    path = tmp_path / "p.toml"
    path.write_bytes("# 方針\ncertificate_max_years = 5\n".encode("cp932"))
    with pytest.raises(InputError, match="not valid TOML: line 1 has bytes that are not UTF-8"):
        load_policy(path)
