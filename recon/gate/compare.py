"""The gate's decision: new, still open and resolved findings, and the roster diff.

Only what the update *introduces* fails the gate: a finding at or above
`--fail-on` that is not waived and is
- new (its identity is not in the baseline; without a baseline every finding is), or
- still open but matched by a waiver that has expired, or
- still open but accepted in the baseline only under a waiver that no longer
  holds (deleting an expired waiver does not make its finding acceptable), or
- still open, with `--strict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from recon.findings import SEVERITY_RANK
from recon.gate.baseline import FINDING_COLUMNS, Snapshot, tag_column
from recon.gate.waivers import ACTIVE, EXPIRED, WaiverStatus
from recon.masking import scrub

RANK = SEVERITY_RANK
NEW, OPEN, RESOLVED = "new", "open", "resolved"


@dataclass
class RosterDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # member -> fields
    moved_overseas: list[tuple[str, str]] = field(default_factory=list)  # household, status
    moved_back: list[tuple[str, str]] = field(default_factory=list)  # household, old status
    overseas_changed: list[tuple[str, str, str]] = field(default_factory=list)  # was, now

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.moved_overseas
            or self.moved_back
            or self.overseas_changed
        )

    def as_dict(self) -> dict:
        return {
            "members_added": self.added,
            "members_removed": self.removed,
            "members_changed": [{"member_id": m, "fields": f} for m, f in self.changed.items()],
            "households_moved_overseas": [
                {"household_id": h, "now": s} for h, s in self.moved_overseas
            ],
            "households_moved_back": [{"household_id": h, "was": s} for h, s in self.moved_back],
            "households_overseas_changed": [
                {"household_id": h, "was": a, "now": b} for h, a, b in self.overseas_changed
            ],
        }


@dataclass
class Outcome:
    findings: pl.DataFrame  # this run's findings: status, waived, blocking, why
    resolved: pl.DataFrame  # the baseline's identities that are gone
    waivers: tuple[WaiverStatus, ...]
    fail_on: str
    strict: bool
    baseline: str | None  # where the baseline came from; None: every finding is new
    diff: RosterDiff | None
    context: dict = field(default_factory=dict)  # inputs, as_of, notes: for the renderers

    @property
    def blocking(self) -> pl.DataFrame:
        return self.findings.filter(pl.col("blocking"))

    @property
    def passed(self) -> bool:
        return self.blocking.is_empty()

    def count(self, status: str, severity: str | None = None) -> int:
        frame = self.resolved if status == RESOLVED else self.findings
        if status != RESOLVED:
            frame = frame.filter(pl.col("status") == status)
        if severity:
            frame = frame.filter(pl.col("severity") == severity)
        return frame.height


def compare(
    findings: pl.DataFrame,
    waivers: Sequence[WaiverStatus],
    base: Snapshot | None,
    current: Snapshot | None,
    fail_on: str,
    strict: bool,
) -> Outcome:
    """`findings`: identified (`baseline.identify`) and waived (`waivers.apply`)."""
    known = base.findings if base is not None else None
    base_ids = known["finding_id"] if known is not None else pl.Series([], dtype=pl.String)
    base_waived = (
        known.filter(pl.col("waived_until").is_not_null())["finding_id"]
        if known is not None
        else pl.Series([], dtype=pl.String)
    )
    is_new = ~pl.col("finding_id").is_in(base_ids.implode())
    if base is not None and not base.quality_judged:
        is_new = is_new | pl.col("check").str.starts_with("gx.")
    was_waived = pl.col("finding_id").is_in(base_waived.implode()) & ~is_new
    ranks = pl.col("severity").replace_strict(RANK, default=len(RANK))
    at_or_above = ranks <= RANK[fail_on]
    waived = pl.col("waiver_state").fill_null("") == ACTIVE
    expired = pl.col("waiver_state").fill_null("") == EXPIRED
    reasons = [
        (is_new & expired, "new; its waiver has expired"),
        (is_new, "new"),
        (expired, "its waiver has expired"),
        (was_waived, "accepted in the baseline under a waiver that no longer holds"),
    ]
    if strict:
        reasons.append((pl.lit(True), "still open (--strict)"))
    why = pl.lit(None, pl.String)
    for condition, text in reversed(reasons):
        why = pl.when(condition).then(pl.lit(text)).otherwise(why)
    judged = findings.with_columns(
        status=pl.when(is_new).then(pl.lit(NEW)).otherwise(pl.lit(OPEN)),
        waived=waived,
        why=why,
    ).with_columns(blocking=at_or_above & ~pl.col("waived") & pl.col("why").is_not_null())
    judged = judged.with_columns(
        why=pl.when(pl.col("blocking")).then(pl.col("why")).otherwise(pl.lit(None, pl.String))
    )
    if known is not None:
        resolved = known.filter(~pl.col("finding_id").is_in(findings["finding_id"].implode()))
    else:
        resolved = pl.DataFrame(schema=FINDING_COLUMNS)
    diff = roster_diff(base, current) if base is not None and current is not None else None
    return Outcome(
        findings=judged,
        resolved=resolved,
        waivers=tuple(waivers),
        fail_on=fail_on,
        strict=strict,
        baseline=scrub(base.origin) if base is not None else None,  # a path: free text
        diff=diff,
    )


def roster_diff(base: Snapshot, current: Snapshot) -> RosterDiff:
    """Members and households compared in polars: each side holds one row per id."""
    diff = RosterDiff()
    now, was = current.members, base.members
    diff.added = now.join(was, on="member_id", how="anti")["member_id"].sort().to_list()
    diff.removed = was.join(now, on="member_id", how="anti")["member_id"].sort().to_list()
    shared = [f for f in current.fields if f in base.fields]
    if shared:
        # One hash of a member's tags first: at 5M members a join of both sides' 21 tag
        # columns took gigabytes; the fields are compared for the changed members only.
        # (Two different sets of tags hash alike with odds about 2**-64.)
        tags = [tag_column(f) for f in shared]
        summary = pl.struct(tags).hash(seed=0).alias("_tags")
        differ = (
            now.select("member_id", summary)
            .join(was.select("member_id", summary), on="member_id", suffix="_was")
            .filter(pl.col("_tags") != pl.col("_tags_was"))
            .select("member_id")
        )
        both = (
            now.join(differ, on="member_id", how="semi")
            .select("member_id", *tags)
            .join(
                was.join(differ, on="member_id", how="semi").select("member_id", *tags),
                on="member_id",
                suffix="_was",
            )
        )
        differs = [pl.col(t) != pl.col(t + "_was") for t in tags]
        changed = (
            both.filter(pl.any_horizontal(differs))
            .select(
                "member_id",
                fields=pl.concat_list(
                    [pl.when(d).then(pl.lit(f)) for f, d in zip(shared, differs, strict=True)]
                ).list.drop_nulls(),
            )
            .sort("member_id")
        )
        diff.changed = dict(changed.iter_rows())
    homes = (
        current.households.join(base.households, on="household_id", suffix="_was")
        .filter(pl.col("status") != pl.col("status_was"))
        .sort("household_id")
    )
    for household, status, status_was in homes.iter_rows():
        if status_was == "domestic":
            diff.moved_overseas.append((household, status))
        elif status == "domestic":
            diff.moved_back.append((household, status_was))
        else:
            diff.overseas_changed.append((household, status_was, status))
    return diff
