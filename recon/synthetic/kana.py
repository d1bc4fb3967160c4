"""Kana spellings of one reading, computed once per table entry (never per row)."""

from __future__ import annotations

import unicodedata

_SMALL_TO_LARGE = dict(zip("ャュョッァィゥェォヮ", "ヤユヨツアイウエオワ", strict=True))


def _half_width_table() -> dict[str, str]:
    """Full-width katakana -> half-width spelling (ガ -> ｶﾞ), from NFKC run backwards."""
    table: dict[str, str] = {}
    halves = [chr(c) for c in range(0xFF65, 0xFF9E)]  # from ･, the half-width ・
    for half in halves:
        table.setdefault(unicodedata.normalize("NFKC", half), half)
        for mark in ("\uff9e", "\uff9f"):
            full = unicodedata.normalize("NFKC", half + mark)
            if len(full) == 1:
                table.setdefault(full, half + mark)
    return table


_HALF = _half_width_table()


def drop_small(kana: str) -> str:
    """How a system without small kana stores a reading: ショウタ -> シヨウタ."""
    return "".join(_SMALL_TO_LARGE.get(c, c) for c in kana)


def half_width(kana: str) -> str:
    return "".join(_HALF.get(c, c) for c in kana)


def hiragana(kana: str) -> str:
    # ヴ stays katakana: its hiragana ゔ is outside CP932, and forms write ヴ anyway.
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ン" else c for c in kana)


def spellings(kana: str) -> list[str]:
    """[full, full without small kana, half, half without, hiragana, hiragana without]."""
    out = []
    for width in (str, half_width, hiragana):
        out += [width(kana), width(drop_small(kana))]
    return out


def has_small(kana: str) -> bool:
    return drop_small(kana) != kana
