"""The rota: parsing (with errors that say where), who is on call when, and import."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.escalation.rota import (
    RotaError,
    RotaNeedsConfirmation,
    RotaResult,
    chain_at,
    import_rota,
    oncall_phone_numbers,
    parse_rota,
    telegram_user_hash,
)
from bot.runtime import Services
from bot.settings import ROOT
from bot.store.migrate import upgrade
from bot.store.models import AuditEntry, Counsellor
from tests.conftest import SECRET

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_shipped_example_parses() -> None:
    plan = parse_rota((ROOT / "deploy" / "rota.example.yaml").read_text(), today=date(2026, 12, 1), weeks=2)
    assert {c["name"] for c in plan.counsellors} == {"Lan", "Minh", "Hoa"}
    assert plan.shifts


def test_night_shift_crosses_midnight_and_chain_keeps_its_order() -> None:
    plan = parse_rota(
        """
counsellors: [{name: A}, {name: B}]
weekly: [{days: [mon], from: "20:00", to: "08:00", chain: [B, A]}]
""",
        today=date(2026, 11, 30),  # a Monday
        weeks=1,
    )
    assert plan.shifts == [
        ("B", datetime(2026, 11, 30, 20, tzinfo=HCM), datetime(2026, 12, 1, 8, tzinfo=HCM), 0),
        ("A", datetime(2026, 11, 30, 20, tzinfo=HCM), datetime(2026, 12, 1, 8, tzinfo=HCM), 1),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("counsellors: []", "at least one"),
        ("counsellors: [{name: A}]", "nobody would ever be paged"),
        ("counsellors: [{name: A}, {name: A}]\nshifts: []", "appears twice"),
        ("counsellors: [{name: A, phone: call-me}]", "phone"),
        (
            "counsellors: [{name: A}]\nweekly: [{days: [funday], from: '08:00', to: '09:00', chain: [A]}]",
            "days",
        ),
        ("counsellors: [{name: A}]\nweekly: [{days: [mon], from: '8h', to: '09:00', chain: [A]}]", "08:00"),
        (
            "counsellors: [{name: A}]\nweekly: [{days: [mon], from: '08:00', to: '09:00', chain: [Z]}]",
            "chain",
        ),
        (
            "counsellors: [{name: A}]\nshifts: [{counsellor: A, from: 2026-12-02 10:00, to: 2026-12-02 09:00}]",
            "after",
        ),
        ("timezone: Mars/Olympus\ncounsellors: [{name: A}]", "timezone"),
        ("[not, a, mapping", "YAML"),
    ],
)
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(RotaError, match=message):
        parse_rota(text, today=date(2026, 12, 1))


async def test_import_and_who_is_on_call(services: Services) -> None:
    plan = parse_rota(
        """
counsellors: [{name: Lan, phone: "+84900000001"}, {name: Minh, phone: "+84900000002"}, {name: Hoa}]
weekly:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: "08:00", to: "20:00", chain: [Lan, Minh]}
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: "20:00", to: "08:00", chain: [Minh]}
""",
        today=date(2026, 1, 4),
        weeks=2,
    )
    now = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # 10:00 in Ho Chi Minh City
    async with services.sessionmaker() as session, session.begin():
        # 14 days x (2 day shifts + 1 night), less the three that ended before now
        result = await import_rota(session, services.crypto, plan, now=now)
        assert (result.counsellors, result.shifts) == (3, 39)
    async with services.sessionmaker() as session:
        assert [c.display_name for c in await chain_at(session, now)] == ["Lan", "Minh"]
        night = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # 22:00 local
        assert [c.display_name for c in await chain_at(session, night)] == ["Minh"]
        assert await oncall_phone_numbers(session, services.crypto, night) == ["+84900000002", "+84900000001"]
    # Importing again replaces the future shifts instead of adding to them.
    async with services.sessionmaker() as session, session.begin():
        await import_rota(session, services.crypto, plan, now=now)
    async with services.sessionmaker() as session:
        assert [c.display_name for c in await chain_at(session, now)] == ["Lan", "Minh"]


def test_rota_import_command_reports_the_mistake(tmp_path: Path) -> None:
    from bot.cli import main

    bad = tmp_path / "rota.yaml"
    bad.write_text(
        "counsellors: [{name: A}]\nweekly: [{days: [mon], from: '08:00', to: '09:00', chain: [B]}]"
    )
    result = CliRunner().invoke(main, ["rota", "import", str(bad)])
    assert result.exit_code != 0 and "weekly entry 1" in result.output


TWO = """
counsellors:
  - {name: Lan, telegram: 7001, phone: "+84900000001"}
  - {name: Minh, telegram: 7002}
