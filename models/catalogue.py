"""The indicator catalogue, as data: adding an indicator is adding an entry here.

Definitions follow ../shared/INDICATORS.md (Decision 766/QĐ-TTg for public services) and
the targets the seed articles state (Quảng Nam's digital-government plan 2021–2025 and
Resolution 04 on digital transformation). Rates are shown with two decimals; a rate whose
denominator is 0 is N/A (null), never 0.
"""

from __future__ import annotations

from models.indicators import Indicator, Metric, Target

QN_PLAN = "Quảng Nam digital-government plan 2021–2025 (seed 000)"
QN_RES04 = "Quảng Nam Resolution 04/NQ-TU on digital transformation (seed 002)"
D766 = "Decision 766/QĐ-TTg service-quality index"


def _sum(rollup: str, measure: str, **filters: str | bool | tuple[str, ...]) -> Metric:
    return Metric(rollup=rollup, measure=measure, filters=filters)


def _enc(measure: str = "encounters", **f: str | bool | tuple[str, ...]) -> Metric:
    return _sum("health_encounter_hourly", measure, **f)


def _claim(measure: str = "claims") -> Metric:
    return _sum("health_claim_hourly", measure)


def _att(measure: str) -> Metric:
    return _sum("education_attendance_hourly", measure)


def _arr(measure: str = "visitors_sum", **f: str | bool | tuple[str, ...]) -> Metric:
    return _sum("tourism_arrival_hourly", measure, **f)


def _fb(measure: str = "feedback") -> Metric:
    return _sum("tourism_feedback_hourly", measure)


def _dos(measure: str, stage: str, **f: str | bool | tuple[str, ...]) -> Metric:
    """A dossier transition count: roll-up rows are per lifecycle step (``stage``)."""
    return _sum("public_service_dossier_hourly", measure, stage=stage, **f)


def _rep(measure: str, stage: str, **f: str | bool | tuple[str, ...]) -> Metric:
    return _sum("citizen_report_hourly", measure, stage=stage, **f)


def _minus(metric: Metric) -> Metric:
    return metric.model_copy(update={"weight": -1.0})


def _pct(low: float, high: float, year: int, source: str, **kw: object) -> Target:
    """A "reach ``high`` %" target, amber from ``low`` %."""
    return Target(year=year, value=high, amber_at=low, source=source, **kw)


PER_10K = Metric(kind="population")

