"""What a gate leaves for the next one: finding identities and roster fingerprints.

A finding's identity must survive a new export of the same data: row numbers
move, the per-run My Number hash (`my_number_key`) changes every run, and the
number itself no longer exists. So the identity is

- `(check, member_id, field)` when the finding names a member;
- for a filing that names nobody (`filing.orphan`, a bad value on an unmatched
  filing), a keyed hash of what the filing says: employee id, relation, kana,
  birth date, filing date, masked number and its problem;
- `(check, source, field)` for a finding about a whole table (`gx.*`).

All three are HMAC-SHA256 tags (`keys.Key.tag`), so the baseline compares only
under the key it was made with. The roster is kept as one keyed tag per member
and field: enough to say which fields changed, while no name, address or birth
date is stored in clear.

`baseline.json` holds no My Number (none exists after normalization) and no
free text: ids, codes, counts and tags, written as they are (SPEC §9). Tags are
written in the letters a-p (four bits each), so that no reader can mistake one
for a twelve-digit number.

The two files are sealed together (`seal`): an HMAC-SHA256 under the key of
their exact bytes, checked before a baseline is used, so that nobody without
the key can add a finding id to the accepted ones or change a member's tags.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from recon import __version__, texts
from recon.errors import InputError
from recon.gate import jsontext
from recon.gate.keys import Key
from recon.masking import safe_frame
from recon.normalize.text import address_key

FILE = "baseline.json"
FORMAT = "recon-gate-baseline/2"

# The filing's content that identifies it across runs (never a My Number).
FILING_IDENTITY = (
    "employee_key",
    "relation",
    "kana_key",
    "birth_date",
    "filed_on",
    "my_number_masked",
    "my_number_problem",
)

# Roster field shown in the diff -> the column compared. Names and addresses are
# compared by their comparison keys, so that a new export (Shift_JIS to UTF-8,
# half-width kana, 和暦 dates) is not reported as a change.
ROSTER_FIELDS: dict[str, str] = {
    "insurer_number": "insurer_number",
    "relation": "relation",
    "name": "name_plain",
    "name_kana": "kana_plain",
    "birth_date": "birth_date",
    "sex": "sex",
    "postal_code": "postal_code",
    "address": "address_key",
    "acquired_on": "acquired_on",
    "lost_on": "lost_on",
    "employee_id": "employee_key",
    "residence": "residence",
    "overseas_type": "overseas_type",
    "designated_address": "designated_key",
    "emigrated_on": "emigrated_on",
    "jp_registered": "jp_registered",
    "card_status": "card_status",
    "myna_registered": "myna_registered",
    "myna_opt_out": "myna_opt_out",
    "cert_expires_on": "cert_expires_on",
    "needs_assistance": "needs_assistance",
}
FIELD_TAG_BYTES = 4  # a changed field goes unseen with probability 2**-32

FINDING_COLUMNS = {
    "finding_id": pl.String,
    "check": pl.String,
    "severity": pl.String,
    "member_id": pl.String,
    "source": pl.String,
    "field": pl.String,
    "anchor": pl.String,
    "count": pl.Int64,
    "waived_until": pl.String,
}

_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def letters(hex_tag: str) -> str:
    """Hex -> the letters a-p: no digits, so never a run of twelve."""
    return hex_tag.translate(_LETTERS)


@dataclass
class Rows:
    """What the gate keeps of a run's validated rows: never the rows themselves.

    Made by `keep` while the pipeline hands the rows over (`pipeline.analyse`'s
    `on_rows`), so that a million rows are not held through the whole run.
    """

    filings: (
        pl.DataFrame
    )  # per filing row: its identity text and employee id (FILING_IDENTITY_COLUMNS)
    members: pl.DataFrame | None = None  # `roster_fingerprints`, when a snapshot is needed
    households: pl.DataFrame | None = None


FILING_IDENTITY_COLUMNS = {
    "_filing_row": pl.Int64,
    "_employee_id": pl.String,
    "_identity": pl.String,
    "_my_number_masked": pl.String,
}


def keep(roster: pl.DataFrame, filings: pl.DataFrame, key: Key, *, fingerprint: bool) -> Rows:
    have = [c for c in FILING_IDENTITY if c in filings.columns]
    values = [
        (pl.col(c).cast(pl.String) if c in have else pl.lit(None, pl.String)).fill_null("")
        for c in FILING_IDENTITY
    ]
    masked = (
        pl.col("my_number_masked").cast(pl.String)
        if "my_number_masked" in filings.columns
        else pl.lit(None, pl.String)
    )
    identity = filings.select(
        pl.col("row").cast(pl.Int64).alias("_filing_row"),
        pl.col("employee_id").cast(pl.String).alias("_employee_id"),
        pl.concat_str(values, separator=_SEP).alias("_identity"),
        masked.alias("_my_number_masked"),
    )
    if not fingerprint:
        return Rows(identity)
    return Rows(identity, roster_fingerprints(roster, key), households(roster))


_SEP = "\x1f"  # as `Key.tag` joins its parts


def identify(findings: pl.DataFrame, rows: Rows | None, key: Key) -> pl.DataFrame:
    """The run's findings with `finding_id` and `anchor` (what a reviewer reads).

    The identity is `key.tag` of the same parts as always (so that a waiver's
    `finding = ...` keeps naming its finding), computed in DuckDB for all
    findings at once: the message per finding is composed in polars, HMAC-SHA256
    runs in SQL.
    """
    content = rows.filings if rows is not None else pl.DataFrame(schema=FILING_IDENTITY_COLUMNS)
    # A finding names one filing row at most: a left join on the row keeps one row per finding.
    joined = findings.with_columns(
        _filing_row=pl.when(pl.col("source") == "filings").then(pl.col("row").cast(pl.Int64))
    ).join(content, on="_filing_row", how="left", maintain_order="left")
    part = lambda c: pl.col(c).cast(pl.String).fill_null("")  # noqa: E731 - `None` as empty
    line = pl.col("row").cast(pl.Int64).cast(pl.String)
    is_member = pl.col("member_id").fill_null("") != ""
    is_filing = (
        (pl.col("source") == "filings")
        & pl.col("row").is_not_null()
        & pl.col("_employee_id").is_not_null()
    )
    is_row = pl.col("row").is_not_null()
    message = (
        pl.when(is_member)
        .then(
            pl.concat_str(
                [pl.lit("member"), part("check"), part("member_id"), part("field")],
                separator=_SEP,
            )
        )
        .when(is_filing)
        .then(
            pl.concat_str(
                [pl.lit("filing"), part("check"), part("field"), pl.col("_identity")],
                separator=_SEP,
            )
        )
        .when(is_row)
        .then(
            pl.concat_str(
                [pl.lit("row"), part("check"), part("source"), part("field"), line],
                separator=_SEP,
            )
        )
        .otherwise(
            pl.concat_str(
                [pl.lit("table"), part("check"), part("source"), part("field")], separator=_SEP
            )
        )
    )
    masked = pl.col("_my_number_masked").fill_null("")
    anchor = (
        pl.when(is_member)
        .then(pl.col("member_id"))
        .when(is_filing)
        .then(
            pl.concat_str(
                [pl.lit("filing "), pl.col("_employee_id"), pl.lit(" "), masked]
            ).str.strip_chars()
        )
        .when(is_row)
        .then(pl.concat_str([part("source"), pl.lit(" row "), line]))
        .otherwise(pl.concat_str([part("source"), pl.lit(" (whole table)")]))
    )
    tagged = joined.with_columns(_message=message, anchor=anchor)
    ids = keyed_tags(tagged["_message"], key.secret, size=16)
    return tagged.with_columns(finding_id=ids).select(*findings.columns, "finding_id", "anchor")


def keyed_tags(messages: pl.Series, secret: bytes, size: int) -> pl.Series:
    """Per message, HMAC-SHA256 under `secret` (RFC 2104) cut to `size` bytes, in letters a-p.

    Equal to `letters(Key.tag(...))` of the same parts; DuckDB computes it for
    the whole column. Each distinct message is hashed once.
    """
    block = 64
    if len(secret) > block:
        secret = hashlib.sha256(secret).digest()
    padded = secret.ljust(block, b"\0")
    inner = bytes(b ^ 0x36 for b in padded)
    outer = bytes(b ^ 0x5C for b in padded)
    distinct = pl.DataFrame({"message": messages.cast(pl.String)}).unique()
    with duckdb.connect() as con:
        con.register("distinct_message", distinct.to_arrow())
        tags = con.sql(
            "SELECT message, translate(substr(sha256($outer || unhex(sha256($inner || "
            "encode(message)))), 1, $width), '0123456789abcdef', 'abcdefghijklmnop') AS tag "
            "FROM distinct_message",
            params={"inner": inner, "outer": outer, "width": 2 * size},
        ).pl()
    return (
        pl.DataFrame({"message": messages.cast(pl.String)})
        .join(tags, on="message", how="left", maintain_order="left")["tag"]
        .alias("finding_id")
    )


MEMBER_COLUMNS = {"member_id": pl.String, "household_id": pl.String, "tags": pl.String}
HOUSEHOLD_COLUMNS = {"household_id": pl.String, "status": pl.String}
TAG = "tag:"  # prefix of a field's tag column in `Snapshot.members`


def tag_column(field_: str) -> str:
    return TAG + field_


@dataclass
class Snapshot:
    """One run as the next gate needs it: `baseline.json` and `baseline-members.csv`."""

    key_fingerprint: str
    as_of: str
    findings: pl.DataFrame  # FINDING_COLUMNS, one row per identity
    # One row per member_id: member_id, household_id, and per field of `fields` a UInt32
    # tag column (`tag_column`); the file joins them as letters (MEMBER_COLUMNS).
    members: pl.DataFrame
    households: pl.DataFrame  # HOUSEHOLD_COLUMNS: "domestic" | "overseas/<type>"
    fields: tuple[str, ...] = tuple(ROSTER_FIELDS)
    created_at: str = ""
    origin: str = ""  # where it came from, for messages
    # False when the run behind it made no decisions (`--baseline-ref` analyses the
    # revision to its findings only): it holds no `gx.*` finding to compare with.
    quality_judged: bool = True


def snapshot(as_of: dt.date, key: Key, findings: pl.DataFrame, rows: Rows) -> Snapshot:
    """`findings` is `identify`'s frame with the waiver columns of `waivers.apply`;
    `rows` is `keep(..., fingerprint=True)` of the same run."""
    grouped = (
        findings.group_by("finding_id", maintain_order=True)
        .agg(
            pl.col("check").first(),
            pl.col("severity").first(),
            pl.col("member_id").first(),
            pl.col("source").first(),
            pl.col("field").first(),
            pl.col("anchor").first(),
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("waived_until").max(),
        )
        .select(list(FINDING_COLUMNS))
        .cast(pl.Schema(FINDING_COLUMNS))
    )
    return Snapshot(
        key_fingerprint=key.fingerprint,
        as_of=as_of.isoformat(),
        findings=safe_frame(grouped),
        members=rows.members if rows.members is not None else _empty_members(),
        households=rows.households
        if rows.households is not None
        else pl.DataFrame(schema=HOUSEHOLD_COLUMNS),
        created_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    )


def _empty_members(fields: tuple[str, ...] = tuple(ROSTER_FIELDS)) -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "member_id": pl.String,
            "household_id": pl.String,
            **{tag_column(f): pl.UInt32 for f in fields},
        }
    )


def roster_fingerprints(roster: pl.DataFrame | None, key: Key) -> pl.DataFrame:
    """One row per member: household, and a keyed 4-byte tag per field of ROSTER_FIELDS.

    A field's tag is `pad XOR digest`: `digest` is keyed BLAKE2b (RFC 7693's MAC
    mode) of the value under a key derived per field from the gate's key, and
    `pad` is the member's own, taken from SHAKE-256 of a derived key and the
    member id. So equal values of two members give unrelated tags (the file does
    not show who shares a birth date or an address), a value gives the same tag
    for the same member in every run under the key, and the work is one hash per
    member and one per distinct value of a field, not one per member and field
    (21 million at a million members). What two baselines of one member show
    beyond "changed or not": the XOR of a field's two tags is the XOR of the two
    values' digests, so that two members whose field changed from the same
    value to the same value could be told apart from two that did not; never a
    value, nor a guess testable without the key.
    """
    if roster is None or roster.is_empty():
        return _empty_members()
    # Column by column: the roster's 21 fields as one frame of texts (and a filtered
    # copy of it) took 3 GB at 5M members, while the pipeline still held its rows.
    member_id = roster["member_id"].cast(pl.String)
    # Twice the same member_id (roster.duplicate_member): all its rows count, in any
    # order, as one member: bounded however many rows share the id.
    twice = member_id.is_duplicated()
    shared = member_id.filter(twice) if twice.any() else None

    def per_member(values: pl.Series, first: bool = False) -> pl.Series:
        if shared is None:
            return values
        grouped = (
            pl.DataFrame({"member_id": shared, "value": values.filter(twice)})
            .group_by("member_id", maintain_order=True)
            .agg(pl.col("value").first() if first else pl.col("value").sort().str.join("\x1e"))
        )
        return pl.concat([values.filter(~twice), grouped["value"]])

    def field_values(column: str) -> pl.Series:
        if column == "designated_key" and "designated_address" in roster.columns:
            values = address_key(roster["designated_address"])
        elif column in roster.columns:
            values = roster[column]
        else:
            values = pl.repeat(None, roster.height, dtype=pl.String, eager=True)
        return per_member(values.cast(pl.String).fill_null("").alias(column))

    members = pl.DataFrame(
        {
            "member_id": per_member(member_id, first=True),
            "household_id": per_member(roster["household_id"].cast(pl.String), first=True),
        }
    )
    pads = _member_pads(members["member_id"], key, len(ROSTER_FIELDS))
    tags = []
    for j, (name, column) in enumerate(ROSTER_FIELDS.items()):
        digests = _value_digests(field_values(column), key.subkey("roster field " + name))
        tags.append(pl.Series(tag_column(name), digests ^ pads[:, j], dtype=pl.UInt32))
    return members.with_columns(tags)


PADS_PER_PIECE = 250_000


def _member_pads(member_ids: pl.Series, key: Key, count: int) -> np.ndarray:
    """(members, count) uint32: each member's pads, from SHAKE-256(subkey, member id)."""
    start = hashlib.shake_256(key.subkey("roster member pads"))
    width = 4 * count

    def pad(member_id: str) -> bytes:
        h = start.copy()
        h.update(member_id.encode("utf-8"))
        return h.digest(width)

    # A slice at a time: five million Python texts and bytes at once took gigabytes.
    pads = np.empty((len(member_ids), count), dtype=np.uint32)
    for first in range(0, len(member_ids), PADS_PER_PIECE):
        ids = member_ids.slice(first, PADS_PER_PIECE).to_list()
        raw = b"".join(map(pad, ids))
        pads[first : first + len(ids)] = np.frombuffer(raw, dtype=">u4").reshape(-1, count)
    return pads


