"""Phone keys for menu choices (ivr/keys.py), on the real flows and on made-up menus."""

from __future__ import annotations

from bot.engine.content import Content
from bot.messages import Choice
from ivr.keys import fixed_keys, menu_page


def choices(count: int) -> list[Choice]:
    return [Choice(f"menu:c{i}", f"choice {i}") for i in range(1, count + 1)]


def no_fixed(choice_id: str) -> str | None:
    return None


def test_choices_are_numbered_from_one() -> None:
    page = menu_page(choices(3), no_fixed)
    assert [(o.key, o.choice.id) for o in page.options] == [
        ("1", "menu:c1"),
        ("2", "menu:c2"),
        ("3", "menu:c3"),
    ]
    assert page.more_key is None


def test_eight_fit_nine_need_a_second_page() -> None:
    assert menu_page(choices(8), no_fixed).more_key is None
    first = menu_page(choices(9), no_fixed)
    assert [o.key for o in first.options] == ["1", "2", "3", "4", "5", "6", "7"]
    assert first.more_key == "8"
    second = menu_page(choices(9), no_fixed, page=1)
    assert [(o.key, o.choice.id) for o in second.options] == [("1", "menu:c8"), ("2", "menu:c9")]
    assert second.more_key is None
    assert menu_page(choices(9), no_fixed, page=7).page == 1, "past the end: the last page"


def test_fixed_keys_are_kept_and_skipped_by_the_numbering() -> None:
    fixed = {"menu:c1": "9", "menu:c2": "0", "menu:c3": "3", "menu:c4": "#"}.get
    page = menu_page(choices(6), fixed)
    assert [(o.key, o.choice.id) for o in page.options] == [
        ("1", "menu:c5"),
        ("2", "menu:c6"),
        ("3", "menu:c3"),
        ("#", "menu:c4"),
    ], "9 and 0 are the footer's; 3 and # stay with their choices"


def test_the_main_menu_keys(content: Content) -> None:
    flows = content.flows
    node = flows.nodes["main.menu"]
    menu = [Choice(node.choice_id(c), c.label.vi) for c in node.choices]
    page = menu_page(menu, fixed_keys(flows))
    keyed = {o.key: o.choice.id for o in page.options}
    assert keyed["1"] == "main.menu:hiv"
    assert "main.menu:danger" not in keyed.values() and "main.menu:counsellor" not in keyed.values()
    assert page.more_key is None
