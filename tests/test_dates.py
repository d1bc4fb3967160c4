"""Tests for recon.normalize.dates.iso_dates (Western and 和暦 dates -> ISO)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.normalize.dates import iso_dates, parse_date

# --- an independent oracle: plain Python, no regex, no polars ----------------

# letter, 元号, pension-office code, first day (明治 as 1868-01-25 by convention)
ERAS = [
    ("M", "明治", 1, date(1868, 1, 25)),
    ("T", "大正", 3, date(1912, 7, 30)),
    ("S", "昭和", 5, date(1926, 12, 25)),
    ("H", "平成", 7, date(1989, 1, 8)),
    ("R", "令和", 9, date(2019, 5, 1)),
]
HEISEI = ERAS[3]
FIRST = date(1868, 1, 25)
LAST = date(2099, 12, 31)
FULL_WIDTH = str.maketrans(
    "0123456789./-MTSHRmtshr", "０１２３４５６７８９．／－ＭＴＳＨＲｍｔｓｈｒ"
)


def era_of(day: date) -> tuple[str, str, int, date]:
    return [era for era in ERAS if era[3] <= day][-1]


def era_forms(day: date) -> list[str]:
    """Every era spelling of `day` the parser must accept."""
    eras = [era_of(day)]
    if day >= date(2019, 5, 1):
        eras.append(HEISEI)  # 平成31年5月1日 and later are still printed and valid
    forms = []
    for letter, kanji, code, first in eras:
        y, m, d = day.year - first.year + 1, day.month, day.day
        if y > 99:  # 平成100年 has no two-digit spelling
            continue
        forms += [
            f"{kanji}{y}年{m}月{d}日",
            f"{kanji} {y}年 {m}月 {d}日",
            f"{letter}{y}.{m}.{d}",
            f"{letter}{y:02d}.{m:02d}.{d:02d}",
            f"{letter.lower()}{y}/{m}/{d}",
            f"{letter}{y:02d}-{m:02d}-{d:02d}",
            f"{code}{y:02d}{m:02d}{d:02d}",
        ]
        if y == 1:
            forms += [f"{kanji}元年{m}月{d}日", f"{letter}元.{m}.{d}"]
    return forms


def western_forms(day: date) -> list[str]:
    y, m, d = day.year, day.month, day.day
    return [
        day.isoformat(),
        f"{y}-{m}-{d}",
        f"{y}{m:02d}{d:02d}",
        f"{y}/{m}/{d}",
        f"{y}/{m:02d}/{d:02d}",
        f"{y}.{m:02d}.{d:02d}",
        f"{y}.{m}.{d}",
        f"{y}年{m}月{d}日",
    ]


def numeric_era_oracle(text: str) -> str:
    """What a 7-digit EYYMMDD string must become, computed with datetime."""
    by_code = {era[2]: i for i, era in enumerate(ERAS)}
    code, yy, mm, dd = int(text[0]), int(text[1:3]), int(text[3:5]), int(text[5:7])
    if code not in by_code:
        return text
    i = by_code[code]
    first = ERAS[i][3]
    try:
        day = date(first.year + yy - 1, mm, dd)
    except ValueError:
        return text
    end = ERAS[i + 1][3] if i + 1 < len(ERAS) and ERAS[i][0] != "H" else None
    if day < first or (end is not None and day >= end) or not FIRST <= day <= LAST:
        return text
    return day.isoformat()


def parse(values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"d": values}, schema={"d": pl.String})
    return iso_dates(frame, ["d"])["d"].to_list()


def one(value: str | None) -> str | None:
    return parse([value])[0]


# --- examples -----------------------------------------------------------------

VALID = [
    ("2024-08-16", "2024-08-16"),
    ("2024-8-6", "2024-08-06"),
    ("2024/8/16", "2024-08-16"),
    ("20240816", "2024-08-16"),
    ("2024.08.16", "2024-08-16"),
    ("2024-02-29", "2024-02-29"),
    # SPEC revision 2: Gregorian 年月日 and dotted dates
    ("2024.8.16", "2024-08-16"),
    ("2024年8月16日", "2024-08-16"),
    ("2024年08月06日", "2024-08-06"),
    ("2024 年 8 月 16 日", "2024-08-16"),
    ("２０２４年８月１６日", "2024-08-16"),
    ("2024年2月29日", "2024-02-29"),
    ("令和6年8月16日", "2024-08-16"),
    ("平成元年1月8日", "1989-01-08"),
    ("平成1年1月8日", "1989-01-08"),
    ("昭和64年1月7日", "1989-01-07"),
    ("令和 6年 8月 16日", "2024-08-16"),
    ("令和\u30006年8月16日", "2024-08-16"),
    ("R6.8.16", "2024-08-16"),
    ("R06.08.16", "2024-08-16"),
    ("H27.10.15", "2015-10-15"),
    ("S55.3.1", "1980-03-01"),
    ("R6/8/16", "2024-08-16"),
    ("R06-08-16", "2024-08-16"),
    ("r6.8.16", "2024-08-16"),
    ("h27/10/15", "2015-10-15"),
    ("H 1. 1. 8", "1989-01-08"),
    ("5640107", "1989-01-07"),
    ("5590127", "1984-01-27"),  # not the year 559
    ("9060816", "2024-08-16"),
    # full width, NFKC square era signs
    ("２０２４－０８－１６", "2024-08-16"),
    ("令和６年８月１６日", "2024-08-16"),
    ("Ｒ０６．０８．１６", "2024-08-16"),
    ("５６４０１０７", "1989-01-07"),
    ("㋿6年8月16日", "2024-08-16"),
    ("㍻元年1月8日", "1989-01-08"),
    # surrounding whitespace
    ("  2024-08-16\t", "2024-08-16"),
    ("\u3000R6.8.16\u3000", "2024-08-16"),
    # era boundaries: the first and last day of each era
    ("M1.1.25", "1868-01-25"),
    ("1010125", "1868-01-25"),
    ("M45.7.29", "1912-07-29"),
    ("T1.7.30", "1912-07-30"),
    ("大正元年7月30日", "1912-07-30"),
    ("3010730", "1912-07-30"),
    ("T15.12.24", "1926-12-24"),
    ("S1.12.25", "1926-12-25"),
    ("5011225", "1926-12-25"),
    ("S64.01.07", "1989-01-07"),
    ("H1.1.8", "1989-01-08"),
    ("7010108", "1989-01-08"),
    ("H31.4.30", "2019-04-30"),
    ("R1.5.1", "2019-05-01"),
    ("令和元年5月1日", "2019-05-01"),
    ("9010501", "2019-05-01"),
    # 平成 after its end is accepted
    ("H31.05.01", "2019-05-01"),
    ("平成32年1月1日", "2020-01-01"),
    ("7360816", "2024-08-16"),
    # plausibility window edges
    ("1868-01-01", "1868-01-01"),
    ("2099-12-31", "2099-12-31"),
    ("R81.12.31", "2099-12-31"),
]

INVALID = [
    # outside the era
    "M1.1.24",
    "1010124",
    "M45.7.30",
    "T1.7.29",
    "3010729",
    "T15.12.25",
    "S1.12.24",
    "5011224",
    "S64.01.08",
    "昭和64年1月8日",
    "5640108",
    "H1.1.7",
    "平成元年1月7日",
    "7010107",
    "R1.4.30",
    "令和元年4月30日",
    "9010430",
    "R0.5.1",
    # impossible calendar dates
    "R06.13.40",
    "H31.02.30",
    "0000-00-00",
    "2024-02-30",
    "2023-02-29",
    "2024-00-10",
    "2024-01-00",
    "20230229",
    "9050229",  # 令和5 = 2023, not a leap year
    "2023/2/29",
    "2024.02.30",
    "2023年2月29日",
    "2024年13月1日",
    "2024年8月32日",
    "00000000",
    # outside 1868..2099 (an ISO value out of range would come back unchanged
    # whether rejected or not, so the other spellings carry the check)
    "1867-12-31",
    "1867/12/31",
    "18671231",
    "2100/1/1",
    "21000101",
    "0559/01/27",
    "R82.1.1",
    "0559-01-27",
    # other shapes
    "abc",
    "不明",
    "640107",
    "202408161",
    "2590127",  # even digit: not an era code
    "0640107",
    "16/08/2024",
    "08/16/2024",
    "R6年8月16日",
    "24年8月16日",  # a two-digit year with no era
    "2024年8月16",  # 日 missing
    "2024年8月",
    "X6.8.16",
    "令和6.8.16",
    "2024-08-16T00:00:00",
    "2024 08 16",
    "5 640107",
    "R123.1.1",
    "2024-008-16",
]


@pytest.mark.parametrize(("given", "expected"), VALID)
def test_valid_forms(given: str, expected: str) -> None:
    assert one(given) == expected


@pytest.mark.parametrize("given", INVALID)
def test_invalid_is_returned_as_given(given: str) -> None:
    assert one(given) == given


def test_invalid_is_stripped_but_not_otherwise_changed() -> None:
    assert parse(["  abc\u3000", "\tＲ06.13.40 ", " S64.01.08"]) == [
        "abc",
        "Ｒ06.13.40",
        "S64.01.08",
    ]


def test_null_and_blank_become_null() -> None:
    assert parse([None, "", "   ", "\u3000", "\t\n", "2024-08-16"]) == [
        None,
        None,
        None,
        None,
        None,
        "2024-08-16",
    ]


def test_all_null_column_of_null_dtype() -> None:
    frame = pl.DataFrame({"d": [None, None]})
    assert frame.schema["d"] == pl.Null
    out = iso_dates(frame, ["d"])
    assert out.schema["d"] == pl.String
    assert out["d"].to_list() == [None, None]


def test_empty_frame_and_no_columns() -> None:
    empty = pl.DataFrame({"d": []}, schema={"d": pl.String})
    assert iso_dates(empty, ["d"]).shape == (0, 1)
    frame = pl.DataFrame({"d": ["R6.8.16"]})
    assert iso_dates(frame, []).equals(frame)


def test_non_string_column_is_rejected() -> None:
    with pytest.raises(TypeError, match="must be String"):
        iso_dates(pl.DataFrame({"d": [20240816]}), ["d"])


def test_row_order_and_other_columns_preserved() -> None:
    values = ["R6.8.16", "x", None, "20240101", "S64.1.8", "2024-1-2"]
    frame = pl.DataFrame(
        {
            "id": list(range(len(values))),
            "d": values,
            "note": ["R6.8.16"] * len(values),  # a date-looking column not named
        }
    )
    out = iso_dates(frame, ["d"])
    assert out.columns == ["id", "d", "note"]
    assert out["id"].to_list() == list(range(len(values)))
    assert out["note"].to_list() == ["R6.8.16"] * len(values)
    assert out["d"].to_list() == [
        "2024-08-16",
        "x",
        None,
        "2024-01-01",
        "S64.1.8",
        "2024-01-02",
    ]


def test_several_columns_at_once() -> None:
    frame = pl.DataFrame(
        {
            "birth": ["S55.3.1", "5640107", "bad", None],
            "acquired": ["2024/8/16", "S55.3.1", "", "令和元年5月1日"],
            "lost": [None, None, None, None],
            "name": ["山田 太郎", "S55.3.1", "x", "y"],
        },
        schema={"birth": pl.String, "acquired": pl.String, "lost": pl.String, "name": pl.String},
    )
    out = iso_dates(frame, ["birth", "acquired", "lost"])
    assert out["birth"].to_list() == ["1980-03-01", "1989-01-07", "bad", None]
    assert out["acquired"].to_list() == ["2024-08-16", "1980-03-01", None, "2019-05-01"]
    assert out["lost"].to_list() == [None] * 4
    assert out["name"].to_list() == ["山田 太郎", "S55.3.1", "x", "y"]


def test_repeated_values() -> None:
    pattern = ["R6.8.16", "bad", None, "5640107", "2024-02-30", " H1.1.8 "]
    expected = ["2024-08-16", "bad", None, "1989-01-07", "2024-02-30", "1989-01-08"]
    frame = pl.DataFrame({"d": pattern * 5000}, schema={"d": pl.String})
    out = iso_dates(frame, ["d"])
    assert out.height == len(pattern) * 5000
    assert out["d"].to_list() == expected * 5000


# --- properties ---------------------------------------------------------------

dates = st.dates(min_value=FIRST, max_value=LAST)


@settings(max_examples=200, deadline=None)
@given(st.lists(dates, min_size=1, max_size=30))
def test_every_spelling_round_trips(days: list[date]) -> None:
    given_values, expected = [], []
    for day in days:
        forms = western_forms(day) + era_forms(day)
        forms += [form.translate(FULL_WIDTH) for form in forms]
        given_values += forms
        expected += [day.isoformat()] * len(forms)
    assert parse(given_values) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 9_999_999).map(lambda n: f"{n:07d}"), min_size=1, max_size=200))
def test_random_seven_digits_match_oracle(values: list[str]) -> None:
    assert parse(values) == [numeric_era_oracle(v) for v in values]


def test_seven_digit_era_form_never_leaves_the_window() -> None:
    # Every era digit x year x month 00..13 x day 00..32: the whole space
    # where a plausible-looking date could hide, checked against the oracle.
    values = [
        f"{e}{y:02d}{m:02d}{d:02d}"
        for e in range(10)
        for y in range(100)
        for m in range(14)
        for d in range(33)
    ]
    out = parse(values)
    parsed = [o for v, o in zip(values, out, strict=True) if o != v]
    assert parsed, "nothing parsed at all"
    assert all(FIRST.isoformat() <= o <= LAST.isoformat() for o in parsed)
    assert out == [numeric_era_oracle(v) for v in values]


DATE_ISH = "0123456789０１２３４５６７８９-/.年月日元明治大正昭和平成令和MTSHRmtshrX \u3000"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=DATE_ISH, max_size=14), min_size=1, max_size=50))
def test_output_is_a_plausible_date_or_the_stripped_input(values: list[str]) -> None:
    for value, out in zip(values, parse(values), strict=True):
        stripped = value.strip()
        if not stripped:
            assert out is None
        elif out != stripped:
            assert date(1868, 1, 1) <= date.fromisoformat(out) <= LAST


# --- one value: the run date (--as-of) is read by the same rules ---------------


@pytest.mark.parametrize(("given", "expected"), VALID)
def test_parse_date_reads_every_form_the_columns_read(given: str, expected: str) -> None:
    assert parse_date(given) == date.fromisoformat(expected)


@pytest.mark.parametrize("given", [*INVALID, "", "   ", "2025-W27-1"])
def test_parse_date_gives_none_for_what_is_not_a_date(given: str) -> None:
    assert parse_date(given) is None
