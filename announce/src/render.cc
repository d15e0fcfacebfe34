#include "flexwatch/announce/render.h"

#include <algorithm>
#include <map>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/decimal.h"

namespace flexwatch {
namespace {

// The words of one language (announce/glossary.md).
struct Terms {
  const char* monthly_title;
  const char* final_word;
  const char* provisional_word;
  std::array<const char*, kDimensionCount> dimensions;
  std::array<const char*, 4> levels;
  std::array<const char*, 3> tiers;
  std::map<std::string_view, const char*> findings;
  std::map<std::string_view, const char*> detectors;
  std::map<std::string_view, const char*> series;
};

const Terms kEn = {
    "Monthly compliance announcement",
    "final",
    "provisional: contributions are still due, findings may change",
    {"Contract avoidance", "Social-insurance underpayment", "Coverage mismatch"},
    {"green", "yellow", "orange", "red"},
    {"independent", "managed, not a full labour relation", "labour relation"},
    {{"no_contract", "no contract at all"},
     {"form_not_sufficient", "a contract form that does not fit the work"},
     {"dispatch_over_cap", "dispatched workers beyond the cap"},
     {"missing_scheme", "a scheme not paid"},
     {"underdeclared_base", "contribution base declared too low"},
     {"short_payment", "amount paid too low"},
     {"pilot_uncovered", "pilot orders without the per-order premium"},
     {"policy_inadequate", "commercial cover missing or below the minimum"}},
    {{"own_history", "against its own past"},
     {"sector_peers", "against its sector"},
     {"hours_bunching", "hours piling up below a threshold"},
     {"complaint_spike", "complaint spike"}},
    {{"labor_contract_share", "share on labour contracts"},
     {"contract_exit_share", "share leaving labour contracts"},
     {"contribution_ratio", "contributions over earnings"},
     {"contribution_to_due", "contributions over what is due"},
     {"premium_per_order", "premium per pilot order (yuan)"},
     {"pilot_covered_share", "share of pilot orders covered"},
     {"sum_insured_per_risk_worker", "sum insured per high-risk worker (yuan)"},
     {"complaints_per_10k", "complaints per 10,000 workers"}},
};

const Terms kZh = {
    "月度合规情况公告",
    "终版",
    "初步（缴费宽限期未满，结果可能变化）",
    {"规避订立劳动合同", "社会保险费少缴漏缴", "职业伤害保障不到位"},
    {"绿色", "黄色", "橙色", "红色"},
    {"个人依托平台自主开展经营活动", "不完全符合确立劳动关系情形", "符合确立劳动关系情形"},
    {{"no_contract", "未签订任何合同或协议"},
     {"form_not_sufficient", "合同形式与用工实际不符"},
     {"dispatch_over_cap", "劳务派遣用工超过比例上限"},
     {"missing_scheme", "险种漏缴"},
     {"underdeclared_base", "缴费基数申报不足"},
     {"short_payment", "缴费金额不足"},
     {"pilot_uncovered", "试点行业订单未按单缴纳职业伤害保障费"},
     {"policy_inadequate", "商业保险缺失或保额不足"}},
    {{"own_history", "与自身历史比较"},
     {"sector_peers", "与同行业企业比较"},
     {"hours_bunching", "工时在临界值下方聚集"},
     {"complaint_spike", "投诉激增"}},
    {{"labor_contract_share", "签订劳动合同比例"},
     {"contract_exit_share", "劳动合同转出比例"},
     {"contribution_ratio", "缴费与收入之比"},
     {"contribution_to_due", "实缴与应缴之比"},
     {"premium_per_order", "每单职业伤害保障费（元）"},
     {"pilot_covered_share", "试点订单覆盖比例"},
     {"sum_insured_per_risk_worker", "高风险行业人均保额（元）"},
     {"complaints_per_10k", "每万名劳动者投诉数"}},
};

const Terms& TermsOf(Lang l) { return l == Lang::kZh ? kZh : kEn; }

std::string Lookup(const std::map<std::string_view, const char*>& m, std::string_view key) {
  auto it = m.find(key);
  return it != m.end() ? it->second : std::string(key);
}

// A warning's series in words: a known series, "complaints/<category>", "hours_below_<T>h".
std::string SeriesWords(const Terms& t, Lang l, const std::string& series) {
  if (series.rfind("complaints/", 0) == 0)
    return (l == Lang::kZh ? "投诉：" : "complaints: ") + series.substr(11);
  if (series.rfind("hours_below_", 0) == 0) {
    const std::string hours = series.substr(12, series.size() - 13);
    return l == Lang::kZh ? "月工时略低于" + hours + "小时的人月"
                          : "worker-months just below " + hours + " h";
  }
  return Lookup(t.series, series);
}

// affected / in_scope as a percentage with one decimal, rounded half up: "31.3%".
std::string Percent(int64_t affected, int64_t in_scope) {
  if (in_scope <= 0) return "0%";
  const __int128 tenths = (static_cast<__int128>(affected) * 2000 + in_scope) / (2 * in_scope);
  const int64_t v = static_cast<int64_t>(tenths);
  return std::to_string(v / 10) + "." + std::to_string(v % 10) + "%";
}

std::string PeriodWords(Period p, Lang l) {
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  if (l == Lang::kZh)
    return std::to_string(PeriodYear(p)) + "年" + std::to_string(PeriodMonth(p)) + "月";
  return std::string(kMonths[PeriodMonth(p) - 1]) + " " + std::to_string(PeriodYear(p));
}

std::string N(int64_t v) { return std::to_string(v); }

// A scaled integer without trailing zeros: 98000 at scale 4 is "9.8".
std::string NoTrailingZeros(int64_t v, int scale) {
  std::string s = FormatScaled(v, scale);
  if (s.find('.') == std::string::npos) return s;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

const PlatformScore* Find(const MonthEvaluation* m, const std::string& id) {
  if (!m) return nullptr;
  for (const PlatformScore& ps : m->platforms)
    if (ps.platform_id == id) return &ps;
  return nullptr;
}

std::string Change(const Terms& t, Lang l, const PlatformScore& now, const PlatformScore* before) {
  const bool zh = l == Lang::kZh;
  if (!before || !before->ranked) return zh ? "上月未纳入排名" : "not ranked last month";
  const std::string was = t.levels[static_cast<int>(before->level)];
  if (now.level == before->level) return zh ? "持平" : "unchanged";
  if (now.level > before->level)
    return zh ? "风险上升（上月" + was + "）" : "worse (was " + was + ")";
  return zh ? "风险下降（上月" + was + "）" : "better (was " + was + ")";
}

std::vector<std::string> Methodology(const RuleSet& r, Period p, Lang l) {
  const bool zh = l == Lang::kZh;
  auto pct = [](Ppm v) { return NoTrailingZeros(v, 4) + "%"; };
  auto hours = [](MilliMinutes m) { return NoTrailingZeros(m / 600, 2); };
  std::vector<std::string> s;
  auto line = [&](const std::string& en, const std::string& cn) { s.push_back(zh ? cn : en); };
  line("Rule set " + r.id + ", version " + r.version + " (fingerprint " + r.fingerprint + ").",
       "规则集 " + r.id + "，版本 " + r.version + "（指纹 " + r.fingerprint + "）。");
  line("Unit: the worker-month, one worker's calendar month (Beijing time) on one platform.",
       "计量单位：人月，即一名劳动者在一个平台企业的一个自然月（北京时间）。");
  line("Tiers: more than " + hours(r.labor_relation_above) +
           " h in the month is a labour relation; " + hours(r.managed_from) +
           " h up to it is managed; fewer is independent.",
       "分类：当月工时超过" + hours(r.labor_relation_above) +
           "小时的，按符合确立劳动关系情形核查；" + hours(r.managed_from) + "小时至" +
           hours(r.labor_relation_above) + "小时的，按不完全符合确立劳动关系情形核查；不足" +
           hours(r.managed_from) + "小时的，按个人依托平台自主经营。");
  line(
      "Contract avoidance: the contract in force at the worker's last order of the month; "
      "dispatched workers beyond " +
          pct(r.dispatch_cap) + " of labour-relation worker-months count too.",
      "规避订立劳动合同：以当月最后一单时有效的合同为准；劳务派遣人月超过劳动关系人月" +
          pct(r.dispatch_cap) + "的部分一并计入。");
  if (auto b = r.BaseFor(p); b.ok())
    line(
        "Underpayment: the employer's pension, medical, unemployment and work-injury "
        "contributions on a base of the month's earnings within " +
            NoTrailingZeros(b->lower, 2) + "-" + NoTrailingZeros(b->upper, 2) +
            " yuan, tolerance " + pct(r.tolerance) + "; a period is final " + N(r.grace_days) +
            " days after its end.",
        "社会保险费少缴漏缴：单位应缴养老、医疗、失业、工伤保险费，缴费基数按当月收入在" +
            NoTrailingZeros(b->lower, 2) + "至" + NoTrailingZeros(b->upper, 2) +
            "元之间确定，容差" + pct(r.tolerance) + "；月末后" + N(r.grace_days) +
            "日缴费宽限期满即为终版。");
  line(
      "Coverage: every order in a pilot sector insured by the per-order premium; other high-risk "
      "sectors need a commercial policy valid on the order's day with at least the sector's "
      "minimum sum.",
      "职业伤害保障：试点行业每单必保、按单缴费；其他高风险行业须有订单当日有效且保额不低于行业最低"
      "标准的商业保险。");
  line("Levels: rate = affected / in scope; yellow from " + pct(r.yellow) + ", orange from " +
           pct(r.orange) + ", red from " + pct(r.red) +
           "; the overall level is the worst; fewer "
           "than " +
           N(r.min_ranked_workers) + " workers in scope: not ranked.",
       "等级：问题比例 = 存在问题人月 / 纳入核查人月；" + pct(r.yellow) + "起为黄色，" +
           pct(r.orange) + "起为橙色，" + pct(r.red) +
           "起为红色；综合等级取各维度最高；纳入核查劳动者不足" + N(r.min_ranked_workers) +
           "人的，不纳入排名。");
  line("Counts only: no worker is named; inspectors receive pseudonymous evidence files.",
       "公告只列人数，不公开任何劳动者身份；核查证据以化名形式提供给监察人员。");
  return s;
}

// A publication as a document: sections of paragraphs, lists, tables and charts, written out
// as Markdown (charts left out) or as a self-contained HTML page.
struct TableCell {
  std::string text;
  int level = -1;  // >= 0: a level's colour in HTML
};
struct Block {
  enum Kind { kParagraph, kList, kTable, kChart, kSubheading } kind = kParagraph;
  std::string text;  // paragraph, subheading; chart: the SVG
  std::vector<std::string> items;
  std::vector<std::string> header;
  std::vector<std::vector<TableCell>> rows;
  std::string caption;  // chart
};
struct Section {
  std::string heading;
  std::vector<Block> blocks;
};
struct Doc {
  Lang lang = Lang::kEn;
  std::string title;
  std::string status;
  std::vector<Section> sections;
};

Block Paragraph(std::string text) {
  Block b;
  b.text = std::move(text);
  return b;
}
Block List(std::vector<std::string> items) {
  Block b;
  b.kind = Block::kList;
  b.items = std::move(items);
  return b;
}
Block Subheading(std::string text) {
  Block b;
  b.kind = Block::kSubheading;
  b.text = std::move(text);
  return b;
}
Block Chart(std::string svg, std::string caption = {}) {
  Block b;
  b.kind = Block::kChart;
  b.text = std::move(svg);
  b.caption = std::move(caption);
  return b;
}

std::string Markdown(const Doc& d) {
  std::string s = "# " + d.title + "\n\n" + d.status + "\n";
  for (const Section& sec : d.sections) {
    s += "\n## " + sec.heading + "\n";
    for (const Block& b : sec.blocks) {
      if (b.kind == Block::kChart) continue;
      s += "\n";
      switch (b.kind) {
        case Block::kParagraph:
          s += b.text + "\n";
          break;
        case Block::kSubheading:
          s += "### " + b.text + "\n";
          break;
        case Block::kList:
          for (const std::string& item : b.items) s += "- " + item + "\n";
          break;
        case Block::kTable: {
          s += "|";
          for (const std::string& h : b.header) s += " " + h + " |";
          s += "\n|";
          for (size_t i = 0; i < b.header.size(); ++i) s += "---|";
          s += "\n";
          for (const auto& row : b.rows) {
            s += "|";
            for (const TableCell& c : row) s += " " + c.text + " |";
            s += "\n";
          }
          break;
        }
        case Block::kChart:
          break;
      }
    }
  }
  return s;
}

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr const char* kLevelColours[] = {"#2e7d32", "#f9a825", "#ef6c00", "#c62828"};

// Inline CSS: readable on a phone, printable on A4, with fonts that carry Chinese.
constexpr const char* kStyle = R"(
:root { --ink: #1a1a1a; --muted: #555; --rule: #d0d0d0; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.7;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
    "Helvetica Neue", Arial, sans-serif; font-size: 16px; }
main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.3; margin: 0.5rem 0; }
h2 { font-size: 1.25rem; border-bottom: 2px solid var(--rule); padding-bottom: 0.2rem;
  margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-bottom: 0.3rem; }
p.status { color: var(--muted); }
.table { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.5rem; text-align: left;
  vertical-align: top; white-space: nowrap; }
th { background: #f3f3f3; }
.lv { display: inline-block; padding: 0 0.4rem; border-radius: 0.25rem; color: #fff; }
.lv0 { background: #2e7d32; } .lv1 { background: #f9a825; color: #1a1a1a; }
.lv2 { background: #ef6c00; } .lv3 { background: #c62828; }
figure { margin: 0.5rem 0 1rem; } svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.85rem; color: var(--muted); }
ul { padding-left: 1.4rem; }
:lang(zh) body, body:lang(zh) { letter-spacing: 0.02em; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { font-size: 10.5pt; } main { max-width: none; padding: 0; }
  h2 { break-after: avoid; } table, figure { break-inside: avoid; }
  .lv { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
@media (max-width: 36rem) { body { font-size: 15px; } th, td { padding: 0.25rem 0.35rem; } }
)";

std::string Html(const Doc& d) {
  const bool zh = d.lang == Lang::kZh;
  std::string s = std::string("<!DOCTYPE html>\n<html lang=\"") + (zh ? "zh-CN" : "en") +
                  "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                  "content=\"width=device-width, initial-scale=1\">\n<title>" +
                  Escape(d.title) + "</title>\n<style>" + kStyle +
                  "</style>\n</head>\n<body>\n<main>\n<h1>" + Escape(d.title) +
                  "</h1>\n<p class=\"status\">" + Escape(d.status) + "</p>\n";
  for (const Section& sec : d.sections) {
    s += "<section>\n<h2>" + Escape(sec.heading) + "</h2>\n";
    for (const Block& b : sec.blocks) {
      switch (b.kind) {
        case Block::kParagraph:
          s += "<p>" + Escape(b.text) + "</p>\n";
          break;
        case Block::kSubheading:
          s += "<h3>" + Escape(b.text) + "</h3>\n";
          break;
        case Block::kList:
          s += "<ul>\n";
          for (const std::string& item : b.items) s += "<li>" + Escape(item) + "</li>\n";
          s += "</ul>\n";
          break;
        case Block::kTable:
          s += "<div class=\"table\"><table>\n<thead><tr>";
          for (const std::string& h : b.header) s += "<th>" + Escape(h) + "</th>";
          s += "</tr></thead>\n<tbody>\n";
          for (const auto& row : b.rows) {
            s += "<tr>";
            for (const TableCell& c : row)
              s += c.level < 0 ? "<td>" + Escape(c.text) + "</td>"
                               : "<td><span class=\"lv lv" + std::to_string(c.level) + "\">" +
                                     Escape(c.text) + "</span></td>";
            s += "</tr>\n";
          }
          s += "</tbody>\n</table></div>\n";
          break;
        case Block::kChart:
          s += "<figure>" + b.text +
               (b.caption.empty() ? "" : "<figcaption>" + Escape(b.caption) + "</figcaption>") +
               "</figure>\n";
          break;
      }
    }
    s += "</section>\n";
  }
  return s + "</main>\n</body>\n</html>\n";
}

// Horizontal bars: how many platforms at each level.
std::string DistributionSvg(const std::array<int, 4>& counts, const Terms& t,
                            const std::string& title) {
  int most = 1;
  for (int c : counts) most = std::max(most, c);
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 420 130\" role=\"img\" "
      "width=\"420\" height=\"130\"><title>" +
      Escape(title) + "</title>";
  for (int i = 0; i < 4; ++i) {
    const int y = 8 + i * 30, w = counts[i] * 300 / most;
    s += "<text x=\"0\" y=\"" + std::to_string(y + 16) + "\" font-size=\"13\">" +
         Escape(t.levels[i]) + "</text><rect x=\"70\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(std::max(w, 1)) + "\" height=\"22\" fill=\"" + kLevelColours[i] +
         "\"/><text x=\"" + std::to_string(76 + w) + "\" y=\"" + std::to_string(y + 16) +
         "\" font-size=\"13\">" + std::to_string(counts[i]) + "</text>";
  }
  return s + "</svg>";
}

// A platform's overall level month by month: a point per month, its colour and height the level.
std::string TrendSvg(const std::vector<std::pair<Period, const PlatformScore*>>& months,
                     const Terms& t, const std::string& title) {
  const int n = static_cast<int>(months.size());
  const int width = 60 + std::max(n, 1) * 40;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                  std::to_string(width) + " 120\" role=\"img\" width=\"" + std::to_string(width) +
                  "\" height=\"120\"><title>" + Escape(title) + "</title>";
  for (int lv = 0; lv < 4; ++lv)
    s += "<text x=\"0\" y=\"" + std::to_string(94 - lv * 24) +
         "\" font-size=\"11\" fill=\"#555\">" + Escape(t.levels[lv]) +
         "</text><line x1=\"50\" x2=\"" + std::to_string(width) + "\" y1=\"" +
         std::to_string(90 - lv * 24) + "\" y2=\"" + std::to_string(90 - lv * 24) +
         "\" stroke=\"#e0e0e0\"/>";
  std::string path;
  for (int i = 0; i < n; ++i) {
    const auto& [p, ps] = months[static_cast<size_t>(i)];
    const int x = 70 + i * 40, y = 90 - static_cast<int>(ps->level) * 24;
    path += (i ? " L" : "M") + std::to_string(x) + " " + std::to_string(y);
    s += "<circle cx=\"" + std::to_string(x) + "\" cy=\"" + std::to_string(y) +
         "\" r=\"6\" fill=\"" + kLevelColours[static_cast<int>(ps->level)] + "\"/><text x=\"" +
         std::to_string(x - 10) + "\" y=\"114\" font-size=\"10\">" + FormatPeriod(p).substr(5) +
         "</text>";
  }
  if (n > 1) s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\"/>";
  return s + "</svg>";
}

}  // namespace

std::optional<Lang> LangFromName(std::string_view name) {
  if (name == "en") return Lang::kEn;
  if (name == "zh") return Lang::kZh;
  return std::nullopt;
}

namespace {

Doc MonthlyDoc(const MonthlyInputs& in, Lang l) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  const MonthEvaluation& m = *in.month;
  Doc d;
  d.lang = l;
  d.title = std::string(t.monthly_title) + (zh ? "（" : ": ") + PeriodWords(m.period, l) +
            (zh ? "）" : "");
  d.status = (zh ? "状态：" : "Status: ") +
             std::string(m.final ? t.final_word : t.provisional_word) +
             (zh ? "。规则集 " : ". Rule set ") + in.rules->id + " " + in.rules->version;

  std::array<int, 4> by_level{};
  int ranked = 0;
  for (const PlatformScore& ps : m.platforms)
    if (ps.ranked) ++ranked, ++by_level[static_cast<int>(ps.level)];
  Section summary{zh ? "概况" : "Summary", {}};
  if (zh)
    summary.blocks.push_back(Paragraph(
        "本月报告平台企业" + N(static_cast<int64_t>(m.platforms.size())) + "家，纳入排名" +
        N(ranked) + "家：绿色" + N(by_level[0]) + "家，黄色" + N(by_level[1]) + "家，橙色" +
        N(by_level[2]) + "家，红色" + N(by_level[3]) + "家。"));
  else
    summary.blocks.push_back(
        Paragraph(N(static_cast<int64_t>(m.platforms.size())) + " platform enterprises reported, " +
                  N(ranked) + " ranked: green " + N(by_level[0]) + ", yellow " + N(by_level[1]) +
                  ", orange " + N(by_level[2]) + ", red " + N(by_level[3]) + "."));
  summary.blocks.push_back(Chart(DistributionSvg(
      by_level, t, zh ? "纳入排名平台企业的等级分布" : "Ranked platforms by level")));
  d.sections.push_back(std::move(summary));

  Block table;
  table.kind = Block::kTable;
  table.header = {zh ? "平台企业" : "Platform", zh ? "综合等级" : "Level"};
  for (const char* dim : t.dimensions) table.header.push_back(dim);
  table.header.push_back(zh ? "较上月" : "Since last month");
  // The worst first, then by id.
  std::vector<const PlatformScore*> order;
  for (const PlatformScore& ps : m.platforms)
    if (ps.ranked) order.push_back(&ps);
  std::stable_sort(order.begin(), order.end(), [](const PlatformScore* a, const PlatformScore* b) {
    return a->level > b->level;
  });
  for (const PlatformScore* p : order) {
    const PlatformScore& ps = *p;
    std::vector<TableCell> row = {
        {ps.platform_id}, {t.levels[static_cast<int>(ps.level)], static_cast<int>(ps.level)}};
    for (const DimensionScore& ds : ps.dimensions)
      row.push_back(ds.in_scope == 0
                        ? TableCell{zh ? "不适用" : "n/a"}
                        : TableCell{std::string(t.levels[static_cast<int>(ds.level)]) +
                                        (zh ? "（" : " (") + Percent(ds.affected, ds.in_scope) +
                                        (zh ? "）" : ")"),
                                    static_cast<int>(ds.level)});
    row.push_back({Change(t, l, ps, Find(in.previous, ps.platform_id))});
    table.rows.push_back(std::move(row));
  }
  if (ranked == 0) table.rows.push_back({{zh ? "（无）" : "(none)"}, {""}, {""}, {""}, {""}, {""}});
  d.sections.push_back({zh ? "纳入排名的平台企业" : "Ranked platforms", {table}});

  Section listed{zh ? "橙色、红色等级平台企业" : "Platforms at orange or red", {}};
  for (const PlatformScore* p : order) {
    const PlatformScore& ps = *p;
    if (ps.level < Level::kOrange) continue;
    listed.blocks.push_back(
        Subheading(ps.platform_id + (zh ? "：" : ": ") + t.levels[static_cast<int>(ps.level)]));
    std::vector<std::string> items;
    for (int dim = 0; dim < kDimensionCount; ++dim) {
      const DimensionScore& ds = ps.dimensions[dim];
      if (ds.affected == 0) continue;
      std::string item = std::string(t.dimensions[dim]) + (zh ? "：纳入核查" : ": ") +
                         N(ds.in_scope) + (zh ? "人月中" : " worker-months in scope, ") +
                         N(ds.affected) + (zh ? "人月存在问题（" : " affected (") +
                         Percent(ds.affected, ds.in_scope) + (zh ? "，" : ", ") +
                         t.levels[static_cast<int>(ds.level)] + (zh ? "）" : ")");
      std::string kinds;
      for (const auto& [kind, n] : ds.findings)
        kinds += (kinds.empty() ? "" : (zh ? "；" : "; ")) + Lookup(t.findings, kind) + " " + N(n);
      if (!kinds.empty()) item += (zh ? "。其中：" : ". Of which: ") + kinds;
      if (static_cast<Dimension>(dim) == Dimension::kContractAvoidance &&
          ps.dispatched > ps.dispatch_cap)
        item += zh ? "（劳务派遣" + N(ps.dispatched) + "人月，上限" + N(ps.dispatch_cap) + "人月）"
                   : " (dispatched " + N(ps.dispatched) + ", cap " + N(ps.dispatch_cap) + ")";
      items.push_back(item + (zh ? "。" : "."));
    }
    listed.blocks.push_back(List(std::move(items)));
    // Its trend over the months the state has before this one.
    std::vector<std::pair<Period, const PlatformScore*>> trend;
    for (const MonthEvaluation* before : in.history)
      if (const PlatformScore* b = Find(before, ps.platform_id))
        trend.emplace_back(before->period, b);
    trend.emplace_back(m.period, &ps);
    const std::string caption =
        ps.platform_id + (zh ? "：各月综合等级" : ": overall level by month");
    listed.blocks.push_back(Chart(TrendSvg(trend, t, caption), caption));
  }
  if (listed.blocks.empty()) listed.blocks.push_back(Paragraph(zh ? "无。" : "None."));
  d.sections.push_back(std::move(listed));

  Section warnings{zh ? "风险预警" : "Early warnings", {}};
  std::vector<std::string> items;
  if (in.warnings)
    for (const EarlyWarning& w : *in.warnings) {
      const std::string window =
          FormatPeriod(w.window_from) + (zh ? "至" : " to ") + FormatPeriod(w.window_to);
      if (zh)
        items.push_back(w.platform_id + "：" + Lookup(t.detectors, w.detector) + "（" + w.detector +
                        " 版本" + w.version + "），" + SeriesWords(t, l, w.series) + "为" +
                        WarningNumber(w.observed) + "，预期" + WarningNumber(w.expected) + "（" +
                        window + "，得分" + WarningNumber(w.score, 2) + "）。");
      else
        items.push_back(w.platform_id + ": " + Lookup(t.detectors, w.detector) + " (" + w.detector +
                        " v" + w.version + "): " + SeriesWords(t, l, w.series) + " " +
                        WarningNumber(w.observed) + ", expected " + WarningNumber(w.expected) +
                        " (" + window + ", score " + WarningNumber(w.score, 2) + ").");
    }
  warnings.blocks.push_back(items.empty() ? Paragraph(zh ? "无。" : "None.") : List(items));
  d.sections.push_back(std::move(warnings));

  std::string unranked;
  for (const PlatformScore& ps : m.platforms)
    if (!ps.ranked) unranked += (unranked.empty() ? "" : (zh ? "、" : ", ")) + ps.platform_id;
  d.sections.push_back({zh ? "未纳入排名" : "Not ranked",
                        {Paragraph(unranked.empty() ? (zh ? "无。" : "None.")
                                   : zh ? "纳入核查的劳动者不足" + N(in.rules->min_ranked_workers) +
                                              "人：" + unranked + "。"
                                        : "Fewer than " + N(in.rules->min_ranked_workers) +
                                              " workers in scope: " + unranked + ".")}});
  // Data quality: what the verdict stands on.
  int64_t wm = 0, orders = 0, payments = 0, late = 0, complaints = 0;
  Block quality;
  quality.kind = Block::kTable;
  quality.header =
      zh ? std::vector<std::string>{"平台企业", "人月", "订单", "缴费记录", "宽限期后缴费", "投诉"}
         : std::vector<std::string>{"Platform",
                                    "Worker-months",
                                    "Orders",
                                    "Contribution payments",
                                    "Paid after the grace",
                                    "Complaints"};
  for (const PlatformScore& ps : m.platforms) {
    wm += ps.worker_months, orders += ps.orders, payments += ps.payments;
    late += ps.late_payments, complaints += ps.complaints;
    quality.rows.push_back({{ps.platform_id},
                            {N(ps.worker_months)},
                            {N(ps.orders)},
                            {N(ps.payments)},
                            {N(ps.late_payments)},
                            {N(ps.complaints)}});
  }
  const std::string grace = N(in.rules->grace_days);
  d.sections.push_back(
      {zh ? "数据质量" : "Data quality",
       {Paragraph(zh ? "本月：" + N(wm) + "人月，订单" + N(orders) + "单；其缴费记录" +
                           N(payments) + "条，其中" + N(late) + "条在月末后" + grace +
                           "日宽限期满后缴纳；投诉" + N(complaints) +
                           "件。重复投递的事件只计一次；格式或内容不合规的数据行被拒收，连同原因"
                           "另行记录，不计入任何月份。"
                     : "This month: " + N(wm) + " worker-months from " + N(orders) + " orders; " +
                           N(payments) + " contribution payments for them, " + N(late) +
                           " of which came after the " + grace + "-day grace; " + N(complaints) +
                           " complaints. An event delivered twice counts once; lines rejected as "
                           "malformed or invalid are kept aside with their reasons and count in no "
                           "month."),
        quality}});
  d.sections.push_back(
      {zh ? "核查方法" : "Methodology", {List(Methodology(*in.rules, m.period, l))}});
  return d;
}

}  // namespace

std::string MonthlyMarkdown(const MonthlyInputs& in, Lang l) { return Markdown(MonthlyDoc(in, l)); }
std::string MonthlyHtml(const MonthlyInputs& in, Lang l) { return Html(MonthlyDoc(in, l)); }

namespace {
// A CSV cell from the data (a platform id): quoted when it holds a separator, a quote or a line
// break, and led by an apostrophe when it starts as a spreadsheet formula would (=, +, -, @, a
// tab or a carriage return), as OWASP advises against formula injection.
std::string CsvCell(std::string_view v) {
  std::string out;
  if (!v.empty() && std::string_view("=+-@\t\r").find(v.front()) != std::string_view::npos)
    out = "'";
  out += v;
  if (out.find_first_of(",\"\r\n") == std::string::npos) return out;
  std::string quoted = "\"";
  for (char c : out) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}
}  // namespace

std::string MonthlyCsv(const MonthlyInputs& in, Lang l) {
  const bool zh = l == Lang::kZh;
  const Terms& t = TermsOf(l);
  const MonthEvaluation& m = *in.month;
  // Chinese spreadsheets read a UTF-8 file as such only after a byte-order mark.
  std::string s = zh ? "\xEF\xBB\xBF期间,是否终版,平台企业,是否纳入排名,综合等级,上月综合等级,维度,"
                       "纳入核查人月,存在问题人月,待定人月,问题比例,维度等级\r\n"
                     : "period,final,platform_id,ranked,level,previous_level,dimension,in_scope,"
                       "affected,pending,rate,dimension_level\r\n";
  auto yes = [&](bool b) { return std::string(zh ? (b ? "是" : "否") : (b ? "true" : "false")); };
  auto level = [&](Level v) {
    return zh ? std::string(t.levels[static_cast<int>(v)]) : std::string(NameOf(v));
  };
  for (const PlatformScore& ps : m.platforms) {
    const PlatformScore* before = Find(in.previous, ps.platform_id);
    for (int d = 0; d < kDimensionCount; ++d) {
      const DimensionScore& ds = ps.dimensions[d];
      s += FormatPeriod(m.period) + "," + yes(m.final) + "," + CsvCell(ps.platform_id) + "," +
           yes(ps.ranked) + "," + level(ps.level) + "," + (before ? level(before->level) : "") +
           "," + (zh ? std::string(t.dimensions[d]) : std::string(kDimensionNames[d])) + "," +
           N(ds.in_scope) + "," + N(ds.affected) + "," + N(ds.pending) + "," +
           RateText(ds.affected, ds.in_scope) + "," + level(ds.level) + "\r\n";
    }
  }
  return s;
}

namespace {

const char* ListWords(const std::string& list, Lang l) {
  const bool zh = l == Lang::kZh;
  if (list == "commendation") return zh ? "守法诚信企业名单" : "commendation list";
  if (list == "watch") return zh ? "重点关注名单" : "watch list";
  if (list == "violation") return zh ? "违规企业名单" : "violation list";
  return zh ? "不列入名单" : "no list";
}

// A level in one character for the month-by-month tables (the legend says which).
std::string Cell(const PlatformScore* ps, int dimension, Lang l) {
  if (!ps) return l == Lang::kZh ? "—" : "-";
  const Level v = dimension < 0 ? ps->level : ps->dimensions[dimension].level;
  static constexpr const char* kEn[] = {"G", "Y", "O", "R"};
  static constexpr const char* kZh[] = {"绿", "黄", "橙", "红"};
  std::string c = (l == Lang::kZh ? kZh : kEn)[static_cast<int>(v)];
  return ps->ranked ? c : "(" + c + ")";
}

}  // namespace

namespace {

Doc AnnualDoc(const AnnualInputs& in, Lang l) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  const std::vector<AnnualRecord> records = AnnualRecords(*in.months);
  std::map<std::string, const AnnualRecord*> before;
  std::vector<AnnualRecord> last_year;
  if (in.previous_year) last_year = AnnualRecords(*in.previous_year);
  for (const AnnualRecord& r : last_year) before[r.platform_id] = &r;
  bool all_final = !in.months->empty();
  for (const MonthEvaluation& m : *in.months) all_final &= m.final;

  Doc d;
  d.lang = l;
  const std::string y = std::to_string(in.year);
  d.title = zh ? y + "年度合规情况公告" : "Annual compliance announcement: " + y;
  d.status = (zh ? "状态：" : "Status: ") +
             std::string(all_final ? t.final_word
                         : zh      ? "初步（尚有月份未到终版）"
                                   : "provisional: not every month is final yet") +
             (zh ? "。规则集 " : ". Rule set ") + in.rules->id + " " + in.rules->version +
             (zh ? "。月份：" : ". Months: ");
  for (size_t i = 0; i < in.months->size(); ++i)
    d.status += (i ? (zh ? "、" : ", ") : "") + FormatPeriod((*in.months)[i].period);
  d.status += zh ? "。" : ".";

  // Summary: the lists' sizes and the distribution of each platform's worst ranked level.
  std::array<int, 4> worst_levels{};
  std::map<std::string, int> sizes;
  int ranked = 0;
  for (const AnnualRecord& r : records) {
    ++sizes[r.list];
    if (r.any_ranked) ++ranked, ++worst_levels[static_cast<int>(r.worst)];
  }
  d.sections.push_back(
      {zh ? "概况" : "Summary",
       {Paragraph(
            zh ? "本年度报告平台企业" + N(static_cast<int64_t>(records.size())) +
                     "家，其中纳入排名" + N(ranked) + "家；列入守法诚信企业名单" +
                     N(sizes["commendation"]) + "家、重点关注名单" + N(sizes["watch"]) +
                     "家、违规企业名单" + N(sizes["violation"]) + "家。"
               : N(static_cast<int64_t>(records.size())) + " platform enterprises reported, " +
                     N(ranked) + " ranked in at least one month: " + N(sizes["commendation"]) +
                     " on the commendation list, " + N(sizes["watch"]) + " on the watch list, " +
                     N(sizes["violation"]) + " on the violation list."),
        Chart(DistributionSvg(
                  worst_levels, t,
                  zh ? "各平台企业本年最高等级分布" : "Platforms by their worst level of the year"),
              zh ? "各平台企业本年最高等级分布" : "Platforms by their worst level of the year")}});

  struct ListSpec {
    const char* name;
    const char* en;
    const char* zh;
  };
  static constexpr ListSpec kLists[] = {
      {"commendation",
       "Ranked in every month it reported and green in each: candidates for the subsidies, tax "
       "incentives and rewards of the early-warning mechanism.",
       "报告的每个月均纳入排名且均为绿色等级，可作为补贴、税收优惠和奖励的候选对象。"},
      {"watch", "Not on the violation list; yellow or orange in at least one ranked month.",
       "未列入违规企业名单，且至少有一个纳入排名的月份为黄色或橙色等级。"},
      {"violation", "Red in at least one ranked month.", "至少有一个纳入排名的月份为红色等级。"},
  };
  for (const ListSpec& list : kLists) {
    std::string title = ListWords(list.name, l);
    if (!zh) title[0] = static_cast<char>(title[0] - 'a' + 'A');
    Section sec{title, {Paragraph(zh ? list.zh : list.en)}};
    std::vector<std::string> names;
    for (const AnnualRecord& r : records)
      if (r.list == list.name) names.push_back(r.platform_id);
    sec.blocks.push_back(names.empty() ? Paragraph(zh ? "无。" : "None.") : List(names));
    // The trend of each platform on the watch and violation lists.
    if (std::string_view(list.name) != "commendation")
      for (const AnnualRecord& r : records) {
        if (r.list != list.name) continue;
        std::vector<std::pair<Period, const PlatformScore*>> trend;
        for (const auto& [m, ps] : r.months) trend.emplace_back(m->period, ps);
        const std::string caption =
            r.platform_id + (zh ? "：各月综合等级" : ": overall level by month");
        sec.blocks.push_back(Chart(TrendSvg(trend, t, caption), caption));
      }
    d.sections.push_back(std::move(sec));
  }

  Block compare;
  compare.kind = Block::kTable;
  compare.header = zh ? std::vector<std::string>{"平台企业", "本年最高等级", "本年名单",
                                                 "上年最高等级", "上年名单"}
                      : std::vector<std::string>{"Platform", "Worst level", "List",
                                                 "Worst level last year", "List last year"};
  auto worst = [&](const AnnualRecord* r) {
    return r && r->any_ranked
               ? TableCell{t.levels[static_cast<int>(r->worst)], static_cast<int>(r->worst)}
               : TableCell{zh ? "未纳入排名" : "not ranked"};
  };
  const std::string no_data = zh ? "无数据" : "no data";
  for (const AnnualRecord& r : records) {
    auto it = before.find(r.platform_id);
    const AnnualRecord* b = it == before.end() ? nullptr : it->second;
    compare.rows.push_back({{r.platform_id},
                            worst(&r),
                            {ListWords(r.list, l)},
                            b ? worst(b) : TableCell{no_data},
                            {b ? std::string(ListWords(b->list, l)) : no_data}});
  }
  d.sections.push_back({zh ? "与上年比较" : "Compared with last year", {compare}});

  Section monthly{
      zh ? "各月等级" : "Month by month",
      {Paragraph(zh ? "图例：绿、黄、橙、红为等级；括号表示该月未纳入排名；—表示该月无数据。"
                    : "Legend: G green, Y yellow, O orange, R red; in brackets: not "
                      "ranked that month; -: no data that month.")}};
  for (int dim = -1; dim < kDimensionCount; ++dim) {
    monthly.blocks.push_back(
        Subheading(dim < 0 ? (zh ? "综合等级" : "Overall level") : std::string(t.dimensions[dim])));
    Block table;
    table.kind = Block::kTable;
    table.header = {zh ? "平台企业" : "Platform"};
    for (const MonthEvaluation& m : *in.months)
      table.header.push_back(zh ? std::to_string(PeriodMonth(m.period)) + "月"
                                : FormatPeriod(m.period).substr(5));
    for (const AnnualRecord& r : records) {
      std::vector<TableCell> row = {{r.platform_id}};
      for (const MonthEvaluation& m : *in.months) {
        const PlatformScore* ps = nullptr;
        for (const auto& [month, score] : r.months)
          if (month == &m) ps = score;
        const int level =
            !ps ? -1 : static_cast<int>(dim < 0 ? ps->level : ps->dimensions[dim].level);
        row.push_back({Cell(ps, dim, l), level});
      }
      table.rows.push_back(std::move(row));
    }
    monthly.blocks.push_back(std::move(table));
  }
  d.sections.push_back(std::move(monthly));
  d.sections.push_back(
      {zh ? "核查方法" : "Methodology",
       {List(Methodology(*in.rules,
                         in.months->empty() ? MakePeriod(in.year, 12) : in.months->back().period,
                         l))}});
  return d;
}

}  // namespace

std::string AnnualMarkdown(const AnnualInputs& in, Lang l) { return Markdown(AnnualDoc(in, l)); }
std::string AnnualHtml(const AnnualInputs& in, Lang l) { return Html(AnnualDoc(in, l)); }

std::string AnnualCsv(const AnnualInputs& in, Lang l) {
  const bool zh = l == Lang::kZh;
  const Terms& t = TermsOf(l);
  std::string s = zh ? "\xEF\xBB\xBF年度,平台企业,名单,期间,是否终版,是否纳入排名,维度,等级\r\n"
                     : "year,platform_id,list,period,final,ranked,dimension,level\r\n";
  auto yes = [&](bool b) { return std::string(zh ? (b ? "是" : "否") : (b ? "true" : "false")); };
  auto level = [&](Level v) {
    return zh ? std::string(t.levels[static_cast<int>(v)]) : std::string(NameOf(v));
  };
  for (const AnnualRecord& r : AnnualRecords(*in.months))
    for (const auto& [m, ps] : r.months)
      for (int d = -1; d < kDimensionCount; ++d)
        s += std::to_string(in.year) + "," + CsvCell(r.platform_id) + "," +
             (zh ? (r.list.empty() ? "" : ListWords(r.list, l)) : r.list) + "," +
             FormatPeriod(m->period) + "," + yes(m->final) + "," + yes(ps->ranked) + "," +
             (d < 0 ? std::string(zh ? "综合" : "overall")
              : zh  ? std::string(t.dimensions[d])
                    : std::string(kDimensionNames[d])) +
             "," + level(d < 0 ? ps->level : ps->dimensions[d].level) + "\r\n";
  return s;
}

namespace {

bool Wants(const std::vector<std::string>& formats, const char* format) {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

const char* Suffix(Lang lang) { return lang == Lang::kZh ? ".zh" : ".en"; }

}  // namespace

Files RenderMonthly(const MonthlyInputs& in, const std::vector<std::string>& formats, Lang lang) {
  Files out;
  const std::string stem = "monthly-" + FormatPeriod(in.month->period);
  const std::string suffix = Suffix(lang);
  if (Wants(formats, "json"))
    out.emplace_back(stem + ".json", MonthlyJson(*in.month, *in.rules, *in.warnings));
  if (Wants(formats, "md")) out.emplace_back(stem + suffix + ".md", MonthlyMarkdown(in, lang));
  if (Wants(formats, "html")) out.emplace_back(stem + suffix + ".html", MonthlyHtml(in, lang));
  if (Wants(formats, "csv")) out.emplace_back(stem + suffix + ".csv", MonthlyCsv(in, lang));
  return out;
}

Files RenderAnnual(const AnnualInputs& in, const std::vector<std::string>& formats, Lang lang) {
  Files out;
  const std::string stem = "annual-" + std::to_string(in.year);
  const std::string suffix = Suffix(lang);
  if (Wants(formats, "json"))
    out.emplace_back(stem + ".json", AnnualJson(in.year, *in.months, *in.rules));
  if (Wants(formats, "md")) out.emplace_back(stem + suffix + ".md", AnnualMarkdown(in, lang));
  if (Wants(formats, "html")) out.emplace_back(stem + suffix + ".html", AnnualHtml(in, lang));
  if (Wants(formats, "csv")) out.emplace_back(stem + suffix + ".csv", AnnualCsv(in, lang));
  return out;
}

}  // namespace flexwatch
