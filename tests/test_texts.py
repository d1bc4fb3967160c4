"""The text catalog (recon/texts): complete in both languages, and chosen as documented."""

from __future__ import annotations

import errno
import os

import pytest

from recon import texts


def _all_keys() -> list[str]:
    return [k for area in texts.areas() for k in texts.all_keys(area)]


def test_catalog_has_areas_and_keys():
    assert "common" in texts.areas()
    assert "common.bundled_sample" in _all_keys()


@pytest.mark.parametrize("key", _all_keys())
def test_each_entry_has_both_languages_with_the_same_fields(key):
    entry = texts.entry_of(key)
    assert entry["ja"].strip() and entry["en"].strip(), key
    assert texts.fields(entry["ja"]) == texts.fields(entry["en"]), key


def test_no_other_keys_than_the_languages_in_an_entry():
    for key in _all_keys():
        assert set(texts.entry_of(key)) == set(texts.LANGS), key


def test_language_is_chosen_then_env_then_japanese(monkeypatch):
    monkeypatch.delenv(texts.LANG_ENV, raising=False)
    texts.choose(None)
    assert texts.current() == "ja"
    assert texts.text("common.bundled_sample") == "同梱サンプル"
    monkeypatch.setenv(texts.LANG_ENV, "EN")
    assert texts.text("common.bundled_sample") == "bundled sample"
    monkeypatch.setenv(texts.LANG_ENV, "fr")  # not a language of the catalog: the default
    assert texts.current() == "ja"
    for locale, lang in (
        ("en_US.UTF-8", "en"),
        ("ja-JP", "ja"),
        ("EN_GB", "en"),
        ("C.UTF-8", "ja"),
    ):
        monkeypatch.setenv(texts.LANG_ENV, locale)  # written as a locale: its language part
        assert texts.current() == lang, locale
    texts.choose("en")
    monkeypatch.setenv(texts.LANG_ENV, "ja")
    assert texts.current() == "en"  # --lang wins over the environment
    texts.choose(None)


def test_explicit_language_and_values():
    assert texts.text("common.lang.name", "en") == "English"
    with pytest.raises(texts.UnknownText):
        texts.text("common.no_such_text")
    with pytest.raises(texts.UnknownText):
        texts.text("nosucharea.x")
    with pytest.raises(ValueError, match="ja / en"):
        texts.choose("fr")


def test_both_files_of_a_refused_link_and_a_name_given_as_bytes_are_said():
    both = FileExistsError(17, "File exists", "memo.txt", None, "data")  # as os.link raises
    assert texts.os_error(both, "en") == "memo.txt -> data: already exists"
    as_bytes = PermissionError(13, "Permission denied", "/x/名簿.csv".encode())
    assert texts.os_error(as_bytes, "ja") == "/x/名簿.csv: アクセスする権限がありません"


@pytest.mark.parametrize(
    ("error", "ja", "en"),
    [
        (
            PermissionError(13, "Permission denied", "/x/a.csv"),
            "/x/a.csv: アクセスする権限がありません",
            "/x/a.csv: permission denied",
        ),
        (
            FileNotFoundError(2, "No such file or directory"),
            "見つかりません",
            "no such file or folder",
        ),
        # An errno the catalog does not word: the system's own words.
        (
            OSError(errno.EXFULL, os.strerror(errno.EXFULL), "f"),
            f"f: {os.strerror(errno.EXFULL)}",
            f"f: {os.strerror(errno.EXFULL)}",
        ),
    ],
)
def test_what_the_system_refused_is_said_in_the_operators_language(error, ja, en):
    assert texts.os_error(error, "ja") == ja
    assert texts.os_error(error, "en") == en