def _value_digests(values: pl.Series, field_key: bytes) -> np.ndarray:
    """uint32 per value: keyed BLAKE2b-32 of each distinct value, spread back to the rows."""
    start = hashlib.blake2b(key=field_key, digest_size=FIELD_TAG_BYTES)

    def digest(value: str) -> bytes:
        h = start.copy()
        h.update(value.encode("utf-8"))
        return h.digest()

    distinct = values.unique()
    table = np.frombuffer(b"".join(map(digest, distinct.to_list())), dtype=">u4")
    by_value = pl.DataFrame({"value": distinct, "digest": table.astype(np.uint32)})
    spread = values.to_frame("value").join(by_value, on="value", how="left", maintain_order="left")
    return spread["digest"].to_numpy()


def households(roster: pl.DataFrame | None) -> pl.DataFrame:
    """Per household, from its insured person's row: domestic or overseas (and how)."""
    if roster is None or roster.is_empty():
        return pl.DataFrame(schema=HOUSEHOLD_COLUMNS)
    # Only the four columns are sorted: the whole roster sorted was a copy of it (3 GB at 5M).
    status = (
        roster.select("household_id", "relation", "residence", "overseas_type")
        .with_row_index("_order")
        .sort(pl.col("relation") != "self", "_order")  # the insured person first
        .group_by("household_id", maintain_order=True)
        .agg(pl.col("residence").first(), pl.col("overseas_type").first())
        .select(
            "household_id",
            status=pl.when(pl.col("residence") == "overseas")
            .then(pl.lit("overseas/") + pl.col("overseas_type").fill_null("unknown"))
            .otherwise(pl.lit("domestic")),
        )
    )
    return safe_frame(status.cast(pl.Schema(HOUSEHOLD_COLUMNS)))