HEALTH: tuple[Indicator, ...] = (
    Indicator(
        code="health.encounters",
        name_vi="Số lượt khám chữa bệnh",
        name_en="Health encounters",
        sector="health",
        unit="encounters",
        description="Encounters reported by hospital information systems (HIS).",
        numerator=_enc(),
        additive=True,
        suppress_small_counts=True,
    ),
    Indicator(
        code="health.encounters_per_10k",
        name_vi="Lượt khám trên 10.000 dân",
        name_en="Encounters per 10,000 population",
        sector="health",
        unit="per 10,000",
        description="Encounters ÷ population × 10,000.",
        numerator=_enc(),
        denominator=PER_10K,
        factor=10_000,
        suppress_small_counts=True,
    ),
    Indicator(
        code="health.emergency_share",
        name_vi="Tỷ lệ lượt cấp cứu",
        name_en="Share of encounters that are emergencies",
        sector="health",
        unit="%",
        description="Emergency encounters ÷ all encounters.",
        numerator=_enc(encounter_class="emergency"),
        denominator=_enc(),
        factor=100,
        suppress_small_counts=True,
    ),
    Indicator(
        code="health.insured_share",
        name_vi="Tỷ lệ lượt khám có thẻ BHYT",
        name_en="Share of encounters covered by health insurance",
        sector="health",
        unit="%",
        description="Encounters with BHYT cover ÷ all encounters.",
        numerator=_enc(insured=True),
        denominator=_enc(),
        factor=100,
        higher_is_better=True,
        suppress_small_counts=True,
        targets=(_pct(90, 95, 2025, "Resolution 20-NQ/TW: BHYT coverage over 95% by 2025"),),
    ),
    Indicator(
        code="health.avg_wait_minutes",
        name_vi="Thời gian chờ khám trung bình",
        name_en="Average wait before examination",
        sector="health",
        unit="minutes",
        description="Sum of waits ÷ encounters.",
        numerator=_enc("wait_minutes_sum"),
        denominator=_enc(),
        higher_is_better=False,
        suppress_small_counts=True,
        targets=(
            Target(
                year=2025,
                value=30,
                amber_at=60,
                source="Ministry of Health Decision 1313/QĐ-BYT (waiting-time reduction)",
            ),
        ),
    ),
    Indicator(
        code="health.bed_occupancy",
        name_vi="Công suất sử dụng giường bệnh",
        name_en="Bed occupancy",
        sector="health",
        unit="%",
        description="Occupied beds ÷ beds, summed over census readings (a gauge).",
        numerator=_sum("health_bed_census_hourly", "beds_occupied_sum"),
        denominator=_sum("health_bed_census_hourly", "beds_total_sum"),
        factor=100,
        higher_is_better=False,
        targets=(
            Target(
                year=2025,
                value=90,
                amber_at=100,
                source="Ministry of Health: occupancy above 90% means overload",
            ),
        ),
    ),
    Indicator(
        code="health.claims_everified_share",
        name_vi="Tỷ lệ hồ sơ BHYT gửi giám định điện tử",
        name_en="Insurance claims sent for e-verification",
        sector="health",
        unit="%",
        description="Claims sent to the e-verification portal ÷ claims.",
        numerator=_claim("everified"),
        denominator=_claim(),
        factor=100,
        higher_is_better=True,
        targets=(
            _pct(95, 100, 2021, "seed 002: 100% of BHYT clinics connected to e-verification"),
        ),
    ),
    Indicator(
        code="health.chip_id_lookup_share",
        name_vi="Tỷ lệ lượt tra cứu BHYT bằng CCCD gắn chip",
        name_en="Claims looked up with the chip-based ID",
        sector="health",
        unit="%",
        description="Claims with a chip-ID (CCCD) look-up ÷ claims.",
        numerator=_claim("chip_id_lookups"),
        denominator=_claim(),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="health.chip_id_lookup_success",
        name_vi="Tỷ lệ tra cứu CCCD thành công",
        name_en="Chip-ID look-up success rate",
        sector="health",
        unit="%",
        description="Successful chip-ID look-ups ÷ look-ups (61.3% nationally).",
        numerator=_claim("chip_id_lookups_ok"),
        denominator=_claim("chip_id_lookups"),
        factor=100,
        higher_is_better=True,
    ),
)

EDUCATION: tuple[Indicator, ...] = (
    Indicator(
        code="education.attendance_rate",
        name_vi="Tỷ lệ học sinh đi học",
        name_en="Pupil attendance rate",
        sector="education",
        unit="%",
        description="Pupils present ÷ pupils enrolled, over the daily attendance reports.",
        numerator=_att("present_sum"),
        denominator=_att("enrolled_sum"),
        factor=100,
        higher_is_better=True,
        buckets=("day", "week", "month", "quarter", "year"),
        targets=(_pct(92, 97, 2025, "Quảng Nam education department: attendance above 97%"),),
    ),
    Indicator(
        code="education.pupils_present",
        name_vi="Số lượt học sinh có mặt",
        name_en="Pupils present (pupil-days)",
        sector="education",
        unit="pupil-days",
        numerator=_att("present_sum"),
        additive=True,
        buckets=("day", "week", "month", "quarter", "year"),
    ),
    Indicator(
        code="education.reports_on_time",
        name_vi="Tỷ lệ báo cáo định kỳ đúng hạn",
        name_en="School reports sent on time",
        sector="education",
        unit="%",
        description="Periodic school reports sent by the due day ÷ reports received.",
        numerator=_sum("education_report_hourly", "reports_on_time"),
        denominator=_sum("education_report_hourly", "reports"),
        factor=100,
        higher_is_better=True,
        buckets=("week", "month", "quarter", "year"),
        targets=(_pct(90, 100, 2025, f"{QN_RES04}: 100% of periodic reports connected"),),
    ),
    Indicator(
        code="education.pupils_per_teacher",
        name_vi="Số học sinh trên một giáo viên",
        name_en="Pupils per teacher",
        sector="education",
        unit="pupils",
        description="Pupils ÷ teachers, over the periodic school reports.",
        numerator=_sum("education_report_hourly", "pupils_sum"),
        denominator=_sum("education_report_hourly", "teachers_sum"),
        buckets=("month", "quarter", "year"),
    ),
)

