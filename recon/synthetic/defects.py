"""Defect injectors: each kind of defect, the change it makes and the findings it must give.

An injector is registered with `@injector(kind, members=…, pool=…)`. The
generator picks the households that carry a defect (at most one each), draws a
kind for each among the injectors their size allows, and calls every injector
once with the members it targets. The injector changes the draft and records,
with `draft.expect_roster` / `draft.expect_filings`, exactly the findings its
change causes; nothing else in the generator knows about it. Adding a check to
recon means adding one injector here.

`pool="domestic"`: Japanese-named households that live in Japan, whose every
member is active and filed (so that the injected defect is the only thing to
find). `pool="overseas"`: households whose insured person is posted abroad.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from recon.synthetic.draft import Draft, excel_serial

Pool = Literal["domestic", "overseas"]


@dataclass(frozen=True)
class Target:
    """The households that drew one kind, and the member(s) it is aimed at.

    `household` is a boolean mask by household, `member` one by member (one
    random member of each household, see `members`), `pos` the members'
    positions inside their household.
    """

    household: np.ndarray
    member: np.ndarray
    in_household: np.ndarray  # by member: the member's household drew this kind
    pos: np.ndarray


@dataclass(frozen=True)
class Injector:
    kind: str
    members: int  # the household needs at least this many members
    pool: Pool
    inject: Callable[[Draft, Target], None]
    # Overseas injectors that need the insured person to have a type with a
    # designated address (single, family_accompanied).
    needs_designated: bool = False


INJECTORS: dict[str, Injector] = {}


def injector(kind: str, members: int = 1, pool: Pool = "domestic", needs_designated=False):
    def register(fn: Callable[[Draft, Target], None]) -> Callable[[Draft, Target], None]:
        if kind in INJECTORS:
            raise ValueError(f"defect kind {kind} registered twice")
        INJECTORS[kind] = Injector(kind, members, pool, fn, needs_designated)
        return fn

    return register


def _first_filing(draft: Draft, t: Target) -> pl.Series:
    return draft.filing_mask(t.member)


# --- the roster's own defects ----------------------------------------------------


@injector("roster_birth_invalid")
def roster_birth_invalid(draft: Draft, t: Target) -> None:
    """An Excel serial where the roster's birth date was (the cell lost its format)."""
    draft.set_roster(t.member, birth_text=excel_serial(pl.col("birth_d")))
    draft.expect_roster(t.member, "input.invalid_value")
    # SPEC §5: a birth date that cannot be read cannot verify the link either; each of
    # the member's filings (still matched by kana and relation) is a `match.birth_date`.
    filed = draft.filing_mask(t.member) | draft.filing_mask(t.member, kind="refile")
    draft.expect_filings(filed, "match.birth_date")


@injector("insurer_number")
def insurer_number(draft: Draft, t: Target) -> None:
    draft.set_roster(t.member, 保険者番号=pl.lit("06139918"))
    draft.expect_roster(t.member, "roster.insurer_number")


@injector("no_insured_none")
def no_insured_none(draft: Draft, t: Target) -> None:
    """The insured person's row says 世帯主 (other): the household has no `self`."""
    draft.set_roster(t.in_household & (t.pos == 0), 続柄=pl.lit("世帯主"))
    draft.expect_roster(t.in_household, "roster.no_insured")


@injector("no_insured_two", members=2)
def no_insured_two(draft: Draft, t: Target) -> None:
    """A dependent's row also says 本人: two insured persons."""
    draft.set_roster(t.in_household & (t.pos == 1), 続柄=pl.lit("本人"))
    draft.expect_roster(t.in_household, "roster.no_insured")


