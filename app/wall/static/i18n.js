// Every word the wall shows, in Vietnamese (default) and English (?lang=en).
export const lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "vi";
const locale = lang === "en" ? "en-GB" : "vi-VN";

const WORDS = {
  vi: {
    title: "Trung tâm IOC", province: "Toàn tỉnh", live: "trực tuyến", offline: "mất kết nối", loading: "đang tải…",
    other_lang: "English", signin: "Vận hành", signout: "Thoát", signin_prompt: "Khóa API của người vận hành:",
    asof: "Số liệu đến", upto: "đến", w24h: "24 giờ qua", w30d: "30 ngày qua", widened: "24 giờ quá ít", partial: "chưa trọn", complete: "trọn",
    month: "Tháng", prev_month: "Tháng trước", same_last_week: "tuần trước", yesterday: "hôm qua", vs_last_week: "so với cùng kỳ tuần trước",
    few: "ít", no_data: "chưa có số liệu", too_few: "quá ít để kết luận", target: "mục tiêu",
    map: "Bản đồ", map_note: "Ô quanh vị trí trung tâm xã (Voronoi), không phải ranh giới chính thức",
    chart_24h: "24 giờ qua, theo giờ", chart_30d: "30 ngày qua, theo ngày", no_hourly: "chỉ số này không có số liệu theo giờ",
    ranking_districts: "Xếp hạng huyện", ranking_communes: "Xếp hạng xã", more_districts: "huyện khác", more_communes: "xã khác",
    idx_title: "Chỉ số QĐ 766", idx_of: "/100", idx_prev: "trọn tháng", idx_method: "Cách tính chỉ số QĐ 766", idx_cur: "chưa trọn", idx_groups: "nhóm có điểm",
    alerts: "Cảnh báo đang mở", none_open: "không có cảnh báo", ack: "Đã nhận", resolve: "Đã xử lý", acknowledged: "đã nhận",
    critical: "khẩn", warning: "cảnh báo", info: "thông tin", ago_min: "phút trước", ago_h: "giờ trước", ago_d: "ngày trước",
    above: "vượt ngưỡng", below: "dưới ngưỡng", anomaly: "bất thường so với trung vị",
    dq: "Chất lượng dữ liệu", dq_note: "đủ (7 ngày) · nguồn chậm / im lặng", sources: "nguồn", fresh: "đúng hạn", late: "chậm", silent: "im lặng", completeness: "đầy đủ",
    green: "đạt", amber: "gần đạt", red: "chưa đạt", none: "không có mục tiêu", more: "nhiều hơn", less: "ít hơn",
    h2020: "Địa giới 2020 (huyện)", h2025: "Địa giới 2025 (xã)", error: "Không kết nối được API",
    wall_key_only: "Khóa quản trị/vận hành không được đặt trong URL của màn hình; dùng khóa vai trò wall.",
  },
  en: {
    title: "IOC Operations Centre", province: "Whole province", live: "live", offline: "offline", loading: "loading…",
    other_lang: "Tiếng Việt", signin: "Operator", signout: "Sign out", signin_prompt: "Operator API key:",
    asof: "Data as of", upto: "to", w24h: "Last 24 h", w30d: "Last 30 days", widened: "24 h too few", partial: "partial", complete: "complete",
    month: "Month", prev_month: "Last month", same_last_week: "last week", yesterday: "yesterday", vs_last_week: "vs same time last week",
    few: "few", no_data: "no data yet", too_few: "too few to conclude", target: "target",
    map: "Map", map_note: "Cells around commune centres (Voronoi), not official boundaries",
    chart_24h: "Last 24 h, hourly", chart_30d: "Last 30 days, daily", no_hourly: "this indicator has no hourly figures",
    ranking_districts: "District ranking", ranking_communes: "Commune ranking", more_districts: "more districts", more_communes: "more communes",
    idx_title: "Decision 766", idx_of: "/100", idx_prev: "full month", idx_method: "How the Decision 766 index is scored", idx_cur: "partial", idx_groups: "groups scored",
    alerts: "Open alerts", none_open: "no open alerts", ack: "Acknowledge", resolve: "Resolve", acknowledged: "acknowledged",
    critical: "critical", warning: "warning", info: "info", ago_min: "min ago", ago_h: "h ago", ago_d: "days ago",
    above: "above threshold", below: "below threshold", anomaly: "anomalous against median",
    dq: "Data quality", dq_note: "complete (7 d) · sources late / silent", sources: "sources", fresh: "fresh", late: "late", silent: "silent", completeness: "complete",
    green: "on target", amber: "near target", red: "off target", none: "no target", more: "more", less: "less",
    h2020: "2020 units (districts)", h2025: "2025 units (communes)", error: "API unreachable",
    wall_key_only: "Admin/operator keys must not be put in a display's URL; use a wall-role key.",
  },
};

