"""Every text a person reads, from one catalog: Japanese by default, English on request.

The operator (a society's 適用課 staff, its help desk) reads Japanese; `--lang en`
or `RECON_LANG=en` switches every text to English. Codes that tools read (check
codes, decision values, SPEC §8 column names) never come from here: they stay as
SPEC gives them in both languages.

The catalog is one TOML file per area beside this module (`cli.toml`,
`messages.toml`, `report.toml`, ...), each entry a table with both languages side
by side, so a translation cannot be forgotten without a test noticing
(tests/test_texts.py):

    [run.help]
    ja = "加入者台帳と届出を突合し、レポートを書きます。"
    en = "Reconcile the roster with the filings and write the report."

`text("cli.run.help")` is that entry in the chosen language. Values are filled
in with `str.format` names: `text("messages.no_file", path=p)` for
`ja = "{path} がありません。"`.
"""

from __future__ import annotations

import errno
import os
import string
import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"
#: The environment variable that chooses the language when `--lang` is not given.
LANG_ENV = "RECON_LANG"

_chosen: str | None = None


class UnknownText(LookupError):
    """A key the catalog does not hold: a bug in recon, never the operator's input."""


def choose(lang: str | None) -> str:
    """Make `lang` (ja or en; None: RECON_LANG, else ja) the language of every text from now on."""
    global _chosen
    _chosen = lang if lang is None else known_lang(lang)
    return current()


def chosen() -> str | None:
    """The language `choose` was given (None: the environment's, else ja), to give it back later."""
    return _chosen


def known_lang(lang: str) -> str:
    """`lang` if the catalog has it, else ValueError naming the languages it has."""
    if lang not in LANGS:
        raise ValueError(f"{lang!r}: {' / '.join(LANGS)}")
    return lang


def current() -> str:
    """The language texts are given in: the chosen one, else RECON_LANG if it names one, else ja.

    RECON_LANG may be written as a locale is (`en_US.UTF-8`, `ja-JP`): its language part counts.
    """
    if _chosen is not None:
        return _chosen
    env = os.environ.get(LANG_ENV, "").strip().lower()
    language = env.split(".")[0].replace("-", "_").split("_")[0]
    return language if language in LANGS else DEFAULT_LANG


def text(key: str, lang: str | None = None, /, **values: Any) -> str:
    """The catalog's text for `key` ("area.name[.sub]") in `lang` (default: `current()`)."""
    entry = entry_of(key)
    template = entry[lang or current()]
    return template.format_map(values) if values else template


@cache  # the report looks up the same few dozen keys for every member it explains
def entry_of(key: str) -> dict[str, str]:
    """Both languages of `key`; UnknownText when the catalog lacks it."""
    area, _, rest = key.partition(".")
    node: Any = area_entries(area)
    for part in rest.split("."):
        if not isinstance(node, dict) or part not in node:
            raise UnknownText(key)
        node = node[part]
    if not (isinstance(node, dict) and all(isinstance(node.get(lang), str) for lang in LANGS)):
        raise UnknownText(key)
    return node


@cache
def area_entries(area: str) -> dict[str, Any]:
    """The parsed `<area>.toml` of the catalog (read once per process)."""
    try:
        raw = resources.files(__package__).joinpath(f"{area}.toml").read_bytes()
    except FileNotFoundError:
        raise UnknownText(area) from None
    return tomllib.loads(raw.decode("utf-8"))


def areas() -> list[str]:
    """The catalog's areas (its TOML files), for the completeness tests."""
    return sorted(
        p.name.removesuffix(".toml")
        for p in resources.files(__package__).iterdir()
        if p.name.endswith(".toml")
    )


def all_keys(area: str) -> list[str]:
    """Every key of `area`, e.g. ["cli.run.help", ...]."""

    def walk(prefix: str, node: dict[str, Any]) -> list[str]:
        if all(isinstance(node.get(lang), str) for lang in LANGS):
            return [prefix]
        return [k for name, sub in node.items() for k in walk(f"{prefix}.{name}", sub)]

    return walk(area, area_entries(area))


def fields(template: str) -> set[str]:
    """The `{names}` a template fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def os_reason(exc: OSError, lang: str | None = None) -> str:
    """Why the system refused, in the operator's language (`messages.os.ENOENT`, ...);
    the system's own words for an errno the catalog does not hold."""
    name = errno.errorcode.get(exc.errno or 0, "")
    try:
        return text(f"messages.os.{name}", lang)
    except UnknownText:
        return exc.strerror or str(exc)


def os_error(exc: OSError, lang: str | None = None) -> str:
    """`path: why` for an OSError (`[Errno 13] Permission denied: 'x'` as the operator reads it)."""
    reason = os_reason(exc, lang)
    if exc.filename is None:
        return reason
    # Both files of a rename or a link (`a -> b`); a name given as bytes, decoded.
    path = os.fsdecode(exc.filename)
    if exc.filename2 is not None:
        path = f"{path} -> {os.fsdecode(exc.filename2)}"
    return text("messages.os.error", lang, path=path, reason=reason)
