"""The short form a counsellor fills in when closing a case (issue 21): fixed codes, never free text.

Each reason for contact maps to one category of the programme's reports (the prostitution-prevention
programme counts support contacts by service type: health/HIV, legal, education and vocational training;
the 2021-2025 programme adds harm reduction and gender-based-violence prevention) and to one top-level
category of Child Helpline International's classification (as Aselo's forms use it). The statistics count
the codes (``hotline stats``), suppressed like every other table; nothing typed goes into them.
"""

from __future__ import annotations

from dataclasses import dataclass

# the programme's report categories (FACTS.md, "The programmes this serves")
PROGRAMME = ("health_hiv", "harm_reduction", "gbv", "legal", "education_vocational", "support_services")
# Child Helpline International's top-level categories of reasons for contact
CHI = (
    "violence", "mental_health", "physical_health", "accessibility", "discrimination_exclusion",
    "family_relationships", "peer_relationships", "education_occupation", "sexuality", "non_counselling",
)  # fmt: skip


@dataclass(frozen=True)
class Reason:
    code: str
    programme: str
    chi: str


REASONS: tuple[Reason, ...] = (
    Reason("violence_client", "gbv", "violence"),
    Reason("violence_partner", "gbv", "violence"),
    Reason("violence_police", "gbv", "violence"),
    Reason("sexual_assault", "gbv", "violence"),
    Reason("trafficking_held", "gbv", "violence"),
    Reason("suicide_self_harm", "support_services", "mental_health"),
    Reason("emotional_distress", "support_services", "mental_health"),
    Reason("drugs_overdose", "harm_reduction", "physical_health"),
    Reason("hiv_sti", "health_hiv", "physical_health"),
    Reason("sexual_reproductive_health", "health_hiv", "sexuality"),
    Reason("legal_question", "legal", "accessibility"),
    Reason("stigma_discrimination", "support_services", "discrimination_exclusion"),
    Reason("family_relationships", "support_services", "family_relationships"),
    Reason("work_training", "education_vocational", "education_occupation"),
    Reason("money_housing", "support_services", "accessibility"),
    Reason("information_only", "support_services", "non_counselling"),
)
REASON_CODES = tuple(r.code for r in REASONS)
BY_CODE = {r.code: r for r in REASONS}
# the risk the counsellor judges at the end of the contact
END_RISKS = ("none", "low", "medium", "high")
MAX_REASONS = 5
MAX_REFERRALS = 8


# Every code's label (Vietnamese, English), for the console's form and the statistics' tables.
FORM_LABELS: dict[str, tuple[str, str]] = {
    "reason_violence_client": ("Bạo lực từ khách", "Violence by a client"),
    "reason_violence_partner": ("Bạo lực từ chồng, bạn tình, người nhà", "Violence by a partner or family"),
    "reason_violence_police": (
        "Bạo lực, lạm quyền từ công an, cán bộ",
        "Violence or abuse by police or officials",
    ),
    "reason_sexual_assault": ("Xâm hại tình dục", "Sexual assault"),
    "reason_trafficking_held": ("Bị giữ, mua bán người, ép làm việc", "Held, trafficked or forced to work"),
    "reason_suicide_self_harm": ("Ý định tự tử, tự hại", "Suicidal thoughts or self-harm"),
    "reason_emotional_distress": ("Căng thẳng, buồn, lo âu", "Distress, sadness, anxiety"),
    "reason_drugs_overdose": ("Ma túy, quá liều, giảm hại", "Drugs, overdose, harm reduction"),
    "reason_hiv_sti": ("HIV, bệnh lây qua đường tình dục", "HIV, sexually transmitted infections"),
    "reason_sexual_reproductive_health": (
        "Sức khỏe sinh sản, tránh thai, mang thai",
        "Sexual and reproductive health, contraception, pregnancy",
    ),
    "reason_legal_question": ("Pháp lý, bị bắt, bị phạt", "Legal question, arrest, fines"),
    "reason_stigma_discrimination": ("Kỳ thị, phân biệt đối xử", "Stigma, discrimination"),
    "reason_family_relationships": ("Gia đình, các mối quan hệ", "Family, relationships"),
    "reason_work_training": ("Việc làm, học nghề", "Work, vocational training"),
    "reason_money_housing": ("Tiền, nợ, chỗ ở", "Money, debt, housing"),
    "reason_information_only": ("Chỉ hỏi thông tin", "Information only"),
    "programme_health_hiv": ("Sức khỏe, HIV/STI", "Health, HIV/STI"),
    "programme_harm_reduction": ("Giảm hại", "Harm reduction"),
    "programme_gbv": ("Phòng chống bạo lực giới", "Gender-based violence"),
    "programme_legal": ("Tư vấn pháp lý", "Legal counselling"),
    "programme_education_vocational": ("Giáo dục, học nghề", "Education, vocational training"),
    "programme_support_services": ("Hỗ trợ, kết nối dịch vụ", "Support and services"),
    "chi_violence": ("Bạo lực", "Violence"),
    "chi_mental_health": ("Sức khỏe tâm thần", "Mental health"),
    "chi_physical_health": ("Sức khỏe thể chất", "Physical health"),
    "chi_accessibility": ("Tiếp cận dịch vụ", "Accessibility"),
    "chi_discrimination_exclusion": ("Phân biệt đối xử, loại trừ", "Discrimination and exclusion"),
    "chi_family_relationships": ("Quan hệ gia đình", "Family relationships"),
    "chi_peer_relationships": ("Quan hệ bạn bè", "Peer relationships"),
    "chi_education_occupation": ("Học tập, nghề nghiệp", "Education and occupation"),
    "chi_sexuality": ("Tình dục", "Sexuality"),
    "chi_non_counselling": ("Không cần tư vấn", "Non-counselling contacts"),
    "end_risk_none": ("Không có", "None"),
    "end_risk_low": ("Thấp", "Low"),
    "end_risk_medium": ("Trung bình", "Medium"),
    "end_risk_high": ("Cao", "High"),
}


class FormError(ValueError):
    """The form has a value that is not one of its codes; nothing is written."""


@dataclass(frozen=True)
class CloseForm:
    """What the counsellor chose: reasons (1 to 5), the risk at the end, referrals made (directory ids),
    and whether the person wants a follow-up."""

    reasons: tuple[str, ...]
    risk: str
    referrals: tuple[str, ...] = ()
    follow_up: bool = False

    def check(self, directory_ids: set[str]) -> None:
        if not self.reasons:
            raise FormError("choose at least one reason for contact")
        if len(self.reasons) > MAX_REASONS or len(set(self.reasons)) != len(self.reasons):
            raise FormError(f"choose at most {MAX_REASONS} different reasons")
        unknown = [r for r in self.reasons if r not in BY_CODE]
        if unknown:
            raise FormError(f"unknown reason {unknown[0]!r}: one of {', '.join(REASON_CODES)}")
        if self.risk not in END_RISKS:
            raise FormError(f"the risk at the end must be one of: {', '.join(END_RISKS)}")
        if len(self.referrals) > MAX_REFERRALS or len(set(self.referrals)) != len(self.referrals):
            raise FormError(f"at most {MAX_REFERRALS} different referrals")
        unknown = [r for r in self.referrals if r not in directory_ids]
        if unknown:
            raise FormError(f"{unknown[0]!r} is not in the referral directory (knowledge/directory.yaml)")
