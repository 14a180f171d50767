"""The lexicon's phrase index finds exactly what the plain alternations find (issue 12: classification
speed must not change a single verdict)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu import normalize
from bot.nlu.data import load_heldouts, load_training_data
from bot.nlu.lexicon import Lexicon, _joined, first_words
from bot.nlu.phrase_index import PhraseIndex, word_starts


@pytest.fixture(scope="module")
def lexicon(knowledge_dir: Path) -> Lexicon:
    return Lexicon.load(knowledge_dir / "nlu" / "lexicon.yaml")


@pytest.fixture(scope="module")
def texts(knowledge_dir: Path, lexicon: Lexicon) -> list[str]:
    data = load_training_data(knowledge_dir)
    raw = [text for _, text in data.topic_examples] + [text for _, text in data.emergency.emergency]
    raw += list(data.emergency.not_emergency)
    raw += [case.text for heldout in load_heldouts(knowledge_dir) for case in heldout.cases]
    # the phrases themselves, as a message would hold them: every choice's first option
    raw += [re.sub(r"\(([^|()]*)\|[^()]*\)", r"\1", phrase) for _, phrase, _ in lexicon.phrases]
    return [normalize(text) for text in raw]


def _naive_classes(words: list[str], forms: dict[str, set[int]]) -> set[int]:
    span = max(form.count(" ") + 1 for form in forms)
    found: set[int] = set()
    for start in range(len(words)):
        for end in range(start + 1, min(start + span, len(words)) + 1):
            found |= forms.get(" ".join(words[start:end]), set())
    return found


def _agree(lexicon: Lexicon, normalized: str) -> None:
    # idioms, tried only where a word they can start with stands: what the substitution gives
    assert lexicon.without_idioms(normalized) == lexicon._idioms.sub("_ ", normalized + " ").rstrip()
    for text in (lexicon.without_idioms(normalized) + " ", normalized + " "):
        starts = word_starts(text)
        for name, group in lexicon.groups.items():
            if not group:
                continue
            alternation = _joined([pattern for _, pattern in group])
            index = {"calm_frames": lexicon._calm, "urgent": lexicon._urgent, "possible": lexicon._possible}
            phrases = index.get(name) or dict(lexicon._by_kind)[name]
            assert phrases.search(text, starts) == bool(alternation.search(text)), (name, text)
    words = lexicon.without_idioms(normalized).split()
    expected = _naive_classes(words, lexicon._concept_forms)
    assert {
        i for i, n in enumerate(lexicon.concept_names) if n in lexicon._find_concepts(normalized)
    } == expected


def test_the_index_agrees_with_the_alternations_on_every_example(lexicon: Lexicon, texts: list[str]) -> None:
    assert len(texts) > 5000
    for text in texts:
        _agree(lexicon, text)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_index_agrees_on_generated_messages(
    lexicon: Lexicon, texts: list[str], data: st.DataObject
) -> None:
    """Words of real messages in any order, repeated, with idiom blanks: where phrases overlap oddly."""
    vocabulary = sorted({word for text in texts[::5] for word in text.split()} | {"_"})
    words = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=14))
    _agree(lexicon, " ".join(words))


def test_first_words() -> None:
    forms = {"weapon": {"dao", "con dao", "sung"}}
    assert first_words("(đang|) bị đánh") == {"dang", "bi"}
    assert first_words("^ help me") == {"help"}
    assert first_words("* đánh em") is None
    assert first_words("(về|$)") is None
    assert first_words("<weapon> đâm", forms) == {"dao", "con", "sung"}
    assert first_words("(đang|vừa|) <weapon>", forms) == {"dang", "vua", "dao", "con", "sung"}
    assert first_words("ck đánh e") == {"chong"}


def test_the_index_tries_a_phrase_only_where_its_first_word_stands() -> None:
    pattern = re.compile(r"(?:(?<=^)|(?<= ))danh em ")
    index = PhraseIndex([(frozenset({"danh"}), pattern)], _joined)
    assert index.search("no danh em ", word_starts("no danh em "))
    assert not index.search("no danh anh ", word_starts("no danh anh "))
    assert not index.search("xdanh em ", word_starts("xdanh em "))
    assert word_starts("a b  a ") == {"a": [0, 5], "b": [2]}
