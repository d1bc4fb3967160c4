"""The column alias table: every header `recon` accepts, and what each column holds.

This is the only place that knows the Japanese headers (SPEC §3). Readers rename
through it; every later step uses the canonical English names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Source = Literal["roster", "filings"]

# What a column holds decides how it is normalized and validated.
Kind = Literal[
    "text",  # free text kept as given (names, addresses, ids)
    "date",
    "insurer_number",
    "branch",
    "postal_code",
    "relation",
    "sex",
    "yes_no",
    "residence",
    "overseas_type",
    "card_status",
    "my_number",
]


@dataclass(frozen=True)
class Column:
    name: str
    headers: tuple[str, ...]  # Japanese headers and other spellings seen in exports
    kind: Kind
    required: bool
    max_length: int | None = None


ROSTER: tuple[Column, ...] = (
    Column("insurer_number", ("保険者番号",), "insurer_number", True),
    Column("symbol", ("記号",), "text", True, max_length=8),
    Column("number", ("番号",), "text", True, max_length=8),
    Column("branch", ("枝番",), "branch", True),
    Column("relation", ("続柄",), "relation", True),
    Column("name", ("氏名",), "text", True),
    Column("name_kana", ("氏名カナ", "カナ氏名", "フリガナ"), "text", True),
    Column("birth_date", ("生年月日",), "date", True),
    Column("sex", ("性別",), "sex", True),
    Column("postal_code", ("郵便番号",), "postal_code", True),
    Column("address", ("住所",), "text", True),
    Column("acquired_on", ("資格取得日", "資格取得年月日"), "date", True),
    Column("lost_on", ("資格喪失日", "資格喪失年月日"), "date", False),
    Column("employee_id", ("社員番号",), "text", True),
    Column("residence", ("居住区分",), "residence", False),
    Column("overseas_type", ("海外赴任区分",), "overseas_type", False),
    Column("designated_address", ("国内指定住所",), "text", False),
    Column("emigrated_on", ("国外転出日",), "date", False),
    Column("jp_registered", ("住民登録",), "yes_no", False),
    Column("card_status", ("マイナンバーカード",), "card_status", False),
    Column("myna_registered", ("保険証利用登録",), "yes_no", False),
    Column("myna_opt_out", ("利用登録解除",), "yes_no", False),
    Column("cert_expires_on", ("電子証明書有効期限",), "date", False),
    Column("needs_assistance", ("要配慮者",), "yes_no", False),
)

FILINGS: tuple[Column, ...] = (
    Column("employee_id", ("社員番号",), "text", True),
    Column("relation", ("続柄",), "relation", True),
    Column("name", ("氏名",), "text", True),
    Column("name_kana", ("氏名カナ", "カナ氏名", "フリガナ"), "text", True),
    Column("birth_date", ("生年月日",), "date", True),
    Column("sex", ("性別",), "sex", True),
    Column("address", ("住所",), "text", False),
    Column("my_number", ("個人番号", "マイナンバー"), "my_number", True),
    Column("filed_on", ("届出日", "届出年月日"), "date", True),
    Column("branch", ("枝番",), "branch", False),
)

SCHEMAS: dict[Source, tuple[Column, ...]] = {"roster": ROSTER, "filings": FILINGS}
#: The other input, for telling a roster given as the filings (or the other way round).
OTHER: dict[Source, Source] = {"roster": "filings", "filings": "roster"}

# Japanese header per canonical name, for messages an operator reads.
JA_HEADER: dict[str, str] = {c.name: c.headers[0] for c in ROSTER + FILINGS}


def as_date(name: str) -> str:
    """The Date column normalize adds beside date column `name`: its text as a date, or null.

    Validation reads it instead of parsing a million cells per column again; it
    drops it once the column itself is a Date.
    """
    return f"{name}__as_date"


# Characters that show nothing, as (first, last) code points: the soft hyphen, the
# Arabic letter mark, the Mongolian vowel separator, zero-widths and direction marks,
# direction embeddings, the word joiner, invisible operators and isolates, and the
# byte-order mark. Pasted text carries them (a second BOM from a tool adding its own
# in front of UTF-8's, a direction mark from a web form): a header or a name with one
# is still itself. Not the direction overrides (U+202D, U+202E): they reverse how the
# text after them reads (山田<U+202E>太郎 shows as 山田郎太), so they are not nothing.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202C),
    (0x2060, 0x206F),
    (0xFEFF, 0xFEFF),
)
#: The characters themselves.
INVISIBLE = "".join(chr(c) for a, b in _INVISIBLE_RANGES for c in range(a, b + 1))
#: The same characters as the ranges of a regex character class (`[...]`), written
#: as `\uXXXX`, which Python's `re` and polars' (Rust) regex both read.
INVISIBLE_CLASS = "".join(
    f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in _INVISIBLE_RANGES
)
_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))
#: What a cell or a typed id may carry around its text and still mean only that text:
#: Unicode's White_Space (what polars' `strip_chars()` strips by default) and INVISIBLE.
EDGES = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000"
    + INVISIBLE
)


def visible(header: str) -> str:
    """A header as a message quotes it: every format character written out
    (`<U+200B>社員番号`, `<U+202E>氏名`), so that two headers that look alike can be
    told apart and none reorders the message around it."""
    return "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c) == "Cf" else c for c in header)


def header_key(header: str) -> str:
    """Fold a header so that width, case, spacing and invisible characters never decide a match."""
    folded = unicodedata.normalize("NFKC", header).translate(_INVISIBLE).strip().lower()
    return "".join(folded.split()).replace("_", "")


def alias_map(source: Source) -> dict[str, str]:
    """Folded header -> canonical column name, for one input."""
    out: dict[str, str] = {}
    for col in SCHEMAS[source]:
        for spelling in (col.name, *col.headers):
            out[header_key(spelling)] = col.name
    return out


def only_in(source: Source) -> tuple[Column, ...]:
    """The required columns of `source` that the other input has not at all.

    A header holding every one of them is that file, whatever it was given as:
    my_number and filed_on for the filings; insurer_number, symbol, number,
    postal_code and acquired_on for the roster.
    """
    other = {c.name for c in SCHEMAS[OTHER[source]]}
    return tuple(c for c in SCHEMAS[source] if c.required and c.name not in other)


# members.csv columns, in the order of SPEC §8: the decisions of sql/10_decision.sql
# that the report writes (recon.output) and `recon explain` reads back.
MEMBER_COLUMNS = (
    "member_id",
    "household_id",
    "active",
    "my_number_status",
    "notice",
    "certificate",
    "certificate_reasons",
    "certificate_valid_until",
    "delivery",
    "must_confirm",
    "confirm_reasons",
    "confirm_by",
)
