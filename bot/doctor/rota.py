"""Who is on call: someone now, someone for every hour of the next 24 hours, each reachable by a page.

On-call is what :func:`bot.escalation.rota.chain_at` reads: shifts of active counsellors. A counsellor
counts only with a route the service can page them by here: a Telegram id when Telegram is set up, a
phone number when Twilio is (bot/escalation/paging.py pages by exactly these).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.doctor.report import Context, Finding, ok, problem
from bot.store.db import make_sessionmaker
from bot.store.models import Counsellor, Shift

WINDOW = timedelta(hours=24)
FIX_ROTA = "fill the gap in the rota and import it again (`hotline rota import rota.yaml`, or the console)"


def _pageable(ctx: Context, counsellor: Counsellor) -> bool:
    settings = ctx.settings
    telegram = settings.telegram_token is not None
    phone = bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id)
    return bool((telegram and counsellor.telegram_chat_enc) or (phone and counsellor.phone_enc))


async def rota(ctx: Context) -> list[Finding]:
    """Three findings: on call now, the next 24 hours without a gap, a page route for each on call."""
    now = ctx.now()
    end = now + WINDOW
    try:
        async with make_sessionmaker(ctx.engine())() as session:
            rows = await session.execute(
                select(Shift.starts_at, Shift.ends_at, Counsellor)
                .join(Counsellor, Shift.counsellor_id == Counsellor.id)
                .where(Shift.starts_at < end, Shift.ends_at > now, Counsellor.active)
                .order_by(Shift.starts_at)
            )
            shifts = [(start, stop, counsellor) for start, stop, counsellor in rows.all()]
    except SQLAlchemyError as exc:
        return [problem("rota", f"cannot be read ({type(exc).__name__}): see the database above")]
    unreachable = sorted({c.display_name for _, _, c in shifts if not _pageable(ctx, c)})
    covered = [(start, stop) for start, stop, c in shifts if _pageable(ctx, c)]
    gaps = _gaps(covered, now, end)
    zone = ZoneInfo(ctx.settings.timezone)

    found: list[Finding] = []
    on_now = sorted(
        {c.display_name for start, stop, c in shifts if start <= now < stop and _pageable(ctx, c)}
    )
    if on_now:
        found.append(ok("on call now", ", ".join(on_now)))
    else:
        found.append(
            problem("on call now", "nobody who can be paged: an emergency reaches no counsellor", FIX_ROTA)
        )
    if gaps:
        spans = "; ".join(f"{_local(a, zone)} to {_local(b, zone)}" for a, b in gaps[:3])
        more = f" and {len(gaps) - 3} more" if len(gaps) > 3 else ""
        found.append(problem("next 24 hours", f"nobody on call {spans}{more} ({zone.key})", FIX_ROTA))
    else:
        found.append(ok("next 24 hours", "someone is on call at every moment"))
    if unreachable:
        found.append(
            problem(
                "page routes",
                f"on call but cannot be paged here: {', '.join(unreachable)} "
                "(a Telegram id needs Telegram set up; a phone needs Twilio set up)",
                "give them a Telegram id or a phone in the rota and import it again",
            )
        )
    elif shifts:
        found.append(ok("page routes", "everyone on call can be paged"))
    return found


def _gaps(
    spans: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) that no span covers, in order."""
    gaps: list[tuple[datetime, datetime]] = []
    reached = start
    for span_start, span_end in sorted(spans):
        if span_start > reached:
            gaps.append((reached, min(span_start, end)))
        reached = max(reached, span_end)
        if reached >= end:
            break
    if reached < end:
        gaps.append((reached, end))
    return [(a, b) for a, b in gaps if b > a]


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%a %H:%M")
