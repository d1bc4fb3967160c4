"""Comparison keys for names, kana and addresses (SPEC §4).

Everything here builds a *comparison key*: reports always show the values as
given. The work is vectorized polars; Python only touches the few distinct
characters (variant kanji) or the few distinct kanji-numeral runs (addresses)
a column contains, never its rows.
"""

from __future__ import annotations

import tomllib
import unicodedata
from functools import cache
from pathlib import Path

import jntajis
import polars as pl

from recon.columns import INVISIBLE
from recon.normalize.lookups import Lookups

# The characters that show nothing (`columns.INVISIBLE`: zero-widths, direction
# marks, the soft hyphen…) are removed first, before NFKC: one between ｶ and ﾞ, or
# between two digits, must not keep them apart (ｶﾞ is ガ, 123 is not 1-23).
_NOTHING = dict.fromkeys(INVISIBLE, "")
# Every whitespace (Rust regex `\s` is Unicode White_Space: U+3000, tabs, NBSP…),
# together with any combining marks right after it: removing only the space would
# hand the mark to the character before it (NFKC writes ゛ as space + U+3099), and
# the key would change if normalized again.
_SPACES = r"\s+\p{M}*"
# The separators of foreign names count as spaces (SPEC §4): スミス・ジョン,
# スミス＝ジョン and スミス ジョン are one name. NFKC already turns ･ into ・ and ＝
# into =; all four are listed so that the rule reads as SPEC states it. As with a
# space, a combining mark after one goes with it.
_NAME_SEPARATORS = r"[・･＝=]\p{M}*"


# --- kana ----------------------------------------------------------------------

# Before NFKC: ぁ..ゖ -> ァ..ヶ, ゝゞ -> ヽヾ; the spacing ゛゜ become combining
# marks so that NFKC composes them (か゛ -> ガ); ゟ and 🈀 are the only
# characters whose NFKC is hiragana. Katakana + U+3099 then composes in NFKC
# even where hiragana has no precomposed form (わ゙ -> ヷ).
_TO_KATAKANA = {chr(c): chr(c + 0x60) for c in range(0x3041, 0x3097)} | {
    "\u309d": "\u30fd",
    "\u309e": "\u30fe",
    "\u309b": "\u3099",
    "\u309c": "\u309a",
    "\u309f": "ヨリ",
    "\U0001f200": "ホカ",
}
_KANA_CHARS = _TO_KATAKANA | _NOTHING
# Long-vowel mark written as a hyphen, dash, minus or rule. NFKC already turns
# ｰ into ー, － / ﹣ into "-" and ﹘ into —.
_LONG_VOWEL_RE = "[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501]"
_SMALL_KANA = dict(zip("ャュョッァィゥェォヮ", "ヤユヨツアイウエオワ", strict=True))


def kana_plain(expr: pl.Expr) -> pl.Expr:
    """Kana for comparison: NFKC (half-width to full-width, ﾀﾞ -> ダ), hiragana to
    katakana, long-vowel variants to ー, every space removed. Null stays null.
    """
    out = expr.str.replace_many(_KANA_CHARS).str.normalize("NFKC")
    out = out.str.replace_all(_SPACES, "").str.replace_all(_NAME_SEPARATORS, "")
    return out.str.replace_all(_LONG_VOWEL_RE, "ー")


def fold_small_kana(expr: pl.Expr) -> pl.Expr:
    """ャュョッァィゥェォヮ -> ヤユヨツアイウエオワ (applied to `kana_plain` output)."""
    return expr.str.replace_many(_SMALL_KANA)


# --- kanji names -------------------------------------------------------------


# ヶ/ケ/ヵ/カ between two kanji is one place-name particle however it is written
# (一ヶ谷, 一ケ谷, 一ヵ谷, 一カ谷), as in addresses; next to kana it is a kana and stays.
_KANJI_KE = r"(\p{Han})[ヶヵカ](\p{Han})"