# --- the files -------------------------------------------------------------------

MEMBERS_FILE = "baseline-members.csv"
SEAL = "hmac-sha256:"
_UNSEALED = SEAL + "0" * 64  # the seal's place while the seal is computed
_SEAL_TEXT = re.compile(r'"seal": "(hmac-sha256:[0-9a-f]{64})"')


def _joined_tags(members: pl.DataFrame, fields: tuple[str, ...]) -> pl.Series:
    """Each member's field tags as one text: 8 letters a-p (4 bits each) per field."""
    if members.is_empty():
        return pl.Series("tags", [], dtype=pl.String)
    ints = np.stack([members[tag_column(f)].to_numpy() for f in fields], axis=1)
    big_endian = np.ascontiguousarray(ints.astype(">u4")).view(np.uint8)
    nibbles = np.empty((len(members), 2 * big_endian.shape[1]), dtype=np.uint8)
    nibbles[:, 0::2] = big_endian >> 4
    nibbles[:, 1::2] = big_endian & 15
    text = (nibbles + ord("a")).view(f"S{nibbles.shape[1]}").ravel()
    return pl.Series("tags", text, dtype=pl.Binary).cast(pl.String)


MEMBERS_PER_PIECE = 250_000  # the members file is written in slices of this many


def _write_members(snap: Snapshot, path: Path) -> None:
    """`baseline-members.csv`, a slice of members at a time: at 5M members the whole
    file's text (a gigabyte) and its tags as letters were held several times over."""
    with path.open("wb") as handle:
        for start in range(0, max(snap.members.height, 1), MEMBERS_PER_PIECE):
            members = snap.members.slice(start, MEMBERS_PER_PIECE)
            frame = members.select(
                "member_id", "household_id", tags=_joined_tags(members, snap.fields)
            )
            safe_frame(frame).write_csv(handle, include_header=start == 0)