@injector("duplicate_member", members=3)
def duplicate_member(draft: Draft, t: Target) -> None:
    """Two dependents under one 枝番 (the third member is given the second's)."""
    second, third = t.in_household & (t.pos == 1), t.in_household & (t.pos == 2)
    # One of each per household, in household order: the third takes the second's
    # 枝番, spelled as the second's row spells it.
    branch = draft.roster.filter(pl.Series(second))["枝番"]
    column = draft.roster["枝番"].scatter(np.flatnonzero(third), branch)
    draft.roster = draft.roster.with_columns(column)
    p = draft.people
    p.member_id = p.member_id.scatter(
        np.flatnonzero(third), p.member_id.gather(np.flatnonzero(second))
    )
    draft.people.branch[third] = draft.people.branch[second]
    draft.expect_roster(second | third, "roster.duplicate_member")


# --- My Numbers ----------------------------------------------------------------------


@injector("number_format")
def number_format(draft: Draft, t: Target) -> None:
    """Spreadsheet damage and typing: exponent form, a lost digit, zeros, nothing, 13 digits."""
    rows = _first_filing(draft, t)
    form = pl.Series(draft.rng.integers(0, 5, draft.filings.height))
    n = pl.col("my_number")
    bad = (
        pl.when(form == 0)
        .then(pl.lit("9.") + n.str.slice(1, 5) + pl.lit("E+11"))
        .when(form == 1)
        .then(n.str.slice(1))
        .when(form == 2)
        .then(pl.lit("000000000000"))
        .when(form == 3)
        .then(pl.lit(""))
        .otherwise(n + pl.lit("7"))
    )
    draft.set_filings(rows, my_number=bad)
    draft.expect_filings(rows, "my_number.format")


@injector("check_digit")
def check_digit(draft: Draft, t: Target) -> None:
    rows = _first_filing(draft, t)
    n = pl.col("my_number")
    typo = n.str.slice(0, 11) + ((n.str.slice(11).cast(pl.Int32) + 1) % 10).cast(pl.String)
    draft.set_filings(rows, my_number=typo)
    draft.expect_filings(rows, "my_number.check_digit")


@injector("duplicate_within", members=2)
def duplicate_within(draft: Draft, t: Target) -> None:
    """The second member is filed with the insured person's number."""
    p = draft.people
    first, second = t.in_household & (t.pos == 0), t.in_household & (t.pos == 1)
    takers = np.flatnonzero(second)
    givers = p.household_first[p.hh[takers]]
    numbers = _by_member(draft, takers, _first_numbers(draft, givers))
    draft.set_filings(draft.filing_mask(second), my_number=numbers)
    draft.expect_filings(draft.filing_mask(first | second), "my_number.duplicate")


@injector("duplicate_across")
def duplicate_across(draft: Draft, t: Target) -> None:
    """The insured person of every second household gets the previous one's number.

    With an odd count the last household gets the first one's too: three
    members share that number. One household alone has nobody to share with.
    """
    p = draft.people
    households = np.flatnonzero(t.household)
    if len(households) < 2:
        return
    givers, takers = households[0::2], households[1::2]
    if len(households) % 2:
        givers, takers = givers[:-1], np.append(takers, households[-1])
        givers = np.append(givers, households[0])
    takers_m, givers_m = p.household_first[takers], p.household_first[givers]
    numbers = _by_member(draft, takers_m, _first_numbers(draft, givers_m))
    receiving = np.zeros(p.n, bool)
    receiving[takers_m] = True
    draft.set_filings(draft.filing_mask(receiving), my_number=numbers)
    involved = receiving.copy()
    involved[givers_m] = True
    draft.expect_filings(draft.filing_mask(involved), "my_number.duplicate")


@injector("conflict")
def conflict(draft: Draft, t: Target) -> None:
    """A re-filing with another (valid) number: the member has two."""
    first = _first_filing(draft, t)
    again = _refile(draft, draft.filings.filter(first))
    again = again.with_columns(my_number=pl.Series(draft.extra_numbers(again.height)))
    draft.expect_filings(first, "my_number.conflict")
    added = draft.add_filings(again)
    draft.expect_filing_ids(added["fid"].to_numpy(), "my_number.conflict")


