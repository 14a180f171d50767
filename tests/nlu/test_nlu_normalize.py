"""Normalisation, by tables of what people type and what the bot should read."""

from __future__ import annotations

import pytest

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
    assert normalize("em muốn tự tử") == "em muon tu tu"
    assert normalize("e muon tu tu") == "em muon tu tu"