def _document(snap: Snapshot) -> Iterator[str]:
    """`baseline.json` with its seal's place as zeros, in pieces (`jsontext`)."""
    listed = {
        jsontext.Spliced("findings"): jsontext.records(snap.findings, 1),
        jsontext.Spliced("households"): jsontext.mapping(snap.households, 2),
    }
    document = {
        "format": FORMAT,
        "tool": {"name": "recon", "version": __version__},
        "created_at": snap.created_at,
        "as_of": snap.as_of,
        "key_fingerprint": snap.key_fingerprint,
        "findings": jsontext.Spliced("findings"),
        "roster": {
            "members_file": MEMBERS_FILE,
            "fields": list(snap.fields),
            "tag_bytes": FIELD_TAG_BYTES,
            "households": jsontext.Spliced("households"),
        },
        "seal": _UNSEALED,
    }
    # Ids, codes, counts and keyed tags: no free text to scrub (scrubbing the
    # whole text would mask member ids whose digits pass the check digit).
    return jsontext.pieces(document, listed)


_SEAL_LABEL = b"recon gate baseline seal v1"


def _sealer(key: Key, text_size: int) -> hmac.HMAC:
    """The seal's HMAC, fed up to the text's bytes (the members' follow, with their size)."""
    mac = hmac.new(key.subkey("baseline seal"), digestmod="sha256")
    mac.update(len(_SEAL_LABEL).to_bytes(8, "big") + _SEAL_LABEL)
    mac.update(text_size.to_bytes(8, "big"))
    return mac