def name_plain(expr: pl.Expr) -> pl.Expr:
    """Kanji name for comparison: NFKC, every space and foreign-name separator
    removed, ヶ/ケ/ヵ/カ between kanji written ケ. Null stays null.
    """
    out = expr.str.replace_many(_NOTHING).str.normalize("NFKC").str.replace_all(_SPACES, "")
    out = out.str.replace_all(_NAME_SEPARATORS, "")
    # Twice: a match consumes the kanji after it (一ヶ谷ヶ原).
    for _ in range(2):
        out = out.str.replace_all(_KANJI_KE, "${1}ケ${2}")
    return out


_OVERRIDES_FILE = Path(__file__).parent.parent / "variant_overrides.toml"
_MJ_SCHEMES = jntajis.MJShrinkSchemeCombo(15)  # all four MJ shrink schemes


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


@cache
def _overrides() -> dict[str, str]:
    with _OVERRIDES_FILE.open("rb") as f:
        table = tomllib.load(f).get("fold", {})
    for source, target in table.items():
        if len(source) != 1 or not isinstance(target, str):
            raise ValueError(f"{_OVERRIDES_FILE.name}: bad entry {source!r} = {target!r}")
    return dict(table)


@cache
def _mj_step(ch: str) -> str:
    """One step of the fold for one character: override, else MJ shrink map."""
    overrides = _overrides()
    if ch in overrides:
        return overrides[ch]
    if _is_variation_selector(ch):  # 葛 + IVS is 葛
        return ""
    candidates = jntajis.mj_shrink_candidates(ch, _MJ_SCHEMES)
    if not candidates or candidates[0] == ch:
        return ch
    # The map sometimes offers a CJK compatibility ideograph (海 -> U+FA45),
    # which NFKC turns straight back; never hand out a non-NFKC character.
    target = unicodedata.normalize("NFKC", candidates[0])
    return target if len(target) == 1 else ch


def _standardness(ch: str) -> tuple[int, int]:
    """Smaller is more standard: JIS X 0208 level 1, level 2, CP932 only, other."""
    try:
        code = int.from_bytes(ch.encode("shift_jis"), "big")
    except UnicodeEncodeError:
        try:
            ch.encode("cp932")
        except UnicodeEncodeError:
            return (3, ord(ch))
        return (2, ord(ch))
    return (0 if code < 0x989F else 1, ord(ch))


@cache
def _standard_form(ch: str) -> str:
    """Follow the fold to a character it leaves alone, so that folding is idempotent.

    The MJ map has cycles (德 -> 徳 and 徳 -> 德; 眞 <-> 真; 淵 <-> 渕): a cycle folds
    to its most standard member (JIS level 1 first), so both sides compare equal.
    """
    path = [ch]
    while True:
        nxt = _mj_step(path[-1])
        if nxt == path[-1] or nxt == "":
            return nxt
        if nxt in path:
            return min(path[path.index(nxt) :], key=_standardness)
        path.append(nxt)


def variant_map(chars: list[str]) -> dict[str, str]:
    """The fold for the given distinct characters, only those that change."""
    return {c: f for c in chars if (f := _standard_form(c)) != c}


def fold_variants(names: pl.Series) -> pl.Series:
    """Variant kanji (異体字) folded to a standard form (input already `name_plain`'d).

    The distinct characters of the whole series are looked up once in the MJ shrink
    map (jntajis, all four schemes, first candidate), with
    `recon/variant_overrides.toml` on top, and the map applied with `replace_many`.
    """
    chars = names.drop_nulls().unique().str.split("").explode().drop_nulls().unique()
    mapping = variant_map(chars.to_list())
    if not mapping:
        return names
    return names.str.replace_many(mapping)


# --- addresses -----------------------------------------------------------------