// Catalogue units, as words (never codes).
const UNITS = {
  vi: { encounters: "lượt khám", visitors: "lượt khách", reports: "phản ánh", dossiers: "hồ sơ", minutes: "phút",
        "working days": "ngày làm việc", hours: "giờ", "per 10,000": "/10.000 dân", "pupil-days": "lượt học sinh",
        pupils: "học sinh", "guest-nights": "ngày khách", score: "điểm", "%": "%" },
  en: { encounters: "encounters", visitors: "visitors", reports: "reports", dossiers: "dossiers", minutes: "minutes",
        "working days": "working days", hours: "hours", "per 10,000": "per 10,000", "pupil-days": "pupil-days",
        pupils: "pupils", "guest-nights": "guest-nights", score: "score", "%": "%" },
};

// Short sector names for narrow tables.
const SECTORS_SHORT = {
  vi: { health: "Y tế", education: "Giáo dục", tourism: "Du lịch", public_service: "DVC", public_services: "DVC", citizen: "PAKN" },
  en: { health: "Health", education: "Schools", tourism: "Tourism", public_service: "Services", public_services: "Services", citizen: "Citizen" },
};
const SECTORS = {
  vi: { health: "Y tế", education: "Giáo dục", tourism: "Du lịch", public_services: "Dịch vụ công", public_service: "Dịch vụ công", citizen: "Phản ánh", data: "Dữ liệu" },
  en: { health: "Health", education: "Education", tourism: "Tourism", public_services: "Public services", public_service: "Public services", citizen: "Citizen reports", data: "Data" },
};

// Short names for the tiles, where the catalogue's full name is too long for a wall.
const SHORT = {
  vi: { "health.encounters": "Lượt khám bệnh", "health.emergency_share": "Tỷ lệ cấp cứu",
        "health.bed_occupancy": "Công suất giường", "education.attendance_rate": "Học sinh đi học",
        "tourism.visitors": "Lượt khách du lịch", "citizen.reports": "Phản ánh, kiến nghị",
        "ps.online_submission_rate": "Hồ sơ nộp trực tuyến", "ps.on_time_rate": "Hồ sơ đúng hạn" },
  en: { "health.encounters": "Health encounters", "health.emergency_share": "Emergency share",
        "health.bed_occupancy": "Bed occupancy", "education.attendance_rate": "School attendance",
        "tourism.visitors": "Tourist visitors", "citizen.reports": "Citizen reports",
        "ps.online_submission_rate": "Dossiers filed online", "ps.on_time_rate": "Dossiers on time" },
};

// Short names of Decision 766's groups, one line each at the wall's type size (the full
// name is the row's tooltip and, on the public wall, the rates it uses are listed under it).
const GROUPS_SHORT = {
  vi: { transparency: "Công khai", progress: "Tiến độ", digitisation: "Số hóa", online_services: "Trực tuyến", satisfaction: "Hài lòng" },
  en: { transparency: "Transparency", progress: "Progress", digitisation: "Digitisation", online_services: "Online", satisfaction: "Satisfaction" },
};

export const t = (key) => WORDS[lang][key] ?? key;
export const unitName = (unit) => UNITS[lang][unit] ?? unit;
export const sectorName = (sector) => SECTORS[lang][sector] ?? sector;
export const groupShort = (group) => GROUPS_SHORT[lang][group.code] ?? (lang === "en" ? group.name_en : group.name_vi);
export const sectorShort = (sector) => SECTORS_SHORT[lang][sector] ?? sectorName(sector);
export const indicatorName = (ind) => (lang === "en" ? ind.name_en : ind.name_vi);
export const shortName = (ind) => SHORT[lang][ind.code] ?? indicatorName(ind);

export function num(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  return v.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
// A value as the wall shows it: counts whole, everything else with one decimal.
export const fmt = (v, ind) => num(v, ind.unit === "%" || !ind.additive ? 1 : 0);
export const time = (ms) => new Date(ms).toLocaleTimeString(locale, { timeZone: "Asia/Ho_Chi_Minh", hour: "2-digit", minute: "2-digit" });
export const clock = (ms) => new Date(ms).toLocaleString(locale, { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
export const monthName = (ms) => { const d = new Date(ms + 7 * 3600e3); return `${String(d.getUTCMonth() + 1).padStart(2, "0")}/${d.getUTCFullYear()}`; };
export const dayLabel = (ms) => new Date(ms).toLocaleDateString(locale, { timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit" });
// Place names without their administrative prefix, which a wall has no room for.
export const placeName = (name) => name.replace(/^(Thành phố|Thị xã|Huyện|Thị trấn|Phường|Xã)\s+/u, "");
