"""The privacy boundary (SPEC §9): masking, scrubbing, and the refusal of raw numbers."""

import polars as pl
import pytest

from recon.errors import InvariantError
from recon.masking import mask_my_number, safe_frame, scrub

NUMBER = "123456789018"


@pytest.mark.parametrize(
    "form",
    [
        NUMBER,
        "1234-5678-9018",
        "1234 5678 9018",
        "１２３４５６７８９０１８",
        "１２３４　５６７８　９０１８",
    ],
)
def test_scrub_masks_every_spelling(form):
    text = f"filing says {form}, please check"
    scrubbed = scrub(text)
    assert form not in scrubbed and "********" in scrubbed and scrubbed.endswith(", please check")
    (masked,) = safe_frame(pl.DataFrame({"detail": [text]}))["detail"]
    assert form not in masked and "********" in masked


@pytest.mark.parametrize(
    "text", ["2024-08-16", "20240816", "1000001", "06139919", "1234567890123", "E12345678901"]
)
def test_scrub_leaves_other_numbers(text):
    assert scrub(text) == text
    assert safe_frame(pl.DataFrame({"v": [text]}))["v"][0] == text


def test_mask_keeps_last_four():
    assert mask_my_number(NUMBER) == "********9018"
    assert mask_my_number("12") == "********"
    assert mask_my_number(None) == "********"


def test_writers_refuse_a_number_column():
    with pytest.raises(InvariantError):
        safe_frame(pl.DataFrame({"my_number": [NUMBER]}))
