"""The phone line's routes, and the absolute callback URLs put into TwiML (built from the public URL)."""

from __future__ import annotations

from urllib.parse import urlencode

from ivr.state import CallState

VOICE = "/ivr/voice"  # an incoming call (the number's or trunk's voice URL)
KEY = "/ivr/key"  # a key pressed (or silence) on a menu
DIAL = "/ivr/dial"  # a counsellor's phone stopped ringing, or the conversation with them ended
OFFER = "/ivr/offer"  # a key pressed on the call-back offer
STATUS = "/ivr/status"  # Twilio's call status callback
SCREEN = "/ivr/screen"  # a counsellor picked up: ask them to press 1 (a voicemail cannot)
SCREEN_KEY = "/ivr/screen-key"  # what the counsellor pressed
CHECKIN_SET = "/ivr/checkin-set"  # a key pressed on the check-in menu (30 min, 1 h, 2 h)
CHECKIN_CALL = "/ivr/checkin-call"  # the check-in call-back was picked up: what to say
CHECKIN_ANSWER = "/ivr/checkin-answer"  # the key pressed (or silence) on the call-back
CHECKIN_STATUS = "/ivr/checkin-status"  # the call-back's status callback (no-answer, busy, completed...)


class Urls:
    """Absolute URLs under ``HOTLINE_PUBLIC_URL`` (what Twilio requests, and signs)."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def url(self, path: str, state: CallState | None = None) -> str:
        query = urlencode(state.query()) if state is not None else ""
        return f"{self.base}{path}" + (f"?{query}" if query else "")
