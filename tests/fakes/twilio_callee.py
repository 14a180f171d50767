"""The person the hotline calls back: Twilio's side of a call the app placed through the REST API.

The app asks the fake Twilio REST API (:mod:`tests.fakes.twilio_api`) for a call with a ``Url`` and a
``StatusCallback``; this plays the rest as Twilio does for an outbound call: when the person picks up,
the ``Url`` is posted (``Direction`` ``outbound-api``, ``From`` the hotline, ``To`` the person), the
TwiML answered is followed like any call (keys, silence, a counsellor rung), and the end of the call,
however it ends, is posted to the ``StatusCallback``. Every request is signed as Twilio signs.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.fakes.twilio_api import Recorded
from tests.fakes.twilio_caller import CallerError, FakeCaller, Heard


class FakeCallee(FakeCaller):
    """One call-back, as the person called (and Twilio) experience it."""

    def __init__(self, http: httpx.AsyncClient, *, placed: Recorded, **kwargs: Any) -> None:
        if placed.kind != "call" or not placed.url:
            raise CallerError(f"not a call placed with a URL: {placed}")
        super().__init__(http, number=placed.to, hotline=placed.sender, call_sid=placed.sid, **kwargs)
        self.placed = placed
        self.status = "ringing"

    def params(self, extra: dict[str, str]) -> dict[str, str]:
        """The parameters Twilio sends with every request of a call placed through the REST API."""
        base = super().params({})
        ours = {"Direction": "outbound-api", "From": self.hotline, "Caller": self.hotline,
                "To": self.number, "Called": self.number}  # fmt: skip
        return {**base, **ours, **extra}

    async def pick_up(self, *, ring_seconds: float = 10) -> Heard:
        """The person answers: Twilio asks the call's URL what to say."""
        self.clock.advance(seconds=ring_seconds)
        self.started = self.clock.now()
        self.status = "in-progress"
        return await self._follow(self.placed.url, {"CallStatus": "in-progress"})

    async def ends(self, status: str = "completed") -> httpx.Response:
        """The call is over (``no-answer``, ``busy``, ``failed`` without being picked up): the status
        callback, with the duration when it was picked up."""
        extra = {"CallStatus": status}
        if self.status == "in-progress":
            extra["CallDuration"] = str(int((self.clock.now() - self.started).total_seconds()))
        self.status = status
        return await self.post(self.placed.status_callback, extra)