TOURISM: tuple[Indicator, ...] = (
    Indicator(
        code="tourism.visitors",
        name_vi="Lượt khách du lịch",
        name_en="Visitors served",
        sector="tourism",
        unit="visitors",
        description="Visitors at sites and lodgings (ticket scans and check-ins).",
        numerator=_arr(),
        additive=True,
    ),
    Indicator(
        code="tourism.international_share",
        name_vi="Tỷ lệ khách quốc tế",
        name_en="Share of international visitors",
        sector="tourism",
        unit="%",
        numerator=_arr(international=True),
        denominator=_arr(),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="tourism.guest_nights",
        name_vi="Số ngày khách lưu trú",
        name_en="Guest-nights booked",
        sector="tourism",
        unit="guest-nights",
        description="Visitors × nights at lodging check-ins.",
        numerator=_arr("guest_nights_sum", kind="lodging_checkin"),
        additive=True,
    ),
    Indicator(
        code="tourism.positive_feedback_share",
        name_vi="Tỷ lệ phản hồi tích cực",
        name_en="Positive visitor feedback",
        sector="tourism",
        unit="%",
        description="Feedback with a positive sentiment score ÷ feedback.",
        numerator=_fb("positive"),
        denominator=_fb(),
        factor=100,
        higher_is_better=True,
        targets=(_pct(70, 80, 2025, "Quảng Nam smart-tourism pilot (seed 002)"),),
    ),
    Indicator(
        code="tourism.mean_sentiment",
        name_vi="Điểm cảm xúc trung bình",
        name_en="Mean feedback sentiment (−1 … +1)",
        sector="tourism",
        unit="score",
        numerator=_fb("sentiment_sum"),
        denominator=_fb(),
        higher_is_better=True,
    ),
)

_RECEIVED = _dos("dossiers", "received")
_COMPLETED = _dos("dossiers", "completed")
_DOSSIER_STATE = "public_service_dossier"

