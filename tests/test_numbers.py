"""Check digits: My Number (総務省令第85号 第5条) against python-stdnum, insurer number (Luhn)."""

import random

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.jp import in_ as stdnum_my_number

from recon.normalize.numbers import (
    digits_only,
    insurer_check_ok,
    my_number_check_ok,
    my_number_problem,
    padded_digits,
)
from tests.conftest import member


def _problems(values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"m": values}, schema={"m": pl.String})
    return frame.select(my_number_problem(digits_only("m"))).to_series().to_list()


def _my_number_ok(values: list[str]) -> list[bool]:
    return pl.DataFrame({"m": values}).select(my_number_check_ok(pl.col("m"))).to_series().to_list()


@pytest.mark.parametrize("number", ["123456789018", "023456789013", "621498320257", "111122223333"])
def test_spec_examples_are_valid(number):
    assert _problems([number]) == [None]


@pytest.mark.parametrize("number", ["123456789010", "123456789011", "123456789019", "621498320258"])
def test_wrong_check_digit(number):
    assert _problems([number]) == ["check_digit"]


def test_input_noise_is_removed_not_repaired():
    assert (
        _problems(["１２３４ ５６７８ ９０１８", "1234-5678-9018", "1234　5678　9018"])
        == [None] * 3
    )
    # Spreadsheet damage is reported, never silently repaired.
    assert _problems(
        ["000000000000", "1.23457E+11", "23456789013", None, "12345", "12345678901a"]
    ) == [
        "placeholder",
        "exponent",
        "lost_leading_zero",
        "empty",
        "length",
        "length",
    ]


def test_agrees_with_stdnum_on_random_numbers():
    rng = random.Random(20261126)
    numbers = [f"{rng.randrange(10**12):012d}" for _ in range(20_000)]
    # Every body with each of its ten possible last digits: exactly one passes.
    numbers += [f"{b:011d}{d}" for b in (0, 1, 10**10, 99999999999) for d in range(10)]
    ours = _my_number_ok(numbers)
    assert ours == [stdnum_my_number.is_valid(n) for n in numbers]
    assert sum(ours) > 1000  # the sample really contains valid numbers


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_property_agrees_with_stdnum(number):
    assert _my_number_ok([number]) == [stdnum_my_number.is_valid(number)]


@pytest.mark.parametrize("number", ["06139919", "01040013", "33120015", "01130012"])
def test_insurer_examples_valid(number):
    assert pl.select(insurer_check_ok(pl.lit(number))).item() is True


def test_insurer_number_agrees_with_luhn():
    rng = random.Random(7)
    numbers = [f"{rng.randrange(10**8):08d}" for _ in range(20_000)]
    ours = pl.DataFrame({"n": numbers}).select(insurer_check_ok(pl.col("n"))).to_series().to_list()
    assert ours == [luhn.is_valid(n) for n in numbers]


@pytest.mark.parametrize(
    "value", ["000000;1", "0104001x", "104001", "010400130", "０１０４００１３"]
)
def test_insurer_check_digit_is_not_judged_on_what_is_not_eight_digits(value):
    # Validation reports these as input.invalid_value; a check digit computed from the
    # digits that happen to be there once added a roster.insurer_number with no detail.
    assert pl.select(insurer_check_ok(pl.lit(value))).item() is None


def test_a_roster_row_with_a_damaged_insurer_number_is_one_invalid_value(reconcile):
    result = reconcile([member(insurer_number="000000;1")], [])
    checks = result.findings.filter(pl.col("field") == "insurer_number")["check"].to_list()
    assert checks == ["input.invalid_value"]


def test_insurer_number_padded_before_checking():
    # 01040013 typed into a spreadsheet comes back as 1040013.
    frame = pl.DataFrame({"i": ["1040013", "01040013", "0104001x", "104001", None]})
    padded = frame.select(padded_digits("i", 8)).to_series().to_list()
    # Only the one zero a spreadsheet drops is restored; a shorter number is reported as given.
    assert padded == ["01040013", "01040013", "0104001x", "104001", None]


def test_a_postal_code_written_with_a_hyphen_is_never_padded():
    # 0600001 typed as a number comes back as 600001: its zero is put back. One
    # written with a hyphen was text to the spreadsheet: a digit short is a typo.
    frame = pl.DataFrame({"p": ["600001", "060-0001", "100-004", "10-00004", "1000004"]})
    padded = frame.select(padded_digits("p", 7, strip="\\-‐−ー")).to_series().to_list()
    # 10-00004 has its seven digits, only the hyphen misplaced: read as 1000004.
    assert padded == ["0600001", "0600001", "100-004", "1000004", "1000004"]


def test_every_spelling_of_a_number_gets_one_key_and_one_verdict(tmp_path):
    """Through `normalize`, where twelve ASCII digits skip the cleaning the others get."""
    from recon.columns import FILINGS
    from recon.normalize import normalize
    from recon.read import read_table
    from tests.conftest import filing, member, write_csv

    spellings = [
        "123456789018",
        "1234 5678 9018",
        "１２３４５６７８９０１８",
        "1234-5678-9018",
        "123456789019",  # wrong check digit
        "23456789013",  # a spreadsheet dropped the leading 0
        "",
    ]
    rows = [filing(member(employee=f"E{i}"), number=n) for i, n in enumerate(spellings)]
    rows[-1]["my_number"] = ""
    raw, _ = read_table(write_csv(tmp_path / "f.csv", rows, FILINGS), "filings")
    out = normalize(raw, "filings")
    assert "my_number" not in out.columns
    assert out["my_number_problem"].to_list() == [None] * 4 + [
        "check_digit",
        "lost_leading_zero",
        "empty",
    ]
    assert out["my_number_masked"].to_list()[:4] == ["********9018"] * 4
    keys = [None if k is None else (k["high"], k["low"]) for k in out["my_number_key"].to_list()]
    assert len(set(keys[:4])) == 1 and keys[4] not in keys[:4] and keys[-1] is None
