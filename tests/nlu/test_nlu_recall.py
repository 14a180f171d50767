"""Emergencies said in words no example used still page someone; calm messages in the same words do not.

Issue 12 (recall): the lexicon's concept classes cover each danger by meaning (a farewell, the means at
hand, signs of overdose after use, being kept by debt or guards, blackmail with a deadline, assault in
other verbs), so a new phrasing counts for what it means. Each case is written with and without
diacritics or in English; none is a training example.
"""

from __future__ import annotations

import pytest

from bot.nlu import BuiltinNLU, normalize
from bot.nlu.emergency import EMERGENCY

DANGER_NOW = [
    # suicide: a farewell with the means at hand
    ("thuốc em xếp đủ trên bàn rồi, đây là tin nhắn cuối, xin lỗi vì tất cả", "suicide_self_harm"),
    ("thuoc e xep du tren ban r, day la tin nhan cuoi, xin loi vi tat ca", "suicide_self_harm"),
    ("sorry for everything, the pills are in my hand, this is goodbye", "suicide_self_harm"),
    # overdose: signs after use
    ("bạn em chích xong nằm bất động, môi tím, gọi không tỉnh", "overdose"),
    ("ban e chich xong nam bat dong, moi tim, goi ko tinh", "overdose"),
    # blackmail with a deadline
    (
        "nó có clip nóng của em, bắt chuyển 5 triệu trước 9h tối nay không thì gửi cho gia đình",
        "threat_to_life",
    ),
    ("no co clip nong cua e, bat chuyen 5tr truoc 9h toi nay ko thi gui cho gia dinh", "threat_to_life"),
    # kept by debt and guards
    ("bà chủ giữ căn cước, nói trả hết nợ mới được về, cửa lúc nào cũng có người canh", "held_trafficked"),
    ("ba chu giu can cuoc, noi tra het no moi dc ve, cua luc nao cung co nguoi canh", "held_trafficked"),
    # suicide named with its accents: "tự vẫn" is not "tư vấn" (counselling)
    ("em muốn tự vẫn", "suicide_self_harm"),
    ("tự tử", "suicide_self_harm"),
    # police violence now
    ("công an đang đá vào bụng bạn em trong phòng tạm giữ", "violence_now"),
    ("cong an dang da vao bung ban e trong phong tam giu", "violence_now"),
    ("the police are beating my friend in the van right now", "violence_now"),
    # taken somewhere unknown
    ("em bị nhét lên xe chở đi xa, không biết đang ở đâu", "held_trafficked"),
    ("e bi nhet len xe cho di xa, ko biet dang o dau", "held_trafficked"),
    # assault told as "would not stop"
    ("he held me down and wouldn't stop when i said no, he's asleep next to me", "sexual_assault"),
    # overdose in English, by its signs
    ("she took molly and is burning hot, confused, jaw is locked", "overdose"),
]

CALM_LOOK_ALIKES = [
    # counselling, not suicide
    "em muốn được tư vấn về prep",
    "cho mình xin tư vấn xét nghiệm",
    # a goodbye that ends a chat
    "tạm biệt ad, mai em nhắn tiếp về lịch xét nghiệm nha",
    "tam biet ad, mai e nhan tiep ve lich xet nghiem nha",
    # an overdose long past, asked about to prevent the next
    "tháng trước bạn em chích xong bị sốc, giờ khỏe rồi, làm sao phòng lần sau",
    "thang truoc ban e chich xong bi soc, gio khoe r, lam sao phong lan sau",
    # blackmail as a question of law
    "bị tống tiền bằng ảnh nóng thì báo công an ở đâu, có bị phạt không",
    "bi tong tien bang anh nong thi bao cong an o dau, co bi phat ko",
    # papers kept, asked about the law
    "chủ giữ căn cước của nhân viên có đúng luật không",
    "chu giu can cuoc cua nhan vien co dung luat ko",
    # police violence long past
    "năm ngoái bị công an đánh trong đồn, giờ khiếu nại còn được không",
    "nam ngoai bi cong an danh trong don, gio khieu nai con dc ko",
    # a deadline that is only paperwork (it was an emergency before the deadline class existed)
    "hạn nộp hồ sơ đến 8h sáng mai mà em chưa làm xong",
    "han nop ho so den 8h sang mai ma e chua lam xong",
    "thôi em đi ngủ, bye ad",
    "my ex used to threaten to post my photos, that was years ago, how do i delete them",
]


@pytest.mark.parametrize(("text", "kind"), DANGER_NOW)
def test_danger_now_in_new_words_is_an_emergency(model: BuiltinNLU, text: str, kind: str) -> None:
    verdict = model.emergency(normalize(text))
    assert verdict.level == EMERGENCY, (verdict.score, verdict.lexicon)
    assert verdict.kind == kind


@pytest.mark.parametrize("text", CALM_LOOK_ALIKES)
def test_calm_look_alikes_are_not_paged(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level != EMERGENCY


@pytest.mark.parametrize(
    ("text", "classes"),
    [
        ("em đi trước, đây là lời cuối", {"farewell"}),
        ("e bac ghe, that nut day thung roi", {"suicide_means"}),
        ("bạn em hít xong gục xuống, không tỉnh", {"drug_taken", "body_alarm"}),
        ("no doa tung anh nong truoc 10h", {"threat", "deadline", "intimate_media"}),
        ("they took our phones and guards watch the door", {"confinement"}),
    ],
)
def test_concept_classes_find_danger_by_meaning(model: BuiltinNLU, text: str, classes: set[str]) -> None:
    assert classes <= set(model.detector.lexicon.concepts(normalize(text)))
