"""The report's words in Vietnamese and English, and a "codes" vocabulary for machine-read outputs.

Tables, spreadsheets, the chart and the console speak the reader's language; CSV and JSON keep the
stable codes (``hiv_sti``, ``not_taken``...) so that other tools can read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.registry import channel_labels
from bot.stats.report import Value
from bot.store.closeform import FORM_LABELS

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "report": "Hotline statistics",
        "summary": "Summary",
        "channel_by_month": "Contacts by month and channel",
        "by_channel": "Contacts by channel and month",
        "topic_by_month": "Contacts by topic and month (one contact may have several topics)",
        "by_topic": "Contacts by topic (one contact may have several topics)",
        "by_province": "Contacts by province (only where the person chose to tell)",
        "escalations": "Requests for a person: taken by a counsellor or not",
        "waits": "Time to a counsellor, from the request to the take (min:s)",
        "by_outcome": "Escalations by outcome",
        "calls": "Calls to the phone line",
        "referrals": "Referrals: contacts shown a kind of service (one contact may be shown several)",
        "helpfulness": "Was the answer helpful?",
        "checkins": "Safety check-ins (counted in the contact in which they were set)",
        "checkin": "Check-ins",
        "checkin_set": "Set",
        "checkin_answered": "Answered (I am OK)",
        "checkin_escalated": "Ended in an emergency",
        "alerts": "Bad-client alerts (reports, moderation, alerts sent, numbers checked)",
        "alert": "Alerts",
        "alert_reports": "Reports sent to moderation",
        "alert_approved": "Approved",
        "alert_rejected": "Rejected",
        "alert_alerts_sent": "Alerts sent",
        "alert_lookups": "Numbers checked",
        "alert_matches": "Numbers that matched a report",
        "legend": "Legend",
        "figure": "Figure",
        "value": "Value",
        "month": "Month",
        "channel": "Channel",
        "topic": "Topic",
        "province": "Province",
        "kind": "Kind",
        "outcome": "Outcome",
        "service": "Service",
        "answer": "Answer",
        "count": "Contacts",
        "total": "Total",
        "contacts": "Contacts",
        "unique_users": "Unique users (per channel)",
        "median": "Median",
        "p90": "90th percentile",
        "median_duration_seconds": "Median duration (min:s)",
        "abandoned": "Abandoned calls",
        "calls_count": "Calls",
        "hiv_sti": "Health, HIV/STI",
        "harm_reduction": "Harm reduction",
        "legal": "Legal",
        "violence": "Violence",
        "support": "Support",
        "not_told": "Not told",
        "emergency": "Emergency",
        "counsellor": "Wants a counsellor",
        "callback": "Call-back request",
        "taken": "Taken",
        "not_taken": "Nobody took it",
        "outcome_safe": "Safe",
        "outcome_police": "Referred to police",
        "outcome_health": "Referred to health",
        "outcome_shelter": "Referred to shelter",
        "outcome_no_contact": "No contact",
        "outcome_other": "Other",
        "outcome_not_closed": "Not closed",
        "service_emergency": "Emergency services",
        "service_hotline": "Hotlines",
        "service_hiv_testing": "HIV testing",
        "service_prep": "PrEP",
        "service_methadone": "Methadone",
        "service_sti_clinic": "STI clinic",
        "service_legal_aid": "Legal aid",
        "service_shelter": "Shelter",
        "service_peer_group": "Peer group",
        "yes": "Yes",
        "no": "No",
        "no_answer": "No answer",
        "chart_months": "Contacts by month",
        "chart_topics": "Contacts by topic and month",
        "chart_waits": "Time to a counsellor (minutes)",
        "chart_hidden": "not shown: fewer than {k}, or hidden to protect one",
        "from": "From",
        "to": "To",
        "show": "Show",
        "download": "Download",
        "chart": "Chart",
        "legend_primary": "fewer than {k}: not shown, so that nobody can be singled out",
        "legend_hidden": "{k} or more, not shown so that a count under {k} cannot be worked out from the totals",
        "legend_too_few": "computed from fewer than {k} cases: not shown",
        "legend_not_shown": "a table with too few contacts to show any of it safely",
    },
    "vi": {
        "report": "Thống kê đường dây hỗ trợ",
        "summary": "Tóm tắt",
        "channel_by_month": "Lượt liên hệ theo tháng và kênh",
        "by_channel": "Lượt liên hệ theo kênh và tháng",
        "topic_by_month": "Lượt liên hệ theo chủ đề và tháng (một lượt có thể có nhiều chủ đề)",
        "by_topic": "Lượt liên hệ theo chủ đề (một lượt có thể có nhiều chủ đề)",
        "by_province": "Lượt liên hệ theo tỉnh/thành (chỉ khi người dùng tự cho biết)",
        "escalations": "Yêu cầu gặp người thật: có tư vấn viên nhận hay không",
        "waits": "Thời gian đến khi có tư vấn viên nhận, tính từ lúc yêu cầu (phút:giây)",
        "by_outcome": "Kết quả xử lý",
        "calls": "Cuộc gọi đến đường dây",
        "referrals": "Giới thiệu dịch vụ: số lượt được giới thiệu từng loại (một lượt có thể nhiều loại)",
        "helpfulness": "Thông tin có giúp ích không?",
        "checkins": "Hẹn giờ an toàn (tính vào lượt liên hệ lúc đặt)",
        "checkin": "Hẹn giờ",
        "checkin_set": "Đã đặt",
        "checkin_answered": "Đã trả lời (Tôi ổn)",
        "checkin_escalated": "Thành ca khẩn cấp",
        "alerts": "Cảnh báo khách xấu (báo cáo, kiểm duyệt, cảnh báo đã gửi, số đã kiểm tra)",
        "alert": "Cảnh báo",
        "alert_reports": "Báo cáo gửi kiểm duyệt",
        "alert_approved": "Đã duyệt",
        "alert_rejected": "Đã từ chối",
        "alert_alerts_sent": "Cảnh báo đã gửi",
        "alert_lookups": "Số đã kiểm tra",
        "alert_matches": "Số trùng với báo cáo",
        "legend": "Chú thích",
        "figure": "Chỉ số",
        "value": "Giá trị",
        "month": "Tháng",
        "channel": "Kênh",
        "topic": "Chủ đề",
        "province": "Tỉnh/thành",
        "kind": "Loại",
        "outcome": "Kết quả",
        "service": "Dịch vụ",
        "answer": "Trả lời",
        "count": "Lượt liên hệ",
        "total": "Tổng",
        "contacts": "Lượt liên hệ",
        "unique_users": "Người dùng (theo từng kênh)",
        "median": "Trung vị",
        "p90": "Phân vị 90",
        "median_duration_seconds": "Thời lượng trung vị (phút:giây)",
        "abandoned": "Cuộc gọi bỏ dở",
        "calls_count": "Cuộc gọi",
        "hiv_sti": "Sức khỏe, HIV/STI",
        "harm_reduction": "Giảm hại",
        "legal": "Pháp lý",
        "violence": "Bạo lực",
        "support": "Hỗ trợ khác",
        "not_told": "Không cho biết",
        "emergency": "Khẩn cấp",
        "counsellor": "Muốn gặp tư vấn viên",
        "callback": "Xin gọi lại",
        "taken": "Đã có người nhận",
        "not_taken": "Không ai nhận",
        "outcome_safe": "An toàn",
        "outcome_police": "Chuyển công an",
        "outcome_health": "Chuyển y tế",
        "outcome_shelter": "Chuyển nơi tạm lánh",
        "outcome_no_contact": "Không liên lạc được",
        "outcome_other": "Khác",
        "outcome_not_closed": "Chưa kết thúc",
        "service_emergency": "Cấp cứu",
        "service_hotline": "Đường dây nóng",
        "service_hiv_testing": "Xét nghiệm HIV",
        "service_prep": "PrEP",
        "service_methadone": "Methadone",
        "service_sti_clinic": "Khám bệnh tình dục",
        "service_legal_aid": "Trợ giúp pháp lý",
        "service_shelter": "Nơi tạm lánh",
        "service_peer_group": "Nhóm đồng đẳng",
        "yes": "Có",
        "no": "Không",
        "no_answer": "Không trả lời",
        "chart_months": "Lượt liên hệ theo tháng",
        "chart_topics": "Lượt liên hệ theo chủ đề và tháng",
        "chart_waits": "Thời gian đến khi có tư vấn viên nhận (phút)",
        "chart_hidden": "không hiển thị: dưới {k}, hoặc ẩn để bảo vệ số nhỏ",
        "from": "Từ ngày",
        "to": "Đến ngày",
        "show": "Xem",
        "download": "Tải xuống",
        "chart": "Biểu đồ",
        "legend_primary": "dưới {k}: không hiển thị, để không ai bị nhận ra",
        "legend_hidden": "từ {k} trở lên, ẩn để không thể tính ngược ra một số dưới {k} từ các tổng",
        "legend_too_few": "tính từ dưới {k} trường hợp: không hiển thị",
        "legend_not_shown": "bảng có quá ít lượt liên hệ để hiển thị an toàn",
    },
}

WORDS["en"].update(
    {
        "close_reasons": "Close form: reasons for contact (cases with a form; one case may have several)",
        "close_programme": "Close form: the programme's report categories (one case may have several)",
        "close_chi": "Close form: Child Helpline International categories (one case may have several)",
        "close_risk": "Close form: risk at the end of the contact",
        "close_referrals": "Close form: referrals made, by directory entry (one case may have several)",
        "close_follow_up": "Close form: follow-up wanted",
        "reason": "Reason for contact",
        "programme_category": "Programme category",
        "chi_category": "CHI category",
        "end_risk": "Risk at the end",
        "follow_up": "Follow-up wanted",
        "cases": "Cases",
    }
)
WORDS["vi"].update(
    {
        "close_reasons": "Phiếu kết thúc ca: lý do liên hệ (ca có phiếu; một ca có thể nhiều lý do)",
        "close_programme": "Phiếu kết thúc ca: nhóm báo cáo của chương trình (một ca có thể nhiều nhóm)",
        "close_chi": "Phiếu kết thúc ca: nhóm theo Child Helpline International (một ca có thể nhiều nhóm)",
        "close_risk": "Phiếu kết thúc ca: mức nguy cơ khi kết thúc",
        "close_referrals": "Phiếu kết thúc ca: đã giới thiệu đến, theo mục danh bạ (một ca có thể nhiều nơi)",
        "close_follow_up": "Phiếu kết thúc ca: muốn được liên hệ lại",
        "reason": "Lý do liên hệ",
        "programme_category": "Nhóm của chương trình",
        "chi_category": "Nhóm CHI",
        "end_risk": "Nguy cơ khi kết thúc",
        "follow_up": "Muốn liên hệ lại",
        "cases": "Số ca",
    }
)
for _code, (_vi, _en) in FORM_LABELS.items():
    WORDS["vi"][_code], WORDS["en"][_code] = _vi, _en

# Each channel's name, as its registry line declares it (bot/channels/registry.py).
for _name, (_vi, _en) in channel_labels().items():
    WORDS["vi"][_name], WORDS["en"][_name] = _vi, _en


@dataclass(frozen=True)
class Words:
    """How a rendering names things: ``locale`` ``vi`` or ``en``, or ``codes`` for machine outputs."""

    locale: str = "vi"
    codes: bool = False

    def __call__(self, code: str, prefix: str = "") -> str:
        """The label of a code, looked up as ``prefix_code`` then ``code`` (a province stays as it is)."""
        if self.codes:
            return code
        words = WORDS["en" if self.locale == "en" else "vi"]
        return words.get(f"{prefix}_{code}") or words.get(code, code)

    def duration(self, value: Value) -> Value:
        """Seconds as ``m:ss`` (or ``h:mm:ss``) for people; seconds as they are for machines."""
        if self.codes or isinstance(value, str):
            return value
        minutes, seconds = divmod(value, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


CODES = Words(codes=True)