def _refile(draft: Draft, rows: pl.DataFrame) -> pl.DataFrame:
    """The same filing sent again 200 days later (no later than the data's last day)."""
    return rows.with_columns(
        filed_d=pl.min_horizontal(
            pl.col("filed_d") + pl.duration(days=200), pl.lit(dt.date(2025, 5, 31))
        ),
        kind=pl.lit("refile"),
    )


def _first_numbers(draft: Draft, members: np.ndarray) -> pl.Series:
    """The number of each member's first filing, in the order of `members`."""
    first = draft.filings.filter(pl.col("kind") == "filing").select("mi", "my_number")
    wanted = pl.DataFrame({"mi": members.astype(np.int64)})
    return wanted.join(first, on="mi", how="left", maintain_order="left")["my_number"]


def _by_member(draft: Draft, members: np.ndarray, values: pl.Series) -> pl.Series:
    """Values given for `members` (indices), spread onto every filing row they own."""
    lookup = pl.DataFrame({"mi": members.astype(np.int64), "value": values})
    rows = draft.filings.select("mi")
    return rows.join(lookup, on="mi", how="left", maintain_order="left")["value"]


# --- filings -------------------------------------------------------------------------


@injector("orphan")
def orphan(draft: Draft, t: Target) -> None:
    """A filing for someone the roster does not know: an unknown employee id (even
    households) or a new baby not yet added (odd ones)."""
    rows = draft.filings.filter(_first_filing(draft, t))
    orphans = rows.with_columns(
        employee_id=pl.when(pl.col("hh") % 2 == 0)
        .then(pl.lit("X") + pl.col("employee_id"))
        .otherwise(pl.col("employee_id")),
        relation=pl.lit("子"),
        name=pl.lit("未登録\u3000乳児"),
        name_kana=pl.lit("ミトウロク\u3000ニュウジ"),
        birth_d=pl.lit(dt.date(2025, 3, 3)),
        birth_text=pl.lit(None, pl.String),
        my_number=pl.Series(draft.extra_numbers(rows.height)),
        branch=pl.lit(""),
        filed_d=pl.lit(dt.date(2025, 4, 1)),
        mi=pl.lit(-1, pl.Int64),
        kind=pl.lit("orphan"),
        name_var=pl.lit(False),
        kana_var=pl.lit(False),
    )
    added = draft.add_filings(orphans)
    draft.expect_filing_ids(added["fid"].to_numpy(), "filing.orphan")


@injector("missing")
def missing(draft: Draft, t: Target) -> None:
    """The employer never filed this member: `filing.missing` (found by the final phase,
    which expects it for every active member without a filing)."""
    draft.filings = draft.filings.filter(~_first_filing(draft, t))


@injector("filing_birth_invalid")
def filing_birth_invalid(draft: Draft, t: Target) -> None:
    rows = _first_filing(draft, t)
    draft.set_filings(rows, birth_text=excel_serial(pl.col("birth_d")))
    draft.expect_filings(rows, "input.invalid_value")
    draft.expect_filings(rows, "match.birth_date")  # SPEC §5: the link cannot be verified


# --- a filing that disagrees with its member -----------------------------------------


@injector("birth_date")
def birth_date(draft: Draft, t: Target) -> None:
    """A typo of a day, a month, a year or a decade, away from the era edges."""
    rows = _first_filing(draft, t)
    shift = draft.rng.choice([1, 10, 31, 365, 3650], draft.filings.height)
    sign = pl.when(pl.col("birth_d") < pl.date(1990, 1, 1)).then(1).otherwise(-1)
    days = pl.lit(pl.Series(shift)) * sign
    draft.set_filings(rows, birth_d=pl.col("birth_d") + pl.duration(days=days))
    draft.expect_filings(rows, "match.birth_date")


@injector("sex")
def sex(draft: Draft, t: Target) -> None:
    rows = _first_filing(draft, t)
    draft.set_filings(rows, sex=(3 - pl.col("sex").cast(pl.Int32)).cast(pl.String))
    draft.expect_filings(rows, "match.sex")


