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
import functools
import types
from typing import Any

_FAILED = ctypes.c_size_t(-1).value
# Every CP932 character is in Unicode's basic plane, which UTF-8 writes in at
# most three bytes, and CP932 spends at least one byte on it: the output is
# never longer than three times the input (half-width katakana reach that).
_MOST_BYTES_OUT_PER_BYTE_IN = 3


def to_utf8(data: bytes, start: int = 0) -> bytes | None:
    """`data[start:]` read as CP932, as UTF-8; None where iconv does not give Python's answer."""
    if not _agrees():
        return None
    return _iconv(data, start)


@functools.cache
def _agrees() -> bool:
    """Whether iconv maps every character as Python's cp932 codec does."""
    sample = _every_character()
    return _iconv(sample, 0) == sample.decode("cp932").encode("utf-8")


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


def _iconv(data: bytes, start: int) -> bytes | None:
    """The transcode, written straight into the bytes object that is returned.

    The output is made as a bytes object of the largest size it can take and
    shrunk to what was written (the C API's way of building bytes in place):
    the memory it does not use is never touched, and no copy is made. Collected
    in pieces and joined, a million members' roster was copied twice, 400 MB
    of fresh pages the kernel had to hand out.
    """
    library, api = _library(), _python_api()
    if library is None or api is None:
        return None
    if not 0 <= start <= len(data):
        raise ValueError(f"start {start} is outside the {len(data)} bytes")
    if start == len(data):
        return b""
    room_for = (len(data) - start) * _MOST_BYTES_OUT_PER_BYTE_IN
    try:
        # A new reference held as a bare pointer, so that it stays the only one:
        # only a bytes object nobody else holds may be resized.
        out = ctypes.c_void_p(api.PyBytes_FromStringAndSize(None, room_for))
    except MemoryError:  # a system that will not even promise the room (no overcommit)
        return None
    handle = library.iconv_open(b"UTF-8", b"CP932")
    opened = handle not in (None, ctypes.c_void_p(-1).value)  # else no CP932 converter installed
    try:
        if not opened:
            return None
        # The input's own buffer, read in place: iconv never writes to its input.
        address = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0
        source = ctypes.c_void_p(address + start)
        left = ctypes.c_size_t(len(data) - start)
        target = ctypes.c_void_p(api.PyBytes_AsString(out))
        room = ctypes.c_size_t(room_for)
        done = library.iconv(
            handle,
            ctypes.byref(source),
            ctypes.byref(left),
            ctypes.byref(target),
            ctypes.byref(room),
        )
        if done == _FAILED or left.value:
            return None  # a byte iconv does not read (EILSEQ), or a cut character (EINVAL)
        api._PyBytes_Resize(ctypes.byref(out), room_for - room.value)  # raises if it fails
        converted: bytes = ctypes.cast(out, ctypes.py_object).value  # a reference of Python's own
        return converted
    finally:
        if opened:
            library.iconv_close(handle)
        if out.value:
            api.Py_DecRef(out)  # the bare one (on failure, the resize has set it to NULL)


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


@functools.cache
def _python_api() -> Any:
    """The four functions of CPython's C API that build a bytes object in place,
    typed; None where Python has no such C API (another implementation).

    Each is taken as a copy of its own (`pythonapi[name]`), not the shared
    attribute: the types set here then reach no other code in the process.
    """
    api: Any = getattr(ctypes, "pythonapi", None)
    try:
        functions = {
            name: api[name]
            for name in (
                "PyBytes_FromStringAndSize",
                "_PyBytes_Resize",
                "PyBytes_AsString",
                "Py_DecRef",
            )
        }
    except (TypeError, AttributeError):  # no C API, or a function it lacks
        return None
    functions["PyBytes_FromStringAndSize"].restype = ctypes.c_void_p
    functions["PyBytes_FromStringAndSize"].argtypes = [ctypes.c_char_p, ctypes.c_ssize_t]
    functions["_PyBytes_Resize"].restype = ctypes.c_int
    functions["_PyBytes_Resize"].argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_ssize_t]
    functions["PyBytes_AsString"].restype = ctypes.c_void_p
    functions["PyBytes_AsString"].argtypes = [ctypes.c_void_p]
    functions["Py_DecRef"].argtypes = [ctypes.c_void_p]
    return types.SimpleNamespace(**functions)
