"""A known quarter of the hotline (January to March 2026), replayed through the engine.

Web chats go through the web chat API, Telegram and phone messages through ``engine.handle`` (the
channels' adapters are tested elsewhere), emergencies and counsellor requests are taken and closed
at the desk, and the frozen clock moves from day to day and month to month. The expected figures
are in ``test_report.py``; every number there follows from what is written here.

Times are local (Asia/Ho_Chi_Minh, UTC+7).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.content.knowledge import Article
from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.closeform import CloseForm
from bot.store.models import Contact, Conversation, Counsellor, Escalation
from tests.escalation.conftest import drain

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
EMERGENCY_TEXT = "cuu em voi, ck dang danh em"
# The close forms: the emergencies were violence by a partner, low risk at the end, referred to the police,
# a follow-up wanted; the two counsellor requests, distress and HIV, no risk, no follow-up.
VIOLENCE = CloseForm(("violence_partner",), "low", ("police-113",), follow_up=True)
DISTRESS = CloseForm(("emotional_distress",), "none")
HIV = CloseForm(("hiv_sti",), "none")


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL).astimezone(UTC)


class Hotline:
    """Drives the engine the way the channels and the counsellors do."""

    def __init__(self, services: Services, client: httpx.AsyncClient, clock: FrozenClock) -> None:
        self.services = services
        self.client = client
        self.clock = clock
        self.counsellor_id = 0
        self.sessions = 0

    def article(self, topic: str) -> str:
        """A plain article of a topic: not a flow trigger, no exposure question after it."""
        knowledge, flows = self.services.content.knowledge, self.services.content.flows
        candidates: list[Article] = [
            a
            for a in knowledge.articles.values()
            if a.topic == topic and not a.exposure and a.id not in flows.triggers
        ]
        return sorted(candidates, key=lambda a: a.id)[0].id

    async def add_counsellor(self) -> None:
        async with self.services.sessionmaker() as session, session.begin():
            counsellor = Counsellor(display_name="Lan", active=True, created_at=self.clock.now())
            session.add(counsellor)
            await session.flush()
            self.counsellor_id = counsellor.id

    def new_session(self) -> str:
        self.sessions += 1
        return f"web-session-{self.sessions:04d}-abcdef"

    async def web(self, session: str, **body: str) -> dict[str, Any]:
        response = await self.client.post("/api/webchat", json={"session": session, **body})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def telegram(self, user: str, *, choice: str | None = None, start: bool = False) -> None:
        kind = "start" if start else "choice"
        await self.services.engine.handle(InboundMessage("telegram", user, choice=choice, kind=kind))

    async def web_article(self, when: datetime, topic: str, helpful: bool | None) -> None:
        self.clock.set(when)
        session = self.new_session()
        await self.web(session, event="start")
        self.clock.advance(seconds=20)
        await self.web(session, choice=f"a:{self.article(topic)}")
        if helpful is not None:
            self.clock.advance(seconds=30)
            await self.web(session, choice=f"feedback.ask:{'yes' if helpful else 'no'}")

    async def telegram_article(self, when: datetime, user: str, topic: str, helpful: bool | None) -> None:
        self.clock.set(when)
        await self.telegram(user, start=True)
        self.clock.advance(seconds=15)
        await self.telegram(user, choice=f"a:{self.article(topic)}")
        if helpful is not None:
            self.clock.advance(seconds=15)
            await self.telegram(user, choice=f"feedback.ask:{'yes' if helpful else 'no'}")

    async def call(self, when: datetime, number: str, topic: str | None, seconds: int) -> None:
        """A phone call: the menu (and an answer, if ``topic``), then the caller hangs up."""
        sid = f"CA{number[-4:]}{when:%m%d%H%M}"
        self.clock.set(when)
        await self.services.engine.handle(InboundMessage("phone", number, kind="start", session_id=sid))
        if topic is not None:
            self.clock.advance(seconds=40)
            await self.services.engine.handle(
                InboundMessage(
                    "phone", number, choice=f"a:{self.article(topic)}", kind="choice", session_id=sid
                )
            )
        await self.hang_up(number, when + timedelta(seconds=seconds), abandoned=topic is None)

    async def hang_up(self, number: str, end: datetime, *, abandoned: bool) -> None:
        """What the phone line's status callback records when Twilio reports the end of the call
        (``ivr/calls.py``: the end from the call's duration, the final status, abandoned or not)."""
        crypto = self.services.crypto
        async with self.services.sessionmaker() as session, session.begin():
            conversation = (
                await session.execute(
                    select(Conversation).where(
                        Conversation.channel == "phone",
                        Conversation.user_key == crypto.user_key("phone", number),
                    )
                )
            ).scalar_one()
            contact = await session.get(Contact, conversation.contact_id)
            assert contact is not None
            contact.ended_at = end
            contact.call_status = "completed"
            contact.abandoned = abandoned

    async def latest_escalation(self) -> int:
        async with self.services.sessionmaker() as session:
            found = await session.scalar(select(Escalation.id).order_by(Escalation.id.desc()).limit(1))
        assert found is not None
        return found

    async def escalate(
        self, when: datetime, *, wait: int | None, outcome: str | None, text: str | None = None,
        choice: str = "main.menu:danger", form: CloseForm | None = VIOLENCE,
    ) -> None:  # fmt: skip
        """A person asks for help; a counsellor takes it after ``wait`` seconds (or nobody does)."""
        self.clock.set(when)
        session = self.new_session()
        await self.web(session, event="start")
        self.clock.advance(seconds=10)
        await (self.web(session, text=text) if text else self.web(session, choice=choice))
        escalation_id = await self.latest_escalation()
        await drain(self.services)
        if wait is None:
            self.clock.advance(minutes=30)
            await drain(self.services)  # re-paged, then the person is told nobody could be reached
            return
        self.clock.advance(seconds=wait)
        taken = await self.services.desk.take(escalation_id, self.counsellor_id, via="console")
        assert taken.taken
        if outcome is not None:
            self.clock.advance(minutes=12)
            await self.services.desk.close(
                escalation_id, self.counsellor_id, outcome, form=form, directory_ids={"police-113"}
            )

    async def services_asked(self, when: datetime, province: str | None) -> None:
        """Looks for HIV testing, and says where (or prefers not to)."""
        self.clock.set(when)
        session = self.new_session()
        await self.web(session, event="start")
        self.clock.advance(seconds=20)
        await self.web(session, choice="services.menu:hiv_testing")
        self.clock.advance(seconds=20)
        if province is None:
            await self.web(session, choice="services.ask_province:skip")
        else:
            await self.web(session, text=province)


async def replay(services: Services, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    """The quarter: 46 contacts from 45 people, 9 escalations, 8 calls; and two contacts outside it."""
    hotline = Hotline(services, client, clock)
    await hotline.add_counsellor()

    # Outside the quarter, in local time: New Year's Eve, and the first minutes of April.
    await hotline.web_article(at(12, 31, 23, 0, year=2025), "hiv_sti", helpful=True)
    await hotline.web_article(at(4, 1, 0, 30), "hiv_sti", helpful=True)

    # January: 7 web chats on HIV (5 found it helpful, 2 not), 6 on Telegram on the law (3 helpful,
    # 3 no answer), 2 calls that heard an HIV answer.
    for day in range(3, 10):
        await hotline.web_article(at(1, day), "hiv_sti", helpful=day < 8)
    for day in range(10, 16):
        await hotline.telegram_article(
            at(1, day), f"tg-user-{day}", "legal", helpful=True if day < 13 else None
        )
    await hotline.call(at(1, 20), "+84900000020", "hiv_sti", seconds=90)
    await hotline.call(at(1, 21), "+84900000021", "hiv_sti", seconds=90)

    # February. 00:30 on 1 February local time is still 31 January in UTC: it counts in February.
    await hotline.web_article(at(2, 1, 0, 30), "hiv_sti", helpful=True)
    for day in range(2, 7):
        await hotline.telegram_article(at(2, day), f"tg-user-2{day}", "harm_reduction", helpful=None)
    # Six emergencies: taken after 1, 1.5, 2, 2.5 and 10 minutes; one that nobody took.
    await hotline.escalate(at(2, 10), wait=60, outcome="safe", text=EMERGENCY_TEXT)
    await hotline.escalate(at(2, 11), wait=90, outcome="safe")
    await hotline.escalate(at(2, 12), wait=120, outcome="police")
    await hotline.escalate(at(2, 13), wait=150, outcome="health")
    await hotline.escalate(at(2, 14), wait=600, outcome="safe")
    await hotline.escalate(at(2, 15, 3, 0), wait=None, outcome=None)
    # Three people ask for a counsellor: two are taken, one waits in vain.
    await hotline.escalate(at(2, 20), wait=30, outcome="safe", choice="main.menu:counsellor", form=DISTRESS)
    await hotline.escalate(at(2, 21), wait=45, outcome="other", choice="main.menu:counsellor", form=HIV)
    await hotline.escalate(at(2, 22), wait=None, outcome=None, choice="main.menu:counsellor")

    # March: 7 web chats look for HIV testing (6 in Hà Nội, 1 in Hải Phòng), 2 Telegram users read
    # about violence, a January Telegram user comes back about the law, 6 calls (2 hang up at once).
    for day in range(2, 8):
        await hotline.services_asked(at(3, day), "Hà Nội")
    await hotline.services_asked(at(3, 8), "Hải Phòng")
    await hotline.telegram_article(at(3, 10), "tg-user-m10", "violence", helpful=None)
    await hotline.telegram_article(at(3, 11), "tg-user-m11", "violence", helpful=None)
    await hotline.telegram_article(at(3, 12), "tg-user-10", "legal", helpful=None)
    for day, seconds in zip(range(15, 19), (60, 120, 180, 240), strict=True):
        await hotline.call(at(3, day), f"+849000003{day}", "harm_reduction", seconds=seconds)
    await hotline.call(at(3, 19), "+84900000319", None, seconds=20)
    await hotline.call(at(3, 20), "+84900000320", None, seconds=30)
