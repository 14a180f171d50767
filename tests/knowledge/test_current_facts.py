"""The facts that changed in 2025 (issue 14), asked as people ask them, in Vietnamese and English.

Each question is a first message from a new person typed to the engine; the answer must state today's
fact (FACTS.md): drug use in methadone treatment is a crime (art. 256a); Decree 282/2025 sets the fines
for selling and buying sex, with a higher tier for two or more people at once; 111 takes trafficking
reports from adults; the HIV disclosure duty covers a spouse and a cohabiting partner, never clients;
emergency contraception after 72 hours is mifepristone 10 mg; administrative detention lasts 12 hours;
harbouring prostitution carries 1 to 7 years.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from bot.messages import InboundMessage
from bot.runtime import Services


@dataclass(frozen=True)
class Fact:
    name: str
    locale: str
    question: str
    says: tuple[str, ...]  # every one of these is in the replies
    never: tuple[str, ...] = ()  # none of these is
    more: bool = False  # the fact is in the longer part: the person presses "Read more"

    @property
    def id(self) -> str:
        return f"{self.name}-{self.locale}"


FACTS = [
    Fact(
        "methadone-heroin",
        "vi",
        "e dang uong methadone ma thinh thoang van choi heroin thi co sao ko",
        ("256a",),
    ),
    Fact(
        "methadone-heroin",
        "en",
        "I'm on methadone but still use heroin sometimes, is that a problem",
        ("256a",),
    ),
    Fact(
        "selling-sex-fine",
        "vi",
        "bán dâm bị phạt bao nhiêu tiền",
        ("282/2025", "hai người trở lên", "1 đến 2 triệu"),
        ("144/2021",),
    ),
    Fact(
        "selling-sex-fine",
        "en",
        "what is the fine for selling sex",
        ("282/2025", "two or more people", "1 to 2 million"),
        ("144/2021",),
    ),
    Fact(
        "buying-sex-fine",
        "vi",
        "khach mua dam bi phat bao nhieu",
        ("282/2025", "2 đến 5 triệu"),
        ("144/2021",),
    ),
    Fact(
        "buying-sex-fine",
        "en",
        "how much is the fine for buying sex",
        ("282/2025", "2 to 5 million"),
        ("144/2021",),
    ),
    Fact("trafficking-111", "vi", "bị chủ giữ giấy tờ, bắt bán dâm trả nợ thì gọi số nào", ("111",)),
    Fact(
        "trafficking-111",
        "en",
        "the boss keeps my passport and says I owe him money, who can I call",
        ("111",),
    ),
    Fact("hiv-client", "vi", "có HIV đi khách có phải báo cho khách không", ("KHÔNG buộc", "vợ hoặc chồng")),
    Fact("hiv-client", "en", "do I have to tell a client that I have HIV", ("does NOT require", "spouse")),
    Fact(
        "ec-120h",
        "vi",
        "quan hệ 4 ngày rồi còn uống thuốc tránh thai khẩn cấp được không",
        ("mifepristone 10 mg", "72 giờ"),
    ),
    Fact(
        "ec-120h",
        "en",
        "it's been 4 days since sex, can I still take an emergency pill",
        ("mifepristone 10 mg", "72 hours"),
    ),
    Fact("detention", "vi", "công an tạm giữ hành chính được bao lâu", ("12 giờ", "24 giờ")),
    Fact(
        "detention", "en", "how long can the police hold me for an administrative offence", ("12 hours", "24")
    ),
    Fact(
        "legal-aid-trafficking",
        "vi",
        "nạn nhân bị buôn bán người có được trợ giúp pháp lý miễn phí không",
        ("không cần",),
    ),
    Fact(
        "legal-aid-trafficking",
        "en",
        "do trafficking victims get free legal aid",
        ("without the financial-difficulty condition",),
    ),
    Fact(
        "methadone-scale",
        "vi",
        "việt nam có nhiều cơ sở điều trị methadone không",
        ("330", "63"),
        ("170",),
        more=True,
    ),
    Fact(
        "methadone-scale",
        "en",
        "are there many methadone clinics in vietnam",
        ("330", "63"),
        ("170",),
        more=True,
    ),
    Fact("groping-fine", "vi", "bị sàm sỡ thì người đó bị phạt bao nhiêu", ("6 đến 8 triệu",)),
    Fact("groping-fine", "en", "what is the fine for groping someone", ("6 to 8 million",)),
    Fact("harbouring", "vi", "chứa mại dâm bị đi tù mấy năm", ("Điều 327", "1 đến 7 năm")),
    Fact(
        "harbouring",
        "en",
        "how many years in prison for harbouring prostitution",
        ("art. 327", "1 to 7 years"),
    ),
]


DANGER_ASKED = {"Bạn có đang gặp nguy hiểm ngay lúc này không?", "Are you in danger right now?"}
NO = {"vi": "không", "en": "no"}
MORE = {"vi": "Đọc thêm", "en": "Read more"}


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.id)
async def test_the_current_fact_is_answered(services: Services, fact: Fact) -> None:
    if not services.settings.is_sqlite:
        pytest.skip("content, not storage: once is enough")
    person = secrets.token_hex(8)
    outcome = await services.engine.handle(
        InboundMessage("test", person, text=fact.question, locale=fact.locale)
    )
    said = "\n".join(reply.text for reply in outcome.replies)
    if said.strip() in DANGER_ASKED:  # "possible" danger: the person says no, and gets the answer
        outcome = await services.engine.handle(
            InboundMessage("test", person, text=NO[fact.locale], locale=fact.locale)
        )
        said = "\n".join(reply.text for reply in outcome.replies)
    if fact.more:
        outcome = await services.engine.handle(
            InboundMessage("test", person, text=MORE[fact.locale], locale=fact.locale)
        )
        said += "\n" + "\n".join(reply.text for reply in outcome.replies)
    missing = [text for text in fact.says if text not in said]
    assert not missing, f"{fact.question!r}: {missing} not in the reply:\n{said}"
    wrong = [text for text in fact.never if text in said]
    assert not wrong, f"{fact.question!r}: out-of-date {wrong} in the reply:\n{said}"
