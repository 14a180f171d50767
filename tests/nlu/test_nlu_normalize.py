"""Normalisation, by tables of what people type and what the bot should read."""

from __future__ import annotations

import importlib
import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu import fold, has_words, normalize


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        ("Cứuuu e vs, ck đang đánh e 😭", "cuu em voi chong dang danh em buon"),
        ("cuuuuu", "cuu"),  # a real double letter is kept
        ("CỨU", "cuu"),
        ("cứuuuu", "cuu"),
        ("ko muon song nuaaaa", "khong muon song nua"),  # no real double: squeezed to one
        ("HELPPPP he is going to killll me", "help he is going to kill me"),
        ("toi bi danh", "toi bi danh"),
        ("e ko biet lam sao", "em khong biet lam sao"),
        ("ck e danh e", "chong em danh em"),
        ("vk a", "vo anh"),
        ("hok bít, hong dc, k0 đc", "khong biet khong duoc khong duoc"),
        ("xn hiv o dau, bn tien", "xet nghiem hiv o dau bao nhieu tien"),
        ("bcs bi rach thi lam ntn", "bao cao su bi rach thi lam nhu the nao"),
        ("bcs bị hỏng", "bao cao su bi hong"),  # "hỏng" (broken) after "bị" is not "không"
        ("cs bắt e r", "cong an bat em roi"),
        ("j z", "gi vay"),
        ("cccd bị giữ", "can cuoc cong dan bi giu"),
        ("Dạ em cảm ơn ạ", "da em cam on a"),  # the polite particle "ạ" is not "anh"
        ("Đà Nẵng", "da nang"),
        ("khoá", "khoa"),
        ("khóa", "khoa"),
        ("🆘🆘", "cuu cuu"),
        ("bạn em ngủ không đánh thức được", "ban em ngu khong goi day duoc"),  # wake: no beating
        ("ko danh thuc dc", "khong goi day duoc"),
        ("i got r*ped", "i got raped"),  # a censored word is the word
        ("he r@ped me", "he raped me"),
        ("my friend ODed", "my friend overdosed"),
        ("💊💉", "thuoc kim tiem"),
        ("!!!???", ""),
        ("113", "113"),
        ("  nhiều   khoảng   trắng ", "nhieu khoang trang"),
    ],
)
def test_normalize(typed: str, normalized: str) -> None:
    assert normalize(typed) == normalized


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Đánh Rơi", "Danh Roi"), ("cứu", "cuu"), ("Nguyễn Thị Ánh", "Nguyen Thi Anh"), ("plain", "plain")],
)
def test_fold_removes_diacritics_only(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", False),
        ("   ", False),
        ("😭😭", False),
        ("🆘", False),
        ("?!...", False),
        ("ok", True),
        ("113", True),
        ("cứu", True),
    ],
)
def test_has_words(text: str, expected: bool) -> None:
    assert has_words(text) is expected


def test_nfc_and_nfd_read_the_same() -> None:
    import unicodedata

    text = "chồng đang đánh em"
    assert normalize(unicodedata.normalize("NFD", text)) == normalize(text)


def test_everyday_tu_tu_typed_with_accents_is_not_the_danger_word() -> None:
    """'từ từ' (slowly) folds like 'tự tử' (suicide): with its accents it is told apart; without, not."""
    assert normalize("từ từ rồi tính") == "thong tha roi tinh"
    assert normalize("Em TỪ TỪ nghĩ đã") == "em thong tha nghi da"
    assert normalize("em muốn tự tử") == "em muon tu sat"
    assert normalize("e muon tu tu") == "em muon tu tu"


def test_the_danger_word_typed_with_accents_is_not_the_everyday_one() -> None:
    """'tự vẫn' (suicide) folds like 'tư vấn' (counselling): typed with accents, it and 'tự tử' are 'tự
    sát', which folds to nothing everyday; without accents they stay ambiguous."""
    assert normalize("em muốn tự vẫn") == "em muon tu sat"
    assert normalize("TỰ TỬ") == "tu sat"
    assert normalize("cho em tư vấn") == "cho em tu van"
    assert normalize("tự vấn bản thân") == "tu van ban than"  # self-questioning, another accent
    assert normalize("e muon tu van") == "em muon tu van"


_LETTERS_AND_SYMBOLS = st.text(
    alphabet=st.one_of(
        st.sampled_from("aăâeêoôơuưdđ áàảãạ ếềểễệ ơớờởỡợ ĐÊ!?.,^`¨©®°´¸×÷_-+=<>|~ 0123456789"),
        st.characters(min_codepoint=0x20, max_codepoint=0x24F),
        st.characters(min_codepoint=0x1E00, max_codepoint=0x1EFF),
        st.characters(min_codepoint=0x300, max_codepoint=0x36F),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(_LETTERS_AND_SYMBOLS)
def test_text_without_emoji_reads_the_same_by_the_quick_path(text: str) -> None:
    """A message of letters, digits, punctuation and diacritics skips the emoji pass: the words that come
    out are the words the character-by-character pass gives."""
    normalize_module = importlib.import_module("bot.nlu.normalize")  # the module, not the function
    quick = normalize(text)
    pattern = normalize_module._MAYBE_EMOJI
    try:
        normalize_module._MAYBE_EMOJI = re.compile(r"[\s\S]")  # every character looks like an emoji
        assert normalize(text) == quick
    finally:
        normalize_module._MAYBE_EMOJI = pattern


def test_long_words_are_folded_too() -> None:
    word = "nguyễn" * 10  # longer than the words that are remembered
    assert fold(word) == "nguyen" * 10 and fold("Đường") == "Duong"


_ALIKE_PIECES = st.lists(
    st.sampled_from(
        [
            *("từ", "Từ", "tự", "TỰ", "tử", "vẫn", "đánh", "danh", "Đánh", "thức", "thuc", "r", "R", "*"),
            *("@", "p", "pe", "ped", "ing", "ist", "e", "es", "x", "_", "1", " ", "  ", ",", "hong", "hông"),
            *("bị", "Bị", "bạn", "BẠN"),
        ]
    ),
    max_size=12,
)


@settings(max_examples=500, deadline=None)
@given(_ALIKE_PIECES, st.sampled_from(["", " "]))
def test_the_everyday_alike_forms_are_searched_only_where_they_can_be(pieces: list[str], glue: str) -> None:
    """A pattern of ``_EVERYDAY_ALIKE`` is searched only in a text holding one of its strings, and each word
    is normalised once and remembered: the words that come out are those of every pattern applied and
    every word normalised afresh."""
    module = importlib.import_module("bot.nlu.normalize")  # the module, not the function
    text = glue.join(pieces)
    plain = unicodedata.normalize("NFC", text).casefold()
    for pattern, everyday, _ in module._EVERYDAY_ALIKE:
        plain = pattern.sub(everyday, plain)
    expected: list[str] = []
    for raw in module._NOT_WORD.sub(" ", module._map_emoji(plain)).split():
        hong, words = module._word(raw)
        expected.extend(["hong"] if hong and expected and expected[-1] in module._HONG_KEPT_AFTER else words)
    assert module.tokens(text) == expected
