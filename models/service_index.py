"""The wall's reading of Decision 766/QĐ-TTg's public-service index, as data.

The Government Office scores a province out of 100 in five groups: transparency 18,
progress 20, digitisation 22, online services 22, satisfaction 18. Its per-indicator
scoring (the decision's appendix) is not at hand, so the wall uses a stated mapping: each
group scores ``weight × mean(value ÷ 100)`` over the catalogue rates listed for it, each
rate capped at 100 %. It is an approximation for watching the trend, not the official
score, and the wall prints this mapping beside it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ScoreGroup(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name_vi: str
    name_en: str
    weight: float = Field(gt=0, description="Points of the group out of 100.")
    indicators: tuple[str, ...] = Field(description="Catalogue rates (%) averaged for it.")


class ServiceIndex(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name_vi: str
    name_en: str
    source: str
    method_vi: str
    method_en: str
    groups: tuple[ScoreGroup, ...]


DECISION_766 = ServiceIndex(
    code="ps.decision_766",
    name_vi="Chỉ số phục vụ người dân, doanh nghiệp (QĐ 766)",
    name_en="Service index for citizens and businesses (Decision 766)",
    source="Decision 766/QĐ-TTg (2022): five groups, 100 points",
    method_vi=(
        "Điểm mỗi nhóm = trọng số × trung bình các tỷ lệ (%) liệt kê ÷ 100, mỗi tỷ lệ tối đa "
        "100 %. Ước tính từ dữ liệu luồng, không phải điểm chính thức."
    ),
    method_en=(
        "Each group scores weight × the mean of its listed rates (%) ÷ 100, each rate capped "
        "at 100 %. An estimate from the streams, not the official score."
    ),
    groups=(
        ScoreGroup(
            code="transparency",
            name_vi="Công khai, minh bạch",
            name_en="Transparency",
            weight=18,
            indicators=("ps.synced_rate",),
        ),
        ScoreGroup(
            code="progress",
            name_vi="Tiến độ giải quyết",
            name_en="Progress",
            weight=20,
            indicators=("ps.on_time_rate", "citizen.on_time_rate"),
        ),
        ScoreGroup(
            code="digitisation",
            name_vi="Số hóa hồ sơ",
            name_en="Digitisation",
            weight=22,
            indicators=("ps.digitised_rate", "ps.e_result_rate", "ps.data_reuse_rate"),
        ),
        ScoreGroup(
            code="online_services",
            name_vi="Cung cấp dịch vụ trực tuyến",
            name_en="Online services",
            weight=22,
            indicators=(
                "ps.online_services_share",
                "ps.online_submission_rate",
                "ps.online_payment_rate",
            ),
        ),
        ScoreGroup(
            code="satisfaction",
            name_vi="Mức độ hài lòng",
            name_en="Satisfaction",
            weight=18,
            indicators=("ps.satisfaction_rate", "citizen.satisfaction_rate"),
        ),
    ),
)
