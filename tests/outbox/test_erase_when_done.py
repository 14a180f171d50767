"""Rows written ``erase_when_done`` (a deleted person's confirmation and chat clean-up) are deleted as soon
as they are finished: sent, given up or held. They are never kept as done, dead or held (issue 15)."""

from __future__ import annotations

import pytest

from bot.outbox.dispatcher import Event, GiveUp, Hold, Retry
from bot.runtime import Services
from bot.store.models import OutboxEvent
from bot.store.outbox import enqueue
from tests.support.db import count, drain


async def _send(services: Services, outcome: Exception | None, *, erase: bool) -> None:
    async def handler(event: Event) -> None:
        if outcome is not None:
            raise outcome

    services.dispatcher.register("test_send", handler)
    async with services.sessionmaker() as session, session.begin():
        await enqueue(
            session, services.crypto, kind="test_send", payload={"address": "42"},
            now=services.clock.now(), conversation_id=None, erase_when_done=erase,
        )  # fmt: skip
    await drain(services)


@pytest.mark.parametrize(
    "outcome", [None, GiveUp("blocked"), Hold("zalo_oa_window")], ids=["sent", "given_up", "held"]
)
async def test_a_finished_erasure_row_is_deleted(services: Services, outcome: Exception | None) -> None:
    await _send(services, outcome, erase=True)
    assert await count(services, OutboxEvent) == 0, "no row, and no staff notice for a held one"


async def test_an_ordinary_row_is_kept_as_before(services: Services) -> None:
    await _send(services, GiveUp("blocked"), erase=False)
    assert await count(services, OutboxEvent, OutboxEvent.status == "dead") == 1


async def test_an_erasure_row_waiting_for_a_retry_stays_until_it_is_finished(services: Services) -> None:
    await _send(services, Retry(30), erase=True)
    assert await count(services, OutboxEvent, OutboxEvent.status == "pending") == 1
