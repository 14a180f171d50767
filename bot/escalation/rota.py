"""The on-call rota: counsellors, their contact routes (encrypted), and who is on call when.

A supervisor keeps the rota in a YAML file and imports it (``hotline rota import rota.yaml``) or pastes
it into the console. Times are local (``Asia/Ho_Chi_Minh`` unless the file says otherwise) and stored
in UTC. ``position`` orders the chain: 0 is paged first, then 1, 2...; after the chain, everyone.

```yaml
timezone: Asia/Ho_Chi_Minh
counsellors:
  - name: Lan                 # what the person and colleagues see
    telegram: 123456789       # Telegram user id (optional)
    phone: "+84901234567"     # for SMS/voice pages (optional)
weekly:                       # repeated every week, for `weeks` weeks from today
  - days: [mon, tue, wed, thu, fri]
    from: "08:00"
    to: "20:00"
    chain: [Lan, Minh]        # Lan first, Minh as backup
  - days: [sat, sun]
    from: "20:00"
    to: "08:00"               # over midnight
    chain: [Minh]
shifts:                       # one-off shifts
  - counsellor: Hoa
    from: 2026-12-24 08:00
    to: 2026-12-25 08:00
    position: 0
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import HotlineError
from bot.store.crypto import Crypto
from bot.store.models import AuditEntry, Counsellor, Shift

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PHONE = re.compile(r"^\+?[0-9]{6,15}$")


class RotaError(HotlineError):
    """The rota file has a mistake; the message says where."""


@dataclass(frozen=True)
class Target:
    """A counsellor to page, with the routes they can be reached by."""

    counsellor_id: int
    name: str
    telegram_chat: str | None
    phone: str | None


def telegram_user_hash(crypto: Crypto, telegram_user_id: str) -> str:
    """How a counsellor is recognised when they tap a button in Telegram (no id kept in clear)."""
    return crypto.user_key("staff-telegram", str(telegram_user_id))


async def chain_at(session: AsyncSession, when: datetime) -> list[Counsellor]:
    """The counsellors on call at ``when``, in paging order (each once)."""
    rows = await session.execute(
        select(Counsellor, Shift.position)
        .join(Shift, Shift.counsellor_id == Counsellor.id)
        .where(Shift.starts_at <= when, Shift.ends_at > when, Counsellor.active)
        .order_by(Shift.position, Shift.starts_at, Counsellor.id)
    )
    chain: list[Counsellor] = []
    for counsellor, _position in rows.all():
        if counsellor not in chain:
            chain.append(counsellor)
    return chain


async def everyone(session: AsyncSession) -> list[Counsellor]:
    rows = await session.execute(select(Counsellor).where(Counsellor.active).order_by(Counsellor.id))
    return list(rows.scalars())


def target(crypto: Crypto, counsellor: Counsellor) -> Target:
    return Target(
        counsellor_id=counsellor.id,
        name=counsellor.display_name,
        telegram_chat=crypto.decrypt(counsellor.telegram_chat_enc) if counsellor.telegram_chat_enc else None,
        phone=crypto.decrypt(counsellor.phone_enc) if counsellor.phone_enc else None,
    )


async def oncall_phone_numbers(session: AsyncSession, crypto: Crypto, when: datetime) -> list[str]:
    """Phone numbers to ring for an emergency call, in order: the chain, then the other counsellors."""
    numbers: list[str] = []
    for counsellor in [*await chain_at(session, when), *await everyone(session)]:
        if counsellor.phone_enc:
            number = crypto.decrypt(counsellor.phone_enc)
            if number not in numbers:
                numbers.append(number)
    return numbers


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RotaError(f"unknown timezone {name!r}") from exc


def _clock_time(value: Any, where: str) -> time:
    if isinstance(value, int) and not isinstance(value, bool):  # YAML reads 08:00 as minutes (sexagesimal)
        return time(value // 60 % 24, value % 60)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise RotaError(f"{where}: {value!r} is not a time like 08:00")
    hour = int(match.group(1))
    return time(0, 0) if hour == 24 else time(hour, int(match.group(2)))


def _local_datetime(value: Any, zone: ZoneInfo, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise RotaError(f"{where}: {value!r} is not a date and time like 2026-12-24 08:00") from exc
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


@dataclass(frozen=True)
class RotaPlan:
    """A parsed rota: counsellors by name, and shifts as (name, start, end, position) in UTC."""

    counsellors: list[dict[str, Any]]
    shifts: list[tuple[str, datetime, datetime, int]]


def parse_rota(text: str, *, today: date, weeks: int = 8) -> RotaPlan:
    """Read a rota file (format in this module's docstring); raise :class:`RotaError` naming the mistake."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RotaError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RotaError("the rota must have `counsellors` and `weekly` and/or `shifts`")
    zone = _zone(str(data.get("timezone", "Asia/Ho_Chi_Minh")))
    people = data.get("counsellors")
    if not isinstance(people, list) or not people:
        raise RotaError("`counsellors` must list at least one counsellor")
    counsellors: list[dict[str, Any]] = []
    names: set[str] = set()
    for index, person in enumerate(people, start=1):
        where = f"counsellor {index}"
        if not isinstance(person, dict) or not str(person.get("name", "")).strip():
            raise RotaError(f"{where}: needs a `name`")
        name = str(person["name"]).strip()
        if name in names:
            raise RotaError(f"{where}: the name {name!r} appears twice")
        names.add(name)
        phone = person.get("phone")
        if phone is not None and not PHONE.match(re.sub(r"[\s.-]", "", str(phone))):
            raise RotaError(f"{where} ({name}): `phone` must be a number like +84901234567")
        telegram = person.get("telegram")
        if telegram is not None and not re.fullmatch(r"-?\d{1,20}", str(telegram)):
            raise RotaError(f"{where} ({name}): `telegram` must be the numeric Telegram user id")
        counsellors.append(
            {
                "name": name,
                "phone": re.sub(r"[\s.-]", "", str(phone)) if phone is not None else None,
                "telegram": str(telegram) if telegram is not None else None,
            }
        )
    shifts: list[tuple[str, datetime, datetime, int]] = []
    for index, pattern in enumerate(data.get("weekly") or [], start=1):
        where = f"weekly entry {index}"
        if not isinstance(pattern, dict):
            raise RotaError(f"{where}: needs `days`, `from`, `to` and `chain`")
        days = pattern.get("days")
        if not isinstance(days, list) or not days or any(str(d).lower()[:3] not in DAYS for d in days):
            raise RotaError(f"{where}: `days` must list days like mon, tue ... sun")
        chain = pattern.get("chain")
        if not isinstance(chain, list) or not chain or any(str(n) not in names for n in chain):
            raise RotaError(f"{where}: `chain` must list counsellors named above")
        start_time = _clock_time(pattern.get("from"), where)
        end_time = _clock_time(pattern.get("to"), where)
        wanted = {DAYS.index(str(d).lower()[:3]) for d in days}
        for offset in range(weeks * 7):
            day = today + timedelta(days=offset)
            if day.weekday() not in wanted:
                continue
            start = datetime.combine(day, start_time, zone)
            end = datetime.combine(day if end_time > start_time else day + timedelta(days=1), end_time, zone)
            for position, name in enumerate(chain):
                shifts.append((str(name), start, end, position))
    for index, shift in enumerate(data.get("shifts") or [], start=1):
        where = f"shift {index}"
        if not isinstance(shift, dict) or str(shift.get("counsellor")) not in names:
            raise RotaError(f"{where}: `counsellor` must be a counsellor named above")
        start = _local_datetime(shift.get("from"), zone, where)
        end = _local_datetime(shift.get("to"), zone, where)
        if end <= start:
            raise RotaError(f"{where}: `to` must be after `from`")
        position = shift.get("position", 0)
        if not isinstance(position, int) or position < 0:
            raise RotaError(f"{where}: `position` must be 0 (first paged), 1, 2 ...")
        shifts.append((str(shift["counsellor"]), start, end, position))
    if not shifts:
        raise RotaError("the rota has no `weekly` patterns and no `shifts`: nobody would ever be paged")
    return RotaPlan(counsellors, shifts)


class RotaNeedsConfirmation(RotaError):
    """The import would rebind a counsellor's contact route or reactivate a deactivated counsellor.

    Nothing was changed; ``changes`` lists what would be, and the message says how to confirm.
    """

    def __init__(self, changes: list[RotaChange]) -> None:
        self.changes = changes
        flags = sorted({change.confirm for change in changes if change.confirm})
        listed = "; ".join(change.describe() for change in changes if change.confirm)
        super().__init__(
            f"this rota would change existing counsellors: {listed}. Nothing was imported. If that is "
            f"intended, import it again confirming {' and '.join(flags)}"
        )


@dataclass(frozen=True)
class RotaChange:
    """A change an import makes to an existing counsellor, described without the id or number itself.

    ``field`` is ``telegram``, ``phone`` or ``active``; ``change`` is ``added`` (a first route),
    ``changed`` (another id or number), ``removed``, ``reactivated`` or ``created`` (a new counsellor).
    ``confirm`` names what must be confirmed (``rebind``, ``reactivate``), or is empty.
    """

    counsellor: str
    field: str
    change: str
    confirm: str = ""

    def describe(self, *, done: bool = False) -> str:
        """In words, for the supervisor: what would change (``done``: what changed)."""
        other = "id" if self.field == "telegram" else "number"
        what = {
            "added": f"{self.field} added",
            "changed": f"{self.field} {'now points' if done else 'would point'} to another {other}",
            "removed": f"{self.field} {'removed' if done else 'would be removed'}",
            "reactivated": "reactivated" if done else "deactivated, would be reactivated",
            "created": "new counsellor",
        }[self.change]
        return f"{self.counsellor}: {what}"

    def audit(self) -> dict[str, str]:
        return {"field": self.field, "change": self.change}


@dataclass(frozen=True)
class RotaResult:
    counsellors: int
    shifts: int
    changes: list[RotaChange]


def _route_change(old: str | None, new: str | None) -> str | None:
    if old == new:
        return None
    if old is None:
        return "added"
    return "removed" if new is None else "changed"


def plan_changes(crypto: Crypto, plan: RotaPlan, existing: dict[str, Counsellor]) -> list[RotaChange]:
    """What importing ``plan`` would change in existing counsellors (and which counsellors it creates).

    A first route for a counsellor who had none is like creating one, so it needs no confirmation; a
    route that changes or disappears, or a reactivation, does: it could hand someone else a counsellor's
    pages and takeovers, or stop an emergency call reaching them.
    """
    changes: list[RotaChange] = []
    for person in plan.counsellors:
        name = person["name"]
        counsellor = existing.get(name)
        if counsellor is None:
            changes.append(RotaChange(name, "counsellor", "created"))
            continue
        if not counsellor.active:
            changes.append(RotaChange(name, "active", "reactivated", "reactivate"))
        new_telegram = telegram_user_hash(crypto, person["telegram"]) if person["telegram"] else None
        old_phone = crypto.decrypt(counsellor.phone_enc) if counsellor.phone_enc else None
        for field, old, new in (
            ("telegram", counsellor.telegram_user_hash, new_telegram),
            ("phone", old_phone, person["phone"]),
        ):
            change = _route_change(old, new)
            if change is not None:
                changes.append(RotaChange(name, field, change, "" if change == "added" else "rebind"))
    return changes


async def import_rota(
    session: AsyncSession, crypto: Crypto, plan: RotaPlan, *, now: datetime, rebind: bool = False,
    reactivate: bool = False, staff_id: int | None = None, via: str = "cli",
) -> RotaResult:  # fmt: skip
    """Replace the future rota with ``plan``: counsellors are matched by name (new ones added).

    Shifts that ended before ``now`` are kept (they are history); every other shift is replaced.
    A changed or removed contact route needs ``rebind``, a deactivated counsellor ``reactivate``;
    without them nothing is changed and :class:`RotaNeedsConfirmation` says what would be. Every
    change to a counsellor is written to the audit log (field and kind of change, never the id or number).
    """
    existing = {c.display_name: c for c in (await session.execute(select(Counsellor))).scalars()}
    changes = plan_changes(crypto, plan, existing)
    refused = [
        c for c in changes
        if (c.confirm == "rebind" and not rebind) or (c.confirm == "reactivate" and not reactivate)
    ]  # fmt: skip
    if refused:
        raise RotaNeedsConfirmation(refused)
    _refuse_taken_telegram_ids(crypto, plan, existing)
    # Ids that move between counsellors in this import are let go first: the unique index is checked
    # row by row, so two counsellors swapping ids would otherwise collide half-way.
    for person in plan.counsellors:
        counsellor = existing.get(person["name"])
        wanted = telegram_user_hash(crypto, person["telegram"]) if person["telegram"] else None
        if counsellor is not None and counsellor.telegram_user_hash != wanted:
            counsellor.telegram_user_hash = None
    await session.flush()
    by_name: dict[str, Counsellor] = {}
    for person in plan.counsellors:
        counsellor = existing.get(person["name"])
        if counsellor is None:
            counsellor = Counsellor(display_name=person["name"], active=True, created_at=now)
            session.add(counsellor)
        counsellor.active = True
        old_phone = crypto.decrypt(counsellor.phone_enc) if counsellor.phone_enc else None
        if person["phone"] != old_phone:  # re-encrypting an unchanged number would be a change in disguise
            counsellor.phone_enc = crypto.encrypt(person["phone"]) if person["phone"] else None
        if person["telegram"]:
            key = telegram_user_hash(crypto, person["telegram"])
            if key != counsellor.telegram_user_hash or counsellor.telegram_chat_enc is None:
                counsellor.telegram_chat_enc = crypto.encrypt(person["telegram"])
                counsellor.telegram_user_hash = key
        else:
            counsellor.telegram_chat_enc = None
            counsellor.telegram_user_hash = None
        by_name[person["name"]] = counsellor
    await session.flush()
    await session.execute(delete(Shift).where(Shift.ends_at > now))
    for name, start, end, position in plan.shifts:
        if end <= now:
            continue
        session.add(Shift(counsellor_id=by_name[name].id, starts_at=start, ends_at=end, position=position))
    shifts = sum(1 for _, _, end, _ in plan.shifts if end > now)
    for change in changes:
        session.add(
            AuditEntry(
                staff_id=staff_id, counsellor_id=by_name[change.counsellor].id, action="rota_change", at=now,
                detail={**change.audit(), "via": via},
            )
        )  # fmt: skip
    confirmed = [flag for flag, given in (("rebind", rebind), ("reactivate", reactivate)) if given]
    session.add(
        AuditEntry(
            staff_id=staff_id, action="rota_import", at=now,
            detail={"via": via, "counsellors": len(by_name), "shifts": shifts, "changes": len(changes),
                    "confirmed": confirmed},
        )
    )  # fmt: skip
    await session.flush()
    return RotaResult(len(by_name), shifts, changes)


def _refuse_taken_telegram_ids(crypto: Crypto, plan: RotaPlan, existing: dict[str, Counsellor]) -> None:
    """A Telegram id may recognise one counsellor only: refuse one that another counsellor keeps."""
    planned = {p["name"] for p in plan.counsellors}
    seen: dict[str, str] = {}
    for person in plan.counsellors:
        if not person["telegram"]:
            continue
        key = telegram_user_hash(crypto, person["telegram"])
        owner = seen.get(key) or next(
            (
                c.display_name
                for c in existing.values()
                if c.telegram_user_hash == key and c.display_name not in planned
            ),
            None,
        )
        if owner is not None and owner != person["name"]:
            raise RotaError(
                f"{person['name']}: this Telegram id is already {owner}'s; one id, one counsellor"
            )
        seen[key] = person["name"]
