"""Plain words for the codes of members.csv (SPEC §6), from the text catalog.

The words live in `recon/texts/report.toml` (`[words.<kind>.<code>]`, Japanese
and English side by side). The report and its CSV exports show them next to,
never instead of, the codes: the codes are the interface, the words are for
the people who act.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from recon import texts

_JOIN = {"ja": "、", "en": "; "}


@cache
def words(kind: str, lang: str) -> dict[str, str]:
    """code -> its word in `lang`, for one kind of code (notice, delivery, ...)."""
    return {
        code: entry[lang] for code, entry in texts.area_entries("report")["words"][kind].items()
    }


def word(kind: str, code: str, lang: str) -> str:
    """The word for one code; an unknown code is shown as itself."""
    return words(kind, lang).get(code, code)


def word_expr(column: str, kind: str, lang: str) -> pl.Expr:
    """A column of single codes as words; an unknown code is shown as itself."""
    return pl.col(column).replace(words(kind, lang))


def words_expr(column: str, kind: str, lang: str, keep: frozenset[str] | None = None) -> pl.Expr:
    """A `;`-separated code column as words, joined the way the language lists things;
    with `keep`, only the codes among it (a list shows its own audience's reasons)."""
    mapping = words(kind, lang)
    wanted = pl.element() != ""
    if keep is not None:
        wanted = wanted & pl.element().is_in(sorted(keep))
    element = pl.element().filter(wanted)
    return (
        pl.col(column)
        .fill_null("")
        .str.split(";")
        .list.eval(element.replace(mapping))
        .list.join(_JOIN[lang])
    )
