"""The privacy boundary (SPEC §9): masking, scrubbing, and the refusal of raw numbers."""

import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recon.errors import InvariantError
from recon.masking import mask_expr, safe_frame, scrub

NUMBER = "123456789018"


@pytest.mark.parametrize(
    "form",
    [
        "1234 - 5678 - 9018",
        "1234  5678  9018",
        "123 456 789 018",
        "1-2-3-4-5-6-7-8-9-0-1-8",
        NUMBER,
        "1234-5678-9018",
        "1234 5678 9018",
        "１２３４５６７８９０１８",
        "１２３４　５６７８　９０１８",
        # From review: spellings the reader accepts (after NFKC) that once slipped through.
        "1234    5678    9018",
        "1234﹣5678﹣9018",
        "𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗𝟎𝟏𝟖",
        "①②③④⑤⑥⑦⑧⑨⓪①⑧",
    ],
)
def test_scrub_masks_every_spelling(form):
    text = f"filing says {form}, please check"
    scrubbed = scrub(text)
    assert form not in scrubbed and "********" in scrubbed and scrubbed.endswith(", please check")
    assert not re.search(r"[0-9０-９](?:\D{0,3}[0-9０-９]){11}", scrubbed.replace("********", ""))
    (masked,) = safe_frame(pl.DataFrame({"detail": [text]}))["detail"]
    assert form not in masked and "********" in masked


@pytest.mark.parametrize(
    "text", ["2024-08-16", "20240816", "1000001", "06139919", "1234567890123", "E12345678901"]
)
def test_scrub_leaves_other_numbers(text):
    assert scrub(text) == text
    assert safe_frame(pl.DataFrame({"v": [text]}))["v"][0] == text


def test_mask_keeps_last_four():
    frame = pl.DataFrame({"n": [NUMBER, "12", None]}, schema={"n": pl.String})
    assert frame.select(mask_expr(pl.col("n"))).to_series().to_list() == [
        "********9018",
        "********",
        "********",
    ]


def test_writers_refuse_a_number_column():
    with pytest.raises(InvariantError):
        safe_frame(pl.DataFrame({"my_number": [NUMBER]}))


@given(
    st.lists(st.sampled_from("0123456789"), min_size=12, max_size=12),
    st.lists(st.text(alphabet=" \u3000-‐－−ー\t", max_size=3), min_size=11, max_size=11),
    st.text(alphabet="abc 山田,:", max_size=8),
)
def test_property_every_spelling_the_reader_accepts_is_masked(digits, separators, context):
    spelled = digits[0] + "".join(s + d for s, d in zip(separators, digits[1:], strict=True))
    text = f"{context}{spelled}{context}"
    for scrubbed in (scrub(text), safe_frame(pl.DataFrame({"t": [text]}))["t"][0]):
        remaining = re.sub(r"\D", "", scrubbed.replace("********", ""))
        assert "".join(digits) not in remaining


@given(
    st.lists(
        st.text(alphabet="0123456789０１２ -ー山a", max_size=40) | st.none(),
        min_size=1,
        max_size=30,
    )
)
def test_property_a_column_is_scrubbed_exactly_like_each_value(cells):
    # safe_frame skips cells with fewer than twelve digits: the result must not differ.
    out = safe_frame(pl.DataFrame({"t": cells}, schema={"t": pl.String}))["t"].to_list()
    assert out == [None if c is None else scrub(c) for c in cells]
