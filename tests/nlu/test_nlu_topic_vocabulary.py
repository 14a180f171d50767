"""More topic vocabulary by meaning (``nlu/topic_concepts.yaml``): classes the topic classifier sees besides
the lexicon's, found in any spelling, never shown to the emergency detector."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import normalize
from bot.nlu.concepts import TopicVocabulary, WithConcepts
from bot.nlu.data import load_topic_vocabulary, load_training_data
from bot.nlu.errors import NLUDataError
from bot.nlu.features import Features
from bot.nlu.lexicon import Lexicon
from tests.nlu.conftest import KNOWLEDGE

LEXICON = {
    "phrases": {},
    "concepts": {"harm_verb": ["đánh em"]},
    "topic_concepts": {"police_custody": ["công an giữ"]},
}
CLASSES = {"abuse": ["bạo lực gia đình", "abuse"], "work_abroad": ["campuchia", "lương cao"]}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("chồng em như vậy có phải bạo lực gia đình không", ("abuse",)),
        ("ck e nhu vay co phai bao luc gia dinh ko", ("abuse",)),  # no diacritics, chat spelling
        ("is that abuse", ("abuse",)),
        ("bạn rủ qua Campuchia làm lương cao, bị bạo lực gia đình", ("abuse", "work_abroad")),
        ("bạo lực", ()),  # an entry is a whole run of words
        ("", ()),
    ],
)
def test_a_class_is_found_in_any_spelling(text: str, found: tuple[str, ...]) -> None:
    assert TopicVocabulary(CLASSES).find(normalize(text)) == found


def test_the_topic_view_gains_a_feature_per_class_and_pair_the_detector_none() -> None:
    lexicon = Lexicon(LEXICON, source="lexicon.yaml")
    features = Features(["cong an giu em", "danh em"])
    vocabulary = TopicVocabulary(CLASSES)
    plain = WithConcepts(features, lexicon, topics=True)
    more = WithConcepts(features, lexicon, topics=True, vocabulary=vocabulary)
    detector = WithConcepts(features, lexicon, vocabulary=vocabulary)
    text = normalize("công an giữ em vì đi Campuchia")
    assert len(plain.one(text)[0]) == len(features.one(text)[0]) + 1  # police_custody
    assert len(more.one(text)[0]) == len(features.one(text)[0]) + 3  # and work_abroad, and the pair
    assert len(detector.one(text)[0]) == len(features.one(text)[0])
    assert more.size > plain.size > detector.size


def test_a_class_named_like_one_of_the_lexicon_is_refused() -> None:
    lexicon = Lexicon(LEXICON, source="lexicon.yaml")
    features = Features(["danh em"])
    with pytest.raises(NLUDataError, match="already a class of the lexicon"):
        WithConcepts(features, lexicon, topics=True, vocabulary=TopicVocabulary({"police_custody": ["đồn"]}))


def test_the_file_is_read_and_a_missing_one_is_no_vocabulary(tmp_path: Path) -> None:
    assert load_topic_vocabulary(tmp_path / "topic_concepts.yaml") == {}
    path = tmp_path / "topic_concepts.yaml"
    path.write_text("abuse:\n  - bạo lực\n", encoding="utf-8")
    assert load_topic_vocabulary(path) == {"abuse": ("bạo lực",)}
    path.write_text("- bạo lực\n", encoding="utf-8")
    with pytest.raises(NLUDataError, match="expected"):
        load_topic_vocabulary(path)


def test_the_repository_vocabulary_is_loaded_and_apart_from_the_lexicon() -> None:
    vocabulary = load_training_data(KNOWLEDGE).topic_vocabulary
    lexicon = Lexicon.load(KNOWLEDGE / "nlu" / "lexicon.yaml")
    assert {"abuse", "rights_question", "chat_service"} <= set(vocabulary)
    assert not set(vocabulary) & set(lexicon.all_concept_names)
