"""The emergency detector: every kind of danger is found, and the hard negatives are not alarms."""

from __future__ import annotations

import pytest

from bot.nlu import BuiltinNLU, normalize
from bot.nlu.data import EMERGENCY_KINDS, load_emergency_examples, load_heldout
from bot.nlu.evaluate import Figures, evaluate_heldout
from tests.nlu.conftest import KNOWLEDGE

DANGER = {
    "violence_now": ["cứu", "cuuuu", "ck dang danh e", "toi bi danh", "my husband is hitting me right now"],
    "sexual_assault": ["e bi hiep", "em vừa bị cưỡng hiếp", "he raped me"],
    "held_trafficked": [
        "no nhot e trong phong ko cho ra",
        "bi ep tiep khach ko cho ve",
        "lay mat giay to roi",
    ],
    "threat_to_life": ["nó cầm dao đòi giết em", "he is going to kill me", "ck siết cổ em"],
    "suicide_self_harm": ["e muon chet", "ko muon song nua", "uong ca vi thuoc roi", "i want to kill myself"],
    "overdose": ["ban e bat tinh sau khi chich", "bạn em sốc thuốc", "my friend is not breathing"],
}


@pytest.mark.parametrize(("kind", "text"), [(kind, text) for kind, texts in DANGER.items() for text in texts])
def test_each_kind_of_danger_is_an_emergency(model: BuiltinNLU, kind: str, text: str) -> None:
    verdict = model.emergency(normalize(text))
    assert verdict.emergency
    assert verdict.score >= 0.7
    assert verdict.kind in EMERGENCY_KINDS


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("nó cầm dao đòi giết em", "threat_to_life"),
        ("e muon chet", "suicide_self_harm"),
        ("e bi hiep", "sexual_assault"),
    ],
)
def test_the_kind_is_named(model: BuiltinNLU, text: str, kind: str) -> None:
    assert model.emergency(normalize(text)).kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "em đánh rơi điện thoại",
        "e vua danh rang xong",
        "đánh giá phòng khám này thế nào",
        "mệt chết đi được",
        "chết cười với bạn này",
        "giết thời gian",
        "cứu mình với bài tập toán",
        "em làm nghiên cứu về hiv",
        "hiếp dâm bị phạt bao nhiêu năm?",
        "đánh người bị phạt thế nào",
        "sốc thuốc là gì",
        "năm ngoái em bị đánh, giờ còn kiện được không",
        "help me with my homework",
    ],
)
def test_hard_negatives_are_not_alarms(model: BuiltinNLU, text: str) -> None:
    assert not model.emergency(normalize(text)).emergency


@pytest.mark.parametrize(
    "text", ["ck dang danh e, bi phat ko", "ck đang đánh em, luật nói sao", "cứu, nó hiếp em, tội gì"]
)
def test_present_danger_wins_over_a_legal_question(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).emergency


def test_every_labelled_emergency_of_the_training_file_is_found(model: BuiltinNLU) -> None:
    examples = load_emergency_examples(KNOWLEDGE / "nlu" / "emergency.yaml")
    missed = [text for _, text in examples.emergency if not model.emergency(normalize(text)).emergency]
    assert len(missed) <= len(examples.emergency) * 0.01, missed


@pytest.mark.parametrize("name", ["heldout", "heldout2", "heldout3", "heldout4"])
def test_heldout_sets_stay_above_what_was_measured(model: BuiltinNLU, name: str) -> None:
    """Each held-out set's figures may not fall below those measured when issue 12 landed.

    Floors, not the issue's bar (``hotline eval`` prints both; the closing note of issue 12 says which
    figures miss it). Raise a floor when the figures rise; never tune on a held-out set to do it. A failure
    says how many messages, never which: their text would show the set to whoever runs the tests.
    """
    floor = FLOORS[name]
    figures = evaluate_heldout(model, load_heldout(KNOWLEDGE, name))
    assert figures.emergency_n >= 80 and figures.calm_n >= 200
    missed = f"{len(figures.misses)} of {figures.emergency_n} emergencies missed"
    assert figures.emergency_recall >= floor["recall"], missed
    assert figures.emergency_recall_any >= 0.99
    paged = f"{len(figures.false_alarms)} of {figures.calm_n} calm messages paged"
    assert figures.false_alarm_rate_all <= floor["false_alarms"], paged
    assert figures.possible_rate <= floor.get("possible", 0.15)
    assert figures.topic_accuracy >= floor["topic"], figures.confusion


