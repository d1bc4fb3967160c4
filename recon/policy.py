"""The policy: dates and switches (SPEC §2), loaded from one TOML file.

`load_policy` refuses a policy it cannot trust with an `InputError` (exit 2)
that names the file and the key: a value of the wrong type (a `true` where a
number belongs, a quoted date), a key the policy does not know, a value outside
its sensible range (a typo such as 2204-08-16 or 50 years of certificate
validity), dates in an impossible order, and a date that does not exist.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from dataclasses import asdict, dataclass, fields
from itertools import pairwise
from pathlib import Path

from recon import tomlfile
from recon.errors import InputError, InvariantError
from recon.texts import text

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


@dataclass(frozen=True)
class Policy:
    notice_snapshot: dt.date
    notice_first_wave_from: dt.date
    card_issuance_end: dt.date
    notice_second_wave: str
    transition_end: dt.date
    my_number_system_start: dt.date
    certificate_max_years: int
    kana_fold_small: bool
    certificate_for_unregistered: bool
    filing_missing_max_percent: int

    def as_json(self) -> dict[str, str | int | bool]:
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self).items()}


# The dates of the マイナ保険証 transition lie between the day the My Number card
# became usable as an insurance card nationwide and five years (a certificate's
# longest validity) after the last old card lapsed: anything outside is a typo.
_TRANSITION = (dt.date(2021, 10, 20), dt.date(2030, 12, 31), "transition")
# Numbers were first assigned on 2015-10-05 and first used on 2016-01-01 (SPEC §2).
_MY_NUMBER_START = (dt.date(2015, 10, 5), dt.date(2016, 1, 1), "my_number_start")


@dataclass(frozen=True)
class _Rule:
    kind: str  # "date", "month" (a quoted "YYYY-MM"), "int" or "bool"
    low: dt.date | int | None = None
    high: dt.date | int | None = None
    why: str = ""  # what the range is, a key of the catalog's policy.range


RULES: dict[str, _Rule] = {
    "notice_snapshot": _Rule("date", *_TRANSITION),
    "notice_first_wave_from": _Rule("date", *_TRANSITION),
    "card_issuance_end": _Rule("date", *_TRANSITION),
    "notice_second_wave": _Rule("month", *_TRANSITION),
    "transition_end": _Rule("date", *_TRANSITION),
    "my_number_system_start": _Rule("date", *_MY_NUMBER_START),
    "certificate_max_years": _Rule("int", 1, 10, "certificate_years"),
    "kana_fold_small": _Rule("bool"),
    "certificate_for_unregistered": _Rule("bool"),
    "filing_missing_max_percent": _Rule("int", 0, 100, "percentage"),
}

# (earlier, later): the key on the left may not come after the key on the right.
_ORDER = [
    ("notice_snapshot", "notice_first_wave_from"),
    ("notice_snapshot", "card_issuance_end"),
    ("card_issuance_end", "notice_second_wave"),
    ("card_issuance_end", "transition_end"),
]

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _show(value: object) -> str:
    """A value as it would be written in TOML, for a message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def _t(name: str, /, **values: object) -> str:
    return text(f"policy.{name}", **values)


def _kind_of(value: object) -> str:
    """What TOML read the value as, in words (bool before int, datetime before date)."""
    for kind in (bool, int, float, str, dt.datetime, dt.date, dt.time, list, dict):
        if isinstance(value, kind):
            return _t(f"kind.{kind.__name__}")
    return type(value).__name__


def _month(value: str) -> dt.date | None:
    """The first day of a "YYYY-MM" month, or None when it is not one."""
    found = _MONTH.fullmatch(value)
    if not found:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), 1)
    except ValueError:
        return None


def _day(kind: str, value: object) -> dt.date:
    """A checked date, or a checked month by its first day."""
    day = _month(value) if kind == "month" and isinstance(value, str) else value
    if not isinstance(day, dt.date):
        raise InvariantError(f"policy value {value!r} was compared before it was checked")
    return day


def _comparable(kind: str, value: object) -> dt.date | int:
    """A checked value as a date or number to compare with the limits (a month by its first day)."""
    if kind != "int":
        return _day(kind, value)
    if not isinstance(value, int):
        raise InvariantError(f"policy value {value!r} was compared before it was checked")
    return value


def _ascending(*points: dt.date | int) -> bool:
    """Whether the points never decrease. A rule's limits and values are all dates or all
    numbers; a mix would be a bug in RULES, not a policy a person wrote."""
    dates = [p for p in points if isinstance(p, dt.date)]
    numbers = [p for p in points if not isinstance(p, dt.date)]
    if dates and numbers:
        raise InvariantError(f"policy limits mix dates and numbers: {points!r}")
    return all(a <= b for a, b in pairwise(dates)) and all(a <= b for a, b in pairwise(numbers))


