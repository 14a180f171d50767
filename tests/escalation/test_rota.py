"""The rota: parsing (with errors that say where), who is on call when, and import."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot.escalation.rota import RotaError, chain_at, import_rota, oncall_phone_numbers, parse_rota
from bot.runtime import Services
from bot.settings import ROOT

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