FLOORS = {
    # recall 0.978 to 0.955 (87 to 85 of 89; 1.000 counting `possible`) on 2026-12-07 (a later session) with writers 17 to 19
    # (calm-but-scary, English, follow-ups) and the fold fixes (bị bạn/bị bán, nhọt, tổng tiền, two calm
    # frames that had matched nothing): the same thresholds, which leaving one writer out still chooses
    # (recall 0.938, false alarms 0.030); cross-validated recall 0.942 to 0.938, false alarms 0.025 to 0.024
    # 2026-12-07 (a third session: writers 21 to 24, idioms that had blanked dangers, short danger phrases
    # never vetoed, naive Bayes stacked into the emergency classifier, topic words weighted 1.5): recall
    # 1.000 (89 of 89), false alarms 0.003, possible 0.080, topic 0.949
    # fourth session (writers 25 to 32, idioms and words by meaning, "bị bạn" told from "bị bán"): recall
    # 1.000, false alarms 0.000, possible 0.083, topic 0.960
    "heldout": {"recall": 0.98, "false_alarms": 0.01, "topic": 0.94},
    # recall 0.975 (153 of 157) since issue 14's content: one message moved below the line when 25 articles'
    # examples joined the calm side and examples with an unexplained danger phrase left it (a change that
    # raised recall when each training writer is left out in turn: benchmarks/triage_tune.py)
    # topic 0.837: issue 14 added six legal articles on violence-related law (coerced sex, harassment,
    # HIV transmission...), and some violence stories are now filed under legal (the bar, 0.88, is missed)
    # false alarms 0.038 (8 of 212) after 500 English article examples joined the calm side (topic and
    # English answers improved; leave-one-writer-out false alarms unchanged at 0.030)
    # 2026-12-07, third session (as heldout above): recall 0.975, false alarms 0.028, possible 0.108, topic 0.862
    # fourth session (as heldout above): recall 0.981 (154 of 157; 1.000 counting `possible`), false alarms
    # 0.028, possible 0.104, topic 0.859 (the bar, 0.88, still missed)
    "heldout2": {"recall": 0.98, "false_alarms": 0.03, "topic": 0.85},
    # written blind on 2026-12-07 and frozen before that day's tuning: recall 0.948 (146 of 154; 0.994
    # counting `possible`), false alarms 0.038 (8 of 213), possible on calm 0.150 (32 of 213), topic 0.856
    # 2026-12-07 (writers 14 to 16, the one-word rule, naive Bayes in the topic model): recall 0.974,
    # possible 0.150, topic 0.875; later (as heldout above): recall 0.961, topic 0.880; with writer20: 0.968
    # third session (as heldout above): recall 0.987 (152 of 154), false alarms 0.028, possible 0.146,
    # topic 0.894: every bar of the issue met on this set; fourth session (as heldout above): recall 0.981
    # (151 of 154; 0.994 counting `possible`), false alarms 0.028, possible 0.146, topic 0.891: still every bar
    "heldout3": {"recall": 0.98, "false_alarms": 0.03, "topic": 0.88, "possible": 0.15},
    # short messages (1 to 8 words), written blind and frozen on 2026-12-07; first scored on b348183:
    # recall 0.892, false alarms 0.051, possible 0.093, topic 0.720; at landing 0.931, 0.023, 0.083, 0.739;
    # later (as heldout above): 0.902 (92 of 102; 0.990 counting `possible`), 0.019, 0.088, 0.742; then with
    # writer20's emergencies (children, recent assault): 0.931, 0.019, 0.083, 0.736
    # third session (as heldout above): recall 0.980 (100 of 102), false alarms 0.042 (9 of 216: up from
    # 4; the floor follows the measurement, the bar of 0.03 is missed), possible 0.083, topic 0.723
    # fourth session (as heldout above): recall 0.980 (100 of 102; 0.990 counting `possible`), false alarms
    # 0.037 (8 of 216; the bar still missed), possible 0.083, topic 0.730
    "heldout4": {"recall": 0.97, "false_alarms": 0.04, "topic": 0.72, "possible": 0.10},
}


