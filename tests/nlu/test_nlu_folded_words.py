"""Everyday words that fold like danger words, and calm causes, found by trying the bot as a new user would.

Folded, "bị bạn" (by a friend) is "bị bán" (sold): only being sold is being trafficked.

"bị bạn trai bỏ" (my boyfriend left me) was asked about as trafficking, "bị bạn cùng phòng lấy tiền" (my
roommate took my money) paged with the trafficking reply, and "em 16 tuổi bị bạn trai ép quan hệ" got the
trafficking reply instead of the one for sexual assault. The lexicon now wants a word after "bị bán" that
only being sold takes ("đi", "rồi", "sang", "cho một ông", the end of the message).

Folded, "bị cắm sừng" (cheated on) is "bị cầm súng" (a gun): "bi cam sung roi buon qua" paged as a threat to
life. And "em bị ngất xỉu vì đói" (fainted from hunger) paged as an overdose: a cause given ("do thiếu máu",
"vì đói") is a calm frame, as "khi bị cảm" already was. (A calm frame still pages when the classifier is
sure: "em bị ngất xỉu lúc sáng do thiếu máu" scores 0.98 and pages; left so.) Going to the emergency room
for food poisoning yesterday paged ("cấp cứu" holds "cứu"): food poisoning is a calm frame.

Health and money words: "nhọt" (a boil) folds like "nhốt" (locked up), and "em bị nhọt ở đùi" paged as
being held (with "sưng to", swollen, which folds like "súng", a gun, the classifier still pages it: left);
"tổng tiền" (the total) like "tống tiền" (extortion); "theo dõi tải lượng virus" (monitoring the
viral load) read as being followed. Each sense is an idiom now; the danger beside it still counts.

The other way round, an idiom blanks the words of a danger that folds like it, and both the lexicon and
the classifier then read the message without them. Folded, "đánh rơi" (drop) is "đánh rồi" (has hit),
"đánh bạn" (befriend) "đánh bạn em", "đánh trống" "đánh trong phòng", "đánh máy" (type) "đánh mấy đứa",
"đánh cờ" "đánh cô ấy", "dao cắt" (a kitchen knife) "lấy dao cắt tay", "chết thật" (oh no) "muốn chết thật",
"nhọt ở bẹn" "nhốt ở bên campuchia", "tổng tiền hết" "để tống tiền, hết hạn tối nay", "giữ xe" (parking)
"chủ trọ giữ xe và giấy tờ": 26 emergencies of the training content lost those words. Each everyday sense
now needs the words that only it takes.
"""

from __future__ import annotations

import pytest

from bot.nlu import BuiltinNLU, normalize
from bot.nlu.emergency import EMERGENCY, NONE, POSSIBLE
from bot.nlu.lexicon import Lexicon
from tests.nlu.conftest import KNOWLEDGE

LEXICON = KNOWLEDGE / "nlu" / "lexicon.yaml"

BY_A_FRIEND = [
    "bi ban trai bo",
    "em bị bạn trai chia tay",
    "bị bạn thân nói xấu sau lưng",
    "bi ban cung phong lay tien",
    "em bị bạn làm phiền hoài",
]

SOLD = ["em bị bán sang trung quốc", "bi ban sang tq roi", "em vừa bị bán cho 1 ông già", "chị ơi em bị bán"]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load(LEXICON)


@pytest.mark.parametrize("text", BY_A_FRIEND)
def test_by_a_friend_is_not_being_sold(lexicon: Lexicon, text: str) -> None:
    normalized = normalize(text)
    assert "held_trafficked" not in lexicon.scan(normalized).kinds
    assert "taken_away" not in lexicon.all_concepts(normalized)


@pytest.mark.parametrize("text", SOLD)
def test_being_sold_pages_as_trafficking(model: BuiltinNLU, text: str) -> None:
    verdict = model.emergency(normalize(text))
    assert verdict.level == EMERGENCY
    assert verdict.kind == "held_trafficked"


def test_a_minor_forced_by_a_boyfriend_is_sexual_assault(model: BuiltinNLU) -> None:
    verdict = model.emergency(normalize("em 16 tuổi bị bạn trai ép quan hệ"))
    assert verdict.kind == "sexual_assault"


EVERYDAY = [
    "bi cam sung roi buon qua",
    "em bị cắm sừng rồi, buồn quá",
    "e bi ngat xiu vi doi, an roi do hon",
    "em bị ngất xỉu vì đói, giờ ăn rồi",
    "em bị nhọt ở đùi",
    "em di cap cuu vi ngo doc thuc an hom qua",
    "lam tu tu thoi, cach nao cung duoc",  # slowly, any way will do
]

