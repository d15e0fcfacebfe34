// The annual announcement in Markdown, HTML and CSV.

#include <algorithm>
#include <map>

#include "document.h"
#include "flexwatch/announce/announcement.h"
#include "flexwatch/announce/render.h"
#include "flexwatch/core/decimal.h"

namespace flexwatch {

using namespace render_detail;

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
  // A year the state has only part of says which months it covers, in its title too.
  const bool whole_year = in.months->size() == 12;
  if (!whole_year && !in.months->empty()) {
    const int from = PeriodMonth(in.months->front().period),
              to = PeriodMonth(in.months->back().period);
    static constexpr const char* kShort[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    d.title += zh ? "（" + std::to_string(from) + "月至" + std::to_string(to) + "月，" +
                        N(static_cast<int64_t>(in.months->size())) + "个月）"
                  : " (" + std::string(kShort[from - 1]) + "-" + kShort[to - 1] + ", " +
                        N(static_cast<int64_t>(in.months->size())) + " months)";
  }
  d.status = (zh ? "状态：" : "Status: ") +
             std::string(all_final ? t.final_word
                         : zh      ? "初步（尚有月份未到终版）"
                                   : "provisional: not every month is final yet") +
             (zh ? "。所含月份：" : ". Months covered: ");
  std::vector<Period> covered;
  for (const MonthEvaluation& m : *in.months) covered.push_back(m.period);
  d.status += MonthsWords(covered, l) + (zh ? "。" : ".");
  if (!whole_year)
    d.status += zh ? "本年度仅有上述月份的数据，名单和比较均以这些月份为准，不代表全年。"
                   : " The year has data for these months only: the lists and comparisons rest on "
                     "them, not on the whole year.";

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
      {"commendation", "Ranked in every month it reported, and green in each.",
       "报告的每个月均纳入排名，且各月均为绿色等级。"},
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
      if (r.list == list.name) names.push_back(PlatformNameAndCode(in.platforms, l, r.platform_id));
    sec.blocks.push_back(names.empty() ? Paragraph(zh ? "无。" : "None.") : List(names));
    // The trend of each platform on the watch and violation lists.
    if (std::string_view(list.name) != "commendation")
      for (const AnnualRecord& r : records) {
        if (r.list != list.name) continue;
        std::vector<std::pair<Period, const PlatformScore*>> trend;
        for (const auto& [m, ps] : r.months) trend.emplace_back(m->period, ps);
        const std::string caption = PlatformName(in.platforms, l, r.platform_id) +
                                    (zh ? "：各月综合等级" : ": overall level by month");
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
    compare.rows.push_back({{PlatformName(in.platforms, l, r.platform_id)},
                            worst(&r),
                            {ListWords(r.list, l)},
                            b ? worst(b) : TableCell{no_data},
                            {b ? std::string(ListWords(b->list, l)) : no_data}});
  }
  if (in.previous_year && !in.previous_year->empty())
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
      std::vector<TableCell> row = {{PlatformName(in.platforms, l, r.platform_id)}};
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
  d.masthead = Masthead(in.issuer, in.issue, l);
  if (std::vector<std::string> basis = BasisAndContact(in.issuer, l); !basis.empty()) {
    Section closing{zh ? "发布依据" : "Legal basis", {}};
    for (std::string& line : basis) closing.blocks.push_back(Paragraph(std::move(line)));
    d.sections.push_back(std::move(closing));
  }
  return d;
}

}  // namespace

std::string AnnualMarkdown(const AnnualInputs& in, Lang l) { return Markdown(AnnualDoc(in, l)); }
std::string AnnualHtml(const AnnualInputs& in, Lang l) { return Html(AnnualDoc(in, l)); }

std::string AnnualCsv(const AnnualInputs& in, Lang l) {
  const bool zh = l == Lang::kZh;
  const Terms& t = TermsOf(l);
  std::string s =
      zh ? "\xEF\xBB\xBF年度,平台企业,名单,期间,是否终版,是否纳入排名,维度,等级,平台企业名称,"
           "统一社会信用代码\r\n"
         : "year,platform_id,list,period,final,ranked,dimension,level,platform_name,credit_"
           "code\r\n";
  auto yes = [&](bool b) { return std::string(zh ? (b ? "是" : "否") : (b ? "true" : "false")); };
  auto level = [&](Level v) {
    return zh ? std::string(t.levels[static_cast<int>(v)]) : std::string(NameOf(v));
  };
  for (const AnnualRecord& r : AnnualRecords(*in.months)) {
    const PlatformInfo* info = in.platforms ? in.platforms->Find(r.platform_id) : nullptr;
    const std::string registered =
        info ? CsvCell(info->Name(l)) + "," + info->credit_code : std::string(",");
    for (const auto& [m, ps] : r.months)
      for (int d = -1; d < kDimensionCount; ++d)
        s += std::to_string(in.year) + "," + CsvCell(r.platform_id) + "," +
             (zh ? (r.list.empty() ? "" : ListWords(r.list, l)) : r.list) + "," +
             FormatPeriod(m->period) + "," + yes(m->final) + "," + yes(ps->ranked) + "," +
             (d < 0 ? std::string(zh ? "综合" : "overall")
              : zh  ? std::string(t.dimensions[d])
                    : std::string(kDimensionNames[d])) +
             "," + level(d < 0 ? ps->level : ps->dimensions[d].level) + "," + registered + "\r\n";
  }
  return s;
}

}  // namespace flexwatch
