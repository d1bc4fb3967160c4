"""Synthetic roster and filings with ground truth (`recon sample`).

Built in phases, each vectorized (numpy arrays per household and per member,
text gathered from small precomputed tables and assembled with polars):

1. households: sizes (1-8), who is in them (spouse, children and twins,
   grandchildren, parents and grandparents), their identifiers as real rosters
   hold them (記号 of 1-8 characters, 番号 of 1-8 digits, employee ids of up to
   12 digits), where they live, who is posted abroad;
2. people: each member's relation, sex, birth, names (variant kanji, ヶ/ケ,
   foreign names in katakana, a child with the parent's reading);
3. files: the roster and the filings as employers and the society write them,
   with the benign variation that must give no finding;
4. defects: the households that carry one each go to the registered injector
   of their kind (`recon.synthetic.defects`), which changes the files and
   records the findings it causes;
5. render: dates written out, filings in date order, and the truth: the
   injectors' findings plus those the data itself gives (filing.missing,
   overseas.*, match.name_variant), computed from what was generated, never by
   running recon's own normalization.

Large samples are generated in chunks of whole households (`CHUNK_MEMBERS`
members at a time, see `generate_chunks`), so that memory stays bounded at any
size: each chunk carries its own defects, cross-household ones included, and
its ids, My Numbers and row numbers continue from the chunks before. Up to one
chunk's size the sample is exactly what an unchunked generator gives.

The truth holds for any run date on or after `TRUTH_FROM`: every acquisition,
loss and filing date lies before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

from recon.synthetic.defects import INJECTORS, Target
from recon.synthetic.draft import (
    Draft,
    People,
    Tables,
    check_digits,
    my_numbers,
    pick,
)
from recon.synthetic.tables import KANJI_DIGITS, TOWNS

__all__ = ["CHUNK_MEMBERS", "KINDS", "TRUTH_FROM", "Sample", "generate_chunks", "generate_sample"]
__all__ += ["my_numbers", "styled_date"]

TRUTH_FROM = dt.date(2025, 6, 1)
_EPOCH = dt.date(1970, 1, 1)
INSURER = "06139919"
SYSTEM_START = dt.date(2015, 10, 15)  # policy my_number_system_start (default)


def _day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - _EPOCH).days


_LAST_DAY = _day(2025, 5, 31)  # nothing happens after this in the data
_START = _day(SYSTEM_START.year, SYSTEM_START.month, SYSTEM_START.day)

KINDS = tuple(INJECTORS)
# Households of 1 to 8 members, as a society's roster spreads them.
_SIZES = np.arange(1, 9)
# Roles in a household; People.relation holds the code's (OTHER for the rest).
SELF, SPOUSE, CHILD, PARENT, OTHER, GRANDCHILD, GRANDPARENT = range(7)
RELATION_CODES = ["self", "spouse", "child", "parent", "other"]
_SIZE_P = np.array([0.36, 0.22, 0.19, 0.13, 0.06, 0.025, 0.01, 0.005])
_OFFICE = 300  # households per 事業所: one 記号, one style of ids


@dataclass
class Sample:
    roster: pl.DataFrame  # Japanese headers, text as it would be exported
    filings: pl.DataFrame  # English headers, `my_number` included
    truth: pl.DataFrame  # source, row, member_id, check


# --- dates as people write them ------------------------------------------------


def _era(d: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(letter, kanji, code, year in era) of a Date expression (昭和 .. 令和)."""
    reiwa, heisei = d >= pl.date(2019, 5, 1), d >= pl.date(1989, 1, 8)
    letter = pl.when(reiwa).then(pl.lit("R")).when(heisei).then(pl.lit("H")).otherwise(pl.lit("S"))
    kanji = (
        pl.when(reiwa)
        .then(pl.lit("令和"))
        .when(heisei)
        .then(pl.lit("平成"))
        .otherwise(pl.lit("昭和"))
    )
    code = pl.when(reiwa).then(pl.lit("9")).when(heisei).then(pl.lit("7")).otherwise(pl.lit("5"))
    start = pl.when(reiwa).then(2019).when(heisei).then(1989).otherwise(1926)
    return letter, kanji, code, d.dt.year() - start + 1


def styled_date(d: pl.Expr, style: pl.Expr) -> pl.Expr:
    """0 ISO, 1 2024/8/16, 2 20240816, 3 S55.03.01, 4 昭和55年3月1日 (元年), 5 5550301."""
    letter, kanji, code, year = _era(d)
    y2 = year.cast(pl.String).str.zfill(2)
    m, day = d.dt.month().cast(pl.String), d.dt.day().cast(pl.String)
    m2, d2 = m.str.zfill(2), day.str.zfill(2)
    kanji_year = pl.when(year == 1).then(pl.lit("元")).otherwise(year.cast(pl.String))
    return (
        pl.when(style == 0)
        .then(d.dt.to_string("%Y-%m-%d"))
        .when(style == 1)
        .then(pl.format("{}/{}/{}", d.dt.year(), m, day))
        .when(style == 2)
        .then(d.dt.to_string("%Y%m%d"))
        .when(style == 3)
        .then(pl.format("{}{}.{}.{}", letter, y2, m2, d2))
        .when(style == 4)
        .then(pl.format("{}{}年{}月{}日", kanji, kanji_year, m, day))
        .otherwise(pl.format("{}{}{}{}", code, y2, m2, d2))
    )


def _text(values: list[str], codes: np.ndarray) -> pl.Series:
    """`values[codes]` as a polars Series: numpy string arrays are slow to build and convert."""
    return pick(values, codes.astype(np.int64))


def _digits(x: np.ndarray) -> pl.Series:
    return pl.Series(x.astype(np.int64)).cast(pl.String)


