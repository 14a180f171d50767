"""The phone line's HTTP routes: check Twilio's signature, read the form, answer with TwiML.

Nothing here decides anything: a request that is not signed by Twilio gets 403 before anything is
read into the engine or the database; a malformed one 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from twilio.twiml.voice_response import VoiceResponse

from bot.errors import BadInput
from bot.http.direct import Endpoint
from bot.http.limits import read_body
from bot.metrics import webhook_refused
from ivr.render import twiml
from ivr.signature import SIGNATURE_HEADER
from ivr.state import Caller, CallState
from ivr.urls import (
    CHECKIN_ANSWER,
    CHECKIN_CALL,
    CHECKIN_SET,
    CHECKIN_STATUS,
    DIAL,
    KEY,
    OFFER,
    SCREEN,
    SCREEN_KEY,
    STATUS,
    VOICE,
)

if TYPE_CHECKING:
    from ivr.channel import PhoneLine

MAX_BODY = 16_000
XML = "application/xml"


def _xml(response: VoiceResponse) -> Response:
    return Response(twiml(response), media_type=XML)


def parse_form(text: str) -> dict[str, str]:
    """A form body as ``dict(parse_qsl(text, keep_blank_values=True))`` reads it (the last of a repeated
    name wins), in half its time: most of Twilio's names and values need no unquoting at all."""
    form = {}
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = unquote(name, errors="replace")
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value, errors="replace")
        form[name] = value
    return form


def _int(value: str | None, default: int = 0) -> int:
    try:
        return max(0, int(value)) if value else default
    except ValueError:
        return default


def build_routes(line: PhoneLine) -> tuple[APIRouter, dict[str, Endpoint]]:
    """The phone line's routes (all ``POST``), on a router and by path (served directly,
    :mod:`bot.http.direct`: each takes only the request)."""
    router = APIRouter()
    endpoints: dict[str, Endpoint] = {}
    flow = line.flow

    def post(path: str) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            endpoints[path] = endpoint
            return router.post(path)(endpoint)

        return register

    async def verified(request: Request, path: str) -> tuple[dict[str, str], Caller]:
        body = await read_body(request, MAX_BODY)
        try:
            form = parse_form(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise HTTPException(400, "the body must be a UTF-8 form") from exc
        signature = request.headers.get(SIGNATURE_HEADER)
        # request.url.query builds the whole URL first; most of Twilio's requests carry no query
        query = request.url.query if request.scope.get("query_string") else ""
        if not line.signature.is_valid(path, query, form, signature):
            webhook_refused("phone", 403)
            raise HTTPException(403, "the request is not signed by Twilio for this address")
        try:
            return form, Caller.from_form(form)
        except BadInput as exc:
            raise HTTPException(400, str(exc)) from exc

    def state_of(request: Request) -> CallState:
        try:
            return CallState.from_query(request.query_params)
        except BadInput as exc:
            raise HTTPException(400, str(exc)) from exc

    def checkin_state(request: Request) -> CallState:
        state = state_of(request)
        if not state.checkin or not state.attempt:
            raise HTTPException(400, "a check-in call's URL names the check-in and the attempt")
        return state

    @post(VOICE)
    async def voice(request: Request) -> Response:
        _form, caller = await verified(request, VOICE)
        return Response(await flow.incoming(caller), media_type=XML)

    @post(KEY)
    async def key(request: Request) -> Response:
        form, caller = await verified(request, KEY)
        digits = form.get("Digits", "").strip()
        return _xml(await flow.key(caller, state_of(request), digits, form.get("SpeechResult", "")))

    @post(DIAL)
    async def dial(request: Request) -> Response:
        form, caller = await verified(request, DIAL)
        status = form.get("DialCallStatus", "failed")
        duration = _int(form.get("DialCallDuration"))
        dial_sid = form.get("DialCallSid", "")
        return _xml(await flow.dial_ended(caller, state_of(request), status, duration, dial_sid))

    @post(SCREEN)
    async def screen(request: Request) -> Response:
        await verified(request, SCREEN)  # the counsellor's call: its CallSid is not the caller's
        return _xml(flow.screen(state_of(request)))

    @post(SCREEN_KEY)
    async def screen_key(request: Request) -> Response:
        form, counsellor_call = await verified(request, SCREEN_KEY)
        return _xml(await flow.screen_key(counsellor_call.call_sid, form.get("Digits", "").strip()))

    @post(OFFER)
    async def offer(request: Request) -> Response:
        form, caller = await verified(request, OFFER)
        return _xml(await flow.offer_key(caller, state_of(request), form.get("Digits", "").strip()))

    @post(STATUS)
    async def status(request: Request) -> Response:
        form, caller = await verified(request, STATUS)
        duration = form.get("CallDuration")
        await flow.status(
            caller,
            form.get("CallStatus", ""),
            _int(duration) if duration else None,
            direction=form.get("Direction", "inbound"),
        )
        return Response(status_code=204)

    # -- safety check-ins: set by keys, then a call-back (its URLs carry the check-in and the attempt) --

    @post(CHECKIN_SET)
    async def checkin_set(request: Request) -> Response:
        form, caller = await verified(request, CHECKIN_SET)
        return _xml(await flow.checkin_key(caller, state_of(request), form.get("Digits", "").strip()))

    @post(CHECKIN_CALL)
    async def checkin_call(request: Request) -> Response:
        _form, callee = await verified(request, CHECKIN_CALL)
        return _xml(await flow.checkin_picked_up(callee, checkin_state(request)))

    @post(CHECKIN_ANSWER)
    async def checkin_answer(request: Request) -> Response:
        form, callee = await verified(request, CHECKIN_ANSWER)
        digits = form.get("Digits", "").strip()
        return _xml(await flow.checkin_answer(callee, checkin_state(request), digits))

    @post(CHECKIN_STATUS)
    async def checkin_status(request: Request) -> Response:
        form, callee = await verified(request, CHECKIN_STATUS)
        await flow.checkin_status(callee, checkin_state(request), form.get("CallStatus", ""))
        return Response(status_code=204)

    return router, endpoints