def test_a_concept_entry_that_folds_like_an_everyday_word_is_refused() -> None:
    """'nện' (to beat) folds to 'nen', like 'nên' (should): alone it flagged half of all questions."""
    from bot.nlu.errors import NLUDataError
    from bot.nlu.lexicon import Lexicon

    raw = {"phrases": {}, "folded_alike": ["nên"], "concepts": {"harm_verb": ["bị nện", "nện"]}}
    with pytest.raises(NLUDataError, match="folds like an everyday word"):
        Lexicon(raw, source="lexicon.yaml")
    Lexicon({**raw, "concepts": {"harm_verb": ["bị nện"]}}, source="lexicon.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "tư vấn viên",
        "gặp tư vấn viên",
        "từ từ rồi tính",
        "bán dâm có bị phạt không",
        # dám/đấm, dạy/đẩy: a person afraid of the clinic or asking to be taught is not asked "are you in
        # danger right now?"
        "em không dám vào phòng khám vì sợ bị kỳ thị",
        "e ko dam vao bv xet nghiem",
        "chị dạy em cách dùng bao cao su với",
        "ai day em cach tiem an toan ko",
    ],
)
def test_everyday_words_that_fold_like_danger_are_not_danger(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level == "none"


@pytest.mark.parametrize(
    "text",
    [
        "nó đấm vào mặt em",
        "no dam vao mat e",
        "thằng khách đẩy em ngã rồi bỏ đi",
        "no day em nga xuong cau thang",
    ],
)
def test_punching_and_pushing_are_still_danger(model: BuiltinNLU, text: str) -> None:
    verdict = model.emergency(normalize(text))
    assert verdict.level == "emergency" and verdict.kind == "violence_now"


@pytest.mark.parametrize(
    "text",
    [
        # bạn/bán: "my friend goes to Laos" is not "sold me to Laos"
        "bạn em sang Lào làm phục vụ quán ăn thì cần giấy tờ gì",
        "ban em sang lao lam phuc vu quan an can giay to gi",
        # rách/rạch: a torn hand is not a cut wrist
        "con chó cào rách tay em, có phải đi tiêm không",
        "con cho cao rach tay e co can tiem ko",
        # bạn bè/bán: teased by friends is not being sold
        "bị bạn bè trêu vì làm nghề này, buồn quá",
        "bi ban be treu vi lam nghe nay buon qua",
        # lời/lôi: accepting an invitation is not being dragged away
        "nhận lời đi ăn với khách quen có an toàn không",
        "nhan loi di an voi khach quen co an toan ko",
    ],
)
def test_more_everyday_words_that_fold_like_danger_are_not_danger(model: BuiltinNLU, text: str) -> None:
    # found by benchmarks/fold_collisions.py; each was "possible" before the lexicon was narrowed
    assert model.emergency(normalize(text)).level == "none"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("người yêu bán em sang Trung Quốc, giờ em bị nhốt", "held_trafficked"),
        ("nguoi yeu ban e sang tq roi, e bi nhot", "held_trafficked"),
        ("em vừa rạch tay, máu chảy nhiều", "suicide_self_harm"),
        ("e vua rach tay mau chay nhieu", "suicide_self_harm"),
        ("bạn em ngáy rất lạ sau khi chích, gọi không dậy", "overdose"),
    ],
)
def test_danger_words_narrowed_against_folding_still_alarm(model: BuiltinNLU, text: str, kind: str) -> None:
    verdict = model.emergency(normalize(text))
    assert verdict.level == "emergency" and verdict.kind == kind


@pytest.mark.parametrize(
    ("message", "article"),
    [
        (
            "Hôm qua em đi khách về muộn, mệt quá nên ngủ luôn. Sáng nay em mới thấy bao bị rách. "
            "Giờ em phải làm gì để khỏi bị HIV?",
            "condom-broke",
        ),
        (
            "My cousin and I came to Saigon last year for work. We share a small room near the market. "
            "Where can I get a free HIV test?",
            "hiv-testing",
        ),
    ],
)
def test_a_question_told_after_a_story_finds_its_article(
    model: BuiltinNLU, message: str, article: str
) -> None:
    """The story's words weigh on the question as a whole (they belong to no article); sentence by
    sentence, the question finds its answer, surely, and scores at least as high as the whole message.
    (As a whole these once found nothing sure; the long stories of writer25 taught the matcher better.)"""

    whole = dict(model.matcher.scores(normalize(message)))
    understood = model.understand_sync(message)
    assert understood.articles[0][0] == article and understood.confident
    assert understood.articles[0][1] >= whole[article]


def test_a_one_sentence_message_is_matched_whole() -> None:
    from bot.nlu.model import sentences

    assert sentences("xet nghiem hiv o dau") == []
    assert sentences("chào em. xét nghiệm HIV ở đâu vậy?") == []  # "chào em" is under three words
    assert sentences("em ở quận 7 nha. xét nghiệm HIV ở đâu vậy?") == [
        "em o quan 7 nha",
        "xet nghiem hiv o dau vay",
    ]


def test_a_failing_floor_never_shows_a_held_out_message() -> None:
    """pytest prints the figures' repr when a floor fails: it holds counts, never the messages."""
    figures = Figures(emergency_n=1, calm_n=1, misses=["nó đang đánh em"], false_alarms=["chào em"])
    assert "nó đang đánh em" not in repr(figures) and "chào em" not in repr(figures)