PUBLIC_SERVICES: tuple[Indicator, ...] = (
    Indicator(
        code="ps.dossiers_received",
        name_vi="Số hồ sơ TTHC tiếp nhận",
        name_en="Dossiers received",
        sector="public_services",
        unit="dossiers",
        numerator=_RECEIVED,
        additive=True,
    ),
    Indicator(
        code="ps.on_time_rate",
        name_vi="Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
        name_en="Dossiers processed on time",
        sector="public_services",
        unit="%",
        description=f"{D766}: dossiers completed by the promised date (working days; the "
        "citizen's supplement time not counted) ÷ dossiers completed in the period.",
        numerator=_dos("on_time", "completed"),
        denominator=_COMPLETED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(90, 95, 2025, f"{D766}: progress group"),),
    ),
    Indicator(
        code="ps.overdue_rate",
        name_vi="Tỷ lệ hồ sơ trễ hạn",
        name_en="Dossiers overdue",
        sector="public_services",
        unit="%",
        description=f"{D766}: (completed late in the period + still open and overdue at its "
        "end) ÷ (received in the period + carried over open from before it).",
        numerator=_dos("late", "completed").model_copy(
            update={"plus": (Metric(kind="open_overdue_at_end", rollup=_DOSSIER_STATE),)}
        ),
        denominator=_RECEIVED.model_copy(
            update={"plus": (Metric(kind="open_at_start", rollup=_DOSSIER_STATE),)}
        ),
        factor=100,
        higher_is_better=False,
        targets=(Target(year=2025, value=5, amber_at=10, source=f"{D766}: progress group"),),
    ),
    Indicator(
        code="ps.avg_processing_days",
        name_vi="Thời gian giải quyết trung bình",
        name_en="Mean processing time",
        sector="public_services",
        unit="days",
        description=f"{D766}: total processing time (supplement time deducted) ÷ dossiers "
        "completed.",
        numerator=_dos("elapsed_days_sum", "completed").model_copy(
            update={"plus": (_minus(_dos("supplement_days_sum", "supplement_received")),)}
        ),
        denominator=_COMPLETED,
        higher_is_better=False,
    ),
    Indicator(
        code="ps.synced_rate",
        name_vi="Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG",
        name_en="Dossiers synced to the national portal",
        sector="public_services",
        unit="%",
        numerator=_dos("synced", "received"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(90, 100, 2025, f"{QN_PLAN}: 100% of transactions on the portals"),),
    ),
    Indicator(
        code="ps.online_services_share",
        name_vi="Tỷ lệ hồ sơ thuộc TTHC cung cấp DVCTT",
        name_en="Dossiers of procedures offered online",
        sector="public_services",
        unit="%",
        description="Dossiers of partly or fully online procedures ÷ dossiers received (the "
        "procedures offered online, weighted by use).",
        numerator=_dos("dossiers", "received", online_level=("partial", "full")),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(
            _pct(41, 80, 2025, f"{QN_PLAN}: 80% of eligible procedures online (41% in 2021)"),
        ),
    ),
    Indicator(
        code="ps.online_submission_rate",
        name_vi="Tỷ lệ hồ sơ nộp trực tuyến",
        name_en="Dossiers submitted online",
        sector="public_services",
        unit="%",
        description=f"{D766}: dossiers received online ÷ dossiers received.",
        numerator=_dos("dossiers", "received", channel="online"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(40, 50, 2025, f"{QN_PLAN}: over 50% of dossiers online"),),
    ),
    Indicator(
        code="ps.online_payment_rate",
        name_vi="Tỷ lệ hồ sơ thanh toán trực tuyến",
        name_en="Fees paid online",
        sector="public_services",
        unit="%",
        description=f"{D766}: dossiers paid online ÷ completed dossiers with a fee.",
        numerator=_dos("paid_online", "completed"),
        denominator=_dos("with_fee", "completed"),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="ps.e_result_rate",
        name_vi="Tỷ lệ hồ sơ có kết quả điện tử",
        name_en="Electronic results issued",
        sector="public_services",
        unit="%",
        description=f"{D766}: dossiers with an e-result ÷ completed dossiers whose procedure "
        "issues a result.",
        numerator=_dos("e_result", "completed"),
        denominator=_dos("issues_result", "completed"),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="ps.digitised_rate",
        name_vi="Tỷ lệ hồ sơ thực hiện số hóa",
        name_en="Digitised dossiers",
        sector="public_services",
        unit="%",
        description=f"{D766}: dossiers with digitised inputs and an e-result ÷ dossiers completed.",
        numerator=_dos("digitised_with_e_result", "completed"),
        denominator=_COMPLETED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(60, 80, 2025, f"{D766}: full points at 80%"),),
    ),
    Indicator(
        code="ps.data_reuse_rate",
        name_vi="Tỷ lệ tái sử dụng dữ liệu số hóa",
        name_en="Reuse of digitised data",
        sector="public_services",
        unit="%",
        numerator=_dos("reused_digitised_data", "received"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(60, 80, 2025, f"{D766}: full points at 80%"),),
    ),
    Indicator(
        code="ps.vneid_rate",
        name_vi="Tỷ lệ hồ sơ dùng CSDL dân cư / VNeID",
        name_en="Dossiers using VNeID or the population database",
        sector="public_services",
        unit="%",
        numerator=_dos("vneid_authenticated", "received"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(30, 40, 2025, f"{QN_PLAN}: 40% of citizens with electronic ID"),),
    ),
    Indicator(
        code="ps.satisfaction_rate",
        name_vi="Tỷ lệ hài lòng tiếp nhận, giải quyết TTHC",
        name_en="Satisfaction with dossier handling",
        sector="public_services",
        unit="%",
        description=f"{D766}: 100% − share of completed dossiers that were late − share of "
        "ratings that were 'dislike' or came with a complaint (over the period's steps).",
        numerator=_COMPLETED.model_copy(
            update={
                "plus": (
                    _minus(_dos("late", "completed")),
                    _minus(_dos("rated_dislike", "rated")),
                    _minus(_dos("complaints", "rated")),
                )
            }
        ),
        denominator=_COMPLETED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(80, 90, 2025, f"{D766}: full points at 90%"),),
    ),
)

