"""Pacing under Telegram's limits: a short burst per chat then one a second, about 30 a second overall."""

from __future__ import annotations

from bot.channels.telegram.limits import RateLimiter
from tests.channels.telegram.helpers import VirtualTime


async def test_one_chat_gets_a_burst_of_three_then_one_a_second() -> None:
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    start = time.now
    sent_at = []
    for _ in range(6):
        await limiter.wait(42)
        sent_at.append(time.now - start)
    assert [round(t, 3) for t in sent_at] == [0, 0, 0, 1, 2, 3]


async def test_a_chat_that_was_quiet_gets_its_burst_back() -> None:
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    for _ in range(3):
        await limiter.wait(42)
    time.now += 10
    sleeps_before = len(time.sleeps)
    for _ in range(3):
        await limiter.wait(42)
    assert len(time.sleeps) == sleeps_before


async def test_many_chats_share_thirty_a_second() -> None:
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    start = time.now
    for chat in range(90):
        await limiter.wait(chat)
    elapsed = time.now - start
    assert 1.9 <= elapsed <= 2.1, elapsed  # 30 at once, then 60 more at 30 a second
    assert time.sleeps and max(time.sleeps) < 0.05, "nobody waits long"


async def test_other_chats_are_not_held_up_by_a_busy_one() -> None:
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    for _ in range(3):
        await limiter.wait(1)
    assert limiter.reserve(2) == 0
    assert limiter.reserve(1) > 0.9


async def test_a_group_gets_twenty_a_minute_after_its_burst() -> None:
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    start = time.now
    for _ in range(23):
        await limiter.wait(-1001234567890)
    assert round(time.now - start) == 60, "3 at once, then one every 3 seconds"


async def test_a_booked_slot_is_kept_for_its_message_and_found_again() -> None:
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    group = -1001234567890
    assert [limiter.book(group, f"page-{i}") for i in range(3)] == [0, 0, 0], "the group's burst"
    assert limiter.book(group, "page-3") == 3 and limiter.book(group, "page-4") == 6
    assert limiter.book(group, "page-3") == 3, "asking again finds the same slot, not a later one"
    time.now += 3
    assert limiter.book(group, "page-3") == 0, "its slot is due: it goes"
    assert limiter.book(group, "page-4") == 3


async def test_the_staff_groups_future_slots_take_nothing_from_other_chats() -> None:
    """A bug once: booking the group's slot minutes ahead also moved the overall rate, so everyone waited."""
    time = VirtualTime()
    limiter = RateLimiter(monotonic=time.monotonic, sleep=time.sleep)
    group = -1001234567890
    for i in range(40):
        limiter.book(group, f"page-{i}")  # 40 pages waiting for the group: two minutes of slots
    assert [limiter.book(chat, f"reply-{chat}") for chat in range(25)] == [0] * 25