def _check(file: Path, key: str, value: object) -> str | None:
    """What is wrong with one value (a sentence naming `file` and `key`), or None."""
    rule = RULES[key]
    want = {"date": dt.date, "month": str, "int": int, "bool": bool}[rule.kind]
    # bool is a subclass of int and datetime of date: neither may stand in for the other.
    wrong = (
        not isinstance(value, want)
        or (rule.kind == "int" and isinstance(value, bool))
        or (rule.kind == "date" and isinstance(value, dt.datetime))
    )
    said = {"file": file, "key": key, "value": _show(value)}
    if wrong:
        return _t("problem.wrong_kind", kind=_kind_of(value), want=_t(f"want.{rule.kind}"), **said)
    if rule.kind == "month" and (not isinstance(value, str) or _month(value) is None):
        return _t("problem.not_a_month", want=_t("want.month"), **said)
    if rule.low is None or rule.high is None:
        return None
    if not _ascending(rule.low, _comparable(rule.kind, value), rule.high):
        low, high = (_show(v).strip('"') for v in (rule.low, rule.high))
        if rule.kind == "month":
            low, high = low[:7], high[:7]
        why = _t(f"range.{rule.why}")
        return _t("problem.out_of_range", why=why, low=low, high=high, **said)
    return None


def _decode_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    """Name the line and key of a TOML error; say plainly when a date does not exist."""
    where = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    lines = text.splitlines()
    error = tomlfile.syntax_error(exc)
    if not where or not 0 < int(where[1]) <= len(lines):
        return _t("syntax.file", file=path, error=error)
    number = int(where[1])
    line = lines[number - 1]
    assignment = re.match(r'\s*"?([A-Za-z0-9_-]+)"?\s*=\s*(.*?)\s*(?:#.*)?$', line)
    if not assignment:
        return _t("syntax.line", file=path, line=number, error=error)
    key, raw = assignment[1], assignment[2]
    date = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
    if date:
        try:
            real = dt.date(int(date[1]), int(date[2]), int(date[3]))
        except ValueError:
            return _t("syntax.no_such_date", file=path, line=number, key=key, raw=raw)
        # A date TOML reads as it stands (2024-08-16) is not what is wrong with the line:
        # the key written twice, say. Only 2024-8-16 needs its month and day in two digits.
        if real.isoformat() != raw:
            return _t(
                "syntax.two_digits", file=path, line=number, key=key, raw=raw, date=real.isoformat()
            )
    return _t("syntax.key", file=path, line=number, key=key, error=error)


def _read(path: Path) -> dict:
    def explain(text: str, exc: tomllib.TOMLDecodeError) -> str:
        return _decode_error(path, text, exc)

    return tomlfile.load(path, "--policy", "policy", explain)


def _unknown(path: Path, keys: list[str]) -> str:
    named = []
    for key in keys:
        near = difflib.get_close_matches(key, RULES, n=1)
        named.append(_t("problem.did_you_mean", key=key, near=near[0]) if near else key)
    comma = _t("problem.list_separator")
    return _t(
        "problem.unknown_keys", file=path, keys=comma.join(named), known=comma.join(sorted(RULES))
    )


def load_policy(path: Path | None = None) -> Policy:
    """The shipped defaults, with the keys of `path` (when given) replacing them."""
    values = _read(DEFAULT_POLICY)
    source = dict.fromkeys(values, DEFAULT_POLICY)
    if path is not None:
        override = _read(path)
        unknown = sorted(set(override) - set(RULES))
        if unknown:
            raise InputError(_unknown(path, unknown))
        values |= override
        source |= dict.fromkeys(override, path)
    if not set(values) == set(RULES) == {f.name for f in fields(Policy)}:
        raise InvariantError(f"{DEFAULT_POLICY} does not hold exactly the keys of Policy.")
    problems = []
    for key, value in values.items():
        wrong = _check(source[key], key, value)
        if wrong:
            problems.append(wrong)
    if not problems:
        for earlier, later in _ORDER:
            a, b = (_day(RULES[k].kind, values[k]) for k in (earlier, later))
            if "month" in (RULES[earlier].kind, RULES[later].kind):
                a, b = a.replace(day=1), b.replace(day=1)  # a month: compare whole months
            if a > b:
                file = source[later] if source[later] != DEFAULT_POLICY else source[earlier]
                problems.append(
                    _t(
                        "problem.wrong_order",
                        file=file,
                        earlier=earlier,
                        earlier_value=_show(values[earlier]),
                        later=later,
                        later_value=_show(values[later]),
                    )
                )
    if problems:
        raise InputError(" ".join(problems))
    return Policy(**values)