def _on_targets(draft: Draft, t: Target, values: pl.Series) -> pl.Series:
    """Member-indexed values of the targets spread onto the filing rows."""
    return _by_member(draft, np.flatnonzero(t.member), values)


@injector("other_person")
def other_person(draft: Draft, t: Target) -> None:
    """Another person's name and reading filed under this member's 枝番: identity."""
    p, tab = draft.people, draft.tables
    rows = _first_filing(draft, t)
    m = t.member
    surname = (p.surname[m] + 1) % tab.japanese_surnames
    given = (p.given[m] + 3) % tab.japanese_given
    style = draft.rng.integers(0, 6, m.sum())
    draft.set_filings(
        rows,
        name=_on_targets(draft, t, draft.name(m, surname=surname, given=given)),
        name_kana=_on_targets(draft, t, draft.kana(m, style, "kana", surname, given)),
        branch=_on_targets(draft, t, _branch_text(draft, m)),
        name_var=pl.lit(False),
        kana_var=pl.lit(False),
    )
    draft.expect_filings(rows, "match.identity")


def _branch_text(draft: Draft, members: np.ndarray) -> pl.Series:
    return pl.Series(draft.people.branch[members]).cast(pl.String).str.zfill(2)


def _moved(draft: Draft, t: Target, rows: pl.Series) -> dict[str, pl.Expr | pl.Series]:
    """The filing gives an address one 丁目 off the household's."""
    return dict(
        address=_on_targets(draft, t, draft.moved_address(t.member)),
        give_address=pl.lit(True),
    )


def _other_reading(draft: Draft, t: Target, rows: pl.Series, moved: bool = False) -> None:
    """The filing reads the member's kanji another way, in a random kana style
    (and, `moved`, gives another address)."""
    style = draft.rng.integers(0, 6, t.member.sum())
    draft.set_filings(
        rows,
        name_kana=_on_targets(draft, t, draft.kana(t.member, style, "alt_kana")),
        kana_var=pl.lit(False),
        **(_moved(draft, t, rows) if moved else {}),
    )


@injector("kana_and_address")
def kana_and_address(draft: Draft, t: Target) -> None:
    rows = _first_filing(draft, t)
    _other_reading(draft, t, rows, moved=True)
    draft.expect_filings(rows, "match.identity")


@injector("name")
def name(draft: Draft, t: Target) -> None:
    """The same reading in other kanji (太郎/太朗): another person's name, a warning."""
    m = t.member
    rows = _first_filing(draft, t)
    flipped = draft.name(m, alt=~draft.people.given_alt[m])
    draft.set_filings(rows, name=_on_targets(draft, t, flipped), name_var=pl.lit(False))
    draft.expect_filings(rows, "match.name")


@injector("name_kana")
def name_kana(draft: Draft, t: Target) -> None:
    """The same kanji read another way (ヒロコ for 洋子)."""
    rows = _first_filing(draft, t)
    _other_reading(draft, t, rows)
    draft.expect_filings(rows, "match.name_kana")


@injector("address")
def address(draft: Draft, t: Target) -> None:
    rows = _first_filing(draft, t)
    draft.set_filings(rows, **_moved(draft, t, rows))
    draft.expect_filings(rows, "match.address")


# --- overseas households -------------------------------------------------------------


@injector("no_designated_address", pool="overseas", needs_designated=True)
def no_designated_address(draft: Draft, t: Target) -> None:
    """A single or family-accompanied household abroad with no domestic address on file."""
    insured = t.in_household & (t.pos == 0)
    draft.set_roster(insured, 国内指定住所=pl.lit(None, pl.String))
    draft.expect_roster(insured, "overseas.no_designated_address")


@injector("unknown_type", pool="overseas")
def unknown_type(draft: Draft, t: Target) -> None:
    """The insured person is overseas and global HR left 海外赴任区分 empty (SPEC rev 2)."""
    insured = t.in_household & (t.pos == 0)
    draft.set_roster(insured, 海外赴任区分=pl.lit(""))
    draft.expect_roster(insured, "overseas.unknown_type")