def _date(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


_WIDE = dict(zip("0123456789-E", "０１２３４５６７８９－Ｅ", strict=True))


def _mix(x: np.ndarray, salt: int) -> np.ndarray:
    """A fixed hash of integers (splitmix64): per-office traits that chunking cannot change."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) % np.uint64(1 << 31)


# --- the generator ------------------------------------------------------------------


CHUNK_MEMBERS = 1_000_000  # members generated at once: bounds memory at any size


@dataclass
class _Offsets:
    """Where a chunk starts in the whole sample: its identifiers and rows follow on."""

    member: int  # roster rows (and My Number serials) before this chunk
    household: int  # households before it: 記号-番号 and 社員番号 continue from here
    filing: int  # filing rows before it
    extra: int  # next serial for numbers beyond the members' own (re-filings, orphans)


def generate_sample(
    members: int,
    seed: int = 1,
    defects: float = 0.02,
    utf8: bool = False,
    chunk_members: int = CHUNK_MEMBERS,
    *,
    filings_utf8: bool | None = None,
) -> Sample:
    """A roster of exactly `members` rows, its filings and the findings they must give.

    `defects` is the share of households that carry one defect (the kinds in
    `KINDS`, equally likely among those the household allows); overseas
    households instead carry theirs (no designated address, no type) ten
    times as often, so that a small sample still has some. `utf8`: the files
    are written in UTF-8, so that characters outside CP932 (𠮷, 槗) may appear;
    `filings_utf8` says it for the filings alone (default: as `utf8`).

    Generated `chunk_members` at a time (see `generate_chunks`) and put together;
    up to that size the sample is a single chunk.
    """
    chunks = list(
        generate_chunks(members, seed, defects, utf8, chunk_members, filings_utf8=filings_utf8)
    )
    if len(chunks) == 1:
        return chunks[0]
    return Sample(
        pl.concat([c.roster for c in chunks]),
        pl.concat([c.filings for c in chunks]),
        pl.concat([c.truth for c in chunks]).sort("source", "row", "check"),
    )


def generate_chunks(
    members: int,
    seed: int = 1,
    defects: float = 0.02,
    utf8: bool = False,
    chunk_members: int = CHUNK_MEMBERS,
    *,
    filings_utf8: bool | None = None,
) -> Iterator[Sample]:
    """The sample of `generate_sample` as consecutive chunks of whole households.

    Each chunk is a complete sample of up to `chunk_members` members (its last
    household may be cut short, as the whole sample's is) whose defects, the
    cross-household ones included, stay inside it. Its member ids, employee
    ids, My Numbers and row numbers (roster rows and filing rows, in its truth
    too) continue from the chunks before, so that appending the chunks' files
    in order gives one sample: unique member ids and unique valid My Numbers,
    and a truth whose rows are those of the appended files. The filings are in
    date order inside each chunk. The first chunk draws from `seed` exactly as
    an unchunked sample does; chunk k > 0 from the seed sequence (seed, k).
    """
    if chunk_members < 1:
        raise ValueError("chunk_members must be at least 1")
    tables = Tables.build()
    encodings = (utf8, utf8 if filings_utf8 is None else filings_utf8)
    at = _Offsets(member=0, household=0, filing=0, extra=members)
    for k, start in enumerate(range(0, max(members, 1), chunk_members)):
        n = min(chunk_members, members - start)
        rng = np.random.default_rng(seed if k == 0 else [seed, k])
        sample, households, extras = _chunk(n, seed, defects, tables, rng, at, encodings)
        yield sample
        at = _Offsets(
            member=at.member + n,
            household=at.household + households,
            filing=at.filing + sample.filings.height,
            extra=at.extra + extras,
        )


def _chunk(
    members: int,
    seed: int,
    defects: float,
    tables: Tables,
    rng: np.random.Generator,
    at: _Offsets,
    encodings: tuple[bool, bool],
) -> tuple[Sample, int, int]:
    """One chunk: (its sample, households used, extra number serials used)."""
    h = _households(members, rng, at, seed)
    people, life = _people(h, tables, rng)
    plan = _plan(h, people, life, defects, rng)
    draft = _files(h, people, life, plan, tables, rng, at, seed, encodings)
    for kind, injector in INJECTORS.items():
        chosen = plan.kind == kind
        if chosen.any():
            injector.inject(draft, _target(h, chosen, rng))
    sample = _render(draft, life, at)
    return sample, h.n, draft.next_serial - at.extra


# --- 1. households -------------------------------------------------------------------


@dataclass
class _Households:
    n: int
    size: np.ndarray  # per household (the chunk's last may be cut short)
    hh: np.ndarray  # per member: its household
    pos: np.ndarray  # per member: position in the household
    first: np.ndarray  # per household: index of its first member
    spouse: np.ndarray  # per household: has a spouse (position 1)
    children: np.ndarray  # per household: children, then grandchildren, then elders
    grandchildren: np.ndarray
    parents: np.ndarray
    grandparent: np.ndarray
    birth: np.ndarray  # the insured person's
    acquired: np.ndarray  # the insured person's
    foreign: np.ndarray
    overseas: np.ndarray
    overseas_type: np.ndarray  # 0 posted_alone, 1 single, 2 family_accompanied
    emigrated: np.ndarray
    symbol: pl.Series  # 記号 as written
    symbol_key: pl.Series  # 記号 as recon reads it (NFKC)
    number: pl.Series  # 番号 as written
    employee: pl.Series  # 社員番号
    short_branch: np.ndarray  # the office writes 枝番 with one digit (0, 1 …)
    town: np.ndarray
    chome: np.ndarray
    ban: np.ndarray
    go: np.ndarray
    address_style: np.ndarray


def _households(members: int, rng: np.random.Generator, at: _Offsets, seed: int) -> _Households:
    sizes = rng.choice(_SIZES, size=members, p=_SIZE_P)
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), members) + 1]
    n_h = len(sizes)
    hh = np.repeat(np.arange(n_h), sizes)[:members]
    first_full = np.cumsum(sizes) - sizes
    pos = (np.arange(members) - first_full[hh]).astype(np.int64)
    size = np.bincount(hh, minlength=n_h)

    # Composition: [insured, spouse?, children…, grandchildren…, parents…, grandparent?].
    birth = rng.integers(_day(1958, 1, 1), _day(2003, 12, 31), n_h)
    spouse = (size >= 2) & (rng.random(n_h) < 0.8)
    free = size - 1 - spouse
    parents = np.where((size >= 3) & (rng.random(n_h) < 0.12), 1 + (rng.random(n_h) < 0.5), 0)
    parents = np.minimum(parents, free)
    # A grandparent lives with a young insured person whose parents are alive.
    grandparent = (
        (size >= 5) & (birth >= _day(1985, 1, 1)) & (rng.random(n_h) < 0.3) & (free - parents >= 1)
    ).astype(np.int64)
    rest = free - parents - grandparent
    # Grandchildren live with an older insured person and at least one child.
    grandchildren = np.where(
        (birth < _day(1968, 1, 1)) & (rest >= 2) & (rng.random(n_h) < 0.3),
        np.minimum(1 + (rng.random(n_h) < 0.4), rest - 1),
        0,
    )
    children = rest - grandchildren

    acquired = np.clip(
        birth + 365 * 22 + rng.integers(0, 365 * 25, n_h), _day(1985, 4, 1), _LAST_DAY
    )
    # Some joined in the second-wave window, some after cards stopped (2024-12-02).
    wave = rng.random(n_h)
    acquired = np.where(
        wave < 0.04, rng.integers(_day(2024, 8, 17), _day(2024, 12, 1), n_h), acquired
    )
    acquired = np.where(
        (wave >= 0.04) & (wave < 0.08), rng.integers(_day(2024, 12, 2), _LAST_DAY, n_h), acquired
    )

    # Overseas (about 2%): single households alone, others posted alone (family
    # stays) or with the family; a quarter left before My Numbers existed.
    overseas = rng.random(n_h) < 0.02
    otype = np.where(size == 1, 1, np.where(rng.random(n_h) < 0.5, 0, 2))
    early = rng.random(n_h) < 0.25
    emigrated = np.where(
        early,
        rng.integers(_day(2008, 1, 1), _START - 1, n_h),
        rng.integers(_START + 30, _day(2024, 6, 30), n_h),
    )
    emigrated = np.clip(emigrated, acquired + 1, _LAST_DAY)  # posted abroad after joining
    foreign = rng.random(n_h) < 0.01

    g = np.arange(n_h, dtype=np.int64) + at.household
    symbol, symbol_key, number, employee, short_branch = _identifiers(g, seed)
    return _Households(
        n=n_h,
        size=size,
        hh=hh,
        pos=pos,
        first=first_full,
        spouse=spouse,
        children=children,
        grandchildren=grandchildren,
        parents=parents,
        grandparent=grandparent,
        birth=birth,
        acquired=acquired,
        foreign=foreign,
        overseas=overseas,
        overseas_type=otype,
        emigrated=emigrated,
        symbol=symbol,
        symbol_key=symbol_key,
        number=number,
        employee=employee,
        short_branch=short_branch,
        town=rng.integers(0, len(TOWNS), n_h),
        chome=rng.integers(1, 10, n_h),
        ban=rng.integers(1, 31, n_h),
        go=rng.integers(1, 21, n_h),
        address_style=rng.integers(0, 5, n_h),
    )


def _identifiers(g: np.ndarray, seed: int):
    """記号, 番号, 社員番号 of households numbered `g` across the sample, as offices write them.

    Each office (`_OFFICE` consecutive households) has its own 記号 and its own
    habits, fixed by a hash of its number so that chunking changes nothing:
    記号 of 1-8 characters (digits; a letter and digits; full-width digits),
    番号 counted inside the office from 1, some offices from a base that makes
    them 8 digits, some zero-padded; employee ids `E0001234`, plain digits of
    up to 10, or 12 digits that sometimes pass the My Number check digit
    (they are not My Numbers, and recon must never mask them).

    Unique by construction: the 記号 (as read, NFKC) is `10^(L-1) + office`
    (a letter before it in the letter style), distinct per office at each
    length L and length apart otherwise; 番号 differs inside an office;
    employee ids are a one-to-one function of g in each style, and styles
    never produce the same text.
    """
    office = g // _OFFICE
    salt = seed * 7919

    def trait(k: int) -> np.ndarray:
        return _mix(office, salt + k).astype(np.int64)

    # The shortest length at which 10^(L-1) + office (+ a letter) stays L long.
    style = trait(1) % 10  # 0-5 digits, 6-7 letter and digits, 8-9 full-width digits
    letter = style >= 6
    need = np.select([office < 9, office < 90, office < 900, office < 9000], [1, 2, 3, 4], 5)
    need = need + letter
    extra = np.where(trait(2) % 10 < 4, 0, trait(3) % (9 - need))
    length = np.minimum(need + extra, 8)
    digits = 10 ** (length - 1 - letter) + office
    body = _digits(digits)
    letters = pick(list("ABCDEFGHJKLMNPRSTUVWXYZ"), trait(4) % 23)
    symbol_key = pl.select(
        pl.when(pl.Series(letter)).then(letters + body).otherwise(body)
    ).to_series()
    symbol = pl.select(
        pl.when(pl.Series(style >= 8))
        .then(symbol_key.str.replace_many(_WIDE))
        .otherwise(symbol_key)
    ).to_series()

    in_office = g % _OFFICE + 1
    base = np.where(trait(5) % 10 < 3, (1 + trait(6) % 9) * 10 ** (3 + trait(7) % 5), 0)
    number = _digits(in_office + base)
    pad = np.where(trait(8) % 10 < 3, 4 + trait(9) % 5, 0)
    number = number.str.zfill(pl.Series(pad))

    emp_style = trait(10) % 20  # 0-6 E+7, 7-12 digits, 13-16 12 digits valid, 17-19 invalid
    e_plain = "E" + _digits(g).str.zfill(7)
    e_digits = _digits(g + 1).str.zfill(pl.Series(4 + trait(11) % 7))
    valid_body = 10**10 + g
    invalid_body = 2 * 10**10 + g
    e_valid = _digits(valid_body * 10 + check_digits(valid_body))
    e_invalid = _digits(invalid_body * 10 + (check_digits(invalid_body) + 1) % 10)
    st = pl.Series(emp_style)
    employee = pl.select(
        pl.when(st < 7)
        .then(e_plain)
        .when(st < 13)
        .then(e_digits)
        .when(st < 17)
        .then(e_valid)
        .otherwise(e_invalid)
    ).to_series()
    short_branch = trait(12) % 10 < 2
    return symbol, symbol_key, number, employee, short_branch


# --- 2. people -----------------------------------------------------------------------


@dataclass
class _Life:
    """Per member: what decides findings beyond the defects."""

    acquired: np.ndarray
    overseas: np.ndarray  # the household is abroad
    overseas_member: np.ndarray  # own residence abroad (the insured, an accompanying family)
    own_emigrated: np.ndarray  # -1 when none on the row
    insured_emigrated: np.ndarray  # -1 when the household is at home
    jp_no: np.ndarray  # never registered in Japan, and the roster says so
    no_number: np.ndarray  # has no My Number to file
    role: np.ndarray  # self spouse child grandchild parent grandparent


def _people(h: _Households, t: Tables, rng: np.random.Generator) -> tuple[People, _Life]:
    hh, pos = h.hh, h.pos
    n = len(hh)
    size = h.size[hh]
    base = 1 + h.spouse[hh]
    nc, ngc, npar = h.children[hh], h.grandchildren[hh], h.parents[hh]
    self_ = pos == 0
    spouse = (pos == 1) & h.spouse[hh]
    child = (pos >= base) & (pos < base + nc)
    grandchild = (pos >= base + nc) & (pos < base + nc + ngc)
    parent = (pos >= base + nc + ngc) & (pos < base + nc + ngc + npar)
    grandparent = (pos > 0) & (pos == size - 1) & (h.grandparent[hh] == 1)
    role = np.select(
        [self_, spouse, child, grandchild, parent, grandparent],
        [SELF, SPOUSE, CHILD, GRANDCHILD, PARENT, GRANDPARENT],
        CHILD,
    )
    child_no = pos - base

    h_self_sex = np.where(rng.random(h.n) < 0.75, 1, 2)
    sex = np.where(self_, h_self_sex[hh], 3 - h_self_sex[hh])
    sex = np.where(child | grandchild, rng.integers(1, 3, n), sex)
    two_parents = npar == 2
    first_parent = pos == base + nc + ngc
    sex = np.where(parent & two_parents, np.where(first_parent, 1, 2), sex)
    sex = np.where(parent & ~two_parents, rng.integers(1, 3, n), sex)
    sex = np.where(grandparent, np.where(rng.random(n) < 0.8, 2, 1), sex)

    # Births: children after their parents (twins share a day), grandchildren
    # after the first child, parents and grandparents before the insured person.
    birth = h.birth[hh].copy()
    birth = np.where(
        spouse, np.minimum(birth + rng.normal(0, 900, n).astype(int), _day(2003, 12, 31)), birth
    )
    cap = _day(2025, 4, 30)
    first_child = h.birth + 365 * rng.integers(24, 38, h.n)
    kid = np.minimum(
        first_child[hh] + child_no * 800 + rng.integers(0, 600, n), cap - child_no * 40
    )
    birth = np.where(child, kid, birth)
    twins = (h.children >= 2) & (rng.random(h.n) < 0.04)
    eldest = h.first + 1 + h.spouse  # the first child's index, where there is one
    second = child & (child_no == 1) & twins[hh]
    birth[second] = birth[eldest[hh[second]]]
    gc_no = child_no - nc
    grand = np.minimum(
        first_child[hh] + 365 * rng.integers(20, 28, n) + gc_no * 700, cap - gc_no * 60
    )
    birth = np.where(grandchild, grand, birth)
    elder = h.birth[hh] - 365 * 25 - rng.integers(0, 3650, n)
    birth = np.where(parent, np.maximum(elder, _day(1927, 1, 1)), birth)  # 昭和 on
    oldest = h.birth[hh] - 365 * 50 - rng.integers(0, 3650, n)
    birth = np.where(grandparent, np.maximum(oldest, _day(1927, 1, 1)), birth)

    acquired = np.minimum(
        np.maximum(h.acquired[hh], birth) + rng.integers(0, 30, n) * ~self_, _LAST_DAY
    )

    # Overseas: the insured person and, when accompanied, the family; a child born
    # after the insured person left was born abroad.
    ov = h.overseas[hh]
    family = ov & (h.overseas_type[hh] == 2)
    overseas_member = ov & (self_ | family)
    emig = h.emigrated[hh]
    born_abroad = family & ~self_ & (birth > emig)
    own_emig = np.where(
        ov & self_, emig, np.where(family & ~born_abroad & (rng.random(n) < 0.5), emig, -1)
    )
    jp_no = born_abroad & (rng.random(n) < 0.3)
    no_number = born_abroad | (overseas_member & (emig < _START))

    # Names: the household's surname; distinct given names inside a household
    # (7 is prime to the Japanese table's size, 3 to the foreign one's, and a
    # household has at most 8 members).
    foreign = h.foreign[hh]
    n_jp, n_all = t.japanese_given, len(t.given[1].offset)
    n_fg = n_all - n_jp
    n_fs = len(t.surname.offset) - t.japanese_surnames
    h_sur = np.where(
        h.foreign,
        t.japanese_surnames + rng.integers(0, n_fs, h.n),
        rng.integers(0, t.japanese_surnames, h.n),
    )
    h_given = rng.integers(0, n_jp, h.n)
    given = np.where(foreign, n_jp + (h_given[hh] + 3 * pos) % n_fg, (h_given[hh] + 7 * pos) % n_jp)
    # A son named with his father's reading in other kanji (太郎 and 太朗).
    same_reading = ~h.foreign & (h_self_sex == 1) & (h.children >= 1) & (rng.random(h.n) < 0.05)
    son = child & (child_no == 0) & same_reading[hh] & (sex == 1)
    given = np.where(son, h_given[hh], given)

    branch = pos.copy()
    at_hh = pl.Series(hh, dtype=pl.UInt32)
    member_id = pl.select(
        pl.concat_str(
            h.symbol_key.gather(at_hh),
            h.number.gather(at_hh),
            _digits(branch).str.zfill(2),
            separator="-",
        )
    ).to_series()
    people = People(
        hh=hh,
        pos=pos,
        relation=np.select([self_, spouse, child, parent], [SELF, SPOUSE, CHILD, PARENT], OTHER),
        sex=sex,
        birth=birth,
        surname=h_sur[hh],
        given=given,
        given_alt=son,
        foreign=foreign,
        member_id=member_id,
        branch=branch,
        household_first=h.first,
    )
    life = _Life(
        acquired=acquired,
        overseas=ov,
        overseas_member=overseas_member,
        own_emigrated=own_emig,
        insured_emigrated=np.where(ov, emig, -1),
        jp_no=jp_no,
        no_number=no_number,
        role=role,
    )
    return people, life


# --- defects: which household gets which kind ------------------------------------------


@dataclass
class _Plan:
    kind: np.ndarray  # per household: the injector's kind, "" for none


def _plan(h: _Households, people: People, life: _Life, defects: float, rng) -> _Plan:
    kind = np.full(h.n, "", dtype=object)
    domestic = ~h.overseas & ~h.foreign
    hit = (rng.random(h.n) < defects) & domestic
    capped = np.minimum(h.size, 3)
    for n in (1, 2, 3):
        kinds = [k for k, i in INJECTORS.items() if i.pool == "domestic" and i.members <= n]
        sel = hit & (capped == n)
        kind[sel] = np.array(kinds, dtype=object)[rng.integers(0, len(kinds), sel.sum())]
    abroad = h.overseas & (rng.random(h.n) < min(0.5, defects * 10))
    for designated in (False, True):
        kinds = [
            k
            for k, i in INJECTORS.items()
            if i.pool == "overseas" and (designated or not i.needs_designated)
        ]
        sel = abroad & ((h.overseas_type != 0) == designated)
        kind[sel] = np.array(kinds, dtype=object)[rng.integers(0, len(kinds), sel.sum())]
    return _Plan(kind)


def _target(h: _Households, chosen: np.ndarray, rng: np.random.Generator) -> Target:
    in_household = chosen[h.hh]
    member = in_household & (h.pos == (rng.integers(0, 1 << 30, h.n) % h.size)[h.hh])
    return Target(household=chosen, member=member, in_household=in_household, pos=h.pos)


# --- 3. files ------------------------------------------------------------------------


def _address(town, chome, ban, go, style, kake) -> pl.Series:
    """Addresses in the styles people write (一丁目2番3号, 1-2-3, 1丁目2番地3 …)."""
    city = pick([c for c, _, _ in TOWNS], town)
    city = pl.select(
        pl.when(pl.Series(kake)).then(city.str.replace("ヶ", "ケ")).otherwise(city)
    ).to_series()
    town_name = pick([w for _, w, _ in TOWNS], town)
    c = _digits(chome)
    ck = pick(list(KANJI_DIGITS), chome)
    b, g = _digits(ban), _digits(go)
    st = pl.Series(style)
    number = (
        pl.when(st == 0)
        .then(pl.format("{}丁目{}番{}号", ck, b, g))
        .when(st == 1)
        .then(pl.format("{}-{}-{}", c, b, g))
        .when(st == 2)
        .then(pl.format("{}丁目{}-{}", c, b, g))
        .when(st == 3)
        .then(pl.format("{}-{}-{}", c, b, g).str.replace_many(_WIDE))
        .otherwise(pl.format("{}丁目{}番地{}", c, b, g))
    )
    return pl.select(pl.concat_str([city, town_name, number])).to_series()


def _names(p: People, t: Tables, rng, r_utf8: bool, f_utf8: bool, h: _Households):
    """(roster name, roster kana, filing name, filing kana, name_var, kana_var) per member.

    The society's system keeps 髙/﨑/齋… where employers type 高/崎/斎 (or the
    other way round), writes ヶ or ケ, and older systems keep kana half-width
    and without small kana; hiragana comes on some forms. Foreign names are
    katakana joined by ・ or ＝ or a space. Only variant kanji and small kana
    give a finding (match.name_variant); the rest is plain normalization.
    """
    n, hh = p.n, p.hh
    choice = rng.random

    def variant(spellings, entry, chance, per_household, utf8, keep=None):
        allowed = spellings.allowed(utf8)[entry]
        draw = (choice(h.n)[hh] if per_household else choice(n)) < chance
        v = np.where(
            draw & (allowed > 0), 1 + rng.integers(0, 1 << 30, n) % np.maximum(allowed, 1), 0
        )
        if keep is not None:  # mostly as the other side spells it, where this side can
            same = (choice(n) < 0.7) & (keep <= allowed)
            v = np.where(same, keep, v)
        return v

    r_sur = variant(t.surname, p.surname, 0.5, True, r_utf8)
    f_sur = variant(t.surname, p.surname, 0.5, False, f_utf8, keep=r_sur)
    gv = {x: np.where(p.sex == x, p.given, 0) for x in (1, 2)}
    r_giv = np.zeros(n, np.int64)
    f_giv = np.zeros(n, np.int64)
    for x in (1, 2):
        r = variant(t.given[x], gv[x], 0.5, False, r_utf8)
        f = variant(t.given[x], gv[x], 0.5, False, f_utf8, keep=r)
        mine = (p.sex == x) & ~p.given_alt
        r_giv, f_giv = np.where(mine, r, r_giv), np.where(mine, f, f_giv)

    def spelled(sur_v, giv_v, sep, kake):
        s = t.surname.spell(p.surname, sur_v)
        g = pl.Series([None] * n, dtype=pl.String)
        for x in (1, 2):
            std = t.given[x].spell(gv[x], np.where(p.sex == x, giv_v, 0))
            alt = pick(t.given_alt[x], gv[x])
            g = pl.select(
                pl.when(pl.Series(p.sex == x))
                .then(pl.when(pl.Series(p.given_alt)).then(alt).otherwise(std))
                .otherwise(g)
            ).to_series()
        name = pl.concat_str([s, _text(_SEPARATORS, sep), g])
        return pl.select(
            pl.when(pl.Series(kake)).then(name.str.replace_all("ヶ", "ケ")).otherwise(name)
        ).to_series()

    def kana(style, sep):
        s = pick([f for e in t.surname_kana for f in e], p.surname * 6 + style)
        g = pl.Series([None] * n, dtype=pl.String)
        for x in (1, 2):
            k = pick([f for e in t.given_kana[x] for f in e], gv[x] * 6 + style)
            g = pl.select(pl.when(pl.Series(p.sex == x)).then(k).otherwise(g)).to_series()
        half = (style == 2) | (style == 3)
        sep = np.where(half & (sep == _SEPARATORS.index("・")), _SEPARATORS.index("･"), sep)
        return pl.select(pl.concat_str([s, _text(_SEPARATORS, sep), g])).to_series()

    def seps(jp, jp_p, fo, fo_p):
        """Separator codes (into _SEPARATORS): Japanese names one way, foreign ones another."""
        code = [_SEPARATORS.index(x) for x in jp], [_SEPARATORS.index(x) for x in fo]
        return np.where(
            p.foreign,
            np.array(code[1])[rng.choice(len(fo), n, p=fo_p)],
            np.array(code[0])[rng.choice(len(jp), n, p=jp_p)],
        )

    space = ["\u3000", " ", ""]
    foreign_sep = ["・", "＝", "\u3000", " "]
    r_sep = seps(space, [0.6, 0.3, 0.1], foreign_sep, [0.5, 0.2, 0.2, 0.1])
    f_sep = seps(space, [0.4, 0.4, 0.2], foreign_sep, [0.3, 0.1, 0.3, 0.3])
    kana_sep = ["・", "\u3000", " "]
    rk_sep = seps(space, [0.3, 0.6, 0.1], kana_sep, [0.5, 0.3, 0.2])
    fk_sep = seps(space, [0.3, 0.6, 0.1], kana_sep, [0.4, 0.3, 0.3])
    r_kake = choice(h.n)[hh] < 0.5
    f_kake = choice(n) < 0.5

    r_width = rng.choice([0, 1, 2], h.n, p=[0.6, 0.35, 0.05])[hh]
    r_drop = (choice(h.n) < 0.4)[hh]
    f_width = rng.choice([0, 1, 2], n, p=[0.6, 0.2, 0.2])
    f_drop = choice(n) < 0.05

    small = t.surname_small[p.surname] | np.where(
        p.sex == 1, t.given_small[1][gv[1]], t.given_small[2][gv[2]]
    )
    return (
        spelled(r_sur, r_giv, r_sep, r_kake),
        kana(r_width * 2 + r_drop, rk_sep),
        spelled(f_sur, f_giv, f_sep, f_kake),
        kana(f_width * 2 + f_drop, fk_sep),
        (r_sur != f_sur) | (r_giv != f_giv),
        small & (r_drop != f_drop),
    )


# What joins family and given name: spaces, and for foreign names ・ or ＝.
_SEPARATORS = ["\u3000", " ", "", "・", "＝", "･"]

# Roster 続柄 spellings; `_relations` picks one by code.
_RELATION_WORDS = [
    "本人", "被保険者", "夫", "妻", "配偶者", "子", "養子", "父", "母", "義父", "義母",
    "孫", "祖父", "祖母",
]  # fmt: skip
_ORDER = ["長", "次", "三", "四", "五", "六"]
_BY_ORDER = [o + s for s in ("男", "女") for o in _ORDER] + ["二女"]


def _relations(p: People, life: _Life, rng) -> tuple[pl.Series, pl.Series]:
    """(roster 続柄, filing 続柄): 長男/二女/養子/孫/祖母 … on the roster, plainer on filings."""
    n, role, male = p.n, life.role, p.sex == 1
    words = {w: i for i, w in enumerate(_RELATION_WORDS)}
    # Birth order among the children of the same sex (twins: 長男 and 次男).
    order = (
        pl.DataFrame({"hh": p.hh, "sex": p.sex, "child": role == CHILD})
        .with_columns(k=pl.int_range(pl.len()).over("hh", "sex", "child"))["k"]
        .to_numpy()
    )
    by_order = np.minimum(order, 5) + 6 * ~male
    by_order = np.where((order == 1) & ~male & (rng.random(n) < 0.5), 12, by_order)  # 二女
    r = rng.random(n)
    code = np.select(
        [
            role == SELF,
            role == SPOUSE,
            (role == CHILD) & (r < 0.7),
            role == CHILD,
            role == PARENT,
            role == GRANDCHILD,
        ],
        [
            np.where(rng.random(n) < 0.1, words["被保険者"], words["本人"]),
            np.where(
                rng.random(n) < 0.1, words["配偶者"], np.where(male, words["夫"], words["妻"])
            ),
            -1,
            np.where(r < 0.95, words["子"], words["養子"]),
            np.where(male, words["父"], words["母"]) + 2 * (rng.random(n) < 0.2),  # 義父/義母
            words["孫"],
        ],
        np.where(male, words["祖父"], words["祖母"]),
    )
    roster = pl.select(
        pl.when(pl.Series(code < 0))
        .then(_text(_BY_ORDER, by_order))
        .otherwise(_text(_RELATION_WORDS, np.maximum(code, 0)))
    ).to_series()
    plain = np.select(
        [role == SELF, role == SPOUSE, role == CHILD, role == PARENT],
        [words["本人"], words["配偶者"], words["子"], np.where(male, words["父"], words["母"])],
        code,  # 孫, 祖母: as the roster writes them
    )
    english = rng.random(n) < 0.3
    filed = pl.select(
        pl.when(pl.Series(english))
        .then(_text(RELATION_CODES, p.relation))
        .otherwise(_text(_RELATION_WORDS, plain))
    ).to_series()
    return roster, filed


def _files(h, p, life, plan, t, rng, at, seed, encodings) -> Draft:
    n, hh, pos = p.n, p.hh, p.pos
    self_ = pos == 0
    clean = plan.kind[hh] == ""
    ov = life.overseas
    # Who left the society (never in a defect household), and who filed.
    acquired = life.acquired
    leaves = clean & ~ov & (rng.random(n) < 0.03) & (acquired < _LAST_DAY - 1)
    lost = np.where(
        leaves, acquired + 1 + (rng.random(n) * (_LAST_DAY - acquired - 1)).astype(int), -1
    )
    filed = ~life.no_number & ((lost < 0) | (rng.random(n) < 0.5))
    filed_on = np.maximum(acquired, _day(2016, 1, 4) + rng.integers(0, 700, n))
    filed_on = np.minimum(filed_on + rng.integers(0, 40, n), _LAST_DAY)

    r_utf8, f_utf8 = encodings
    r_name, r_kana, f_name, f_kana, name_var, kana_var = _names(p, t, rng, r_utf8, f_utf8, h)
    relation_ja, relation_filed = _relations(p, life, rng)

    insurer = _text([INSURER, INSURER[1:]], rng.random(n) < 0.01)  # Excel dropped the 0
    postal = pick([c for _, _, c in TOWNS], h.town[hh])
    sex_code = np.where(rng.random(n) < 0.5, p.sex - 1, p.sex + 1)  # 1 2 or 男 女
    # 未設定 (3) never mismatches: only where no defect is to be measured.
    sex_code = np.where(clean & (rng.random(n) < 0.002), 4, sex_code)
    card = rng.choice(7, n, p=[0.7, 0.08, 0.14, 0.01, 0.01, 0.005, 0.055])
    one_digit = (h.short_branch[hh] | (rng.random(n) < 0.02)) & (p.branch < 10)
    branch = _digits(p.branch)
    at_hh = pl.Series(hh, dtype=pl.UInt32)
    otype = h.overseas_type[hh]
    designated = _address(
        rng.integers(0, len(TOWNS), n),
        rng.integers(1, 10, n),
        rng.integers(1, 31, n),
        rng.integers(1, 21, n),
        rng.integers(0, 5, n),
        np.zeros(n, bool),
    )
    roster = pl.DataFrame(
        {
            "保険者番号": insurer,
            "記号": h.symbol.gather(at_hh),
            "番号": h.number.gather(at_hh),
            "枝番": pl.select(
                pl.when(pl.Series(one_digit)).then(branch).otherwise(branch.str.zfill(2))
            ).to_series(),
            "続柄": relation_ja,
            "氏名": r_name,
            "氏名カナ": r_kana,
            "性別": _text(["1", "2", "男", "女", "未設定"], sex_code),
            "郵便番号": postal,
            "住所": _address(
                h.town[hh], h.chome[hh], h.ban[hh], h.go[hh], h.address_style[hh], np.zeros(n, bool)
            ),
            "社員番号": h.employee.gather(at_hh),
            "居住区分": _text(["", "国内", "海外"], ov.astype(np.int64) + life.overseas_member),
            "海外赴任区分": _text(
                ["", "単身赴任", "単身", "家族帯同"], np.where(ov & self_, otype + 1, 0)
            ),
            "国内指定住所": designated,
            "住民登録": _text(["", "no"], life.jp_no),
            "マイナンバーカード": _text(
                ["保有", "held", "未取得", "紛失", "更新中", "返納", ""], card
            ),
            "保険証利用登録": _text(
                ["yes", "no", "有", "無", ""], rng.choice(5, n, p=[0.5, 0.15, 0.1, 0.05, 0.2])
            ),
            "利用登録解除": _text(["", "yes"], rng.random(n) < 0.003),
            "要配慮者": _text(["", "yes"], rng.random(n) < 0.005),
            "birth_d": _date(p.birth),
            "birth_text": pl.Series([None] * n, dtype=pl.String),
            "acq_d": _date(acquired),
            "lost_d": _date(lost),
            "lost": lost >= 0,
            "emig_d": _date(life.own_emigrated),
            "emig": life.own_emigrated >= 0,
            "cert_d": _date(rng.integers(_day(2025, 1, 1), _day(2030, 12, 31), n)),
            "cert": rng.random(n) < 0.2,
            "style": rng.integers(0, 6, h.n)[hh],
            "postal_style": rng.integers(0, 10, n),
        }
    ).with_columns(
        pl.when(pl.Series(ov & self_ & (otype != 0)))
        .then(pl.col("国内指定住所"))
        .alias("国内指定住所"),
    )

    employee = h.employee.gather(at_hh)
    wide = rng.random(n) < 0.02  # typed in full width
    employee_filed = pl.select(
        pl.when(pl.Series(wide)).then(employee.str.replace_many(_WIDE)).otherwise(employee)
    ).to_series()
    filings = pl.DataFrame(
        {
            "mi": np.arange(n, dtype=np.int64),
            "hh": (hh + at.household).astype(np.int64),
            "kind": "filing",
            "employee_id": employee_filed,
            "relation": relation_filed,
            "name": f_name,
            "name_kana": f_kana,
            "birth_d": _date(p.birth),
            "birth_text": pl.Series([None] * n, dtype=pl.String),
            "f_style": rng.choice([0, 1, 2, 3, 4], n, p=[0.5, 0.2, 0.2, 0.05, 0.05]),
            "sex": _digits(p.sex),
            "address": _address(
                h.town[hh],
                h.chome[hh],
                h.ban[hh],
                h.go[hh],
                rng.integers(0, 5, n),
                rng.random(n) < 0.5,
            ),
            "give_address": rng.random(n) < 0.5,
            "my_number": my_numbers(np.arange(at.member, at.member + n), seed),
            "filed_d": _date(filed_on),
            "branch": pl.select(
                pl.when(pl.Series(rng.random(n) < 0.3))
                .then(branch.str.zfill(2))
                .otherwise(pl.lit(""))
            ).to_series(),
            "name_var": name_var,
            "kana_var": kana_var,
            "refile": clean & (rng.random(n) < 0.005),
        }
    ).filter(pl.Series(filed))
    # A re-filing with the same number (the employer sent it twice): no finding.
    again = filings.filter("refile").with_columns(
        filed_d=pl.min_horizontal(
            pl.col("filed_d") + pl.duration(days=200), pl.lit(dt.date(2025, 5, 31))
        ),
        kind=pl.lit("refile"),
    )
    filings = pl.concat([filings, again]).drop("refile")
    filings = filings.with_columns(fid=pl.int_range(pl.len(), dtype=pl.Int64))

    def moved_address(members: np.ndarray) -> pl.Series:
        m = hh[members]
        return _address(
            h.town[m],
            h.chome[m] % 9 + 1,
            h.ban[m],
            h.go[m],
            rng.integers(0, 5, len(m)),
            np.zeros(len(m), bool),
        )

    return Draft(
        tables=t,
        people=p,
        roster=roster,
        filings=filings,
        rng=rng,
        seed=seed,
        next_serial=at.extra,
        moved_address=moved_address,
    )


# --- 5. render -----------------------------------------------------------------------


_TRUTH_SCHEMA = pl.Schema(
    {"source": pl.String(), "row": pl.Int64(), "member_id": pl.String(), "check": pl.String()}
)


def _render(draft: Draft, life: _Life, at: _Offsets) -> Sample:
    p, r = draft.people, draft.roster
    postal = pl.col("郵便番号")
    roster = r.select(
        "保険者番号",
        "記号",
        "番号",
        "枝番",
        "続柄",
        "氏名",
        "氏名カナ",
        pl.coalesce("birth_text", styled_date(pl.col("birth_d"), pl.col("style"))).alias(
            "生年月日"
        ),
        "性別",
        pl.when(pl.col("postal_style") < 3)
        .then(postal.str.slice(0, 3) + "-" + postal.str.slice(3))
        .when((pl.col("postal_style") < 5) & postal.str.starts_with("0"))
        .then(postal.str.slice(1))  # a spreadsheet dropped the leading 0
        .otherwise(postal)
        .alias("郵便番号"),
        "住所",
        styled_date(pl.col("acq_d"), (pl.col("style") + 2) % 6).alias("資格取得日"),
        pl.when(pl.col("lost")).then(styled_date(pl.col("lost_d"), pl.lit(0))).alias("資格喪失日"),
        "社員番号",
        "居住区分",
        "海外赴任区分",
        "国内指定住所",
        pl.when(pl.col("emig")).then(styled_date(pl.col("emig_d"), pl.lit(0))).alias("国外転出日"),
        "住民登録",
        "マイナンバーカード",
        "保険証利用登録",
        "利用登録解除",
        pl.when(pl.col("cert"))
        .then(pl.col("cert_d").dt.to_string("%Y-%m-%d"))
        .alias("電子証明書有効期限"),
        "要配慮者",
    )

    f = draft.filings.sort("filed_d", "hh", "mi", "kind").with_row_index(
        "row", offset=at.filing + 1
    )
    f = f.with_columns(pl.col("row").cast(pl.Int64))
    filings = f.select(
        "employee_id",
        "relation",
        "name",
        "name_kana",
        pl.coalesce("birth_text", styled_date(pl.col("birth_d"), pl.col("f_style"))).alias(
            "birth_date"
        ),
        "sex",
        pl.when(pl.col("give_address")).then(pl.col("address")).alias("address"),
        "my_number",
        pl.col("filed_d").dt.to_string("%Y-%m-%d").alias("filed_on"),
        "branch",
    )

    # What the data gives beyond the injected defects.
    owned = f.filter(pl.col("kind") != "orphan")["mi"].to_numpy()
    has_filing = np.zeros(p.n, bool)
    has_filing[owned] = True
    active = ~r["lost"].to_numpy()
    draft.expect_roster(active & ~has_filing, "filing.missing")
    own, ins, member = life.own_emigrated, life.insured_emigrated, life.overseas_member
    effective = np.where(own >= 0, own, np.where(member & (p.birth <= ins), ins, -1))
    draft.expect_roster(
        ~has_filing & (effective >= 0) & (effective < _START), "overseas.emigrated_before_2015"
    )
    # SPEC rev 2 §6.3: a child born abroad has no number whether born before or after 2015.
    born_abroad_child = (p.relation == CHILD) & member & (ins >= 0) & (p.birth > ins)
    never = life.jp_no | (born_abroad_child & ~has_filing)
    draft.expect_roster(never & ~has_filing, "overseas.never_registered")
    draft.filings = f
    draft.expect_filings(
        f.select(
            (pl.col("kind") != "orphan") & (pl.col("name_var") | pl.col("kana_var"))
        ).to_series(),
        "match.name_variant",
    )

    expected = pl.concat(draft.expected)
    on_roster = expected.filter(pl.col("source") == "roster")
    on_filings = expected.filter(pl.col("source") == "filings").join(
        f.select(pl.col("fid").alias("key"), "row", "mi"), on="key", how="left"
    )
    ids = p.member_id
    truth = pl.concat(
        [
            on_roster.select(
                "source",
                (pl.col("key") + at.member + 1).alias("row"),
                ids.gather(on_roster["key"]).alias("member_id"),
                "check",
            ),
            on_filings.select(
                "source",
                "row",
                pl.when(pl.col("mi") >= 0)
                .then(ids.gather(on_filings["mi"].clip(0)))
                .alias("member_id"),
                "check",
            ),
        ]
    )
    truth = truth.cast(_TRUTH_SCHEMA).unique().sort("source", "row", "check")
    return Sample(roster, filings, truth)
