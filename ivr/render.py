"""TwiML for the phone line, built with the ``twilio`` library's :class:`VoiceResponse` (never by hand).

The engine's replies are spoken in order (their short ``voice_text``, or the text made speakable), then
the menu's keys and the footer, all inside one ``<Gather>`` so that a key works at any moment (``9``
in the middle of an answer). A ``<Redirect>`` after it comes back when the caller stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twilio.twiml import TwiML
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.messages import Reply
from bot.settings import Settings
from ivr.audio import AudioPrompts
from ivr.keys import MenuPage
from ivr.prompts import Prompts
from ivr.spoken import key_name, speakable

GATHER_TIMEOUT_SECONDS = 6
SPEECH_LANGUAGES = {"en": "en-US"}  # Vietnamese speech recognition is not confirmed: keypad only
_VOICE_LANGUAGE = re.compile(r"^(?:Google|Polly)\.([a-z]{2,3}-[A-Z]{2})\b")


@dataclass(frozen=True)
class Voice:
    """A text-to-speech voice and the language it speaks."""

    name: str
    language: str

    @classmethod
    def of(cls, name: str, default_language: str) -> Voice:
        match = _VOICE_LANGUAGE.match(name)
        return cls(name, match.group(1) if match else default_language)


class Speaker:
    """Speaks texts in the call's language, or plays a recording where the operator made one."""

    def __init__(
        self,
        settings: Settings,
        prompts: Prompts,
        audio: AudioPrompts,
        *,
        speech_languages: Mapping[str, str] = SPEECH_LANGUAGES,
    ) -> None:
        self.prompts = prompts
        self.audio = audio
        self.speech_languages = dict(speech_languages)
        self.voices = {
            "vi": Voice.of(settings.twilio_voice, "vi-VN"),
            "en": Voice.of(settings.twilio_voice_en, "en-US"),
        }

    def say(self, verb: TwiML, text: str, locale: str, recording: str | None = None) -> None:
        """Speak ``text`` (or play the recording named ``recording``, if there is one)."""
        url = self.audio.url_for(locale, recording) if recording else None
        if url is not None:
            verb.play(url)
            return
        spoken = speakable(text)
        if spoken:
            voice = self.voices["en" if locale == "en" else "vi"]
            verb.say(spoken, voice=voice.name, language=voice.language)

    def prompt(self, verb: TwiML, name: str, locale: str, **values: object) -> None:
        """Speak one of ``ivr/prompts.yaml`` (recorded as ``ivr.<name>`` when it has no placeholders)."""
        recording = None if self.prompts.has_values(name) else f"ivr.{name}"
        self.say(verb, self.prompts.text(name, locale, **values), locale, recording)

    def listens(self, locale: str) -> bool:
        """Whether a menu in ``locale`` listens for speech as well as keys."""
        return locale in self.speech_languages

    def gather(self, response: VoiceResponse, action: str, locale: str, *, speech: bool = True) -> Gather:
        """A one-key ``<Gather>`` posting to ``action``; speech too where the language is supported."""
        language = self.speech_languages.get(locale) if speech else None
        return response.gather(
            input="dtmf speech" if language else "dtmf",
            action=action,
            method="POST",
            num_digits=1,
            finish_on_key="",
            timeout=GATHER_TIMEOUT_SECONDS,
            language=language,
            speech_timeout="auto" if language else None,
        )


def _recording(reply: Reply, articles_by_voice: Mapping[str, str]) -> str | None:
    """The recording that may stand for a reply: its menu node's, or its article's."""
    for choice in reply.choices:
        if not choice.id.startswith("a:") and ":" in choice.id:
            return choice.id.rpartition(":")[0]
    if reply.voice_text and reply.voice_text in articles_by_voice:
        return f"article.{articles_by_voice[reply.voice_text]}"
    return None


def speak_replies(
    speaker: Speaker, verb: TwiML, replies: Sequence[Reply], locale: str, articles_by_voice: Mapping[str, str]
) -> None:
    """Speak the engine's replies in order."""
    for reply in replies:
        speaker.say(verb, reply.voice_text or reply.text, locale, _recording(reply, articles_by_voice))


def speak_keys(speaker: Speaker, verb: TwiML, page: MenuPage, locale: str) -> None:
    """ "Bấm phím một để chọn ...", one sentence per choice, then "more" if the menu goes on."""
    for option in page.options:
        label = speakable(option.choice.label).rstrip(".…")
        speaker.prompt(verb, "option", locale, key=key_name(option.key, locale), label=label)
    if page.more_key is not None:
        speaker.prompt(verb, "more", locale, key=key_name(page.more_key, locale))


def goodbye(speaker: Speaker, locale: str, name: str = "goodbye") -> VoiceResponse:
    """Say the prompt ``name`` and hang up."""
    response = VoiceResponse()
    speaker.prompt(response, name, locale)
    response.hangup()
    return response


def twiml(response: VoiceResponse) -> str:
    """The XML Twilio reads."""
    return str(response)
