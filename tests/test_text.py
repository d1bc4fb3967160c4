"""Comparison keys for kana, kanji names and addresses (SPEC §4)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recon.normalize import text
from recon.normalize.text import (
    address_key,
    fold_small_kana,
    fold_variants,
    kana_plain,
    kanji_number,
    name_plain,
)


def _expr(fn, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(fn(pl.col("v")))["v"].to_list()


def kana(*values: str | None) -> list[str | None]:
    return _expr(kana_plain, list(values))


def kana_small(*values: str | None) -> list[str | None]:
    return _expr(lambda e: fold_small_kana(kana_plain(e)), list(values))


def names(*values: str | None) -> list[str | None]:
    return _expr(name_plain, list(values))


def variants(*values: str | None) -> list[str | None]:
    return fold_variants(pl.Series("name", list(values), dtype=pl.String)).to_list()


def addresses(*values: str | None) -> list[str | None]:
    return address_key(pl.Series("address", list(values), dtype=pl.String)).to_list()


def address(value: str) -> str:
    return addresses(value)[0]


# --- kana_plain --------------------------------------------------------------------


def test_spaces_of_any_kind_are_removed():
    assert (
        kana("アベ　シンイチ", "アベシンイチ", " アベ シンイチ ", "アベ\tシンイチ")
        == ["アベシンイチ"] * 4
    )


def test_half_width_kana_becomes_full_width_with_voiced_marks_composed():
    assert kana("ｱﾍﾞ ｼﾝｲﾁ") == ["アベシンイチ"]
    assert kana("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾊﾟﾊﾟ") == ["ヤマダタロウ", "パパ"]


def test_hiragana_becomes_katakana():
    assert kana("あべ　しんいち", "ゔぁ", "ゝゞ") == ["アベシンイチ", "ヴァ", "ヽヾ"]
    assert kana("ぁゖ") == ["ァヶ"]


def test_spacing_voiced_marks_compose():
    # A legacy converter wrote ﾀﾞ as タ + ゛ (U+309B).
    assert kana("タ゛ イ", "た゛い", "ハ゜") == ["ダイ", "ダイ", "パ"]
    assert kana("わ\u3099") == ["ヷ"]


@pytest.mark.parametrize("mark", ["ー", "ｰ", "-", "‐", "−", "－", "―", "—", "–", "─"])
def test_long_vowel_variants_fold_to_one_mark(mark):
    assert kana(f"コ{mark}ヒ{mark}") == ["コーヒー"]


def test_small_kana_differ_until_folded():
    plain = kana("シヨウ", "ショウ")
    assert plain[0] != plain[1]
    assert kana_small("シヨウ", "ショウ") == ["シヨウ", "シヨウ"]


def test_fold_small_kana_covers_exactly_the_ten():
    assert kana_small("ャュョッァィゥェォヮ") == ["ヤユヨツアイウエオワ"]
    # ヵ and ヶ are not on the SPEC list.
    assert kana_small("ヵヶ") == ["ヵヶ"]


def test_kana_that_differ_stay_different():
    assert len(set(kana_small("サトウ", "サイトウ", "カトウ", "ガトウ"))) == 4


def test_kana_null_stays_null_and_order_is_kept():
    assert kana(None, "ｲ", None, "あ") == [None, "イ", None, "ア"]


# --- name_plain and fold_variants ----------------------------------------------------


def test_name_plain_removes_spaces_and_applies_nfkc():
    assert names("山田　太郎", "山田 太郎", " 山田太郎\t", "山田太郎") == ["山田太郎"] * 4
    assert names("ＡＢＣ", None) == ["ABC", None]


@pytest.mark.parametrize("separator", ["・", "･", "＝", "=", " ", "　"])
def test_foreign_name_separators_count_as_spaces(separator):
    # SPEC §4: スミス・ジョン, スミス＝ジョン and スミス ジョン are one name, in both columns.
    assert names(f"スミス{separator}ジョン", "スミスジョン") == ["スミスジョン"] * 2
    assert kana(f"スミス{separator}ジョン", "すみす じょん") == ["スミスジョン"] * 2


@pytest.mark.parametrize("written", ["カ・゛", "カ＝\u3099", "山=\u3099田"])
def test_a_mark_after_a_separator_goes_with_it(written):
    # Left behind, it would join the character before the separator the next time
    # round (カ + ゛ is ガ): the key would change when normalized again.
    assert kana(*kana(written)) == kana(written)
    assert names(*names(written)) == names(written)


def test_a_separator_is_not_a_long_vowel_or_a_letter():
    # Removing the dot must not join two names into another one's spelling.
    assert names("スミス・ジョン") != names("スミス・ジョーン")
    assert kana("ｽﾐｽ=ｼﾞｮﾝ") == ["スミスジョン"]


@pytest.mark.parametrize("ke", ["ヶ", "ケ", "ヵ", "カ", "ｹ"])
def test_ke_between_kanji_is_one_form(ke):
    assert names(f"一{ke}谷 太郎") == ["一ケ谷太郎"]
    assert names(f"一{ke}谷{ke}原") == ["一ケ谷ケ原"]  # back to back


def test_ke_next_to_kana_stays_a_kana():
    # Only between two kanji is it the place-name particle; カヨ and ケイ are names.
    kept = ["山田カヨ", "山田ケヨ", "カ谷", "一カ"]
    assert names("山田 カヨ", "山田 ケヨ", "カ谷", "一カ") == kept


@pytest.mark.parametrize(
    ("variant", "standard"),
    [
        ("髙", "高"),
        ("﨑", "崎"),
        ("嶋", "島"),
        ("齋", "斎"),
        ("齊", "斉"),
        ("邊", "辺"),
        ("邉", "辺"),
        ("澤", "沢"),
        ("濱", "浜"),
        ("濵", "浜"),
        ("櫻", "桜"),
        ("國", "国"),
        ("廣", "広"),
        ("德", "徳"),
        ("𠮷", "吉"),
        ("冨", "富"),
    ],
)
def test_spec_variants_fold_to_the_standard_form(variant, standard):
    folded = variants(f"{variant}田", f"{standard}田")
    assert folded == [f"{standard}田", f"{standard}田"]


def test_variant_names_compare_equal():
    assert variants("髙橋一郎", "高橋一郎") == ["高橋一郎", "高橋一郎"]
    assert variants("𠮷野家", "吉野家") == ["吉野家", "吉野家"]
    assert variants("渡邉", "渡邊", "渡辺") == ["渡辺"] * 3
    assert variants("齋藤", "斎藤") == ["斎藤"] * 2
    assert variants("齊藤", "斉藤") == ["斉藤"] * 2


def test_different_names_stay_different():
    folded = variants("高橋", "高田", "斎藤", "斉藤", "佐藤")
    assert len(set(folded)) == 5
    # 斎 and 斉 are different characters (SPEC §4): 齋 folds to the one, 齊 to the other.
    assert variants("齋藤", "齊藤") == ["斎藤", "斉藤"]


def test_cycles_in_the_mj_map_fold_to_one_form():
    # The map sends 德 -> 徳 but also 徳 -> 德; 眞 <-> 真; 淵 <-> 渕.
    assert variants("德", "徳") == ["徳", "徳"]
    assert variants("眞", "真") == ["真", "真"]
    assert variants("淵", "渕") == ["淵", "淵"]


def test_overrides_veto_wrong_folds():
    # The MJ map folds 玉 -> 王, 宍 -> 肉 and swaps 切/功.
    assert variants("児玉", "児王", "宍戸", "功", "切") == ["児玉", "児王", "宍戸", "功", "切"]


def test_no_compatibility_ideograph_is_produced():
    # The map offers U+FA45 for 海; NFKC would turn it straight back.
    assert variants("海老原") == ["海老原"]


def test_override_table_loads():
    overrides = text._overrides()
    assert overrides["尓"] == "爾" and overrides["玉"] == "玉"
    # 齊 is left to the MJ map, which folds it to 斉 (an override to 斎 was wrong).
    assert "齊" not in overrides and "齋" not in overrides
    assert all(len(k) == 1 for k in overrides)


def test_ideographic_variation_selector_is_dropped():
    assert variants("葛\U000e0100飾", "葛飾") == ["葛飾", "葛飾"]


def test_astral_characters_survive_and_fold():
    # 𩸽 (U+29E3D) has no standard form; 𠮷 (U+20BB7) and 𠀋 (U+2000B) do.
    assert variants("𩸽子", "𠮷田𩸽", "𠀋") == ["𩸽子", "吉田𩸽", "丈"]


def test_fold_variants_nulls_order_and_name():
    series = pl.Series("name_plain", [None, "髙橋", "山田", None, "濵田"], dtype=pl.String)
    folded = fold_variants(series)
    assert folded.to_list() == [None, "高橋", "山田", None, "浜田"]
    assert folded.name == "name_plain"
    assert variants(None, None) == [None, None]
    assert variants("", "髙") == ["", "高"]
    assert fold_variants(pl.Series([], dtype=pl.String)).to_list() == []


# --- address_key -------------------------------------------------------------------

KASUMIGASEKI = "東京都千代田区霞が関"


@pytest.mark.parametrize(
    "written",
    [
        "一丁目2番3号",
        "1丁目2-3",
        "1-2-3",
        "１丁目２番３号",
        "1丁目2番3",
        "１－２－３",
        "1‐2−3",
        "1ー2ー3",
        "一丁目ー2ー3",
    ],
)
def test_address_numbers_in_every_style_give_one_key(written):
    assert address(written) == "1-2-3"
    assert address(KASUMIGASEKI + written) == KASUMIGASEKI + "1-2-3"


def test_kasumigaseki_both_ways():
    pair = addresses(f"{KASUMIGASEKI}一丁目2番3号", f"{KASUMIGASEKI}1-2-3")
    assert pair[0] == pair[1]
    pair = addresses(f"{KASUMIGASEKI}1-2-3", f"{KASUMIGASEKI}一丁目2番3号")
    assert pair[0] == pair[1]


@pytest.mark.parametrize("written", ["1丁目2番地", "1-2", "1丁目2番", "一丁目二番地", "一丁目2"])
def test_trailing_ban_and_banchi_are_dropped(written):
    assert address(written) == "1-2"


@pytest.mark.parametrize(
    ("numeral", "digits"),
    [
        ("一", "1"),
        ("十", "10"),
        ("十三", "13"),
        ("二十", "20"),
        ("二十一", "21"),
        ("三百五", "305"),
    ],
)
def test_kanji_numerals_read_as_numbers(numeral, digits):
    assert address(f"本町{numeral}丁目") == f"本町{digits}丁目"
    assert address(f"本町{numeral}番地") == f"本町{digits}"
    assert address(f"本町1丁目{numeral}番5号") == f"本町1-{digits}-5"


def test_kanji_number_parser():
    assert kanji_number("二十一") == "21"
    assert kanji_number("十") == "10"
    assert kanji_number("二〇") == "20"
    assert kanji_number("千二百三十四") == "1234"
    assert kanji_number("十十") is None
    assert kanji_number("二三十") is None


@pytest.mark.parametrize("place", ["霞ヶ関", "霞ケ関", "霞ｹ関"])
def test_ga_ke_folded(place):
    assert address(f"埼玉県川越市{place}1-2-3") == "埼玉県川越市霞ケ関1-2-3"


@pytest.mark.parametrize("town", ["八丁西町", "四番町", "十三東", "百万遍", "八丁堀", "三番町"])
def test_numerals_in_town_names_survive(town):
    assert address(f"東京都{town}1-2-3") == f"東京都{town}1-2-3"
    assert address(f"東京都{town}一丁目2番3号") == f"東京都{town}1-2-3"
    assert address(f"東京都{town}") == f"東京都{town}"


def test_town_names_with_chome():
    assert address("京都市左京区田中百万遍町") == "京都市左京区田中百万遍町"
    assert address("大阪市淀川区十三東二丁目5番6号") == "大阪市淀川区十三東2-5-6"
    assert address("中央区八丁堀一丁目2番3号") == address("中央区八丁堀1-2-3")
    assert "八丁堀" in address("中央区八丁堀1-2-3")
    assert address("千代田区四番町5番地") == "千代田区四番町5"


def test_bare_ban_before_a_number_is_an_address_number():
    assert address("三番2号") == "3-2"
    assert address("三番二号") == "3-2"
    assert address("三番") == "3"


def test_spaces_and_building_names():
    assert address("霞が関 一丁目　2番 3号") == "霞が関1-2-3"
    with_building = addresses("霞が関一丁目2番3号 合同庁舎", "霞が関1-2-3　合同庁舎")
    assert with_building[0] == with_building[1] == "霞が関1-2-3合同庁舎"
    # Room numbers: the space between two numbers is a separator, not nothing.
    rooms = addresses("本町1丁目2番3号 101号室", "本町1-2-3 101号室")
    assert rooms[0] == rooms[1] == "本町1-2-3-101号室"
    # Each space of a run of numbers separates, not only every other one.
    assert addresses("本町1 2 3", "本町1 2 3 4") == ["本町1-2-3", "本町1-2-3-4"]


INVISIBLE_SAMPLE = "\u00ad\u061c\u180e\u200b\u200e\u202a\u2060\u2066\u2069\ufeff"


@pytest.mark.parametrize("invisible", INVISIBLE_SAMPLE)
def test_a_character_that_shows_nothing_changes_no_key(invisible):
    # Even where it stands between the parts NFKC joins (ｶﾞ) or between two digits.
    assert kana(f"ﾔﾏﾀ{invisible}ﾞ", f"ヤマ{invisible}ダ") == ["ヤマダ", "ヤマダ"]
    assert names(f"山{invisible}田", f"ｶ{invisible}ﾞ") == ["山田", "ガ"]
    assert addresses(f"本町1{invisible}2-3", f"本{invisible}町12-3") == ["本町12-3"] * 2


@pytest.mark.parametrize("override", ["\u202d", "\u202e"])
def test_a_direction_override_is_not_nothing(override):
    # 山田<U+202E>太郎 shows as 山田郎太: it is kept, so the names differ.
    assert names(f"山田{override}太郎") == [f"山田{override}太郎"]


def test_different_addresses_stay_different():
    keys = addresses(
        "本町1-2-3", "本町1-2-4", "本町1-23", "本町12-3", "新町1-2-3", "本町一丁目23番"
    )
    assert len(set(keys)) == 5
    assert keys[2] == keys[5]


def test_address_nulls_order_and_name():
    series = pl.Series("address", [None, "1丁目2番", "1-2", None, "一丁目2番3号"], dtype=pl.String)
    keys = address_key(series)
    assert keys.to_list() == [None, "1-2", "1-2", None, "1-2-3"]
    assert keys.name == "address"
    assert addresses(None, None) == [None, None]
    assert addresses("", None) == ["", None]
    assert address_key(pl.Series([], dtype=pl.String)).to_list() == []


def test_address_key_never_changes_the_input():
    series = pl.Series("address", ["一丁目2番3号"])
    address_key(series)
    assert series.to_list() == ["一丁目2番3号"]


# --- properties ----------------------------------------------------------------------

HIRAGANA = "".join(chr(c) for c in range(0x3041, 0x3097)) + "ゝゞ"
KATAKANA_OF = str.maketrans(HIRAGANA, "".join(chr(c) for c in range(0x30A1, 0x30F7)) + "ヽヾ")
KANA = (
    HIRAGANA
    + "".join(chr(c) for c in range(0x30A1, 0x30FB))
    + "".join(chr(c) for c in range(0xFF66, 0xFFA0))  # half-width
    + "ーｰ-‐−－―゛゜\u3099\u309a"
)
KANJI = "髙高﨑崎嶋島齋齊斎斉邊邉辺澤沢濱濵浜櫻桜國国廣広德徳𠮷吉冨富真眞淵渕切功玉王宍海山田中村"
NUMBERS = "一二三四五六七八九十百千〇丁目番地号町堀東西のノケヶｹ"
DIGITS = "0123456789０１２３４５６７８９"
SPACES = " \u3000\t・＝="  # foreign names' separators count as spaces
INVISIBLES = "\u00ad\u200e\u200b\u2066"  # characters that show nothing

MARKS = "゛゜\u3099\u309aﾞﾟ"
kana_text = st.text(alphabet=KANA + SPACES + INVISIBLES, max_size=12)
name_text = st.text(
    alphabet=KANJI + KANA[:40] + KANA[-40:] + DIGITS + SPACES + INVISIBLES, max_size=12
)
address_text = st.text(
    alphabet=NUMBERS + KANJI[-6:] + DIGITS + SPACES + INVISIBLES + MARKS + "-‐−－ーｰ", max_size=20
)


def _idempotent_expr(fn, values: list[str]) -> None:
    once = _expr(fn, values)
    assert _expr(fn, once) == once


@settings(max_examples=300, deadline=None)
@given(st.lists(kana_text, max_size=8))
def test_kana_plain_is_idempotent(values):
    _idempotent_expr(kana_plain, values)
    plain = _expr(kana_plain, values)
    _idempotent_expr(fold_small_kana, plain)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=HIRAGANA + SPACES + "ー", max_size=12))
def test_hiragana_and_katakana_give_the_same_key(hiragana):
    assert kana(hiragana) == kana(hiragana.translate(KATAKANA_OF))


@settings(max_examples=300, deadline=None)
@given(st.lists(name_text, max_size=8))
def test_name_plain_and_fold_variants_are_idempotent(values):
    _idempotent_expr(name_plain, values)
    plain = pl.Series(_expr(name_plain, values), dtype=pl.String)
    once = fold_variants(plain)
    assert fold_variants(once).to_list() == once.to_list()


@settings(max_examples=500, deadline=None)
@given(st.lists(address_text, max_size=8))
def test_address_key_is_idempotent(values):
    once = address_key(pl.Series(values, dtype=pl.String))
    assert address_key(once).to_list() == once.to_list()


def _without_invisibles(values: list[str]) -> list[str]:
    return ["".join(c for c in v if c not in INVISIBLES) for v in values]


@settings(max_examples=300, deadline=None)
@given(st.lists(kana_text, max_size=8), st.lists(name_text, max_size=8))
def test_characters_that_show_nothing_change_no_key(kana_values, name_values):
    assert kana(*kana_values) == kana(*_without_invisibles(kana_values))
    assert names(*name_values) == names(*_without_invisibles(name_values))


@settings(max_examples=300, deadline=None)
@given(st.lists(address_text, max_size=8))
def test_characters_that_show_nothing_change_no_address_key(values):
    assert addresses(*values) == addresses(*_without_invisibles(values))
