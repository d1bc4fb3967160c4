"""The gate's key: where it comes from, its fingerprint, and keyed tags.

Identities that must be compared across runs (a filing without a member, the
fields of a roster row) are HMAC-SHA256 tags under a key the society keeps
secret, so a baseline holds no name, address or birth date in clear and
nobody without the key can test a guess against it. The key is never written:
a baseline records only `fingerprint`, an HMAC of a fixed label, which shows
whether two baselines were made with the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from recon.errors import InputError
from recon.texts import os_reason, text

ENV = "RECON_GATE_KEY"
MIN_LENGTH = 16
_LABEL = b"recon gate baseline key v1"
_SEP = b"\x1f"
MAKE_ONE = "python -c 'import secrets; print(secrets.token_hex(32))'"


@dataclass(frozen=True)
class Key:
    secret: bytes
    source: str  # where it came from, for messages: never the key itself
    persistent: bool = True  # False: drawn for this run only, nothing keyed may be stored

    def __repr__(self) -> str:  # a key never reaches a log line through repr()
        return f"Key(source={self.source!r}, persistent={self.persistent})"

    @property
    def fingerprint(self) -> str:
        return "hmac-sha256:" + hmac.digest(self.secret, _LABEL, hashlib.sha256).hex()

    def subkey(self, label: str) -> bytes:
        """A key for one purpose only, derived with HMAC-SHA256 (32 bytes)."""
        return hmac.digest(self.secret, b"recon gate subkey" + _SEP + label.encode(), "sha256")

    def tag(self, *parts: object, size: int = 16) -> str:
        """Hex HMAC-SHA256 of the parts (None as empty), cut to `size` bytes."""
        message = _SEP.join(b"" if p is None else str(p).encode("utf-8") for p in parts)
        return hmac.digest(self.secret, message, hashlib.sha256)[:size].hex()


def ephemeral() -> Key:
    """A key for this run only: identities compare within the run, never across runs."""
    return Key(secrets.token_bytes(32), "drawn for this run", persistent=False)


def load_key(key_file: Path | None, environ: Mapping[str, str] | None = None) -> Key | None:
    """`--key-file` when given, else `$RECON_GATE_KEY`, else None."""
    variables: Mapping[str, str] = os.environ if environ is None else environ
    if key_file is not None:
        try:
            # Notepad saves a UTF-8 byte order mark first: it is not part of the key.
            secret = key_file.read_bytes().removeprefix(b"\xef\xbb\xbf").strip()
        except OSError as exc:
            raise InputError(
                text("gate.key.unreadable", path=key_file, why=os_reason(exc))
            ) from None
        # The source reads the same in every language: the option as it was given.
        return _checked(Key(secret, f"--key-file {key_file}"))
    value = variables.get(ENV, "")
    if value.strip():
        return _checked(Key(value.strip().encode("utf-8"), f"${ENV}"))
    return None


def _checked(key: Key) -> Key:
    if len(key.secret) < MIN_LENGTH:
        raise InputError(
            text(
                "gate.key.too_short",
                source=key.source,
                length=len(key.secret),
                minimum=MIN_LENGTH,
                make_one=MAKE_ONE,
            )
        )
    return key


def missing_key_message(needs: str, **values: object) -> str:
    """Why the gate stops without a key; `needs`: what needs it (gate.key.needs.*)."""
    why = text(f"gate.key.needs.{needs}", **values)
    return text("gate.key.missing", why=why, env=ENV, make_one=MAKE_ONE)
