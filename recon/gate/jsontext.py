"""JSON text of large frames, made by polars: the same bytes as `json.dumps(..., indent=1)`.

`gate.json` and `baseline.json` list every finding (800,000 at 5M members) and
every household. As Python dicts, and through `json.dumps` with an indent (its
pure-Python encoder, one small string per token), they took gigabytes at the end
of a gate that had analysed the roster in less. Here each value is encoded by
polars (its escaping is `json.dumps(ensure_ascii=False)`'s: tested), the lines
are joined per slice of rows, and the text is handed out in pieces to be written
or hashed: the frame is never held a second time as Python objects.

A document is written as `json.dumps` of its small part with a `Spliced`
placeholder where each large part goes (`pieces`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

ROWS_PER_PIECE = 50_000


def _value(column: str, dtype: pl.DataType) -> pl.Expr:
    """The JSON text of each value of `column` (null -> `null`)."""
    if dtype.is_temporal():
        expr = pl.col(column).cast(pl.String)  # as `default=str` gave: ISO dates
    elif dtype == pl.String or dtype == pl.Boolean or dtype.is_integer() or dtype == pl.Null:
        expr = pl.col(column)
    else:
        # Floats and nested values are written differently by polars and Python.
        raise TypeError(f"no JSON text for column {column!r} of type {dtype}")
    prefix = '{"_":'
    return (
        pl.struct(expr.alias("_"))
        .struct.json_encode()
        .str.slice(len(prefix))
        .str.strip_suffix("}")
        .alias(column)
    )


def records(frame: pl.DataFrame, depth: int) -> Iterator[str]:
    """`frame` as a JSON list of objects whose `[` stands at indent `depth` (in pieces)."""
    if frame.height == 0:
        yield "[]"
        return
    item = " " * (depth + 1)
    key = " " * (depth + 2)
    parts: list[pl.Expr | str] = [f"{item}{{\n"]
    for i, (column, dtype) in enumerate(frame.schema.items()):
        separator = ",\n" if i else ""
        parts += [f"{separator}{key}{json.dumps(column, ensure_ascii=False)}: "]
        parts.append(_value(column, dtype))
    parts.append(f"\n{item}}}")
    yield from _joined(frame, parts, "[\n", f"\n{' ' * depth}]")


def mapping(frame: pl.DataFrame, depth: int) -> Iterator[str]:
    """A frame of two columns (key, value) as a JSON object whose `{` stands at `depth`."""
    if frame.height == 0:
        yield "{}"
        return
    name, value = frame.columns
    # A null key is the text "null", as `json.dumps` writes `None` as a key.
    keys = frame.select(pl.col(name).cast(pl.String).fill_null("null"))
    parts: list[pl.Expr | str] = [
        " " * (depth + 1),
        _value(name, pl.String()),
        ": ",
        _value(value, frame.schema[value]),
    ]
    frame = keys.with_columns(frame[value])
    yield from _joined(frame, parts, "{\n", f"\n{' ' * depth}}}")


def _joined(frame: pl.DataFrame, parts: list, opening: str, closing: str) -> Iterator[str]:
    line = pl.concat_str(
        [pl.lit(p) if isinstance(p, str) else p for p in parts], ignore_nulls=False
    )
    yield opening
    for start in range(0, frame.height, ROWS_PER_PIECE):
        piece = frame.slice(start, ROWS_PER_PIECE).select(line.str.join(",\n")).item()
        yield piece if start == 0 else ",\n" + piece
    yield closing


@dataclass(frozen=True)
class Spliced:
    """Where a large part goes in a document: `pieces` writes `parts` there."""

    name: str

    @property
    def placeholder(self) -> str:
        return f"\x00recon-spliced-{self.name}\x00"


def pieces(
    document: dict, parts: dict[Spliced, Iterator[str]], default: Callable | None = None
) -> Iterator[str]:
    """`json.dumps(document, ensure_ascii=False, indent=1, default=default) + "\\n"`, in
    pieces, with each `Spliced` value of the document replaced by its part (JSON text).
    `parts` in the order they stand in the document."""

    def placeholder(value: object) -> object:
        if isinstance(value, Spliced):
            return value.placeholder
        if default is None:
            raise TypeError(f"{type(value).__name__} is not JSON serializable")
        return default(value)

    text = json.dumps(document, ensure_ascii=False, indent=1, default=placeholder) + "\n"
    for spliced, part in parts.items():
        quoted = json.dumps(spliced.placeholder)
        before, found, text = text.partition(quoted)
        if not found or quoted in text:
            raise ValueError(f"{spliced.name} is not once in the document")
        yield before
        yield from part
    yield text
