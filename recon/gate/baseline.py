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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon import __version__
from recon.errors import InputError
from recon.gate.keys import Key
from recon.masking import safe_frame
from recon.normalize.text import address_key

FILE = "baseline.json"
FORMAT = "recon-gate-baseline/1"

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


def identify(result, key: Key) -> pl.DataFrame:
    """The run's findings with `finding_id` and `anchor` (what a reviewer reads)."""
    findings = result.findings
    filings = result.filing_rows
    have = [c for c in FILING_IDENTITY if filings is not None and c in filings.columns]
    content = (
        filings.select(
            pl.col("row").alias("_filing_row"),
            pl.col("employee_id").alias("_employee_id"),
            *[pl.col(c).cast(pl.String).alias(f"_{c}") for c in have],
        )
        if filings is not None
        else pl.DataFrame(schema={"_filing_row": pl.Int64, "_employee_id": pl.String})
    )
    joined = (
        findings.with_row_index("_order")
        .with_columns(
            _filing_row=pl.when(pl.col("source") == "filings").then(pl.col("row").cast(pl.Int64))
        )
        .join(
            content.with_columns(pl.col("_filing_row").cast(pl.Int64)), on="_filing_row", how="left"
        )
    )
    ids, anchors = [], []
    for row in joined.iter_rows(named=True):
        check, member, source, field_, line = (
            row["check"],
            row["member_id"],
            row["source"],
            row["field"],
            row["row"],
        )
        if member:
            ids.append(key.tag("member", check, member, field_))
            anchors.append(member)
        elif source == "filings" and line is not None and row.get("_employee_id") is not None:
            values = [row.get(f"_{c}") for c in FILING_IDENTITY]
            ids.append(key.tag("filing", check, field_, *values))
            masked = row.get("_my_number_masked") or ""
            anchors.append(f"filing {row['_employee_id']} {masked}".strip())
        elif line is not None:
            # A row that no later step could read: the row number is all there is.
            ids.append(key.tag("row", check, source, field_, line))
            anchors.append(f"{source} row {line}")
        else:
            ids.append(key.tag("table", check, source, field_))
            anchors.append(f"{source} (whole table)")
    return (
        joined.with_columns(
            finding_id=pl.Series([letters(i) for i in ids], dtype=pl.String),
            anchor=pl.Series(anchors, dtype=pl.String),
        )
        .sort("_order")
        .select(*findings.columns, "finding_id", "anchor")
    )


MEMBER_COLUMNS = {"member_id": pl.String, "household_id": pl.String, "tags": pl.String}
HOUSEHOLD_COLUMNS = {"household_id": pl.String, "status": pl.String}


@dataclass
class Snapshot:
    """One run as the next gate needs it: `baseline.json` and `baseline-members.csv`."""

    key_fingerprint: str
    as_of: str
    findings: pl.DataFrame  # FINDING_COLUMNS, one row per identity
    members: pl.DataFrame  # MEMBER_COLUMNS: one row per member_id, its field tags joined
    households: pl.DataFrame  # HOUSEHOLD_COLUMNS: "domestic" | "overseas/<type>"
    fields: tuple[str, ...] = tuple(ROSTER_FIELDS)
    created_at: str = ""
    origin: str = ""  # where it came from, for messages

    def split(self, tags: str) -> dict[str, str]:
        """One member's joined tags -> {field: tag}."""
        width = 2 * FIELD_TAG_BYTES
        return {f: tags[i * width : (i + 1) * width] for i, f in enumerate(self.fields)}


def snapshot(result, key: Key, findings: pl.DataFrame) -> Snapshot:
    """`findings` is `identify`'s frame with the waiver columns of `waivers.apply`."""
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
        .cast(FINDING_COLUMNS)
    )
    return Snapshot(
        key_fingerprint=key.fingerprint,
        as_of=result.as_of.isoformat(),
        findings=safe_frame(grouped),
        members=roster_fingerprints(result.roster_rows, key),
        households=households(result.roster_rows),
        created_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    )