_RESOLVED = _rep("reports", "resolved")

CITIZEN: tuple[Indicator, ...] = (
    Indicator(
        code="citizen.reports",
        name_vi="Số phản ánh, kiến nghị tiếp nhận",
        name_en="Citizen reports received",
        sector="citizen",
        unit="reports",
        description="Reports to the 1022 hotline and the Smart Quảng Nam app.",
        numerator=_rep("reports", "received"),
        additive=True,
    ),
    Indicator(
        code="citizen.on_time_rate",
        name_vi="Tỷ lệ PAKN xử lý đúng hạn",
        name_en="Citizen requests handled on time",
        sector="citizen",
        unit="%",
        description=f"{D766}: resolved within 15 working days ÷ resolved.",
        numerator=_rep("resolved_on_time", "resolved"),
        denominator=_RESOLVED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(80, 90, 2025, "1022 hotline handling-rate goal (90%)"),),
    ),
    Indicator(
        code="citizen.satisfaction_rate",
        name_vi="Tỷ lệ hài lòng xử lý PAKN",
        name_en="Satisfaction with request handling",
        sector="citizen",
        unit="%",
        description=f"{D766}: (resolved − resolved late − rated 'dislike') ÷ resolved.",
        numerator=_RESOLVED.model_copy(
            update={
                "plus": (
                    _minus(_rep("late", "resolved")),
                    _minus(_rep("rated_dislike", "rated")),
                )
            }
        ),
        denominator=_RESOLVED,
        factor=100,
        higher_is_better=True,
        targets=(_pct(85, 92, 2025, "Huế 1022: satisfaction above 92%"),),
    ),
    Indicator(
        code="citizen.avg_handling_hours",
        name_vi="Thời gian xử lý PAKN trung bình",
        name_en="Mean time to handle a request",
        sector="citizen",
        unit="hours",
        numerator=_rep("handling_hours_sum", "resolved"),
        denominator=_RESOLVED,
        higher_is_better=False,
        targets=(
            Target(year=2025, value=5, amber_at=24, source="Bình Dương 1022: at most 5 hours"),
        ),
    ),
    Indicator(
        code="citizen.emergency_share",
        name_vi="Tỷ lệ phản ánh khẩn cấp (113/114/115)",
        name_en="Share of reports forwarded to emergency services",
        sector="citizen",
        unit="%",
        numerator=_rep("reports", "received", category="emergency"),
        denominator=_rep("reports", "received"),
        factor=100,
    ),
)

DATA_QUALITY: tuple[Indicator, ...] = (
    Indicator(
        code="data.completeness",
        name_vi="Tỷ lệ dữ liệu đầy đủ",
        name_en="Data completeness (received ÷ expected)",
        sector="data",
        unit="%",
        description="Events received from the sources located in the unit ÷ events the "
        "source registry expects in their reporting hours ('đủ' of 1709/BKHCN-CĐSQG).",
        numerator=Metric(kind="received_events"),
        denominator=Metric(kind="expected_events"),
        factor=100,
        higher_is_better=True,
        open_data=False,
        targets=(_pct(90, 98, 2025, "Guidance 1709/BKHCN-CĐSQG: data complete and live"),),
    ),
    Indicator(
        code="data.on_time_share",
        name_vi="Tỷ lệ dữ liệu gửi kịp thời",
        name_en="Data delivered on time",
        sector="data",
        unit="%",
        description="Events stored within an hour of happening ÷ events received "
        "('sống' of 1709/BKHCN-CĐSQG).",
        numerator=Metric(kind="on_time_events"),
        denominator=Metric(kind="received_events"),
        factor=100,
        higher_is_better=True,
        open_data=False,
        targets=(_pct(90, 98, 2025, "Guidance 1709/BKHCN-CĐSQG: data complete and live"),),
    ),
)

CATALOGUE: tuple[Indicator, ...] = (
    *HEALTH,
    *EDUCATION,
    *TOURISM,
    *PUBLIC_SERVICES,
    *CITIZEN,
    *DATA_QUALITY,
)
BY_CODE: dict[str, Indicator] = {i.code: i for i in CATALOGUE}
assert len(BY_CODE) == len(CATALOGUE), "duplicate indicator codes"