def seal(key: Key, text: str, members: bytes) -> str:
    """HMAC-SHA256 under the gate's key of both files' exact bytes (the seal's own value
    in `text` as written before sealing: zeros). Byte-exact: a re-saved or reformatted
    file is an edit, like any other."""
    raw = text.encode("utf-8")
    mac = _sealer(key, len(raw))
    mac.update(raw)
    mac.update(len(members).to_bytes(8, "big") + members)
    return SEAL + mac.hexdigest()


def _update_from(mac: hmac.HMAC, path: Path) -> None:
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            mac.update(block)


def write(snap: Snapshot, key: Key, folder: Path) -> None:
    """Both files, then the seal of what is on disk (read back in blocks: neither file
    is held whole), written over the zeros in its place."""
    members_path, path = folder / MEMBERS_FILE, folder / FILE
    _write_members(snap, members_path)
    unsealed = _UNSEALED.encode("ascii")
    offset = written = 0
    with path.open("wb") as handle:
        for piece in _document(snap):
            raw = piece.encode("utf-8")
            if unsealed in raw:
                offset = written + raw.index(unsealed)
            handle.write(raw)
            written += len(raw)
    mac = _sealer(key, written)
    _update_from(mac, path)
    mac.update(members_path.stat().st_size.to_bytes(8, "big"))
    _update_from(mac, members_path)
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write((SEAL + mac.hexdigest()).encode("ascii"))


def _changed(path: Path, what: str, **values: object) -> InputError:
    said = texts.text(f"gate.baseline.changed_what.{what}", **values)
    return InputError(texts.text("gate.baseline.changed", path=path, what=said))


def _damaged(path: Path, why: str) -> InputError:
    return InputError(texts.text("gate.baseline.damaged", path=path, why=why))


