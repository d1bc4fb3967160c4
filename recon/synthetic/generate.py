"""Synthetic roster and filings with ground truth (`recon sample`).

Vectorized: households and members are numpy arrays, text is gathered from
small precomputed tables and assembled with polars expressions; Python only
touches the name tables. Every defect is injected into its own household, so
that the findings it causes are exactly the ones recorded in `truth`, and the
truth is computed from what was generated (which defect, which spelling),
never by running recon's own normalization.

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

from recon.synthetic import kana as K
from recon.synthetic.tables import FEMALE, KANJI_DIGITS, MALE, SURNAMES, TOWNS

TRUTH_FROM = dt.date(2025, 6, 1)
_EPOCH = dt.date(1970, 1, 1)
INSURER = "06139919"
SYSTEM_START = dt.date(2015, 10, 15)  # policy my_number_system_start (default)


def _day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - _EPOCH).days


_LAST_DAY = _day(2025, 5, 31)  # nothing happens after this in the data
_START = _day(SYSTEM_START.year, SYSTEM_START.month, SYSTEM_START.day)

# Defect kinds: one per household that carries a defect. The name is the
# check code it is meant to produce; the truth lists every finding it causes.
MEMBER_KINDS = (
    "roster_birth_invalid",  # input.invalid_value (roster): an Excel serial for a date
    "insurer_number",  # roster.insurer_number
    "no_insured_none",  # roster.no_insured: the insured row is 世帯主 (other)
    "number_format",  # my_number.format: exponent form, 11 digits, zeros, empty
    "check_digit",  # my_number.check_digit
    "duplicate_across",  # my_number.duplicate: another household's number
    "conflict",  # my_number.conflict: a re-filing with another number
    "orphan",  # filing.orphan: a filing of someone the roster does not know
    "missing",  # filing.missing
    "filing_birth_invalid",  # input.invalid_value (filings)
    "birth_date",  # match.birth_date
    "sex",  # match.sex
    "other_person",  # match.identity: another person's name and kana
    "kana_and_address",  # match.identity: kana and address
    "name",  # match.name: same reading, other kanji
    "name_kana",  # match.name_kana: same kanji, other reading
    "address",  # match.address
)
PAIR_KINDS = ("no_insured_two", "duplicate_within")  # need a second member
TRIPLE_KINDS = ("duplicate_member",)  # needs two dependents
KINDS = ("none", *MEMBER_KINDS, *PAIR_KINDS, *TRIPLE_KINDS)
_KIND = {k: i for i, k in enumerate(KINDS)}


@dataclass
class Sample:
    roster: pl.DataFrame  # Japanese headers, text as it would be exported
    filings: pl.DataFrame  # English headers, `my_number` included
    truth: pl.DataFrame  # source, row, member_id, check


# --- tables, spelled once ---------------------------------------------------------


def _component_tables(utf8: bool):
    sur_std = [s[0] for s in SURNAMES]
    # A variant outside CP932 (𠮷) cannot be written to a CP932 file: spelled standard there.
    sur_var = [s[1] if s[1] and (utf8 or _encodes(s[1])) else s[0] for s in SURNAMES]
    sur_kana = [K.spellings(s[2]) for s in SURNAMES]
    given = {}
    for sex, table in ((1, MALE), (2, FEMALE)):
        given[sex] = dict(
            name=[g[0] for g in table],
            alt_name=[g[1] for g in table],
            kana=[K.spellings(g[2]) for g in table],
            alt_kana=[K.spellings(g[3]) for g in table],
            small=[K.has_small(g[2]) for g in table],
        )
    return dict(
        sur_std=sur_std,
        sur_var=sur_var,
        has_var=np.array([v != s for v, s in zip(sur_var, sur_std, strict=True)]),
        sur_kana=sur_kana,
        sur_small=np.array([K.has_small(s[2]) for s in SURNAMES]),
        given=given,
    )


def _encodes(text: str) -> bool:
    try:
        text.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _pick(values: list[str], index: np.ndarray) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(pl.Series(index, dtype=pl.UInt32))


def _kana_pick(forms: list[list[str]], index: np.ndarray, style: np.ndarray) -> pl.Series:
    flat = [f for entry in forms for f in entry]
    return _pick(flat, index * 6 + style)


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


def _excel_serial(d: pl.Expr) -> pl.Expr:
    """What a spreadsheet leaves when a date cell loses its format: days since 1899-12-30."""
    return (d.cast(pl.Int32) + 25569).cast(pl.String)


def _date(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


# --- My Numbers -------------------------------------------------------------------


_WIDE = dict(zip("0123456789-", "０１２３４５６７８９－", strict=True))
_WEIGHTS = np.array([6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2])


def my_numbers(serial: np.ndarray, seed: int) -> np.ndarray:
    """Distinct synthetic My Numbers for distinct serials: 9 + 10 scrambled digits + check.

    An affine map modulo 10^10 with a multiplier prime to 10 is a permutation,
    so two serials never share a number (random draws would collide at 1M).
    """
    mult = 7_919_345_677 + 20 * (seed % 1000)  # odd, not a multiple of 5
    body = 9 * 10**10 + (serial.astype(np.int64) * mult + 1_234_567 * seed) % 10**10
    digits = (body[:, None] // (10 ** np.arange(10, -1, -1))) % 10
    r = (digits * _WEIGHTS).sum(axis=1) % 11
    check = np.where(r <= 1, 0, 11 - r)
    return (body * 10 + check).astype(str)


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
) -> Sample:
    """A roster of exactly `members` rows, its filings and the findings they must give.

    `defects` is the share of households that carry one defect (the kinds in
    `KINDS`, equally likely among those the household's size allows); overseas
    households instead lack their designated address ten times as often, so
    that a small sample still has some.

    Generated `chunk_members` at a time (see `generate_chunks`) and put together;
    up to that size the sample is a single chunk.
    """
    chunks = list(generate_chunks(members, seed, defects, utf8, chunk_members))
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
    t = _component_tables(utf8)
    at = _Offsets(member=0, household=0, filing=0, extra=members)
    for k, start in enumerate(range(0, max(members, 1), chunk_members)):
        n = min(chunk_members, members - start)
        rng = np.random.default_rng(seed if k == 0 else [seed, k])
        sample, households, extras = _chunk(n, seed, defects, t, rng, at)
        yield sample
        at = _Offsets(
            member=at.member + n,
            household=at.household + households,
            filing=at.filing + sample.filings.height,
            extra=at.extra + extras,
        )


def _chunk(
    members: int, seed: int, defects: float, t: dict, rng: np.random.Generator, at: _Offsets
) -> tuple[Sample, int, int]:
    """One chunk: (its sample, households used, extra number serials used)."""

    # Households: an insured person and 0-4 dependents.
    sizes = rng.choice([1, 2, 3, 4, 5], size=members, p=[0.38, 0.22, 0.2, 0.15, 0.05])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), members) + 1]
    n_h = len(sizes)
    hh = np.repeat(np.arange(n_h), sizes)[:members]
    pos = (np.arange(members) - np.repeat(np.cumsum(sizes) - sizes, sizes)[:members]).astype(
        np.int64
    )
    h_size = np.bincount(hh, minlength=n_h)  # the last household may be cut short
    hh_id = hh + at.household  # households numbered across chunks, for identifiers
    size = h_size[hh]

    # Composition: spouse, children, sometimes parents at the end.
    h_spouse = (h_size >= 2) & (rng.random(n_h) < 0.8)
    h_parents = np.where((h_size >= 3) & (rng.random(n_h) < 0.12), 1 + (rng.random(n_h) < 0.5), 0)
    h_parents = np.minimum(h_parents, h_size - 1 - h_spouse)
    spouse = (pos == 1) & h_spouse[hh]
    parent = (pos >= size - h_parents[hh]) & (pos > 0) & ~spouse
    child = (pos > 0) & ~spouse & ~parent
    self_ = pos == 0
    child_no = pos - 1 - h_spouse[hh]

    h_self_sex = np.where(rng.random(n_h) < 0.75, 1, 2)
    sex = np.where(self_, h_self_sex[hh], 3 - h_self_sex[hh])
    sex = np.where(child, rng.integers(1, 3, members), sex)
    two_parents = h_parents[hh] == 2
    sex = np.where(parent & two_parents, np.where(pos == size - 2, 1, 2), sex)
    sex = np.where(parent & ~two_parents, rng.integers(1, 3, members), sex)

    # Birth dates: children after their parents, parents before the insured person.
    h_birth = rng.integers(_day(1958, 1, 1), _day(2003, 12, 31), n_h)
    birth = h_birth[hh].copy()
    birth = np.where(
        spouse,
        np.minimum(birth + rng.normal(0, 900, members).astype(int), _day(2003, 12, 31)),
        birth,
    )
    first_child = h_birth + 365 * rng.integers(24, 38, n_h)
    cap = _day(2025, 4, 30)
    kid = np.minimum(
        first_child[hh] + child_no * 800 + rng.integers(0, 600, members), cap - child_no * 40
    )
    birth = np.where(child, kid, birth)
    parent_birth = h_birth[hh] - 365 * 25 - rng.integers(0, 3650, members)
    birth = np.where(parent, np.maximum(parent_birth, _day(1927, 1, 1)), birth)  # 昭和 on

    # Qualification: the insured person joins as an adult; some in the second-wave
    # window, some after cards stopped (2024-12-02); dependents when added or born.
    h_acq = np.clip(
        h_birth + 365 * 22 + rng.integers(0, 365 * 25, n_h), _day(1985, 4, 1), _LAST_DAY
    )
    wave = rng.random(n_h)
    h_acq = np.where(wave < 0.04, rng.integers(_day(2024, 8, 17), _day(2024, 12, 1), n_h), h_acq)
    h_acq = np.where(
        (wave >= 0.04) & (wave < 0.08), rng.integers(_day(2024, 12, 2), _LAST_DAY, n_h), h_acq
    )
    acquired = np.minimum(
        np.maximum(h_acq[hh], birth) + rng.integers(0, 30, members) * ~self_, _LAST_DAY
    )

    # Overseas households (about 2%): single households alone, others posted alone
    # (family stays) or with the family; a quarter left before My Numbers existed.
    h_overseas = rng.random(n_h) < 0.02
    h_type = np.where(
        h_size == 1, 1, np.where(rng.random(n_h) < 0.5, 0, 2)
    )  # posted, single, family
    early = rng.random(n_h) < 0.25
    h_emig = np.where(
        early,
        rng.integers(_day(2008, 1, 1), _START - 1, n_h),
        rng.integers(_START + 30, _day(2024, 6, 30), n_h),
    )
    h_emig = np.clip(h_emig, h_acq + 1, _LAST_DAY)  # posted abroad after joining
    ov = h_overseas[hh]
    family = ov & (h_type[hh] == 2)
    overseas_member = ov & (self_ | family)
    born_abroad = family & ~self_ & (birth > h_emig[hh])
    own_emig = np.where(
        ov & self_,
        h_emig[hh],
        np.where(family & ~born_abroad & (rng.random(members) < 0.5), h_emig[hh], -1),
    )
    jp_no = born_abroad & (rng.random(members) < 0.3)
    # No My Number: left before the system started (with the family when accompanied),
    # or born abroad.
    no_number = born_abroad | (overseas_member & (h_emig[hh] < _START))

    # Defects: at most one per household.
    kind = np.zeros(n_h, dtype=np.int64)
    hit = (rng.random(n_h) < defects) & ~h_overseas
    pool = {
        1: MEMBER_KINDS,
        2: MEMBER_KINDS + PAIR_KINDS,
        3: MEMBER_KINDS + PAIR_KINDS + TRIPLE_KINDS,
    }
    for n, kinds in pool.items():
        sel = hit & (np.minimum(h_size, 3) == n)
        codes = np.array([_KIND[k] for k in kinds])
        kind[sel] = codes[rng.integers(0, len(codes), sel.sum())]
    across = np.flatnonzero(kind == _KIND["duplicate_across"])
    if len(across) % 2:
        kind[across[-1]] = _KIND["check_digit"]
        across = across[:-1]
    no_designated = h_overseas & (h_type != 0) & (rng.random(n_h) < min(0.5, defects * 10))
    m_kind = kind[hh]
    target = pos == (rng.integers(0, 1 << 30, n_h) % h_size)[hh]
    is_kind = {k: (m_kind == _KIND[k]) for k in KINDS}
    hit_m = {k: is_kind[k] & target for k in MEMBER_KINDS}

    # Who left the society, and who filed.
    leaves = (kind[hh] == 0) & ~ov & (rng.random(members) < 0.03) & (acquired < _LAST_DAY - 1)
    lost = np.where(
        leaves, acquired + 1 + (rng.random(members) * (_LAST_DAY - acquired - 1)).astype(int), -1
    )
    active = lost < 0
    filed = ~no_number & (active | (rng.random(members) < 0.5)) & ~hit_m["missing"]
    filed_on = np.maximum(acquired, _day(2016, 1, 4) + rng.integers(0, 700, members))
    filed_on = np.minimum(filed_on + rng.integers(0, 40, members), _LAST_DAY)

    # Names: the household's surname, distinct given names inside a household
    # (7 is prime to the table size, and a household has at most 5 members).
    n_given = len(MALE)
    h_sur = rng.integers(0, len(SURNAMES), n_h)
    h_given = rng.integers(0, n_given, n_h)
    sur = h_sur[hh]
    given = (h_given[hh] + 7 * pos) % n_given
    # Variant kanji: the society's system keeps 髙/﨑/齋…; employers often type 高/崎/斎.
    h_roster_var = rng.random(n_h) < 0.5
    roster_var = h_roster_var[hh] & t["has_var"][sur]
    filing_var = (
        np.where(rng.random(members) < 0.7, h_roster_var[hh], ~h_roster_var[hh]) & t["has_var"][sur]
    )
    # Kana: half-width and no small kana in older systems, hiragana on some forms.
    h_roster_width = rng.choice([0, 1, 2], n_h, p=[0.6, 0.35, 0.05])
    h_roster_drop = rng.random(n_h) < 0.4
    r_kana_style = h_roster_width[hh] * 2 + h_roster_drop[hh]
    f_width = rng.choice([0, 1, 2], members, p=[0.6, 0.2, 0.2])
    f_drop = rng.random(members) < 0.05
    f_kana_style = f_width * 2 + f_drop

    def name_of(sur_idx, var, given_idx, given_key, sep):
        s = (
            pl.when(pl.Series(var))
            .then(_pick(t["sur_var"], sur_idx))
            .otherwise(_pick(t["sur_std"], sur_idx))
        )
        g = (
            pl.when(pl.Series(sex == 1))
            .then(_pick(t["given"][1][given_key], given_idx))
            .otherwise(_pick(t["given"][2][given_key], given_idx))
        )
        return pl.concat_str([s, pl.Series(sep), g])

    def kana_of(sur_idx, style, given_idx, given_key, sep):
        s = _kana_pick(t["sur_kana"], sur_idx, style)
        g = (
            pl.when(pl.Series(sex == 1))
            .then(_kana_pick(t["given"][1][given_key], given_idx, style))
            .otherwise(_kana_pick(t["given"][2][given_key], given_idx, style))
        )
        return pl.concat_str([s, pl.Series(sep), g])

    seps = np.array(["\u3000", " ", ""])
    r_sep = seps[rng.choice(3, members, p=[0.6, 0.3, 0.1])]
    f_sep = seps[rng.choice(3, members, p=[0.4, 0.4, 0.2])]
    k_sep = seps[rng.choice(3, members, p=[0.3, 0.6, 0.1])]
    kf_sep = seps[rng.choice(3, members, p=[0.3, 0.6, 0.1])]

    # Addresses: the household's, in the styles people write (一丁目2番3号, 1-2-3 …).
    h_town = rng.integers(0, len(TOWNS), n_h)
    h_chome = rng.integers(1, 10, n_h)
    h_ban = rng.integers(1, 31, n_h)
    h_go = rng.integers(1, 21, n_h)
    h_addr_style = rng.integers(0, 5, n_h)

    def address(town, chome, ban, go, style, kake):
        city = _pick([c for c, _, _ in TOWNS], town)
        city = pl.when(pl.Series(kake)).then(city.str.replace("ヶ", "ケ")).otherwise(city)
        town_name = _pick([w for _, w, _ in TOWNS], town)
        c = pl.Series(chome.astype(str))
        ck = _pick(list(KANJI_DIGITS), chome)
        b, g = pl.Series(ban.astype(str)), pl.Series(go.astype(str))
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
        return pl.concat_str([city, town_name, number])

    frame = pl.DataFrame({"hh": hh}).select(
        roster_address=address(
            h_town[hh], h_chome[hh], h_ban[hh], h_go[hh], h_addr_style[hh], np.zeros(members, bool)
        ),
        filing_address=address(
            h_town[hh],
            np.where(
                hit_m["address"] | hit_m["kana_and_address"], h_chome[hh] % 9 + 1, h_chome[hh]
            ),
            h_ban[hh],
            h_go[hh],
            rng.integers(0, 5, members),
            rng.random(members) < 0.5,
        ),
        designated=address(
            rng.integers(0, len(TOWNS), members),
            rng.integers(1, 10, members),
            rng.integers(1, 31, members),
            rng.integers(1, 21, members),
            rng.integers(0, 5, members),
            np.zeros(members, bool),
        ),
        roster_name=name_of(sur, roster_var, given, "name", r_sep),
        roster_kana=kana_of(sur, r_kana_style, given, "kana", k_sep),
        filing_name=pl.when(pl.Series(hit_m["other_person"]))
        .then(
            name_of(
                (sur + 1) % len(SURNAMES),
                np.zeros(members, bool),
                (given + 3) % n_given,
                "name",
                f_sep,
            )
        )
        .when(pl.Series(hit_m["name"]))
        .then(name_of(sur, filing_var, given, "alt_name", f_sep))
        .otherwise(name_of(sur, filing_var, given, "name", f_sep)),
        filing_kana=pl.when(pl.Series(hit_m["other_person"]))
        .then(
            kana_of((sur + 1) % len(SURNAMES), f_kana_style, (given + 3) % n_given, "kana", kf_sep)
        )
        .when(pl.Series(hit_m["name_kana"] | hit_m["kana_and_address"]))
        .then(kana_of(sur, f_kana_style, given, "alt_kana", kf_sep))
        .otherwise(kana_of(sur, f_kana_style, given, "kana", kf_sep)),
    )
    # match.name_variant: same name and reading, spelled apart only by variant kanji
    # or small kana (SPEC §4); width, hiragana and spaces give nothing.
    given_small = np.where(
        sex == 1,
        np.array(t["given"][1]["small"])[given],
        np.array(t["given"][2]["small"])[given],
    )
    same_name = ~(hit_m["other_person"] | hit_m["name"])
    same_kana = ~(hit_m["other_person"] | hit_m["name_kana"] | hit_m["kana_and_address"])
    name_variant = same_name & (roster_var != filing_var)
    kana_variant = same_kana & (t["sur_small"][sur] | given_small) & (h_roster_drop[hh] != f_drop)

    # Roster values.
    symbol = 1000 + hh_id // 9000
    number = hh_id % 9000 + 1
    branch = pos.copy()
    dup_member = is_kind["duplicate_member"] & (pos == 2)
    branch = np.where(dup_member, 1, branch)
    branch_text = np.char.zfill(branch.astype(str), 2)
    member_id = np.char.add(
        np.char.add(np.char.add(symbol.astype(str), "-"), np.char.add(number.astype(str), "-")),
        branch_text,
    )
    relation_ja = np.select(
        [self_, spouse & (sex == 2), spouse, parent & (sex == 1), parent],
        ["本人", "妻", "夫", "父", "母"],
        default="子",
    )
    order = np.array(["長", "次", "三", "四"])[np.clip(child_no, 0, 3)]
    relation_ja = np.where(
        child & (rng.random(members) < 0.7),
        np.char.add(order, np.where(sex == 1, "男", "女")),
        relation_ja,
    )
    relation_ja = np.where(spouse & (rng.random(members) < 0.1), "配偶者", relation_ja)
    relation_ja = np.where(is_kind["no_insured_none"] & self_, "世帯主", relation_ja)
    relation_ja = np.where(is_kind["no_insured_two"] & (pos == 1), "本人", relation_ja)
    relation_code = np.select(
        [self_, spouse, parent], ["self", "spouse", "parent"], default="child"
    )
    relation_filed = np.where(
        rng.random(members) < 0.3,
        relation_code,
        np.select(
            [self_, spouse, parent & (sex == 1), parent],
            ["本人", "配偶者", "父", "母"],
            default="子",
        ),
    )

    insurer = np.where(rng.random(members) < 0.01, INSURER[1:], INSURER)  # Excel dropped the 0
    insurer = np.where(hit_m["insurer_number"], "06139918", insurer)
    postal = _pick([p for _, _, p in TOWNS], h_town[hh])
    style = rng.integers(0, 6, n_h)[hh]
    sex_roster = np.where(
        rng.random(members) < 0.5, sex.astype(str), np.where(sex == 1, "男", "女")
    )
    # 未設定 (3) never mismatches: only where no defect is to be measured.
    sex_roster = np.where((m_kind == 0) & (rng.random(members) < 0.002), "未設定", sex_roster)
    card = rng.choice(
        ["保有", "held", "未取得", "紛失", "更新中", "返納", ""],
        members,
        p=[0.7, 0.08, 0.14, 0.01, 0.01, 0.005, 0.055],
    )
    yes_no = np.array(["yes", "no", "有", "無", ""])
    roster = pl.DataFrame(
        {
            "birth_d": _date(birth),
            "acq_d": _date(acquired),
            "lost_d": _date(lost),
            "emig_d": _date(own_emig),
            "cert_d": _date(rng.integers(_day(2025, 1, 1), _day(2030, 12, 31), members)),
            "style": style,
            "lost": lost >= 0,
            "emig": own_emig >= 0,
        }
    )
    roster = roster.select(
        pl.Series("保険者番号", insurer),
        pl.Series("記号", symbol.astype(str)),
        pl.Series("番号", number.astype(str)),
        pl.Series(
            "枝番",
            np.where((rng.random(members) < 0.02) & ~dup_member, branch.astype(str), branch_text),
        ),
        pl.Series("続柄", relation_ja),
        frame["roster_name"].alias("氏名"),
        frame["roster_kana"].alias("氏名カナ"),
        pl.when(pl.Series(hit_m["roster_birth_invalid"]))
        .then(_excel_serial(pl.col("birth_d")))
        .otherwise(styled_date(pl.col("birth_d"), pl.col("style")))
        .alias("生年月日"),
        pl.Series("性別", sex_roster),
        pl.when(pl.Series(rng.random(members) < 0.3))
        .then(postal.str.slice(0, 3) + "-" + postal.str.slice(3))
        .when(pl.Series(rng.random(members) < 0.3) & postal.str.starts_with("0"))
        .then(postal.str.slice(1))
        .otherwise(postal)
        .alias("郵便番号"),
        frame["roster_address"].alias("住所"),
        styled_date(pl.col("acq_d"), (pl.col("style") + 2) % 6).alias("資格取得日"),
        pl.when(pl.col("lost")).then(styled_date(pl.col("lost_d"), pl.lit(0))).alias("資格喪失日"),
        pl.Series("社員番号", np.char.add("E", np.char.zfill(hh_id.astype(str), 7))),
        pl.Series("居住区分", np.where(overseas_member, "海外", np.where(ov, "国内", ""))),
        pl.Series(
            "海外赴任区分",
            np.where(ov & self_, np.array(["単身赴任", "単身", "家族帯同"])[h_type[hh]], ""),
        ),
        pl.when(pl.Series(ov & self_ & (h_type[hh] != 0) & ~no_designated[hh]))
        .then(frame["designated"])
        .alias("国内指定住所"),
        pl.when(pl.col("emig")).then(styled_date(pl.col("emig_d"), pl.lit(0))).alias("国外転出日"),
        pl.Series("住民登録", np.where(jp_no, "no", "")),
        pl.Series("マイナンバーカード", card),
        pl.Series("保険証利用登録", yes_no[rng.choice(5, members, p=[0.5, 0.15, 0.1, 0.05, 0.2])]),
        pl.Series("利用登録解除", np.where(rng.random(members) < 0.003, "yes", "")),
        pl.when(pl.Series(rng.random(members) < 0.2))
        .then(pl.col("cert_d").dt.to_string("%Y-%m-%d"))
        .alias("電子証明書有効期限"),
        pl.Series("要配慮者", np.where(rng.random(members) < 0.005, "yes", "")),
    )

    # Filings: one per filed member, then re-filings, conflicts and orphans.
    numbers = my_numbers(np.arange(at.member, at.member + members), seed)
    src = numbers.copy()
    # Duplicates: inside a household the second member gets the first one's number;
    # across households the insured person of every second one gets the previous one's.
    first_of = np.cumsum(h_size) - h_size
    within = is_kind["duplicate_within"] & (pos == 1)
    numbers = np.where(within, src[first_of[hh]], numbers)
    across_to = across[1::2]
    across_from = across[0::2]
    numbers[first_of[across_to]] = src[first_of[across_from]]
    across_m = np.zeros(members, bool)
    across_m[first_of[across]] = True
    # Spreadsheet damage and typing mistakes: exponent form, a lost digit, a
    # placeholder, nothing, one digit too many; a check-digit typo.
    src_s = pl.Series(src)
    bad = pl.DataFrame({"k": rng.integers(0, 5, members), "n": src_s}).select(
        pl.when(pl.col("k") == 0)
        .then(pl.lit("9.") + pl.col("n").str.slice(1, 5) + pl.lit("E+11"))
        .when(pl.col("k") == 1)
        .then(pl.col("n").str.slice(1))
        .when(pl.col("k") == 2)
        .then(pl.lit("000000000000"))
        .when(pl.col("k") == 3)
        .then(pl.lit(""))
        .otherwise(pl.col("n") + pl.lit("7"))
        .alias("format"),
        (
            pl.col("n").str.slice(0, 11)
            + ((pl.col("n").str.slice(11).cast(pl.Int32) + 1) % 10).cast(pl.String)
        ).alias("typo"),
    )
    numbers = np.where(hit_m["number_format"], bad["format"].to_numpy(), numbers)
    numbers = np.where(hit_m["check_digit"], bad["typo"].to_numpy(), numbers)

    births = pl.Series(birth.astype(np.int32)).cast(pl.Date)
    # A typo of a day, a month, a year or a decade, away from the era edges.
    shift = np.where(birth < _day(1990, 1, 1), 1, -1) * rng.choice([1, 10, 31, 365, 3650], members)
    filed_birth = pl.Series(
        (birth + np.where(hit_m["birth_date"], shift, 0)).astype(np.int32)
    ).cast(pl.Date)
    give_branch = (rng.random(members) < 0.3) | hit_m["other_person"]
    give_address = (rng.random(members) < 0.5) | hit_m["address"] | hit_m["kana_and_address"]
    employee = np.char.add("E", np.char.zfill(hh_id.astype(str), 7))
    employee_filed = np.where(
        rng.random(members) < 0.02,
        np.char.translate(employee, str.maketrans("E0123456789", "Ｅ０１２３４５６７８９")),
        employee,
    )
    f_style = rng.choice([0, 1, 2, 3, 4], members, p=[0.5, 0.2, 0.2, 0.05, 0.05])
    base = pl.DataFrame(
        {
            "employee_id": employee_filed,
            "relation": relation_filed,
            "name": frame["filing_name"],
            "name_kana": frame["filing_kana"],
            "birth_d": filed_birth,
            "f_style": f_style,
            "sex": np.where(hit_m["sex"], 3 - sex, sex).astype(str),
            "address": frame["filing_address"],
            "give_address": give_address,
            "my_number": numbers,
            "filed_d": _date(filed_on),
            "branch": np.where(give_branch, branch_text, ""),
            "member_row": np.arange(1, members + 1),
            "member_id": member_id,
            "bad_birth": hit_m["filing_birth_invalid"],
            "refile": (m_kind == 0) & (rng.random(members) < 0.005),
            "conflict": hit_m["conflict"],
            "orphan": hit_m["orphan"],
            "hh": hh_id,
            "birth_real": births,
        }
    ).filter(pl.Series(filed))
    extra_numbers = my_numbers(np.arange(at.extra, at.extra + base.height), seed)
    base = base.with_columns(extra_number=pl.Series(extra_numbers))
    refilings = base.filter(pl.col("refile") | pl.col("conflict")).with_columns(
        my_number=pl.when(pl.col("conflict"))
        .then(pl.col("extra_number"))
        .otherwise(pl.col("my_number")),
        filed_d=pl.min_horizontal(
            pl.col("filed_d") + pl.duration(days=200), pl.lit(dt.date(2025, 5, 31))
        ),
        kind=pl.lit("refile"),
    )
    # Orphans: half from an employee id nobody has, half a new baby not yet on the roster.
    orphans = base.filter(pl.col("orphan")).with_columns(
        employee_id=pl.when(pl.col("hh") % 2 == 0)
        .then(pl.lit("E9") + pl.col("employee_id").str.slice(1))
        .otherwise(pl.col("employee_id")),
        relation=pl.lit("子"),
        name=pl.lit("未登録\u3000乳児"),
        name_kana=pl.lit("ミトウロク\u3000ニュウジ"),
        birth_d=pl.lit(dt.date(2025, 3, 3)),
        my_number=pl.col("extra_number"),
        branch=pl.lit(""),
        filed_d=pl.lit(dt.date(2025, 4, 1)),
        member_id=pl.lit(None, pl.String),
        kind=pl.lit("orphan"),
    )
    filings = pl.concat(
        [base.with_columns(kind=pl.lit("filing")), refilings, orphans], how="vertical_relaxed"
    )
    filings = filings.sort("filed_d", "hh", "member_row", "kind").with_row_index(
        "row", offset=at.filing + 1
    )
    filings = filings.with_columns(pl.col("row").cast(pl.Int64))
    filing_out = filings.select(
        "employee_id",
        "relation",
        "name",
        "name_kana",
        pl.when(pl.col("bad_birth") & (pl.col("kind") == "filing"))
        .then(_excel_serial(pl.col("birth_d")))
        .otherwise(styled_date(pl.col("birth_d"), pl.col("f_style")))
        .alias("birth_date"),
        "sex",
        pl.when(pl.col("give_address")).then(pl.col("address")).alias("address"),
        "my_number",
        pl.col("filed_d").dt.to_string("%Y-%m-%d").alias("filed_on"),
        "branch",
    )

    truth = _truth(
        roster_offset=at.member,
        filings=filings,
        member_id=member_id,
        hit_m=hit_m,
        is_kind=is_kind,
        pos=pos,
        active=active,
        filed=filed,
        no_designated=no_designated[hh] & ov & self_ & (h_type[hh] != 0),
        overseas=dict(
            member=overseas_member,
            own_emig=own_emig,
            ins_emig=np.where(ov, h_emig[hh], -1),
            birth=birth,
            child=child,
            jp_no=jp_no,
        ),
        variant=name_variant | kana_variant,
        across_m=across_m,
        within=is_kind["duplicate_within"] & (pos <= 1),
        dup_member=is_kind["duplicate_member"] & ((pos == 1) | (pos == 2)),
    )
    return Sample(roster, filing_out, truth), n_h, base.height


_TRUTH_SCHEMA = {"source": pl.String, "row": pl.Int64, "member_id": pl.String, "check": pl.String}


def _truth(
    *,
    roster_offset,
    filings,
    member_id,
    hit_m,
    is_kind,
    pos,
    active,
    filed,
    no_designated,
    overseas,
    variant,
    across_m,
    within,
    dup_member,
) -> pl.DataFrame:
    n = len(member_id)
    rows = np.arange(roster_offset + 1, roster_offset + n + 1)
    parts = []

    def add(source: str, row: np.ndarray, member: np.ndarray, check: str) -> None:
        parts.append(
            pl.DataFrame(
                {"source": source, "row": row, "member_id": member, "check": check},
                schema=_TRUTH_SCHEMA,
            )
        )

    def roster(mask: np.ndarray, check: str) -> None:
        add("roster", rows[mask], member_id[mask], check)

    roster(hit_m["roster_birth_invalid"], "input.invalid_value")
    roster(hit_m["insurer_number"], "roster.insurer_number")
    roster(dup_member, "roster.duplicate_member")
    roster(is_kind["no_insured_none"] | is_kind["no_insured_two"], "roster.no_insured")
    roster(active & ~filed, "filing.missing")
    roster(no_designated, "overseas.no_designated_address")
    o = overseas
    effective = np.where(
        o["own_emig"] >= 0,
        o["own_emig"],
        np.where(o["member"] & ~(o["birth"] > o["ins_emig"]), o["ins_emig"], -1),
    )
    roster(~filed & (effective >= 0) & (effective < _START), "overseas.emigrated_before_2015")
    never = o["jp_no"] | (
        o["child"]
        & o["member"]
        & (o["ins_emig"] >= 0)
        & (o["birth"] > o["ins_emig"])
        & (o["birth"] >= _START)
        & ~filed
    )
    roster(never, "overseas.never_registered")

    # Filing rows: the member a filing belongs to, and what its defect gives.
    f = filings.with_columns(
        mi=pl.col("member_row") - 1,
        is_filing=pl.col("kind") == "filing",
    )
    mi = f["mi"].to_numpy()
    first = f["is_filing"].to_numpy()
    orphan = (f["kind"] == "orphan").to_numpy()
    refile = (f["kind"] == "refile").to_numpy()
    matched = ~orphan

    def at(mask_by_member: np.ndarray) -> np.ndarray:
        return mask_by_member[mi]

    checks = {
        "my_number.format": at(hit_m["number_format"]) & first,
        "my_number.check_digit": at(hit_m["check_digit"]) & first,
        "my_number.duplicate": (at(across_m) | at(within)) & first,
        "my_number.conflict": at(hit_m["conflict"]) & matched,
        "filing.orphan": orphan,
        "input.invalid_value": at(hit_m["filing_birth_invalid"]) & first,
        "match.birth_date": at(hit_m["birth_date"]) & first,
        "match.sex": at(hit_m["sex"]) & first,
        "match.identity": at(hit_m["other_person"] | hit_m["kana_and_address"]) & first,
        "match.name": at(hit_m["name"]) & first,
        "match.name_kana": at(hit_m["name_kana"]) & first,
        "match.address": at(hit_m["address"]) & first,
        # A re-filing copies the first filing's spelling, so it varies the same way.
        "match.name_variant": at(variant) & (first | refile),
    }
    row = f["row"].to_numpy()
    mid = np.where(orphan, None, member_id[mi])
    for check, mask in checks.items():
        add("filings", row[mask], mid[mask], check)
    return pl.concat(parts).sort("source", "row", "check")