_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_N = "[〇一二三四五六七八九十百千]"
# Noncharacters: never in interchange text (unlike the private-use area, where
# CP932 puts vendor 外字), so they are safe sentinels around a numeral run.
_OPEN, _CLOSE = "\ufdd0", "\ufdd1"
# Applied before NFKC (so that ケ + U+3099 still composes): hyphen, dash and
# minus variants, with the characters NFKC would turn into one (－ ﹣ ⁻ ₋ ︱ ︲ ﹘),
# to "-"; ヶ -> ケ (ｹ is ケ after NFKC); stray sentinels removed. ｰ becomes ー
# in NFKC and is a hyphen only after a digit.
_ADDRESS_CHARS = {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2500\u2501"}
_ADDRESS_CHARS |= {c: "-" for c in "\uff0d\ufe63\u207b\u208b\ufe31\ufe32\ufe58"}
_ADDRESS_CHARS |= {"ヶ": "ケ", _OPEN: "", _CLOSE: ""} | _NOTHING


def kanji_number(run: str) -> str | None:
    """`二十一` -> `21`, `十` -> `10`, `三百五` -> `305`, `二〇` -> `20`; None if malformed."""
    if not any(c in _KANJI_UNITS for c in run):
        return str(int("".join(str(_KANJI_DIGITS[c]) for c in run)))
    total, digit, last_unit = 0, None, 10_000
    for c in run:
        if c in _KANJI_DIGITS:
            if digit is not None:
                return None
            digit = _KANJI_DIGITS[c]
        else:
            unit = _KANJI_UNITS[c]
            if unit >= last_unit or digit == 0:
                return None
            total += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    if digit == 0:
        return None
    return str(total + (digit or 0))


# Kanji numerals in address-number position: 丁目, 番地 and 号 after a numeral
# always; a bare 丁 or 番 only when a digit, hyphen, numeral or the end follows
# (八丁堀, 四番町 keep their kanji). The bare rule consumes its follower, so it
# runs twice to catch back-to-back runs (三番二番).
_MARK_ALWAYS = f"({_N}+)(丁目|番地|号)"
_MARK_BARE = f"({_N}+)(丁|番)([0-9]|-|{_OPEN}|{_N}+|$)"
# Then, on digits (pattern, replacement), in order:
_NUMBER_RULES = [
    # 1丁目2番3 -> 1-2-3 (twice: each match consumes the digit after it).
    (r"([0-9])(丁目|丁|番地|番)([0-9])", "${1}-${3}"),
    (r"([0-9])(丁目|丁|番地|番)([0-9])", "${1}-${3}"),
    # 1丁目-2, 1丁目ー2.
    (r"([0-9])(?:丁目|丁|番地|番|号)(?:-|ー+([0-9]))", "${1}-${2}"),
    # 3号101号室, 2番地の3, 2の3.
    (r"([0-9])(?:号+|(?:番地|番)?[のノ])([0-9])", "${1}-${2}"),
    # 3号 -> 3, but 3号室/号棟/号館/号線/号地 stay.
    (r"([0-9])号+([^0-9\-室棟館線地]|$)", "${1}${2}"),
    # A trailing 番 / 番地, or one before a building name (2番地コーポ); 1番町/1番館 stay.
    (r"([0-9])(?:番地|番)+([^0-9\-町館街丁地のノ号]|$)", "${1}${2}"),
]
_NUMBER_WORDS = "[丁番号のノ]"
# (literal each rule needs, pattern, replacement)
_FINAL_RULES = [("ー", r"([0-9])ー+", "${1}-"), ("--", r"-{2,}", "-")]
# A key matching none of the rules is a fixed point (a step leaves no spaces,
# dash variants, sentinels or non-NFKC text behind).
_UNSETTLED = "|".join(
    f"(?:{p})"
    for p in [_MARK_ALWAYS, _MARK_BARE]
    + [p for p, _ in _NUMBER_RULES]
    + [p for _, p, _ in _FINAL_RULES]
)


def _numerals_to_digits(values: pl.Series) -> pl.Series:
    """Kanji numerals in address-number position become digits."""
    marked = values.str.replace_all(_MARK_ALWAYS, f"{_OPEN}${{1}}{_CLOSE}${{2}}")
    for _ in range(2):
        marked = marked.str.replace_all(_MARK_BARE, f"{_OPEN}${{1}}{_CLOSE}${{2}}${{3}}")
    # Only the distinct marked runs (a few dozen in practice) are read in Python.
    runs = marked.str.extract_all(f"{_OPEN}{_N}+{_CLOSE}").explode().drop_nulls().unique()
    if runs.is_empty():
        return marked
    mapping = {r: kanji_number(r[1:-1]) or r[1:-1] for r in runs.to_list()}
    return marked.str.replace_many(mapping)


def _number_words(values: pl.Series) -> pl.Series:
    out = on_subset(values, values.str.contains(f"{_N}[丁番号]"), _numerals_to_digits)
    for pattern, replacement in _NUMBER_RULES:
        out = out.str.replace_all(pattern, replacement)
    return out


def on_subset(values: pl.Series, mask: pl.Series, fn) -> pl.Series:
    """`fn` applied to the rows where `mask` holds, the others unchanged."""
    if not mask.any():
        return values
    return values.scatter(mask.arg_true(), fn(values.filter(mask)))


def _replace_where(values: pl.Series, literal: str, pattern: str, replacement: str) -> pl.Series:
    """`replace_all`, run only on the rows holding `literal` (a cheap scan)."""
    hit = values.str.contains(literal, literal=True)
    return on_subset(values, hit, lambda v: v.str.replace_all(pattern, replacement))


def _address_step(values: pl.Series) -> pl.Series:
    """One application of the SPEC §4 address rules to distinct, non-null values."""
    a = values.str.replace_many(_ADDRESS_CHARS).str.normalize("NFKC")
    # A space between two numbers separates them (`1-2-3 101号室`); the others go.
    # Twice where the first changed anything: a match consumes the digit after it,
    # and `1 2 3` is `1-2-3`.
    spaced = f"([0-9])(?:番地|番|号)?{_SPACES}([0-9])"
    once = a.str.replace_all(spaced, "${1}-${2}")
    a = on_subset(once, once != a, lambda v: v.str.replace_all(spaced, "${1}-${2}"))
    a = a.str.replace_all(_SPACES, "")
    a = _replace_where(a, *_FINAL_RULES[0])
    # Numeral and 丁目/番地/号 rules only where one of those words occurs.
    a = on_subset(a, a.str.contains(_NUMBER_WORDS), _number_words)
    for literal, pattern, replacement in _FINAL_RULES:
        a = _replace_where(a, literal, pattern, replacement)
    return a


def _address_keys(distinct: pl.Series) -> pl.Series:
    """Apply the rules until nothing changes, so that the key is idempotent.

    One step almost always reaches the fixed point; the rows a rule could still
    act on (contrived input such as `1号番2`) get another step.
    """
    keys = _address_step(distinct)
    for _ in range(8):
        todo = keys.str.contains(_UNSETTLED)
        if not todo.any():
            break
        before = keys.filter(todo)
        after = _address_step(before)
        changed = after != before
        if not changed.any():
            break
        keys = keys.scatter(todo.arg_true().filter(changed), after.filter(changed))
    return keys


def address_key(addresses: pl.Series, lookups: Lookups | None = None) -> pl.Series:
    """Address for comparison (SPEC §4): `東京都千代田区霞が関一丁目2番3号` and
    `東京都千代田区霞が関1-2-3` give the same key. Null stays null; order is kept.
    `lookups`, shared with the other file, works out each distinct address once for both.
    """
    distinct = addresses.drop_nulls().unique()
    if distinct.is_empty():
        return addresses
    table = (lookups or Lookups()).table("address", distinct.rename("a"), _address_table)
    joined = addresses.to_frame("a").join(table, on="a", how="left", maintain_order="left")
    return joined["k"].alias(addresses.name)


def _address_table(distinct: pl.Series) -> pl.DataFrame:
    return pl.DataFrame({"a": distinct, "k": _address_keys(distinct)})
