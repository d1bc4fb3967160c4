"""The privacy boundary (SPEC §9): masking, scrubbing by knowledge, refusing raw numbers."""

import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.jp import in_ as oracle

from recon.errors import InvariantError
from recon.masking import (
    check_digit_ok,
    error_text,
    mask_expr,
    safe_frame,
    scrub,
    scrub_series,
    shows_my_number,
    written_findings,
)

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
    (masked,) = safe_frame(pl.DataFrame({"detail": [text]}), free_text=["detail"])["detail"]
    assert form not in masked and "********" in masked


@pytest.mark.parametrize(
    "text",
    [
        "2024-08-16",
        "20240816",
        "1000001",
        "06139919",
        "1234567890123",
        "E12345678901",
        "1234 5678 9017",  # twelve digits, the check digit fails: some other number
        "１２３４５６７８９０１７",
        "5120-12345678-00",  # fourteen digits: no window of whole groups holds twelve
        "9123456789018",  # a valid number inside a longer run of digits
        "1234567890185",
    ],
)
def test_scrub_leaves_other_numbers(text):
    assert scrub(text) == text
    assert safe_frame(pl.DataFrame({"v": [text]}), free_text=["v"])["v"][0] == text


def test_identifier_columns_are_written_as_read_whatever_their_digits():
    ids = ["1000-181800-00", "5120-12345678-00", NUMBER]  # the first and last pass the check
    assert scrub("member 1000-181800-00") == "member ********0000"  # in free text: a number
    frame = pl.DataFrame({"member_id": ids, "name": ids})
    out = safe_frame(frame, free_text=["name"])
    assert out["member_id"].to_list() == ids
    assert out["name"].to_list() == ["********0000", "5120-12345678-00", "********9018"]


def test_an_error_keeps_the_identifiers_it_names_and_scrubs_the_rest():
    exc = InvariantError(f"member 1000-181800-00 and name {NUMBER}", identifiers=["1000-181800-00"])
    assert error_text(exc) == "member 1000-181800-00 and name ********9018"
    assert error_text(ValueError("1000-181800-00")) == "********0000"


def test_finding_details_are_scrubbed_by_check_and_field():
    findings = pl.DataFrame(
        {
            "check": ["filing.orphan", "match.name"] + ["input.invalid_value"] * 4,
            "source": ["filings", "filings", "filings", "roster", "roster", "filings"],
            "field": ["employee_id", "name", "employee_id", "address", "branch", "branch"],
            "detail": [
                f"no roster member has employee id {NUMBER}",
                f"roster {NUMBER} / filing 山田",
                f"employee_id (社員番号) str_length: '{NUMBER}x'",
                f"address (住所) str_length: '{NUMBER} 東京'",
                # The roster's 枝番 is part of the member id, written as read anyway;
                # a filing's makes no id: a number shifted into it is masked.
                f"branch: not a 2-digit branch number: '{NUMBER}'",
                f"branch: not a 2-digit branch number: '{NUMBER}'",
            ],
        }
    )
    out = written_findings(findings)["detail"].to_list()
    assert out[0] == findings["detail"][0] and out[2] == findings["detail"][2]
    assert out[1] == "roster ********9018 / filing 山田"
    assert NUMBER not in out[3] and "********9018 東京" in out[3]
    assert out[4] == findings["detail"][4]
    assert out[5] == "branch: not a 2-digit branch number: '********9018'"


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
    with pytest.raises(InvariantError):
        written_findings(pl.DataFrame({"my_number_raw": [NUMBER]}))


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_property_check_digit_agrees_with_python_stdnum(value):
    digits = f"{value:012d}"
    assert check_digit_ok(digits) == oracle.is_valid(digits)
    expected = oracle.is_valid(digits)
    assert (scrub(f"x {digits} y") != f"x {digits} y") == expected
    assert shows_my_number(pl.Series([f"x {digits} y"])).to_list() == [expected]


def _valid(digits: list[str]) -> list[str]:
    """The eleven first digits with the check digit that makes them a My Number."""
    body = "".join(digits[:11])
    return [*digits[:11], next(d for d in "0123456789" if oracle.is_valid(body + d))]


@given(
    st.lists(st.sampled_from("0123456789"), min_size=12, max_size=12),
    st.lists(st.text(alphabet=" \u3000-‐－−ー\t", max_size=3), min_size=11, max_size=11),
    st.text(alphabet="abc 山田,:", max_size=8),
)
def test_property_every_spelling_the_reader_accepts_is_masked(digits, separators, context):
    digits = _valid(digits)
    spelled = digits[0] + "".join(s + d for s, d in zip(separators, digits[1:], strict=True))
    text = f"{context}{spelled}{context}"
    for scrubbed in (scrub(text), scrub_series(pl.Series([text]))[0]):
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
    # The column's pre-filter and vectorized check digit must pick every cell `scrub` changes.
    column = pl.Series("t", cells, dtype=pl.String)
    out = scrub_series(column).to_list()
    assert out == [None if c is None else scrub(c) for c in cells]
    shows = shows_my_number(column).to_list()
    assert shows == [c is not None and scrub(c) != c for c in cells]


@given(
    st.lists(
        st.lists(st.sampled_from("0123456789"), min_size=12, max_size=12).map(_valid)
        | st.text(alphabet="0123456789 -", min_size=1, max_size=6),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from([" ", "-", "、", "山"]),
)
def test_property_a_column_scrubs_valid_numbers_among_other_digits(parts, joint):
    text = joint.join("".join(p) for p in parts)
    assert scrub_series(pl.Series([text]))[0] == scrub(text)
    assert shows_my_number(pl.Series([text]))[0] == (scrub(text) != text)
