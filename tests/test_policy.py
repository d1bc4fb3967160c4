"""The policy file (SPEC §2): shipped defaults, overrides, and clear refusals."""

import datetime as dt

import pytest

from recon.errors import InputError
from recon.policy import load_policy


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
        ("notice_snapshot = '2024-08-16'\n", "should be a date"),
        ("certificate_max_years = 'five'\n", "should be a int"),
        ("snapshot = 2024-08-16\n", "unknown policy key"),
        ("notice_snapshot = \n", "not valid TOML"),
    ],
)
def test_bad_policy_is_an_input_error(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_policy(path)
