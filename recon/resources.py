"""Where the shipped SQL stages, check catalog and sample data live.

Installed from a wheel they sit inside the package (`recon/_shipped/`); in a
source checkout they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped(name: str) -> Path:
    """`sql`, `checks` or `sample_data`."""
    for candidate in (_PACKAGE / "_shipped" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"recon is installed without its {name}/ folder")