def read(folder: Path, key: Key) -> Snapshot:
    """The baseline in `folder`; exit 2 (InputError) when it cannot be used with `key`.

    In order: it is JSON of this format, made with this key, sealed by it
    together with its members file exactly as they are now, and well formed.
    """
    path = folder / FILE
    if not folder.is_dir():
        raise InputError(texts.text("gate.baseline.no_folder", folder=folder))
    if not path.is_file():
        raise InputError(texts.text("gate.baseline.no_file", folder=folder, file=FILE))
    try:
        raw = path.read_bytes()
        members_raw = (
            (folder / MEMBERS_FILE).read_bytes() if (folder / MEMBERS_FILE).is_file() else None
        )
    except OSError as exc:
        raise InputError(
            texts.text("gate.baseline.unreadable", path=path, reason=texts.os_reason(exc))
        ) from None
    try:
        text = raw.decode("utf-8")
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = texts.text("gate.baseline.nested") if isinstance(exc, RecursionError) else str(exc)
        raise InputError(texts.text("gate.baseline.not_a_baseline", path=path, why=why)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise InputError(
            texts.text("gate.baseline.format", path=path, found=repr(found), expected=repr(FORMAT))
        )
    if document.get("key_fingerprint") != key.fingerprint:
        raise InputError(texts.text("gate.baseline.other_key", path=path, source=key.source))
    if members_raw is None:
        raise _changed(path, "members_missing", file=MEMBERS_FILE)
    found = _SEAL_TEXT.findall(text)
    if len(found) != 1 or document.get("seal") != found[0]:
        raise _changed(path, "seal_missing")
    unsealed = text.replace(found[0], _UNSEALED)
    if not hmac.compare_digest(seal(key, unsealed, members_raw), found[0]):
        raise _changed(path, "differs", file=FILE, members=MEMBERS_FILE)
    try:
        return _parse(document, members_raw, str(folder))
    except (KeyError, TypeError, ValueError, AttributeError, pl.exceptions.PolarsError) as exc:
        # Sealed by the key, yet not as recon writes it (another tool holding the key).
        raise _damaged(path, f"{type(exc).__name__}: {exc}") from None


def _parse(document: dict, members_raw: bytes, origin: str) -> Snapshot:
    roster = document["roster"]
    if not isinstance(roster, dict):
        raise TypeError("roster is not an object")
    if roster["tag_bytes"] != FIELD_TAG_BYTES or roster["members_file"] != MEMBERS_FILE:
        raise ValueError("roster tags of another kind")
    fields = roster["fields"]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise TypeError("roster.fields is not a list of names")
    homes = roster["households"]
    if not isinstance(homes, dict) or not all(isinstance(v, str) for v in homes.values()):
        raise TypeError("roster.households is not an object of texts")
    findings = document["findings"]
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise TypeError("findings is not a list of objects")
    finding_frame = pl.DataFrame(findings, schema=FINDING_COLUMNS, strict=True)
    if (
        finding_frame["finding_id"].null_count()
        or finding_frame["finding_id"].is_duplicated().any()
    ):
        raise ValueError("a finding without an id, or an id twice")
    members = pl.read_csv(members_raw, schema=MEMBER_COLUMNS)
    width = 2 * FIELD_TAG_BYTES * len(fields)
    tags = members["tags"]
    if members.height and not tags.str.contains(f"^[a-p]{{{width}}}$").all():
        raise ValueError(f"{MEMBERS_FILE}: tags of the wrong length or letters")
    if members["member_id"].is_duplicated().any():
        raise ValueError(f"{MEMBERS_FILE}: a member id twice")
    hex_digits = tags.str.replace_many(list("abcdefghijklmnop"), list("0123456789abcdef"))
    size = 2 * FIELD_TAG_BYTES
    members = members.select(
        "member_id",
        "household_id",
        *[
            hex_digits.str.slice(i * size, size)
            .str.to_integer(base=16)
            .cast(pl.UInt32)
            .alias(tag_column(f))
            for i, f in enumerate(fields)
        ],
    )
    return Snapshot(
        key_fingerprint=document["key_fingerprint"],
        as_of=str(document["as_of"]),
        findings=finding_frame,
        members=members,
        households=pl.DataFrame(list(homes.items()), schema=HOUSEHOLD_COLUMNS, orient="row"),
        fields=tuple(fields),
        created_at=str(document.get("created_at", "")),
        origin=origin,
    )
