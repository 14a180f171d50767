"""Concept classes by meaning: the emergency detector sees the danger classes, the topic classifier those
and the topic vocabulary (``topic_concepts`` of ``lexicon.yaml``)."""

from __future__ import annotations

import pytest

from bot.nlu import BuiltinNLU, normalize
from bot.nlu.concepts import WithConcepts
from bot.nlu.errors import NLUDataError
from bot.nlu.features import Features
from bot.nlu.lexicon import Lexicon
from tests.nlu.conftest import KNOWLEDGE

RAW = {
    "phrases": {},
    "folded_alike": ["có"],
    "concepts": {"harm_verb": ["đánh em"], "question_about_law": ["bao lâu"]},
    "topic_concepts": {"police_custody": ["công an giữ", "tạm giữ"], "drug_use": ["ma túy đá"]},
}


def test_topic_classes_are_found_but_never_shown_to_the_detector() -> None:
    lexicon = Lexicon(RAW, source="lexicon.yaml")
    text = normalize("bị công an giữ bao lâu")  # folded: "bi cong an giu bao lau"
    assert lexicon.concepts(text) == ("question_about_law",)
    assert lexicon.all_concepts(text) == ("question_about_law", "police_custody")
    assert lexicon.all_concept_names == ("harm_verb", "question_about_law", "police_custody", "drug_use")


def test_the_topic_view_has_a_feature_for_each_topic_class_the_detector_view_none() -> None:
    lexicon = Lexicon(RAW, source="lexicon.yaml")
    features = Features(["cong an giu bao lau", "danh em"])
    detector, topic = WithConcepts(features, lexicon), WithConcepts(features, lexicon, topics=True)
    text = normalize("cong an tam giu may ngay")
    assert len(detector.one(text)[0]) == len(features.one(text)[0])  # no danger class there
    assert len(topic.one(text)[0]) == len(features.one(text)[0]) + 1  # police_custody
    assert topic.size > detector.size > features.size


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"topic_concepts": {"drug_use": ["có"]}}, "folds like an everyday word"),
        ({"topic_concepts": {"harm_verb": ["đấm"]}}, "already a danger concept"),
        ({"topic_concepts": ["ma túy"]}, "expected {class"),
    ],
)
def test_a_wrong_topic_concept_is_refused_with_its_reason(change: dict[str, object], error: str) -> None:
    with pytest.raises(NLUDataError, match=error):
        Lexicon({**RAW, **change}, source="lexicon.yaml")


def test_the_repository_lexicon_has_topic_concepts_apart_from_danger_ones() -> None:
    lexicon = Lexicon.load(KNOWLEDGE / "nlu" / "lexicon.yaml")
    assert {"police_custody", "legal_definition", "drug_use"} <= set(lexicon.topic_concept_names)
    assert not set(lexicon.topic_concept_names) & set(lexicon.concept_names)


@pytest.mark.parametrize(
    "text",
    [
        "bị công an giữ ở đồn thì được giữ bao lâu",
        "cong an tam giu may ngay thi phai tha",
        "how long can the police keep me at the station",
    ],
)
def test_a_question_about_police_custody_is_legal_and_calm(model: BuiltinNLU, text: str) -> None:
    topic, _, verdict = model.classify(normalize(text))
    assert topic == "legal"
    assert not verdict.emergency


def test_a_choice_inside_a_choice_is_refused() -> None:
    """ "nhọt (to|ở (đùi|mông))" compiled to a pattern that matched nothing it was meant to, silently."""
    raw = {**RAW, "idioms": ["(bị|nổi) nhọt (to|ở (đùi|mông))"]}
    with pytest.raises(NLUDataError, match="a choice inside a choice"):
        Lexicon(raw, source="lexicon.yaml")
