"""CP932 (Shift_JIS as Windows writes it) to UTF-8 through the C library's iconv.

Python's codec holds the GIL for the whole transcode of a file (0.7 s for a
million members' roster), so the other file's parse, the background imports
and every other Python thread waited for it. iconv is called through ctypes,
which lets go of the GIL for the call: the transcode runs beside them, and is
a little faster too (one pass, no str in between: 0.55 s against 0.71 s).

The result is always Python's, byte for byte. iconv is used only where it
gives Python's codec's answer on every character (`_agrees`: checked once per
process, on each of CP932's characters); a file that iconv cannot read whole
(a byte Python maps and glibc does not, like 0x80 or 0xFD, or a byte that is no
CP932 at all) gives None, and the caller reads it with Python's codec, which
also says where a bad byte is. Without iconv (Windows, or no CP932 converter
installed) it is always None.
"""

from __future__ import annotations

import ctypes
import errno
import functools
from typing import Any

# Output is collected in pieces of this size: no guess of the final size is needed
# (half-width katakana take three times their bytes), and a piece is small
# beside the file.
_PIECE = 1 << 24
_FAILED = ctypes.c_size_t(-1).value


def to_utf8(data: bytes, start: int = 0, piece: int = _PIECE) -> bytes | None:
    """`data[start:]` read as CP932, as UTF-8; None where iconv does not give Python's answer."""
    if not _agrees():
        return None
    return _iconv(data, start, piece)


@functools.cache
def _agrees() -> bool:
    """Whether iconv maps every character as Python's cp932 codec does."""
    sample = _every_character()
    return _iconv(sample, 0, _PIECE) == sample.decode("cp932").encode("utf-8")


def _every_character() -> bytes:
    """Every byte and byte pair Python reads as one CP932 character, in one string.

    Five single bytes are left out: Python maps 0x80, 0xA0 and 0xFD-0xFF
    (Microsoft's extras beyond Shift_JIS) and glibc refuses them; a file with
    one is read by Python's codec (`to_utf8` gives None).
    """
    found = [bytes([b]) for b in range(0x100) if b not in (0x80, 0xA0, 0xFD, 0xFE, 0xFF)]
    found += [
        bytes([lead, trail])
        for lead in (*range(0x81, 0xA0), *range(0xE0, 0xFD))
        for trail in range(0x40, 0xFD)
    ]
    return b"".join(c for c in found if _one_character(c))


def _one_character(data: bytes) -> bool:
    try:
        return len(data.decode("cp932")) == 1
    except UnicodeDecodeError:
        return False


def _iconv(data: bytes, start: int, piece: int) -> bytes | None:
    library = _library()
    if library is None:
        return None
    handle = library.iconv_open(b"UTF-8", b"CP932")
    if handle in (None, ctypes.c_void_p(-1).value):
        return None  # no CP932 converter installed
    try:
        # The bytes object's own buffer, read in place: iconv never writes to its input.
        address = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
        source = ctypes.c_void_p(address + start)
        left = ctypes.c_size_t(len(data) - start)
        out = ctypes.create_string_buffer(piece)
        pieces = []
        while left.value:
            target = ctypes.c_void_p(ctypes.addressof(out))
            room = ctypes.c_size_t(piece)
            done = library.iconv(
                handle,
                ctypes.byref(source),
                ctypes.byref(left),
                ctypes.byref(target),
                ctypes.byref(room),
            )
            if done == _FAILED and ctypes.get_errno() != errno.E2BIG:
                return None  # a byte iconv does not read (EILSEQ), or a cut character (EINVAL)
            if room.value == piece and left.value:  # not even one character fitted
                piece *= 2
                out = ctypes.create_string_buffer(piece)
                continue
            # Only the bytes written: `out.raw` would copy the whole piece first.
            pieces.append(ctypes.string_at(out, piece - room.value))
        return b"".join(pieces)
    finally:
        library.iconv_close(handle)


@functools.cache
def _library() -> Any:
    """The process's C library with iconv's three functions typed; None without them."""
    try:
        library = ctypes.CDLL(None, use_errno=True)  # the C library Python itself runs on
        open_, convert, close = library.iconv_open, library.iconv, library.iconv_close
    except (OSError, AttributeError, TypeError):
        return None
    open_.restype = ctypes.c_void_p
    open_.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    pointer = ctypes.POINTER(ctypes.c_void_p)
    size = ctypes.POINTER(ctypes.c_size_t)
    convert.restype = ctypes.c_size_t
    convert.argtypes = [ctypes.c_void_p, pointer, size, pointer, size]
    close.argtypes = [ctypes.c_void_p]
    return library
