"""The close form's codes (bot/store/closeform.py): every reason maps to a programme and a CHI category,
every code has a label in both languages, and a form with anything else is refused."""

from __future__ import annotations

import pytest

from bot.store.closeform import CHI, END_RISKS, FORM_LABELS, PROGRAMME, REASONS, CloseForm, FormError


def test_every_reason_maps_to_known_categories_and_every_code_is_labelled() -> None:
    assert len({r.code for r in REASONS}) == len(REASONS)
    for reason in REASONS:
        assert reason.programme in PROGRAMME and reason.chi in CHI, reason
    codes = [
        *(f"reason_{r.code}" for r in REASONS), *(f"programme_{c}" for c in PROGRAMME),
        *(f"chi_{c}" for c in CHI), *(f"end_risk_{c}" for c in END_RISKS),
    ]  # fmt: skip
    assert sorted(codes) == sorted(FORM_LABELS), "a label for each code, and no label for a code that is gone"
    for vi, en in FORM_LABELS.values():
        assert vi.strip() and en.strip()
    # every programme category is reachable: the programme's reports have no empty category by design
    assert {r.programme for r in REASONS} == set(PROGRAMME)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (CloseForm((), "low"), "at least one reason"),
        (CloseForm(("hiv_sti",) * 2, "low"), "different reasons"),
        (CloseForm(tuple(r.code for r in REASONS[:6]), "low"), "at most 5"),
        (CloseForm(("Nguyen Thi Hoa",), "low"), "unknown reason"),
        (CloseForm(("hiv_sti",), "very high"), "risk at the end"),
        (CloseForm(("hiv_sti",), "low", ("police-113", "police-113")), "different referrals"),
        (CloseForm(("hiv_sti",), "low", ("phong kham co Lan",)), "not in the referral directory"),
    ],
)
def test_a_form_with_anything_but_its_codes_is_refused(form: CloseForm, message: str) -> None:
    with pytest.raises(FormError, match=message):
        form.check({"police-113"})


def test_a_form_of_codes_passes() -> None:
    CloseForm(("violence_partner", "legal_question"), "high", ("police-113",), follow_up=True).check(
        {"police-113"}
    )
