"""A fake caller: does what Twilio does for one phone call, against the app, over HTTP.

It posts Twilio's form parameters, signed as Twilio signs them (``RequestValidator.compute_signature``
over the full public URL and the sorted parameters), parses the TwiML the app answers and follows it:
a ``<Gather>`` is answered by posting its ``action`` with ``Digits`` (or ``SpeechResult``), silence by
following the ``<Redirect>`` after it, a ``<Dial>`` by posting its ``action`` with ``DialCallStatus``
and ``DialCallDuration``; hanging up posts the status callback. What the caller heard is kept.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from twilio.request_validator import RequestValidator

from bot.clock import FrozenClock


class CallerError(AssertionError):
    """The call cannot go on as the test asked (no menu to press a key on, a refused request...)."""


@dataclass
class Heard:
    """One TwiML document as the caller experienced it."""

    root: ET.Element
    said: list[str] = field(default_factory=list)  # <Say> texts, in order
    played: list[str] = field(default_factory=list)  # <Play> URLs, in order

    @property
    def text(self) -> str:
        return " ".join(self.said)

    def find(self, tag: str) -> ET.Element | None:
        return self.root.find(f".//{tag}")


class FakeCaller:
    """One phone call to the hotline."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        auth_token: str,
        public_url: str,
        clock: FrozenClock,
        number: str = "+84901234567",
        hotline: str = "+842873001234",
        call_sid: str | None = None,
    ) -> None:
        self.http = http
        self.validator = RequestValidator(auth_token)
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.number = number
        self.hotline = hotline
        self.call_sid = call_sid or "CA" + secrets.token_hex(16)
        self.started = clock.now()
        self.history: list[Heard] = []
        self.screened: list[Heard] = []  # what counsellors heard when they picked up
        self.status = "ringing"

    # -- what the caller does ------------------------------------------------------------------

    async def dial_in(self) -> Heard:
        """The call reaches the hotline: Twilio asks the voice URL what to do."""
        self.started = self.clock.now()
        self.status = "in-progress"
        return await self._follow(f"{self.public_url}/ivr/voice", {"CallStatus": "ringing"})

    async def press(self, key: str, *, listen_seconds: float = 5) -> Heard:
        """Press a key while the last menu is read (after ``listen_seconds`` of listening)."""
        gather = self._current_gather()
        self.clock.advance(seconds=listen_seconds)
        return await self._follow(gather.attrib["action"], {"Digits": key})

    async def speak(self, words: str, *, listen_seconds: float = 5) -> Heard:
        """Say something instead of pressing a key (where the menu listens for speech)."""
        gather = self._current_gather()
        if "speech" not in gather.attrib.get("input", ""):
            raise CallerError("this menu does not listen for speech")
        self.clock.advance(seconds=listen_seconds)
        return await self._follow(gather.attrib["action"], {"SpeechResult": words, "Confidence": "0.92"})

    async def stay_silent(self) -> Heard:
        """Press nothing: the <Gather> times out and Twilio goes on to the <Redirect> after it."""
        self._current_gather()
        redirect = self.last.find("Redirect")
        if redirect is None or not redirect.text:
            raise CallerError("no <Redirect> after the menu: silence would end the call")
        self.clock.advance(seconds=float(self._current_gather().attrib.get("timeout", "5")) + 20)
        return await self._follow(redirect.text, {})

    async def dial_ends(
        self,
        status: str,
        *,
        ring_seconds: float = 0,
        talk_seconds: int = 0,
        counsellor_presses: str | None = "1",
    ) -> Heard:
        """The counsellor's phone rang ``ring_seconds`` and then ``status`` (after ``talk_seconds``).

        When the app screens the counsellor's call (a ``url`` on the ``<Number>``) and the phone was
        picked up, the counsellor's side is played as Twilio would: the screening TwiML is fetched with
        the counsellor's call's parameters, and ``counsellor_presses`` is the key they press (None: a
        voicemail or someone who presses nothing).
        """
        dial = self.last.find("Dial")
        if dial is None:
            raise CallerError(f"no <Dial> in the last answer: {self.last.text!r}")
        self.clock.advance(seconds=ring_seconds + talk_seconds)
        child = "CA" + secrets.token_hex(16)
        target = next(iter(dial), None)
        screen = target.attrib.get("url") if target is not None else None
        if status == "completed" and screen:
            await self._screen(
                screen, child, (target.text or "").strip() if target is not None else "", counsellor_presses
            )
        params = {"DialCallStatus": status, "DialCallSid": child, "DialCallDuration": str(talk_seconds)}
        return await self._follow(dial.attrib["action"], params)

    async def _screen(self, url: str, child: str, number: str, presses: str | None) -> None:
        """The counsellor's leg: Twilio fetches the screening TwiML, then posts the key pressed."""
        leg = {"CallSid": child, "ParentCallSid": self.call_sid, "Direction": "outbound-dial",
               "From": self.hotline, "Caller": self.hotline, "To": number, "Called": number,
               "CallStatus": "in-progress"}  # fmt: skip
        response = await self.post(url, leg)
        if response.status_code != 200:
            raise CallerError(f"{url} answered {response.status_code}: {response.text}")
        self.screened.append(parse(response.text))
        gather = self.screened[-1].find("Gather")
        if presses is not None and gather is not None:
            answer = await self.post(gather.attrib["action"], {**leg, "Digits": presses})
            if answer.status_code != 200:
                raise CallerError(f"the screening key answered {answer.status_code}: {answer.text}")
            self.screened.append(parse(answer.text))

    async def hang_up(self, status: str = "completed") -> httpx.Response:
        """The caller hangs up: Twilio's status callback with the call's duration."""
        duration = int((self.clock.now() - self.started).total_seconds())
        self.status = status
        return await self.post(
            f"{self.public_url}/ivr/status", {"CallStatus": status, "CallDuration": str(duration)}
        )

    # -- what the caller heard -----------------------------------------------------------------

    @property
    def last(self) -> Heard:
        if not self.history:
            raise CallerError("the call has not started")
        return self.history[-1]

    def dialled(self) -> list[str]:
        """The numbers (or SIP addresses) the app had Twilio ring, in order."""
        found: list[str] = []
        for heard in self.history:
            for dial in heard.root.iter("Dial"):
                found.extend((child.text or "").strip() for child in dial)
        return found

    def key_for(self, label: str) -> str:
        """The key the last menu gives to a choice whose spoken label contains ``label``."""
        for sentence in self.last.said:
            for prefix, words in (("Bấm phím ", " để chọn "), ("Press ", " for ")):
                if sentence.startswith(prefix) and words in sentence:
                    key_word, _, rest = sentence[len(prefix) :].partition(words)
                    if label.lower() in rest.lower():
                        return _KEY_WORDS[key_word]
        raise CallerError(f"no choice like {label!r} in: {self.last.said}")

    # -- Twilio's side -------------------------------------------------------------------------

    def params(self, extra: dict[str, str]) -> dict[str, str]:
        """The parameters Twilio sends with every request of an inbound call."""
        base = {
            "AccountSid": "AC" + "0" * 32,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "CallStatus": self.status,
            "Direction": "inbound",
            "From": self.number,
            "Caller": self.number,
            "To": self.hotline,
            "Called": self.hotline,
            "FromCountry": "VN",
            "ToCountry": "VN",
        }
        return {**base, **extra}

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(url, params))

    async def post(
        self, url: str, extra: dict[str, str], *, signature: str | None = None, signed: bool = True
    ) -> httpx.Response:
        """POST a form to an absolute public URL, as Twilio would (through the proxy in front of the app)."""
        if not url.startswith(self.public_url):
            raise CallerError(f"the app sent Twilio to {url!r}, outside {self.public_url!r}")
        params = self.params(extra)
        parts = urlsplit(url)
        path = parts.path[len(urlsplit(self.public_url).path) :]
        target = path + (f"?{parts.query}" if parts.query else "")
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = signature or self.sign(url, params)
        return await self.http.post(target, data=params, headers=headers)

    async def _follow(self, url: str, extra: dict[str, str]) -> Heard:
        response = await self.post(url, extra)
        if response.status_code != 200:
            raise CallerError(f"{url} answered {response.status_code}: {response.text}")
        heard = parse(response.text)
        self.history.append(heard)
        return heard

    def _current_gather(self) -> ET.Element:
        gather = self.last.find("Gather")
        if gather is None:
            raise CallerError(f"no menu to answer: {self.last.text!r}")
        return gather


def parse(xml_text: str) -> Heard:
    """Parse TwiML; what is said and played is collected in document order."""
    root = ET.fromstring(xml_text)
    if root.tag != "Response":
        raise CallerError(f"not TwiML: {xml_text[:80]!r}")
    heard = Heard(root)
    for element in root.iter():
        if element.tag == "Say" and element.text:
            heard.said.append(element.text)
        elif element.tag == "Play" and element.text:
            heard.played.append(element.text)
    return heard


_KEY_WORDS = {
    "một": "1", "hai": "2", "ba": "3", "bốn": "4", "năm": "5", "sáu": "6", "bảy": "7", "tám": "8",
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "thăng": "#", "hash": "#",
}  # fmt: skip
