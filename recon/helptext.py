"""Help texts wrapped by terminal cells, so that Japanese help is never cut off.

rich (which typer renders `--help` with) breaks lines at spaces only. A Japanese
sentence has none, so in typer's option and command tables a sentence wider
than its column was cut with "…". Rather than change how typer or rich render
(their internals may change in any release), recon hands typer help texts it
has already broken into lines that fit, each a paragraph marked with `\\b`
(click's documented "do not rewrap" mark, which typer keeps too).

Lines break at spaces and between two characters of Japanese text, never
inside a run of ASCII (a file name, an option, a date) unless the run alone is
wider than the line, and never before 、。）」 or after （「 (the basic rules of
Japanese line breaking, 禁則処理).
"""

from __future__ import annotations

import os
import re
import unicodedata

# What may not start a line, and what may not end one (JIS X 4051's basic set).
NO_LINE_START = frozenset(
    "、。，．・：；？！）」』】〕〉》ー々ゝゞぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)
NO_LINE_END = frozenset("（「『【〔〈《")
# A run of spaces, a run of visible ASCII (never broken), or one other character.
_UNIT = re.compile(r" +|[\x21-\x7e]+|.", re.S)
#: click's mark for a paragraph it must not rewrap (typer keeps the lines as given).
KEEP_LINES = "\b"


def cells(text: str) -> int:
    """The width of `text` on a terminal: 2 cells for each wide (CJK) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def is_wide(text: str) -> bool:
    """Whether `text` holds a wide character, which rich could not break."""
    return any(unicodedata.east_asian_width(c) in "WF" for c in text)


def _units(line: str) -> list[str]:
    """The pieces a line may break between, the 禁則 characters glued to their neighbour."""
    units: list[str] = []
    glue_next = False
    for unit in _UNIT.findall(line):
        if units and not unit.isspace() and (glue_next or unit[0] in NO_LINE_START):
            units[-1] += unit
        else:
            units.append(unit)
        glue_next = unit[-1] in NO_LINE_END
    return units


def _chop(unit: str, width: int) -> list[str]:
    """A unit wider than a whole line, cut at the line's width."""
    pieces, piece = [], ""
    for c in unit:
        if piece and cells(piece + c) > width:
            # 、 or ） may not start a line: the character before it goes down with it.
            carried = piece[-1] if c in NO_LINE_START and len(piece) > 1 else ""
            pieces.append(piece.removesuffix(carried))
            piece = carried
        piece += c
    return [*pieces, piece]


def wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` cells (its own line breaks kept)."""
    width = max(width, 8)
    lines: list[str] = []
    for given in text.split("\n"):
        line = ""
        for unit in _units(given):
            if unit.isspace():
                line += " " if line else ""
                continue
            if cells(line + unit) <= width:
                line += unit
                continue
            if line.strip():
                lines.append(line.rstrip())
            *full, line = _chop(unit, width)
            lines.extend(full)
        lines.append(line.rstrip())
    return lines


def kept(text: str, width: int) -> str:
    """`text` broken to `width` cells, each paragraph marked so that no one rewraps it."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(KEEP_LINES + "\n" + "\n".join(wrap(p, width)) for p in paragraphs)


def terminal_width() -> int:
    """The width typer's help is printed at: TERMINAL_WIDTH, else rich's own guess."""
    from rich.console import Console

    given = os.environ.get("TERMINAL_WIDTH", "").strip()
    return int(given) if given.isdigit() and int(given) > 0 else Console().width
