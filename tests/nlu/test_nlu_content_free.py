"""A message with nothing in it but a pronoun, a form of address or a greeting is never an emergency.

"em" alone (the first word of many emergencies) paged a counsellor with the sexual-assault reply, and
"em đây" the violence one: with so little to go on the classifier answered from its prior. The lexicon's
``no_content`` words now keep such messages from the classifier; a cry for help stays an emergency, and
"bị giảm" (less), which folds to "bị giam" (detained), is not being held.

A message with one word beyond those, and no danger phrase, is at most asked about: "nó bỏ em rồi" (he left
me) and "nó khóa zalo em rồi" (he blocked me) paged, because the classifier had learned "nó ... em rồi".
"""

from __future__ import annotations

import pytest

from bot.nlu import BuiltinNLU, normalize
from bot.nlu.emergency import EMERGENCY, NONE, POSSIBLE, SHORT, Thresholds, triage
from bot.nlu.errors import NLUDataError
from bot.nlu.lexicon import Lexicon, LexiconHit

CONTENT_FREE = [
    "em",
    "e",
    "em đây",
    "e day",
    "em ơi",
    "em oi",
    "em nè",
    "tui",
    "tui nè",
    "chị ơi",
    "chi oi",
    "anh ơi em đây",
    "dạ em chào chị ạ",
    "alo",
    "hi",
    "hello anyone there",
    "😭",
    "...",
]

ONE_WORD = ["nó bỏ em rồi", "no bo e r", "nó tới rồi", "no toi roi", "nó", "họ đây rồi", "nó giận em rồi"]

BLOCKED_ONLINE = ["nó khóa fb em rồi", "no chan zalo e roi", "ck block facebook em", "nó khóa nick em"]

STILL_DANGER = ["cứu", "cuu em", "help", "em bị đánh", "e bi danh", "cứu em với chị ơi"]

NOT_HELD = [
    "e đang tiêm hormone, uống prep có bị giảm tác dụng ko",
    "uong ruou co bi giam tac dung thuoc ko",
    "em bị giảm lương",
    "bị giam xe bao nhiêu ngày thì lấy lại được",
]


@pytest.mark.parametrize("text", CONTENT_FREE)
def test_a_message_with_no_content_is_not_triaged(model: BuiltinNLU, text: str) -> None:
    verdict = model.emergency(normalize(text))
    assert verdict.level == NONE
    assert not verdict.emergency


@pytest.mark.parametrize("text", ONE_WORD)
def test_one_word_of_content_is_asked_about_never_paged(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level in (NONE, POSSIBLE)


@pytest.mark.parametrize("text", BLOCKED_ONLINE)
def test_being_blocked_online_is_not_being_locked_in(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level != EMERGENCY


def test_content_words_leave_out_no_content_words_and_idioms() -> None:
    raw = {"phrases": {}, "idioms": ["khóa (zalo|fb)"], "no_content": ["em", "rồi"]}
    lexicon = Lexicon(raw, source="lexicon.yaml")
    assert lexicon.content_words(normalize("nó khóa zalo em rồi")) == 1
    assert lexicon.content_words(normalize("em rồi")) == 0
    assert lexicon.content_words(normalize("nó đang đánh em")) == 3


@pytest.mark.parametrize("text", STILL_DANGER)
def test_a_cry_for_help_is_still_an_emergency(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level == EMERGENCY


@pytest.mark.parametrize("text", NOT_HELD)
def test_less_is_not_detained(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level != EMERGENCY


def test_a_danger_word_cannot_be_listed_as_no_content() -> None:
    raw = {"phrases": {"help": ["cứu"]}, "no_content": ["em", "cứu"]}
    with pytest.raises(NLUDataError, match=r"lexicon.yaml: no_content: 'cứu'"):
        Lexicon(raw, source="knowledge/nlu/lexicon.yaml")


SHORT_DANGER = ["qua lieu", "quá liều", "muốn nhảy lầu", "muon nhay lau"]
"""A danger phrase that is most of a short message: the classifier scored these 0.03 to 0.3 (it has few
features to go on), and the veto made them only asked about."""


@pytest.mark.parametrize("text", SHORT_DANGER)
def test_a_short_message_that_is_a_danger_phrase_pages(model: BuiltinNLU, text: str) -> None:
    assert model.emergency(normalize(text)).level == EMERGENCY


def test_the_veto_spares_a_danger_phrase_in_a_short_message_only() -> None:
    hit = LexiconHit(kinds=("overdose",), calm=False, urgent=False, possible=True)
    limits = Thresholds()
    low = limits.veto / 2
    assert triage(hit, low, limits, words=SHORT) == EMERGENCY
    assert triage(hit, low, limits, words=SHORT + 1) == POSSIBLE
    calm = LexiconHit(kinds=("overdose",), calm=True, urgent=False, possible=True)
    assert triage(calm, low, limits, words=1) != EMERGENCY  # a calm frame still needs the classifier
