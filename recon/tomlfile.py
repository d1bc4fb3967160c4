"""The TOML files an operator hands recon (`--policy`, `--waivers`), read as they are saved.

One loader for all of them, so that each refuses the same things the same way,
with an `InputError` (exit 2) that names the file and says what to do:

- not a file at all (a folder, a pipe, a device): refused before it is opened,
  as the tables are (`recon.read.require_file`) — a FIFO would block forever
  and `/dev/zero` would fill the memory;
- a UTF-8 byte order mark (Windows Notepad writes one) is not an error: it is
  dropped, as the CSV reader drops it;
- arrays or tables nested thousands deep (`a = [[[[…]]]]`) exhaust Python's
  recursion in `tomllib`: that is a broken file, not a bug in recon.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from recon.errors import InputError
from recon.read import require_file
from recon.texts import os_reason, text

Explain = Callable[[str, tomllib.TOMLDecodeError], str]

# tomllib's phrases (its first words) -> the catalog's words for them (tomlfile.syntax.*).
_SYNTAX = [
    ("Invalid value", "invalid_value"),
    ("Cannot overwrite", "overwrite"),
    ("Cannot declare", "overwrite"),
    ("Cannot redefine", "overwrite"),
    ("Cannot mutate", "overwrite"),
    ("Duplicate inline table key", "overwrite"),
    ("Invalid statement", "invalid_statement"),
    ("Unterminated string", "unterminated_string"),
    ("Unclosed array", "unclosed_array"),
    ("Unclosed inline table", "unclosed_table"),
    ("Expected '=' after a key", "expected_equals"),
    ("Invalid date or datetime", "invalid_date"),
    ("Invalid initial character for a key", "bad_key"),
    ("Expected ']", "table_header"),
    ("Illegal character", "illegal_character"),
    ("Found invalid character", "illegal_character"),
]
_LOCATED = re.compile(r"(.*?)\s*\((?:at line (\d+), column (\d+)|(at end of document))\)\s*$", re.S)


def _t(name: str, lang: str | None = None, /, **values: object) -> str:
    return text(f"tomlfile.{name}", lang, **values)


def kind_name(kind: str, lang: str | None = None) -> str:
    """The file as messages name it: ポリシーファイル / policy file."""
    if kind in ("policy", "waivers"):
        return _t(f"kind.{kind}", lang)
    return _t("kind.other", lang, kind=kind)


def syntax_error(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's error in the chosen language: what is wrong, then where (line, column)."""
    said = str(exc)
    found = _LOCATED.fullmatch(said)
    phrase = found[1] if found else said
    what = next(
        (_t(f"syntax.{key}") for start, key in _SYNTAX if phrase.startswith(start)),
        _t("syntax.other", error=phrase),
    )
    if not found:
        return what
    where = _t("syntax.at_end") if found[4] else _t("syntax.at", line=found[2], column=found[3])
    return _t("syntax.where", what=what, where=where)


def decode(data: bytes, name: Path | str, kind: str) -> str:
    """The text of a TOML file's bytes: UTF-8, a leading byte order mark dropped."""
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            _t("not_utf8", name=name, line=line, offset=exc.start, kind=kind_name(kind))
        ) from None


def parse(text: str, name: Path | str, kind: str, explain: Explain | None = None) -> dict:
    """The TOML document in `text`; `explain(text, error)` words a syntax error, if given."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if explain is not None:
            raise InputError(explain(text, exc)) from None
        raise InputError(
            _t("not_toml", name=name, kind=kind_name(kind), error=syntax_error(exc))
        ) from None
    except RecursionError:
        raise InputError(_t("too_deep", name=name, kind=kind_name(kind))) from None


def read_text(path: Path, option: str, kind: str) -> str:
    """The text of the TOML file at `path`, given as `option`; exit 2 when it cannot be read."""
    # require_file (recon/read.py) takes the file's name in both languages.
    ja, en = (_t("kind.wanted", lang, name=kind_name(kind, lang)) for lang in ("ja", "en"))
    require_file(path, option, ja, en)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            _t("unreadable", path=path, kind=kind_name(kind), why=os_reason(exc))
        ) from None
    return decode(data, path, kind)


def load(path: Path, option: str, kind: str, explain: Explain | None = None) -> dict:
    """The TOML document of the file given as `option` (`--policy`, `--waivers`)."""
    return parse(read_text(path, option, kind), path, kind, explain)


def loads(data: bytes, name: Path | str, kind: str) -> dict:
    """The TOML document of a file held in memory (a file at a git revision)."""
    return parse(decode(data, name, kind), name, kind)