NOT_ASKED = [
    "tong tien xet nghiem het bao nhieu",
    "tổng tiền điều trị một tháng là bao nhiêu",
    "theo doi tai luong virus bao lau 1 lan",
    "em đang được theo dõi điều trị ARV",
    "bi chay mau chan rang co lay hiv ko",
    "em bi nhot o vung kin co phai benh xa hoi ko",
]

ASKED_AT_LEAST = ["nó tống tiền em 20 triệu", "em bị theo dõi", "em bị chảy máu nhiều"]

STILL_DANGER = [
    "ck em cầm súng dí em",
    "em bị nhốt ở phòng",
    "bạn em bị ngất xỉu không tỉnh",
    "em bị cắm sừng, giờ ck đang cầm dao",
]


LEVELS = [
    *((text, {NONE, POSSIBLE}) for text in [*BY_A_FRIEND, *EVERYDAY]),  # never paged
    *((text, {NONE}) for text in NOT_ASKED),
    *((text, {POSSIBLE, EMERGENCY}) for text in ASKED_AT_LEAST),
    *((text, {EMERGENCY}) for text in STILL_DANGER),
]


@pytest.mark.parametrize(("text", "levels"), LEVELS)
def test_the_level_of_each_sense(model: BuiltinNLU, text: str, levels: set[str]) -> None:
    assert model.emergency(normalize(text)).level in levels


DANGER_KEPT = [
    "công an đang đánh bạn em ở chợ",
    "no lai danh roi, e dau lam",
    "thang do dang danh trong phong tro",
    "no dang danh may dua nho",
    "ck dang danh co ay",
    "bi danh dau qua",
    "nó đánh cả con em",
    "bi danh dien",
    "em vừa lấy dao cắt tay",
    "e muon chet that su",
    "bị nhốt ở bên campuchia",
    "nó đòi ảnh nóng để tống tiền, hết hạn là tối nay",
    "chủ trọ giữ xe và giấy tờ không cho em đi",
    "please help me get out of here, they took my passport",
]

EVERYDAY_BLANKED = [
    "em đánh rơi điện thoại rồi",
    "em đang học đánh máy",
    "chiều nay đi đánh cầu lông",
    "ông nội thích đánh cờ tướng",
    "bố em đi đánh cá ngoài biển",
    "chết thật, em quên uống thuốc rồi",
    "em bị dao cắt vào tay lúc nấu ăn",
    "gửi xe ở bãi giữ xe mất bao nhiêu",
    "e danh dau trang nay roi",
    "em bi nhot o vung ben",
    "cuu tinh cua e la cai quat",
    "e bi cat tay khi cat hanh, chay mau chut xiu",
    "dang bi giu lai tang ca, chac 10h moi ve",
    "em đi học khóa sơ cấp cứu ở phường",
]


@pytest.mark.parametrize("text", DANGER_KEPT)
def test_no_idiom_blanks_a_danger_that_folds_like_it(lexicon: Lexicon, text: str) -> None:
    normalized = normalize(text)
    assert lexicon.without_idioms(normalized) == normalized


@pytest.mark.parametrize("text", EVERYDAY_BLANKED)
def test_the_everyday_sense_is_still_an_idiom(lexicon: Lexicon, text: str) -> None:
    normalized = normalize(text)
    assert lexicon.without_idioms(normalized) != normalized
    assert not lexicon.scan(normalized).kinds


UNSEEN_WORDS = [
    "bị truy sát",  # hunted down to be killed
    "ko danh thuc dc",  # cannot be woken
    "bạn em thở ngáp cá",  # agonal breathing
    "e uong lon lieu",  # a wrong dose
    "dang o trai scam",  # in a scam compound
    "i got r*ped",
    "gia ma chet di",  # if only I were dead
    "i can't go on",
    "bi ep bu cu",  # forced oral sex
    "tu tu cach nao it dau",  # a painless way to kill oneself
    "cách nào để tự sát",
    "what's the most painless way to die",
    "so done with life",
    "getting death threats rn",
    "she ODing pls",
]
"""Danger said with words the lexicon did not have: each was ``none`` in grouped cross-validation (the
classifier scored them 0.00 to 0.19 and nothing asked). Each is now at least asked about."""


@pytest.mark.parametrize("text", UNSEEN_WORDS)
def test_danger_words_added_by_meaning_are_at_least_asked_about(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level in (POSSIBLE, EMERGENCY)
