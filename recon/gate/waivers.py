"""Waivers: accepted exceptions, each with a reason, an approver and an expiry date.

A waivers file is TOML, kept beside the roster and reviewed like it:

    [[waiver]]
    check = "match.birth_date"
    member_id = "1201-1006-01"
    field = "birth_date"                  # optional: only the finding on this field
    reason = "Koseki checked; employer re-files in July"
    approved_by = "佐藤 (適用課)"
    expires_on = 2025-07-31               # the last day the waiver holds

Instead of `member_id`, `finding` names a finding without a member (an orphan
filing) by its `finding_id` in the gate's `gate.json`; such ids are keyed, so they
need the gate's key. A waived finding does not fail the gate while its waiver holds. A
waiver past its date no longer waives anything (the finding counts again,
even if it is in the baseline), and a waiver that matches nothing is reported
so that it can be removed. Expiry is judged on the later of today and
`--as-of`: a back-dated run cannot revive an expired waiver.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon.errors import InputError
from recon.findings import catalog
from recon.masking import scrub

_REQUIRED = ("check", "reason", "approved_by", "expires_on")
_OPTIONAL = ("member_id", "finding", "field")

ACTIVE, EXPIRED, UNUSED = "active", "expired", "unused"


@dataclass(frozen=True)
class Waiver:
    number: int  # its place in the file, from 1
    check: str
    reason: str
    approved_by: str
    expires_on: dt.date
    member_id: str | None = None
    finding: str | None = None
    field: str | None = None

    def holds_on(self, day: dt.date) -> bool:
        return day <= self.expires_on


@dataclass(frozen=True)
class WaiverStatus:
    waiver: Waiver
    status: str  # active (waives what it matches), expired, unused (matches nothing)
    matched: int  # findings it matches in this run
    note: str = ""


def effective_day(as_of: dt.date, today: dt.date | None = None) -> dt.date:
    return max(as_of, today or dt.date.today())


def load(path: Path) -> tuple[Waiver, ...]:
    """Read and check a waivers file; anything malformed is an input error (exit 2)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: the waivers file cannot be read ({exc.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the waivers file is not valid TOML: {exc}.") from None
    return parse(document, str(path))


def parse(document: dict, where: str) -> tuple[Waiver, ...]:
    unknown = sorted(set(document) - {"waiver"})
    if unknown:
        raise InputError(f"{where}: unknown top-level key(s) {unknown}; write [[waiver]] tables.")
    entries = document.get("waiver", [])
    if not isinstance(entries, list):
        raise InputError(f"{where}: `waiver` must be a list of [[waiver]] tables.")
    return tuple(_waiver(entry, n, where) for n, entry in enumerate(entries, start=1))


def _waiver(entry: object, number: int, where: str) -> Waiver:
    at = f"{where}: waiver {number}"
    if not isinstance(entry, dict):
        raise InputError(f"{at} is not a table; write it as [[waiver]] with keys.")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        keys = ", ".join(_REQUIRED + _OPTIONAL)
        raise InputError(f"{at}: unknown key(s) {unknown}; the keys are {keys}.")
    missing = [k for k in _REQUIRED if k not in entry or entry[k] in ("", None)]
    if missing:
        raise InputError(f"{at} lacks {', '.join(missing)}: every waiver needs {_REQUIRED}.")
    values = {}
    for k in ("check", "reason", "approved_by", *_OPTIONAL):
        if k in entry:
            if not isinstance(entry[k], str):
                raise InputError(f"{at}: {k} must be text in quotes.")
            values[k] = entry[k].strip() or None
    if not values.get("member_id") and not values.get("finding"):
        raise InputError(
            f"{at} names no finding: give member_id (or finding: for a finding without a "
            f"member, its finding_id in gate.json)."
        )
    expires = entry["expires_on"]
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires.strip())
        except ValueError:
            expires = None
    if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
        raise InputError(f"{at}: expires_on must be a date written YYYY-MM-DD.")
    return Waiver(number=number, expires_on=expires, **values)


def apply(
    findings: pl.DataFrame, waivers: Sequence[Waiver], day: dt.date
) -> tuple[pl.DataFrame, tuple[WaiverStatus, ...]]:
    """Add `waiver` (its number), `waiver_state` and `waived_until` to the findings.

    When several waivers match a finding, one that holds wins over an expired one,
    and the later expiry over the earlier.
    """
    chosen: list[Waiver | None] = []
    matched = {w.number: 0 for w in waivers}
    columns = ("check", "member_id", "field", "finding_id")
    for check, member, field_, finding_id in findings.select(columns).iter_rows():
        hits = [w for w in waivers if _matches(w, check, member, field_, finding_id)]
        for w in hits:
            matched[w.number] += 1
        chosen.append(max(hits, key=lambda w: (w.holds_on(day), w.expires_on), default=None))
    out = findings.with_columns(
        waiver=pl.Series([w.number if w else None for w in chosen], dtype=pl.Int64),
        waiver_state=pl.Series(
            [None if w is None else ACTIVE if w.holds_on(day) else EXPIRED for w in chosen],
            dtype=pl.String,
        ),
        waived_until=pl.Series(
            [w.expires_on.isoformat() if w else None for w in chosen], dtype=pl.String
        ),
    )
    known = {c.code for c in catalog()} | set(findings["check"].to_list())
    statuses = []
    for w in waivers:
        status = EXPIRED if not w.holds_on(day) else ACTIVE if matched[w.number] else UNUSED
        note = "" if w.check in known or w.check.startswith("gx.") else "unknown check code"
        statuses.append(WaiverStatus(w, status, matched[w.number], note))
    return out, tuple(statuses)


def _matches(w: Waiver, check, member, field_, finding_id) -> bool:
    if w.check != check:
        return False
    if w.member_id and w.member_id != member:
        return False
    if w.finding and w.finding != finding_id:
        return False
    return not (w.field and w.field != field_)


REPORT_COLUMNS = {
    "check": pl.String,
    "member_id": pl.String,
    "finding": pl.String,
    "field": pl.String,
    "reason": pl.String,
    "approved_by": pl.String,
    "expires_on": pl.Date,
    "status": pl.String,
    "matched": pl.Int64,
    "note": pl.String,
}


def report_rows(statuses: Sequence[WaiverStatus]) -> pl.DataFrame:
    """The waivers as the report shows them: one row each, in file order.

    `status` is active, expired or unused. The texts people type (reason,
    approver) and the note are scrubbed here (`recon.masking.scrub`); the
    member id and finding id are identifiers, written as they are.
    """
    return pl.DataFrame(
        [
            {
                "check": s.waiver.check,
                "member_id": s.waiver.member_id,
                "finding": s.waiver.finding,
                "field": s.waiver.field,
                "reason": scrub(s.waiver.reason),
                "approved_by": scrub(s.waiver.approved_by),
                "expires_on": s.waiver.expires_on,
                "status": s.status,
                "matched": s.matched,
                "note": scrub(s.note),
            }
            for s in statuses
        ],
        schema=REPORT_COLUMNS,
    )
