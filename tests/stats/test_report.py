"""The statistics of a known quarter, replayed through the engine, checked figure by figure.

Every number below follows from ``tests/stats/replay.py``; the comments say how. Suppression with
k = 5: ``<5`` is a count from 1 to 4, ``x`` a count hidden so that a ``<5`` cannot be worked out.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.stats.period import make_period
from bot.stats.report import load_report
from bot.store.retention import purge
from tests.stats.cli import hotline_async
from tests.stats.replay import at, replay

EXPECTED: dict[str, Any] = {
    "period": {"from": "2026-01-01", "to": "2026-03-31", "timezone": "Asia/Ho_Chi_Minh"},
    "min_cell": 5,
    # 46 contacts in the quarter (not the New Year's Eve and 1 April ones); a January Telegram user
    # came back in March: 45 people.
    "contacts": 46,
    "unique_users": 45,
    "by_channel": {"webchat": 24, "telegram": 14, "phone": 8, "total": 46},
    "by_month": {"2026-01": 15, "2026-02": 15, "2026-03": 16, "total": 46},
    # January: 7 web, 6 Telegram, 2 calls; February: 1 + 6 emergencies + 3 counsellor requests on the
    # web, 5 Telegram; March: 7 web, 3 Telegram, 6 calls. The 2 January calls and 3 March Telegram
    # contacts are under 5; the smallest other cell of their rows (January Telegram 6, March phone 6)
    # is hidden with each, which also leaves two hidden cells in each of those columns.
    "channel_by_month": {
        "2026-01": {"webchat": 7, "telegram": "x", "phone": "<5", "total": 15},
        "2026-02": {"webchat": 10, "telegram": 5, "phone": 0, "total": 15},
        "2026-03": {"webchat": 7, "telegram": "<5", "phone": "x", "total": 16},
        "total": {"webchat": 24, "telegram": 14, "phone": 8, "total": 46},
    },
    # HIV: 7 web + 2 calls in January, 1 in February; harm reduction: 5 Telegram in February, 4 calls
    # in March; legal: 6 in January, 1 in March; violence: 2 in March. Each small cell hides the
    # smallest other month of its topic with it; violence's total is under 5 itself.
    "by_topic": {"hiv_sti": 10, "harm_reduction": 9, "legal": 7, "violence": "<5", "support": 0},
    "topic_by_month": {
        "2026-01": {"hiv_sti": "x", "harm_reduction": 0, "legal": "x", "violence": 0, "support": 0},
        "2026-02": {"hiv_sti": "<5", "harm_reduction": "x", "legal": 0, "violence": 0, "support": 0},
        "2026-03": {"hiv_sti": 0, "harm_reduction": "<5", "legal": "<5", "violence": "<5", "support": 0},
        "total": {"hiv_sti": 10, "harm_reduction": 9, "legal": 7, "violence": "<5", "support": 0},
    },
    # 6 said Hà Nội, 1 Hải Phòng, nobody else told: Hải Phòng is under 5, Hà Nội hidden with it.
    "by_province": {"Hà Nội": "x", "Hải Phòng": "<5", "not_told": 39, "total": 46},
    # 6 emergencies (5 taken, 1 not), 3 counsellor requests (2 taken, 1 not).
    "escalations": {
        "emergency": {"taken": "x", "not_taken": "<5", "total": "x"},
        "counsellor": {"taken": "<5", "not_taken": "<5", "total": "<5"},
        "callback": {"taken": 0, "not_taken": 0, "total": 0},
        "total": {"taken": "x", "not_taken": "<5", "total": 9},
    },
    # Emergencies taken after 60, 90, 120, 150 and 600 s: median 120, 90th percentile (nearest rank,
    # the 5th of 5) 600. Two counsellor requests taken: too few to show.
    "time_to_counsellor_seconds": {
        "emergency": {"median_seconds": 120, "p90_seconds": 600},
        "counsellor": {"median_seconds": "n<5", "p90_seconds": "n<5"},
        "callback": {"median_seconds": "n<5", "p90_seconds": "n<5"},
    },
    # safe 4 (3 emergencies, 1 request), police 1, health 1, other 1, not closed 2 (the two nobody took).
    "by_outcome": {
        "safe": "<5",
        "police": "<5",
        "health": "<5",
        "shelter": 0,
        "no_contact": 0,
        "other": "<5",
        "not_closed": "<5",
        "total": 9,
    },
    # 8 calls of 90, 90, 60, 120, 180, 240, 20, 30 s: median 90; the 2 that hung up at once abandoned.
    "calls": {"count": 8, "median_duration_seconds": 90, "abandoned": "<5"},
    "referrals": {
        "emergency": 0,
        "hotline": 0,
        "hiv_testing": 7,
        "prep": 0,
        "methadone": 0,
        "sti_clinic": 0,
        "legal_aid": 0,
        "shelter": 0,
        "peer_group": 0,
    },
    # Helpful: 5 web + 3 Telegram in January, 1 web in February; not helpful: 2 web in January.
    "helpfulness": {"yes": "x", "no": "<5", "no_answer": 35, "total": 46},
    "checkins": {"set": 0, "answered": 0, "escalated": 0},
    "alerts": {"reports": 0, "approved": 0, "rejected": 0, "alerts_sent": 0, "lookups": 0, "matches": 0},
    # The close forms of the 7 closed cases: 5 emergencies (violence by a partner, low risk, police,
    # follow-up wanted), 2 counsellor requests (distress; HIV; no risk, no follow-up). Reasons and
    # categories have no total (a case may have several): a small cell is only "<5". The risk and
    # follow-up tables add up to the 7 forms: each small cell hides the other with it.
    "close_reasons": {
        "violence_client": 0,
        "violence_partner": 5,
        "violence_police": 0,
        "sexual_assault": 0,
        "trafficking_held": 0,
        "suicide_self_harm": 0,
        "emotional_distress": "<5",
        "drugs_overdose": 0,
        "hiv_sti": "<5",
        "sexual_reproductive_health": 0,
        "legal_question": 0,
        "stigma_discrimination": 0,
        "family_relationships": 0,
        "work_training": 0,
        "money_housing": 0,
        "information_only": 0,
    },
    "close_programme": {
        "health_hiv": "<5",
        "harm_reduction": 0,
        "gbv": 5,
        "legal": 0,
        "education_vocational": 0,
        "support_services": "<5",
    },
    "close_chi": {
        "violence": 5,
        "mental_health": "<5",
        "physical_health": "<5",
        "accessibility": 0,
        "discrimination_exclusion": 0,
        "family_relationships": 0,
        "peer_relationships": 0,
        "education_occupation": 0,
        "sexuality": 0,
        "non_counselling": 0,
    },
    "close_risk": {"none": "<5", "low": "x", "medium": 0, "high": 0, "total": 7},
    "close_referrals": {"police-113": 5},
    "close_follow_up": {"yes": "x", "no": "<5", "total": 7},
    "legend": {
        "<5": "fewer than 5: not shown, so that nobody can be singled out",
        "x": "5 or more, not shown so that a count under 5 cannot be worked out from the totals",
        "n<5": "computed from fewer than 5 cases: not shown",
        "..": "a table with too few contacts to show any of it safely",
    },
}


async def test_each_figure_of_a_replayed_quarter(
    services: Services, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await replay(services, client, clock)

    # Three months later the transcripts and conversations are purged; the statistics stay.
    clock.set(at(7, 1))
    async with services.sessionmaker() as session, session.begin():
        purged = await purge(session, now=clock.now(), settings=services.settings)
    assert purged["messages"] > 0 and purged["conversations"] > 0

    result = await hotline_async(services.settings.database_url, "stats", "--from", "2026-01", "--to", "2026-03", "--format", "json")  # fmt: skip
    assert json.loads(result.stdout) == EXPECTED

    period = make_period("2026-01-01", "2026-03-31", zone="Asia/Ho_Chi_Minh", now=clock.now())
    report = await load_report(services.sessionmaker, period, min_cell=5)
    assert report.to_json() == EXPECTED, "the console reads the same report"
