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
import tomllib
from collections.abc import Callable
from pathlib import Path

from recon.errors import InputError
from recon.read import require_file

# kind -> (Japanese, English) names of the file, as messages say them.
KINDS = {
    "policy": ("ポリシーファイル", "policy file"),
    "waivers": ("免除ファイル（waivers）", "waivers file"),
}

Explain = Callable[[str, tomllib.TOMLDecodeError], str]


def _names(kind: str) -> tuple[str, str]:
    return KINDS.get(kind, (f"{kind} ファイル", f"{kind} file"))


def decode(data: bytes, name: Path | str, kind: str) -> str:
    """The text of a TOML file's bytes: UTF-8, a leading byte order mark dropped."""
    ja, en = _names(kind)
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{name}: {line} 行目に UTF-8 でないバイトがあります（{exc.start} バイト目）。"
            f"{ja}を UTF-8 で保存し直してください。 / {name}: the {en} is not valid TOML: line "
            f"{line} has bytes that are not UTF-8 (byte offset {exc.start}); save it as UTF-8."
        ) from None


def parse(text: str, name: Path | str, kind: str, explain: Explain | None = None) -> dict:
    """The TOML document in `text`; `explain(text, error)` words a syntax error, if given."""
    ja, en = _names(kind)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if explain is not None:
            raise InputError(explain(text, exc)) from None
        raise InputError(
            f"{name}: {ja}が TOML として正しくありません: {exc}。 / "
            f"{name}: the {en} is not valid TOML: {exc}."
        ) from None
    except RecursionError:
        raise InputError(
            f"{name}: {ja}の配列や表の入れ子が深すぎて読めません（数千段）。壊れたファイルか、"
            f"{ja}ではないファイルです。正しいファイルを指定してください。 / "
            f"{name}: the {en} nests arrays or tables too deeply to be read (thousands of "
            f"levels): it is damaged or not a {en}; pass the right file."
        ) from None


def read_text(path: Path, option: str, kind: str) -> str:
    """The text of the TOML file at `path`, given as `option`; exit 2 when it cannot be read."""
    ja, en = _names(kind)
    require_file(path, option, ja, f"the {en} (TOML)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{path}: {ja}を読めません（{exc.strerror or exc}）。 / "
            f"{path}: the {en} cannot be read ({exc.strerror or exc})."
        ) from None
    return decode(data, path, kind)


def load(path: Path, option: str, kind: str, explain: Explain | None = None) -> dict:
    """The TOML document of the file given as `option` (`--policy`, `--waivers`)."""
    return parse(read_text(path, option, kind), path, kind, explain)


def loads(data: bytes, name: Path | str, kind: str) -> dict:
    """The TOML document of a file held in memory (a file at a git revision)."""
    return parse(decode(data, name, kind), name, kind)