def roster_fingerprints(roster: pl.DataFrame | None, key: Key) -> pl.DataFrame:
    """One row per member: household, and a keyed tag per field of ROSTER_FIELDS.

    Each tag is keyed BLAKE2b (RFC 7693's MAC mode, 4 bytes) under a key derived
    per field from the gate's key with HMAC-SHA256, over the member id and the
    value: equal values of two members give unrelated tags, so the file does not
    even show who shares a birth date or an address. (A 100,000-member roster
    makes two million tags; BLAKE2b does them in a third of HMAC's time.)
    """
    if roster is None or roster.is_empty():
        return pl.DataFrame(schema=MEMBER_COLUMNS)
    columns = list(ROSTER_FIELDS.values())
    frame = roster.with_columns(
        designated_key=address_key(roster["designated_address"])
        if "designated_address" in roster.columns
        else pl.lit(None, pl.String)
    ).select(
        "member_id",
        "household_id",
        *[
            (
                pl.col(c).cast(pl.String)
                if c in roster.columns or c == "designated_key"
                else pl.lit(None, pl.String)
            )
            .fill_null("")
            .alias(c)
            for c in columns
        ],
    )
    # Twice the same member_id (roster.duplicate_member): both rows count, in any order.
    twice = pl.col("member_id").is_duplicated()
    frame = pl.concat(
        [
            frame.filter(~twice),
            frame.filter(twice)
            .group_by("member_id", maintain_order=True)
            .agg(
                pl.col("household_id").first(),
                *[pl.col(c).sort().str.join("\x1e") for c in columns],
            ),
        ]
    )
    ids = frame["member_id"].to_list()
    per_field = []
    for name, column in ROSTER_FIELDS.items():
        field_key = key.subkey("roster field " + name)
        messages = frame.select(
            pl.concat_str([pl.col("member_id"), pl.col(column)], separator="\x1f")
        ).to_series()
        per_field.append(
            [
                hashlib.blake2b(
                    m.encode("utf-8"), key=field_key, digest_size=FIELD_TAG_BYTES
                ).digest()
                for m in messages
            ]
        )
    tags = [letters(b"".join(parts).hex()) for parts in zip(*per_field, strict=True)]
    members = pl.DataFrame(
        {"member_id": ids, "household_id": frame["household_id"], "tags": tags},
        schema=MEMBER_COLUMNS,
    )
    return safe_frame(members)


def households(roster: pl.DataFrame | None) -> pl.DataFrame:
    """Per household, from its insured person's row: domestic or overseas (and how)."""
    if roster is None or roster.is_empty():
        return pl.DataFrame(schema=HOUSEHOLD_COLUMNS)
    status = (
        roster.with_row_index("_order")
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
    return safe_frame(status.cast(HOUSEHOLD_COLUMNS))


# --- the files -------------------------------------------------------------------

MEMBERS_FILE = "baseline-members.csv"


def dumps(snap: Snapshot) -> str:
    document = {
        "format": FORMAT,
        "tool": {"name": "recon", "version": __version__},
        "created_at": snap.created_at,
        "as_of": snap.as_of,
        "key_fingerprint": snap.key_fingerprint,
        "findings": snap.findings.to_dicts(),
        "roster": {
            "members_file": MEMBERS_FILE,
            "fields": list(snap.fields),
            "tag_bytes": FIELD_TAG_BYTES,
            "households": dict(snap.households.iter_rows()),
        },
    }
    # Ids, codes, counts and keyed tags: no free text to scrub (scrubbing the
    # whole text would mask member ids whose digits pass the check digit).
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def write(snap: Snapshot, folder: Path) -> None:
    (folder / FILE).write_text(dumps(snap), encoding="utf-8")
    safe_frame(snap.members).write_csv(folder / MEMBERS_FILE)


def read(folder: Path, key: Key) -> Snapshot:
    """The baseline in `folder`; exit 2 (InputError) when it cannot be used with `key`."""
    path = folder / FILE
    if not folder.is_dir():
        raise InputError(f"--baseline {folder}: no such folder.")
    if not path.is_file():
        raise InputError(
            f"--baseline {folder}: there is no {FILE} in it. A baseline is written by "
            f"`recon gate` when it has a key (`recon run` writes none): run `recon gate ... "
            f"--out {folder}` with $RECON_GATE_KEY set on the accepted roster to make one."
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a baseline written by recon gate ({exc}).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise InputError(
            f"{path}: format {found!r} is not {FORMAT!r}; make a new baseline with this "
            f"version of recon."
        )
    if document.get("key_fingerprint") != key.fingerprint:
        raise InputError(
            f"{path} was made with another key than the one from {key.source}: its "
            f"identities cannot be compared, so the gate cannot decide. Use the key the "
            f"baseline was made with, or make a new baseline with this key."
        )
    try:
        roster = document["roster"]
        if roster["tag_bytes"] != FIELD_TAG_BYTES or roster["members_file"] != MEMBERS_FILE:
            raise ValueError("roster tags of another kind")
        members = pl.read_csv(folder / MEMBERS_FILE, schema=MEMBER_COLUMNS)
        width = 2 * FIELD_TAG_BYTES * len(roster["fields"])
        if members.height and (members["tags"].str.len_chars() != width).any():
            raise ValueError(f"{MEMBERS_FILE}: tags of the wrong length")
        return Snapshot(
            key_fingerprint=document["key_fingerprint"],
            as_of=str(document["as_of"]),
            findings=pl.DataFrame(document["findings"], schema=FINDING_COLUMNS, strict=False),
            members=members,
            households=pl.DataFrame(
                list(roster["households"].items()), schema=HOUSEHOLD_COLUMNS, orient="row"
            ),
            fields=tuple(roster["fields"]),
            created_at=str(document.get("created_at", "")),
            origin=str(folder),
        )
    except (OSError, KeyError, TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"{path}: damaged baseline ({type(exc).__name__}: {exc}).") from None