weekly:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", chain: [Lan, Minh]}
"""


async def _import(services: Services, text: str, **confirm: bool) -> RotaResult:
    plan = parse_rota(text, today=date(2026, 1, 1), weeks=2)
    async with services.sessionmaker() as session, session.begin():
        return await import_rota(session, services.crypto, plan, now=services.clock.now(), **confirm)


async def _counsellors(services: Services) -> dict[str, Counsellor]:
    async with services.sessionmaker() as session:
        return {c.display_name: c for c in (await session.execute(select(Counsellor))).scalars()}


async def _changes(services: Services) -> list[tuple[str, str, str]]:
    """(counsellor, field, change) of the ``rota_change`` audit rows after the first import."""
    names = {c.id: name for name, c in (await _counsellors(services)).items()}
    async with services.sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action == "rota_change").order_by(AuditEntry.id)
            )
        ).scalars()
        return [
            (names[a.counsellor_id or 0], (a.detail or {})["field"], (a.detail or {})["change"])
            for a in rows
            if (a.detail or {})["change"] != "created"
        ]


async def test_an_import_refuses_to_rebind_a_telegram_id_or_phone_until_confirmed(services: Services) -> None:
    await _import(services, TWO)
    before = await _counsellors(services)
    rebound = TWO.replace("7002", "7999").replace('phone: "+84900000001"', 'phone: "+84900000009"')
    with pytest.raises(RotaNeedsConfirmation, match="rebind") as refused:
        await _import(services, rebound)
    assert {(c.counsellor, c.field, c.change) for c in refused.value.changes} == {
        ("Minh", "telegram", "changed"),
        ("Lan", "phone", "changed"),
    }
    assert "7999" not in str(refused.value) and "+84900000009" not in str(refused.value)
    after = await _counsellors(services)
    assert after["Minh"].telegram_user_hash == before["Minh"].telegram_user_hash, "nothing was changed"
    assert services.crypto.decrypt(after["Lan"].phone_enc or "") == "+84900000001"

    result = await _import(services, rebound, rebind=True)
    assert {(c.counsellor, c.field, c.change) for c in result.changes} == {
        ("Minh", "telegram", "changed"),
        ("Lan", "phone", "changed"),
    }
    after = await _counsellors(services)
    assert after["Minh"].telegram_user_hash == telegram_user_hash(services.crypto, "7999")
    assert sorted(await _changes(services)) == [("Lan", "phone", "changed"), ("Minh", "telegram", "changed")]
    async with services.sessionmaker() as session:
        details = [a.detail for a in (await session.execute(select(AuditEntry))).scalars()]
    written = repr(details)
    assert not any(secret in written for secret in ("7001", "7002", "7999", "+8490000000")), written


async def test_an_import_that_drops_a_route_needs_rebind_but_a_first_route_does_not(
    services: Services,
) -> None:
    await _import(services, TWO)
    with pytest.raises(RotaNeedsConfirmation):
        await _import(services, TWO.replace(", telegram: 7002", ""))
    result = await _import(
        services,
        TWO.replace("{name: Minh, telegram: 7002}", '{name: Minh, telegram: 7002, phone: "+84911111111"}'),
    )
    assert [(c.counsellor, c.field, c.change) for c in result.changes] == [("Minh", "phone", "added")]
    assert await _changes(services) == [("Minh", "phone", "added")], "audited, though not asked"


async def test_an_import_refuses_to_reactivate_a_deactivated_counsellor_until_confirmed(
    services: Services,
) -> None:
    await _import(services, TWO)
    async with services.sessionmaker() as session, session.begin():
        minh = (
            await session.execute(select(Counsellor).where(Counsellor.display_name == "Minh"))
        ).scalar_one()
        minh.active = False
    with pytest.raises(RotaNeedsConfirmation, match="reactivate"):
        await _import(services, TWO)
    assert not (await _counsellors(services))["Minh"].active
    with pytest.raises(RotaNeedsConfirmation):
        await _import(services, TWO, rebind=True)
    await _import(services, TWO, reactivate=True)
    assert (await _counsellors(services))["Minh"].active
    assert await _changes(services) == [("Minh", "active", "reactivated")]
    async with services.sessionmaker() as session:
        last = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.action == "rota_import")
                    .order_by(AuditEntry.id.desc())
                )
            )
            .scalars()
            .first()
        )
        assert last is not None and (last.detail or {})["confirmed"] == ["reactivate"]


async def test_an_import_refuses_a_telegram_id_another_counsellor_keeps(services: Services) -> None:
    await _import(services, TWO)
    other = "counsellors: [{name: Hoa, telegram: 7001}]\nshifts: [{counsellor: Hoa, from: 2026-01-02 08:00, to: 2026-01-02 20:00}]"
    with pytest.raises(RotaError, match="already Lan's"):
        await _import(services, other)


def test_rota_import_command_asks_for_rebind_and_audits_what_changed(tmp_path: Path) -> None:
    from bot.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    env = {"HOTLINE_DATABASE_URL": url, "HOTLINE_SECRET_KEY": SECRET, "HOTLINE_ENV": "test"}
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(TWO)
    second.write_text(TWO.replace("7002", "7999"))
    runner = CliRunner()
    assert runner.invoke(main, ["rota", "import", str(first)], env=env).exit_code == 0
    refused = runner.invoke(main, ["rota", "import", str(second)], env=env)
    assert refused.exit_code != 0
    assert "Minh: telegram would point to another id" in refused.output and "--rebind" in refused.output
    assert "7999" not in refused.output
    done = runner.invoke(main, ["rota", "import", str(second), "--rebind"], env=env)
    assert done.exit_code == 0 and "Minh: telegram now points to another id" in done.output


def test_staff_add_does_not_rebind_an_existing_counsellor(tmp_path: Path) -> None:
    from bot.cli import main

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    env = {"HOTLINE_DATABASE_URL": url, "HOTLINE_SECRET_KEY": SECRET, "HOTLINE_ENV": "test"}
    rota = tmp_path / "rota.yaml"
    rota.write_text(TWO)
    runner = CliRunner()
    assert runner.invoke(main, ["rota", "import", str(rota)], env=env).exit_code == 0
    add = ["staff", "add", "minh", "--name", "Minh", "--password-stdin"]
    refused = runner.invoke(main, [*add, "--telegram", "7999"], input="a long password\n", env=env)
    assert refused.exit_code != 0 and "--rebind" in refused.output
    same = runner.invoke(main, [*add, "--telegram", "7002"], input="a long password\n", env=env)
    assert same.exit_code == 0, same.output
