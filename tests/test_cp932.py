"""CP932 through iconv gives Python's codec's answer, byte for byte, or none at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon import cp932, read
from recon.errors import InputError

# Every CP932 character, the five bytes only Python maps, and bytes that are no CP932.
_VALID = [c.encode("cp932") for c in cp932._every_character().decode("cp932")]
_EXTRAS = [b"\x80", b"\xa0", b"\xfd", b"\xfe", b"\xff"]
_BROKEN = [b"\x81", b"\x85\x30", b"\xeb\x40"]  # a lead byte alone, or with no trail it takes
_TYPICAL = [b",", b"\r\n", b"1001", "髙﨑ｱｶﾞ①ⅱ～－〜".encode("cp932")]


def _python(data: bytes, start: int = 0) -> bytes:
    return data[start:].decode("cp932").encode("utf-8")


def test_iconv_gives_pythons_answer_on_every_character_here():
    """On this machine (glibc) iconv is used: otherwise the run is 0.5 s slower, silently."""
    assert cp932._agrees()
    every = cp932._every_character()
    assert len(every.decode("cp932")) > 7_000  # JIS X 0208, NEC and IBM extensions, user area
    assert cp932.to_utf8(every) == _python(every)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.one_of(st.sampled_from(_VALID), st.sampled_from(_TYPICAL + _EXTRAS + _BROKEN)),
        max_size=40,
    ),
    bom=st.booleans(),
)
def test_a_file_reads_as_pythons_codec_reads_it_or_says_where_it_fails(parts, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + b"".join(parts)
    start = 3 if bom else 0
    fast = cp932.to_utf8(data, start)
    try:
        expected = _python(data, start)
    except UnicodeDecodeError:
        assert fast is None
        with pytest.raises(InputError):
            read._from_cp932(data, Path("roster.csv"), start)
        return
    assert fast in (None, expected)
    if not any(extra in parts for extra in _EXTRAS):
        assert fast == expected  # iconv read it: no detour through Python's codec
    assert read._from_cp932(data, Path("roster.csv"), start) == expected


def test_output_three_times_the_input_comes_out_whole():
    # Half-width katakana: one byte in, three out, the most any CP932 character takes.
    data = "ｱｲｳｴｵｶｷｸｹｺﾟ".encode("cp932") * 5000
    assert len(_python(data)) == 3 * len(data)
    assert cp932.to_utf8(data) == _python(data)
    assert cp932.to_utf8(data, 7) == _python(data, 7)


def test_the_output_is_a_bytes_object_of_its_own():
    """Built in place and shrunk: it must be an ordinary bytes object that nothing
    else holds, and a file that fails must leave nothing allocated behind."""
    import sys

    data = "髙﨑,ｱｲｳ\r\n".encode("cp932") * 1000
    got = cp932.to_utf8(data)
    assert type(got) is bytes and got == _python(data)
    assert sys.getrefcount(got) == 2  # `got`, and getrefcount's argument
    assert cp932.to_utf8(data, len(data)) == b""
    assert cp932.to_utf8(data + b"\x81") is None


def test_the_c_api_is_typed_on_copies_of_its_own():
    """recon's types for the C API functions reach no other code in the process."""
    import ctypes

    assert cp932.to_utf8("髙".encode("cp932")) == "髙".encode()
    assert ctypes.pythonapi.PyBytes_AsString.restype is ctypes.c_int  # ctypes' default
    with pytest.raises(ValueError):
        cp932.to_utf8(b"abc", 4)


def test_without_the_c_api_python_reads_the_file(monkeypatch):
    data = "髙﨑,ｱｲｳ\r\n".encode("cp932")
    monkeypatch.setattr(cp932, "_python_api", lambda: None)
    assert cp932.to_utf8(data) is None
    assert read._from_cp932(data, Path("roster.csv")) == _python(data)


def test_without_iconv_python_reads_the_file(monkeypatch):
    data = "髙﨑,ｱｲｳ\r\n".encode("cp932")
    monkeypatch.setattr(cp932, "_library", lambda: None)
    assert cp932.to_utf8(data) is None
    assert read._from_cp932(data, Path("roster.csv")) == _python(data)


def test_an_iconv_that_maps_one_character_differently_is_never_used(monkeypatch):
    real = cp932._iconv

    def shifted(data: bytes, start: int) -> bytes | None:
        got = real(data, start)
        return None if got is None else got.replace("～".encode(), "〜".encode())

    monkeypatch.setattr(cp932, "_iconv", shifted)
    cp932._agrees.cache_clear()
    try:
        data = "山田～\r\n".encode("cp932")
        assert cp932.to_utf8(data) is None
        assert read._from_cp932(data, Path("roster.csv")).decode() == "山田～\r\n"
    finally:
        cp932._agrees.cache_clear()
