"""What the generator's phases build and its defect injectors change: a chunk in progress.

A `Draft` holds one chunk's members as numpy arrays (who they are: household,
position, relation, sex, names as table indices) and its two files as polars
frames that still carry helper columns (dates as dates, the member a filing
belongs to, whether its spelling differs from the roster's only by variants).
Injectors change the frames through `Draft`'s methods and record the findings
they cause with `expect_*`; the last phase renders the text and turns the
recorded findings into `truth` rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from recon.synthetic import kana as K
from recon.synthetic.tables import (
    FEMALE,
    FOREIGN_FEMALE,
    FOREIGN_MALE,
    FOREIGN_SURNAMES,
    GIVEN_VARIANTS,
    MALE,
    SURNAMES,
)

_WEIGHTS = np.array([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2])


def check_digits(body: np.ndarray) -> np.ndarray:
    """The My Number check digit of 11-digit integers (総務省令第85号 第5条)."""
    digits = (body[:, None] // (10 ** np.arange(10, -1, -1))) % 10
    r = (digits * _WEIGHTS).sum(axis=1) % 11
    return np.where(r <= 1, 0, 11 - r)


def my_numbers(serial: np.ndarray, seed: int) -> pl.Series:
    """Distinct synthetic My Numbers for distinct serials: 9 + 10 scrambled digits + check.

    An affine map modulo 10^10 with a multiplier prime to 10 is a permutation,
    so two serials never share a number (random draws would collide at 1M).
    """
    mult = 7_919_345_677 + 20 * (seed % 1000)  # odd, not a multiple of 5
    body = 9 * 10**10 + (serial.astype(np.int64) * mult + 1_234_567 * seed) % 10**10
    return pl.Series(body * 10 + check_digits(body)).cast(pl.String)


def encodes(text: str) -> bool:
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def pick(values: list[str], index: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(index, dtype=pl.UInt32))


def excel_serial(d: pl.Expr) -> pl.Expr:
    """What a spreadsheet leaves when a date cell loses its format: days since 1899-12-30."""
    return (d.cast(pl.Int32) + 25569).cast(pl.String)


class Spellings:
    """One name table, flattened: entry i's standard spelling, then its variants.

    Variants outside CP932 come last, so that a side written in CP932 draws
    only from the first `allowed(utf8=False)[i]` of them.
    """

    def __init__(self, entries: list[tuple[str, list[str]]]):
        self.flat: list[str] = []
        offsets, cp932, every = [], [], []
        for standard, variants in entries:
            variants = sorted(variants, key=lambda v: not encodes(v))
            offsets.append(len(self.flat))
            self.flat += [standard, *variants]
            cp932.append(sum(encodes(v) for v in variants))
            every.append(len(variants))
        self.offset = np.array(offsets)
        self._cp932, self._every = np.array(cp932), np.array(every)

    def allowed(self, utf8: bool) -> np.ndarray:
        return self._every if utf8 else self._cp932

    def spell(self, entry: np.ndarray, variant: np.ndarray) -> pl.Series:
        return pick(self.flat, self.offset[entry] + variant)


@dataclass
class Tables:
    """The name tables, spelled once per chunk size (never per row).

    Surnames: Japanese ones, then foreign ones (index `>= japanese_surnames`).
    Given names per sex: Japanese, then foreign; `alt` is another person's kanji
    with the same reading, `alt_kana` another reading of the same kanji.
    """

    surname: Spellings
    surname_kana: list[list[str]]
    surname_small: np.ndarray
    japanese_surnames: int
    given: dict[int, Spellings]
    given_alt: dict[int, list[str]]
    given_kana: dict[int, list[list[str]]]
    given_alt_kana: dict[int, list[list[str]]]
    given_small: dict[int, np.ndarray]
    japanese_given: int

    @staticmethod
    def build() -> Tables:
        surnames = [(s, v.split("|") if v else []) for s, v, _ in SURNAMES]
        surnames += [(s, []) for s in FOREIGN_SURNAMES]
        readings = [r for _, _, r in SURNAMES] + list(FOREIGN_SURNAMES)
        given, alt, kana_, alt_kana, small = {}, {}, {}, {}, {}
        for sex, table, foreign in ((1, MALE, FOREIGN_MALE), (2, FEMALE, FOREIGN_FEMALE)):
            rows = [(g[0], g[1], g[2], g[3]) for g in table] + [(f, f, f, f) for f in foreign]
            given[sex] = Spellings(
                [(g, [GIVEN_VARIANTS[g]] if g in GIVEN_VARIANTS else []) for g, *_ in rows]
            )
            alt[sex] = [r[1] for r in rows]
            kana_[sex] = [K.spellings(r[2]) for r in rows]
            alt_kana[sex] = [K.spellings(r[3]) for r in rows]
            small[sex] = np.array([K.has_small(r[2]) for r in rows])
        assert len(MALE) == len(FEMALE)
        return Tables(
            surname=Spellings(surnames),
            surname_kana=[K.spellings(r) for r in readings],
            surname_small=np.array([K.has_small(r) for r in readings]),
            japanese_surnames=len(SURNAMES),
            given=given,
            given_alt=alt,
            given_kana=kana_,
            given_alt_kana=alt_kana,
            given_small=small,
            japanese_given=len(MALE),
        )


def _kana_pick(forms: list[list[str]], index: np.ndarray, style: np.ndarray) -> pl.Series:
    flat = [f for entry in forms for f in entry]
    return pick(flat, index * 6 + style)


@dataclass
class People:
    """The members of a chunk, one array element each, in roster order."""

    hh: np.ndarray  # household, 0-based inside the chunk
    pos: np.ndarray  # position inside the household (0 = the insured person)
    relation: np.ndarray  # code: index into generate.RELATION_CODES
    sex: np.ndarray  # 1 male, 2 female
    birth: np.ndarray  # days since 1970-01-01
    surname: np.ndarray  # index into Tables.surname
    given: np.ndarray  # index into Tables.given[sex]
    given_alt: np.ndarray  # spelled with the table's `alt` (same reading, other kanji)
    foreign: np.ndarray
    member_id: pl.Series  # as recon composes it: NFKC 記号-番号-枝番 (two digits)
    branch: np.ndarray  # 枝番 as a number
    household_first: np.ndarray  # per household: its first member's index

    @property
    def n(self) -> int:
        return len(self.hh)


_TRUTH_SCHEMA = {"source": pl.String, "key": pl.Int64, "check": pl.String}


@dataclass
class Draft:
    """A chunk between its phases: members, the two frames with helper columns, findings.

    `roster` has one row per member in member order (`mi`); `filings` one per
    filing with `fid` (unique, fixed at creation), `mi` (its member; -1 for an
    orphan) and `kind` (filing, refile, orphan). The findings are recorded by
    member index (roster) or `fid` (filings) and numbered when rendered.
    """

    tables: Tables
    people: People
    roster: pl.DataFrame
    filings: pl.DataFrame
    rng: np.random.Generator
    seed: int
    next_serial: int  # next My Number serial beyond the members' own
    # The members' household address with its 丁目 moved by one (a wrong address).
    moved_address: Callable[[np.ndarray], pl.Series]
    expected: list[pl.DataFrame] = field(default_factory=list)

    # --- changing the data -----------------------------------------------------

    def set_roster(self, members: np.ndarray, **values: pl.Expr) -> None:
        """Columns of the roster rows of `members` (a boolean mask by member)."""
        where = pl.Series(members)
        self.roster = self.roster.with_columns(
            pl.when(where).then(v).otherwise(pl.col(c)).alias(c) for c, v in values.items()
        )

    def filing_mask(self, members: np.ndarray, kind: str = "filing") -> pl.Series:
        """The filing rows of kind `kind` that belong to `members` (a boolean mask by member)."""
        mi = self.filings["mi"].to_numpy()
        owned = np.zeros(len(mi), bool)
        ok = mi >= 0
        owned[ok] = members[mi[ok]]
        return pl.Series(owned) & (self.filings["kind"] == kind)

    def set_filings(self, rows: pl.Series, **values: pl.Expr | pl.Series) -> None:
        self.filings = self.filings.with_columns(
            pl.when(rows).then(v).otherwise(pl.col(c)).alias(c) for c, v in values.items()
        )

    def add_filings(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Append filing rows (same columns, `fid` given here); returns them with their fids."""
        last = self.filings["fid"].max()  # an int, or None when there are no filings yet
        start = last + 1 if isinstance(last, int) else 0
        rows = rows.with_columns(
            pl.int_range(start, start + rows.height, dtype=pl.Int64).alias("fid")
        )
        self.filings = pl.concat([self.filings, rows.select(self.filings.columns)], how="vertical")
        return rows

    def extra_numbers(self, count: int) -> pl.Series:
        """Valid My Numbers no member owns: for conflicting re-filings and orphans."""
        out = my_numbers(np.arange(self.next_serial, self.next_serial + count), self.seed)
        self.next_serial += count
        return out

    def name(self, members: np.ndarray, surname=None, given=None, alt=None, sep=None) -> pl.Series:
        """Standard spelling of the members' names (or of the given table indices)."""
        p, t = self.people, self.tables
        surname = p.surname[members] if surname is None else surname
        given = p.given[members] if given is None else given
        alt = p.given_alt[members] if alt is None else alt
        sex = p.sex[members]
        zero = np.zeros(len(surname), np.int64)
        s = t.surname.spell(surname, zero)
        g = pl.Series([None] * len(surname), dtype=pl.String)
        for x in (1, 2):
            one = pl.Series(sex == x)
            spelled = t.given[x].spell(given, zero)
            other = pick(t.given_alt[x], given)
            g = pl.select(
                pl.when(one)
                .then(pl.when(pl.Series(alt)).then(other).otherwise(spelled))
                .otherwise(g)
            ).to_series()
        sep = pl.Series(np.full(len(surname), "\u3000") if sep is None else sep)
        return pl.select(pl.concat_str([s, sep, g])).to_series()

    def kana(self, members: np.ndarray, style: np.ndarray, key: str, surname=None, given=None):
        """The members' reading in a spelling style (K.spellings), `key` kana or alt_kana."""
        p, t = self.people, self.tables
        surname = p.surname[members] if surname is None else surname
        given = p.given[members] if given is None else given
        sex = p.sex[members]
        s = _kana_pick(t.surname_kana, surname, style)
        forms = t.given_kana if key == "kana" else t.given_alt_kana
        g = pl.select(
            pl.when(pl.Series(sex == 1))
            .then(_kana_pick(forms[1], given, style))
            .otherwise(_kana_pick(forms[2], given, style))
        ).to_series()
        return pl.select(pl.concat_str([s, pl.lit(" "), g])).to_series()

    # --- recording what it gives ------------------------------------------------

    def expect_roster(self, members: np.ndarray, check: str) -> None:
        """`check` on the roster rows of `members` (a boolean mask by member)."""
        self._expect("roster", np.flatnonzero(members), check)

    def expect_filings(self, rows: pl.Series, check: str) -> None:
        """`check` on filing rows (a boolean mask over `filings`)."""
        self._expect("filings", self.filings.filter(rows)["fid"].to_numpy(), check)

    def expect_filing_ids(self, fids: np.ndarray, check: str) -> None:
        self._expect("filings", fids, check)

    def _expect(self, source: str, keys: np.ndarray, check: str) -> None:
        self.expected.append(
            pl.DataFrame(
                {"source": source, "key": keys.astype(np.int64), "check": check},
                schema=_TRUTH_SCHEMA,
            )
        )
