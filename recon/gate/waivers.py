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

A waiver is a reviewed decision, so a blank reason or approver is refused, and
so is an expiry beyond what a certificate could be valid for
(`certificate_max_years` from the day the waivers are judged on, counted as
SPEC §6.2 counts a certificate's period): a waiver that would hold forever is
no longer reviewed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from recon import tomlfile
from recon.columns import INVISIBLE_CLASS
from recon.errors import InputError
from recon.findings import catalog
from recon.masking import scrub
from recon.texts import text

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
    # The one TOML loader: a BOM is read, deep nesting and non-files are exit 2.
    return parse(tomlfile.load(path, "--waivers", "waivers"), str(path))


def _t(name: str, /, **values: object) -> str:
    return text(f"waivers.{name}", **values)


def parse(document: dict, where: str) -> tuple[Waiver, ...]:
    unknown = sorted(set(document) - {"waiver"})
    if unknown:
        raise InputError(_t("unknown_top", where=where, keys=", ".join(unknown)))
    entries = document.get("waiver", [])
    if not isinstance(entries, list):
        raise InputError(_t("not_a_list", where=where))
    return tuple(_waiver(entry, n, where) for n, entry in enumerate(entries, start=1))


def _refused(message: str, *identifiers: str | None) -> InputError:
    """An input error that quotes identifiers: they are printed as they are, never masked."""
    return InputError(message, identifiers=(i for i in identifiers if i))


# Nothing a reviewer could read: spaces of any width (the ideographic one too),
# tabs, line breaks, C0/C1 controls, the characters that show nothing, and the
# direction overrides, which show nothing of their own either.
_BLANK = re.compile(rf"[\s\x00-\x1f\x7f-\x9f{INVISIBLE_CLASS}\u202d\u202e]*")


def _blank(text: str) -> bool:
    return _BLANK.fullmatch(text) is not None


class _At:
    """`waivers.toml: waiver 3 (match.sex 1201-1006-01)`, how an operator finds it in
    the file; spelled out only when a message needs it (files hold 100,000 waivers)."""

    def __init__(self, where: str, number: int, entry: dict):
        self.where, self.number, self.entry = where, number, entry

    def __format__(self, spec: str) -> str:
        named = [
            self.entry[k].strip()
            for k in ("check", "member_id", "finding")
            if isinstance(self.entry.get(k), str) and not _blank(self.entry[k])
        ]
        said = _t("at_said", said=" ".join(named)) if named else ""
        return _t("at", where=self.where, number=self.number, said=said)


def _waiver(entry: object, number: int, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise InputError(_t("not_a_table", where=where, number=number))
    at = _At(where, number, entry)
    ids = tuple(i for i in (entry.get("member_id"), entry.get("finding")) if isinstance(i, str))
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        keys = ", ".join(_REQUIRED + _OPTIONAL)
        raise _refused(_t("unknown_keys", at=at, unknown=", ".join(unknown), keys=keys), *ids)
    missing = [k for k in _REQUIRED if k not in entry or entry[k] in ("", None)]
    if missing:
        needs = ", ".join(_REQUIRED)
        raise _refused(_t("missing", at=at, missing=", ".join(missing), required=needs), *ids)
    for k in ("check", "reason", "approved_by", *_OPTIONAL):
        if k in entry and not isinstance(entry[k], str):
            raise _refused(_t("not_text", at=at, key=k), *ids)
    # An optional key left empty names nothing, as if it were not there.
    optional: dict[str, str | None] = {k: entry[k].strip() or None for k in _OPTIONAL if k in entry}
    # A waiver is a decision someone reviewed: who, and why, must be readable.
    blank = [k for k in ("check", "reason", "approved_by") if _blank(entry[k])]
    if blank:
        raise _refused(_t("blank", at=at, keys=_t("blank_and").join(blank)), *ids)
    if not optional.get("member_id") and not optional.get("finding"):
        raise _refused(_t("names_nothing", at=at), *ids)
    expires = entry["expires_on"]
    if isinstance(expires, dt.datetime):
        value, date = expires.isoformat(), expires.date().isoformat()
        raise _refused(_t("has_time", at=at, value=value, date=date), *ids)
    if not isinstance(expires, dt.date):
        shown = f'"{expires}"' if isinstance(expires, str) else repr(expires)
        raise _refused(_t("not_a_date", at=at, value=shown[:40]), *ids)
    # Not blank (refused above), so each required text is left with something in it.
    check, reason, approved_by = (entry[k].strip() for k in ("check", "reason", "approved_by"))
    return Waiver(
        number=number,
        check=check,
        reason=reason,
        approved_by=approved_by,
        expires_on=expires,
        member_id=optional.get("member_id"),
        finding=optional.get("finding"),
        field=optional.get("field"),
    )


def latest_expiry(day: dt.date, years: int) -> dt.date:
    """The last day a waiver judged on `day` may hold: the end of a period of `years`
    years starting on `day`, as SPEC §6.2 counts a certificate's (民法143条): the day
    before the same date `years` later, or the end of the month when that year has
    no such date (29 February)."""
    try:
        return day.replace(year=day.year + years) - dt.timedelta(days=1)
    except ValueError:  # 29 February in a year without one: the month's last day
        return dt.date(day.year + years, 2, 28)


def refuse_beyond(waivers: Sequence[Waiver], day: dt.date, years: int, where: object) -> None:
    """Exit 2 for a waiver that would outlive a certificate issued on `day`.

    `years`: the policy's `certificate_max_years`; `day`: the day the waivers are
    judged on (`effective_day`), so that a run cannot be back-dated to allow more.
    """
    latest = latest_expiry(day, years)
    for w in waivers:
        if w.expires_on > latest:
            whom = w.member_id or w.finding
            said = {"where": where, "number": w.number, "check": w.check, "whom": whom}
            message = _t("too_late", expires=w.expires_on, years=years, latest=latest, **said)
            raise _refused(message, w.member_id, w.finding)


_WAIVER_SCHEMA = {
    "number": pl.Int64,
    "w_check": pl.String,
    "w_member_id": pl.String,
    "w_finding": pl.String,
    "w_field": pl.String,
    "expires_on": pl.Date,
}


def apply(
    findings: pl.DataFrame, waivers: Sequence[Waiver], day: dt.date
) -> tuple[pl.DataFrame, tuple[WaiverStatus, ...]]:
    """Add `waiver` (its number), `waiver_state` and `waived_until` to the findings.

    When several waivers match a finding, one that holds wins over an expired one,
    the later expiry over the earlier, and the first in the file over a later one.
    """
    table = pl.DataFrame(
        [(w.number, w.check, w.member_id, w.finding, w.field, w.expires_on) for w in waivers],
        schema=_WAIVER_SCHEMA,
        orient="row",
    ).with_columns(holds=pl.col("expires_on") >= day)
    pairs = _matched_pairs(findings, table)
    # The best waiver per finding: holds first, then the later expiry, then file order.
    chosen = (
        pairs.sort(
            ["_finding", "holds", "expires_on", "number"], descending=[False, True, True, False]
        )
        .unique("_finding", keep="first", maintain_order=True)
        .select(
            "_finding",
            waiver="number",
            waiver_state=pl.when("holds").then(pl.lit(ACTIVE)).otherwise(pl.lit(EXPIRED)),
            waived_until=pl.col("expires_on").cast(pl.String),
        )
    )
    out = (
        findings.with_row_index("_finding")
        .join(chosen, on="_finding", how="left", maintain_order="left")
        .drop("_finding")
    )
    matched = dict(pairs.group_by("number").len().iter_rows())
    known = {c.code for c in catalog()} | set(findings["check"].unique().to_list())
    statuses = []
    for w in waivers:
        hits = matched.get(w.number, 0)
        status = EXPIRED if not w.holds_on(day) else ACTIVE if hits else UNUSED
        note = "" if w.check in known or w.check.startswith("gx.") else "unknown check code"
        statuses.append(WaiverStatus(w, status, hits, note))
    return out, tuple(statuses)


def _agree(given: str, found: str) -> pl.Expr:
    """A key the waiver leaves out matches anything; one it gives must be equal."""
    return pl.col(given).is_null() | (pl.col(given) == pl.col(found)).fill_null(False)


def _matched_pairs(findings: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Every (finding, waiver) that matches, as two equi-joins.

    A waiver names its finding by check and member id, or (without a member) by
    check and finding id; the other keys it gives must then agree too. Every waiver
    is in exactly one of the two joins, so no pair is counted twice, and each pair
    is one the waiver really matches: no finding × waiver product is ever built.
    """
    cols = ("check", "member_id", "field", "finding_id")
    frame = findings.select(*[pl.col(c).cast(pl.String) for c in cols]).with_row_index("_finding")
    by_member = table.filter(pl.col("w_member_id").is_not_null()).join(
        frame,
        left_on=["w_check", "w_member_id"],
        right_on=["check", "member_id"],
        how="inner",
    )
    by_finding = table.filter(pl.col("w_member_id").is_null()).join(
        frame,
        left_on=["w_check", "w_finding"],
        right_on=["check", "finding_id"],
        how="inner",
    )
    return pl.concat(
        [
            by_member.filter(_agree("w_finding", "finding_id") & _agree("w_field", "field")),
            by_finding.filter(_agree("w_field", "field")),
        ],
        how="diagonal",
    ).select("_finding", "number", "holds", "expires_on")


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
        {
            "check": [s.waiver.check for s in statuses],
            "member_id": [s.waiver.member_id for s in statuses],
            "finding": [s.waiver.finding for s in statuses],
            "field": [s.waiver.field for s in statuses],
            "reason": [scrub(s.waiver.reason) for s in statuses],
            "approved_by": [scrub(s.waiver.approved_by) for s in statuses],
            "expires_on": [s.waiver.expires_on for s in statuses],
            "status": [s.status for s in statuses],
            "matched": [s.matched for s in statuses],
            "note": [scrub(s.note) for s in statuses],
        },
        schema=REPORT_COLUMNS,
    )
