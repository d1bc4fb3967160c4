"""The policy: dates and switches (SPEC §2), loaded from one TOML file."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from recon.errors import InputError

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


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: the policy file cannot be read ({exc.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the policy file is not valid TOML: {exc}.") from None


def load_policy(path: Path | None = None) -> Policy:
    """The shipped defaults, with the keys of `path` (when given) replacing them."""
    values = _read(DEFAULT_POLICY)
    source = DEFAULT_POLICY
    if path is not None:
        source = path
        override = _read(path)
        unknown = sorted(set(override) - set(values))
        if unknown:
            raise InputError(
                f"{path}: unknown policy key(s) {', '.join(unknown)}; known keys are "
                f"{', '.join(sorted(values))}."
            )
        values |= override
    for f in fields(Policy):
        want = {"dt.date": dt.date, "str": str, "int": int, "bool": bool}[f.type]
        value = values[f.name]
        # A TOML date must be a bare date (2024-08-16), not a quoted string or a datetime.
        if want is dt.date and isinstance(value, dt.datetime) or not isinstance(value, want):
            raise InputError(
                f"{source}: policy key {f.name} = {value!r} should be a {want.__name__} "
                f"(for a date write it bare, like 2024-08-16)."
            )
    return Policy(**values)
