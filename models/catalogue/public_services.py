"""Public-service indicators: the Decision 766/QĐ-TTg service-quality index, as officially
defined (numerators and denominators from ../shared/INDICATORS.md)."""

from __future__ import annotations

from models.catalogue.metrics import D766, QN_PLAN, dos, minus, pct
from models.indicators import Indicator, Metric, Target

_RECEIVED = dos("dossiers", "received")
_COMPLETED = dos("dossiers", "completed")
_DOSSIER_STATE = "public_service_dossier"
_OPEN_AT_END = Metric(kind="open_at_end", rollup=_DOSSIER_STATE)
_OVERDUE_AT_END = Metric(kind="open_overdue_at_end", rollup=_DOSSIER_STATE)
_DONE_IN_PERIOD = Metric(kind="completed_in_period", rollup=_DOSSIER_STATE)
"""Dossiers (one each, from their state) completed in the period: the population the
punctuality and satisfaction numerators are drawn from, bucket by bucket."""
_KNOWN_DONE = (
    "A dossier is done from its completion or, when only its rating is known (the "
    "completion step lost, or before the data begins), from its rating: a rating implies "
    "completion. Such a dossier counts as open until its rating and never as completed "
    "on time or late, since when it was completed is unknown."
)

PUBLIC_SERVICES: tuple[Indicator, ...] = (
    Indicator(
        code="ps.dossiers_received",
        name_vi="Số hồ sơ TTHC tiếp nhận",
        name_en="Dossiers received",
        sector="public_service",
        unit="dossiers",
        numerator=_RECEIVED,
        additive=True,
    ),
    Indicator(
        code="ps.on_time_rate",
        name_vi="Tỷ lệ hồ sơ xử lý trước hạn, đúng hạn",
        name_en="Dossiers processed on time",
        sector="public_service",
        unit="%",
        description=f"{D766}: dossiers completed by the promised date in the period, plus "
        "those still open and not yet past it at its end (working days; the citizen's "
        "supplement time not counted) ÷ dossiers processed (completed in the period + still "
        f"open at its end). {_KNOWN_DONE}",
        numerator=_DONE_IN_PERIOD.model_copy(
            update={"filters": {"on_time": True}, "plus": (_OPEN_AT_END, minus(_OVERDUE_AT_END))}
        ),
        denominator=_DONE_IN_PERIOD.model_copy(update={"plus": (_OPEN_AT_END,)}),
        factor=100,
        higher_is_better=True,
        targets=(pct(90, 95, 2025, f"{D766}: progress group"),),
    ),
    Indicator(
        code="ps.overdue_rate",
        name_vi="Tỷ lệ hồ sơ trễ hạn",
        name_en="Dossiers overdue",
        sector="public_service",
        unit="%",
        description=f"{D766}: (completed late in the period + still open and overdue at its "
        "end) ÷ (received in the period + carried over open from before it), each dossier "
        f"once, from its state. {_KNOWN_DONE}",
        numerator=_DONE_IN_PERIOD.model_copy(
            update={"filters": {"on_time": False}, "plus": (_OVERDUE_AT_END,)}
        ),
        denominator=Metric(
            kind="received_in_period",
            rollup=_DOSSIER_STATE,
            plus=(Metric(kind="open_at_start", rollup=_DOSSIER_STATE),),
        ),
        factor=100,
        higher_is_better=False,
        targets=(Target(year=2025, value=5, amber_at=10, source=f"{D766}: progress group"),),
    ),
    Indicator(
        code="ps.avg_processing_days",
        name_vi="Thời gian giải quyết trung bình",
        name_en="Mean processing time",
        sector="public_service",
        unit="working days",
        description=f"{D766}: total processing time in working days (weekends, holidays and "
        "Tết not counted; the citizen's supplement time deducted) ÷ dossiers completed "
        "(each once, in the period of its completion).",
        numerator=Metric(kind="working_days_to_done", rollup=_DOSSIER_STATE),
        denominator=_DONE_IN_PERIOD,
        higher_is_better=False,
    ),
    Indicator(
        code="ps.synced_rate",
        name_vi="Tỷ lệ hồ sơ đồng bộ lên Cổng DVCQG",
        name_en="Dossiers synced to the national portal",
        sector="public_service",
        unit="%",
        numerator=dos("synced", "received"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(pct(90, 100, 2025, f"{QN_PLAN}: 100% of transactions on the portals"),),
    ),
    Indicator(
        code="ps.online_services_share",
        name_vi="Tỷ lệ hồ sơ thuộc TTHC cung cấp DVCTT",
        name_en="Dossiers of procedures offered online",
        sector="public_service",
        unit="%",
        description="Dossiers of partly or fully online procedures ÷ dossiers received (the "
        "procedures offered online, weighted by use).",
        numerator=dos("dossiers", "received", online_level=("partial", "full")),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(pct(41, 80, 2025, f"{QN_PLAN}: 80% of eligible procedures online (41% in 2021)"),),
    ),
    Indicator(
        code="ps.online_submission_rate",
        name_vi="Tỷ lệ hồ sơ nộp trực tuyến",
        name_en="Dossiers submitted online",
        sector="public_service",
        unit="%",
        description=f"{D766}: dossiers received online ÷ dossiers received.",
        numerator=dos("dossiers", "received", channel="online"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(pct(40, 50, 2025, f"{QN_PLAN}: over 50% of dossiers online"),),
    ),
    Indicator(
        code="ps.online_payment_rate",
        name_vi="Tỷ lệ hồ sơ thanh toán trực tuyến",
        name_en="Fees paid online",
        sector="public_service",
        unit="%",
        description=f"{D766}: dossiers paid online ÷ completed dossiers with a fee.",
        numerator=dos("paid_online", "completed"),
        denominator=dos("with_fee", "completed"),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="ps.e_result_rate",
        name_vi="Tỷ lệ hồ sơ có kết quả điện tử",
        name_en="Electronic results issued",
        sector="public_service",
        unit="%",
        description=f"{D766}: dossiers with an e-result ÷ completed dossiers whose procedure "
        "issues a result.",
        numerator=dos("e_result", "completed"),
        denominator=dos("issues_result", "completed"),
        factor=100,
        higher_is_better=True,
    ),
    Indicator(
        code="ps.digitised_rate",
        name_vi="Tỷ lệ hồ sơ thực hiện số hóa",
        name_en="Digitised dossiers",
        sector="public_service",
        unit="%",
        description=f"{D766}: dossiers with digitised inputs and an e-result ÷ dossiers completed.",
        numerator=dos("digitised_with_e_result", "completed"),
        denominator=_COMPLETED,
        factor=100,
        higher_is_better=True,
        targets=(pct(60, 80, 2025, f"{D766}: full points at 80%"),),
    ),
    Indicator(
        code="ps.data_reuse_rate",
        name_vi="Tỷ lệ tái sử dụng dữ liệu số hóa",
        name_en="Reuse of digitised data",
        sector="public_service",
        unit="%",
        numerator=dos("reused_digitised_data", "received"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(pct(60, 80, 2025, f"{D766}: full points at 80%"),),
    ),
    Indicator(
        code="ps.vneid_rate",
        name_vi="Tỷ lệ hồ sơ dùng CSDL dân cư / VNeID",
        name_en="Dossiers using VNeID or the population database",
        sector="public_service",
        unit="%",
        numerator=dos("vneid_authenticated", "received"),
        denominator=_RECEIVED,
        factor=100,
        higher_is_better=True,
        targets=(pct(30, 40, 2025, f"{QN_PLAN}: 40% of citizens with electronic ID"),),
    ),
    Indicator(
        code="ps.satisfaction_rate",
        name_vi="Tỷ lệ hài lòng tiếp nhận, giải quyết TTHC",
        name_en="Satisfaction with dossier handling",
        sector="public_service",
        unit="%",
        description=f"{D766}: 100% − share of the dossiers completed in the period that were "
        "late − share of the same dossiers rated 'dislike' or with a complaint (each dossier "
        "counted once, its rating with the period of its completion, whenever it arrives): "
        "dossiers completed on time and neither disliked nor complained of ÷ dossiers "
        "completed.",
        numerator=_DONE_IN_PERIOD.model_copy(
            update={
                "filters": {"on_time": True},
                "unless": {"rating": "dislike", "complaint": True},
            }
        ),
        denominator=_DONE_IN_PERIOD,
        factor=100,
        higher_is_better=True,
        targets=(pct(80, 90, 2025, f"{D766}: full points at 90%"),),
    ),
)
