// The monthly announcement in Markdown, HTML and CSV.

#include <algorithm>
#include <map>

#include "document.h"
#include "flexwatch/announce/announcement.h"
#include "flexwatch/announce/render.h"
#include "flexwatch/core/decimal.h"

namespace flexwatch {

using namespace render_detail;

namespace {

// "orange (14 of 64)", or that the platform was not in the month.
std::string CellWords(const Terms& t, Lang l, const std::optional<SealedCell>& c) {
  const bool zh = l == Lang::kZh;
  if (!c) return zh ? "（不在本月）" : "(not in the month)";
  return std::string(t.levels[static_cast<int>(c->level)]) + (zh ? "（" : " (") + N(c->affected) +
         (zh ? "/" : " of ") + N(c->in_scope) + (zh ? "）" : ")");
}

int64_t ArrivedAfterSealOf(const MonthSealing& sealing, const std::string& platform) {
  const auto n = sealing.arrived_after_seal.find(platform);
  return n == sealing.arrived_after_seal.end() ? 0 : n->second;
}

// The correction notice's opening (rules.md section 4): which announcement it corrects, what
// changed and why, and the link to the original, which stays as it was.
Section CorrectionSection(const MonthlyInputs& in, Lang l, std::string_view format) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  const Period p = in.month->period;
  const Revision& first = in.sealing->revisions.front();
  const Revision& r = in.sealing->revisions.back();
  Section s{zh ? "更正说明" : "Correction", {}};
  int64_t arrived = 0;
  for (const auto& [platform, n] : in.sealing->arrived_after_seal) arrived += n;
  s.blocks.push_back(Paragraph(
      zh ? "本通告更正" + PeriodWords(p, l) + "月度合规情况公告（该月结果于" +
               MomentWords(first.sealed_at, l) + "确定为终版）。终版确定后，又收到该月的记录" +
               N(arrived) +
               "条（迟报的订单、合同、缴费、保障或投诉记录）；这些记录已全部计入，并改变了下列"
               "平台企业的核查结果。本通告为该月第" +
               N(r.number) + "号更正，于" + MomentWords(r.sealed_at, l) +
               "确定。宽限期满后才缴纳的费用不予认可，不会改变任何计数。"
         : "This notice corrects the monthly compliance announcement of " + PeriodWords(p, l) +
               " (made final on " + MomentWords(first.sealed_at, l) + "). " + N(arrived) +
               " records for the month were received after it was made final (late orders, "
               "contracts, contributions, cover or complaints); every one of them is counted, and "
               "they changed the verdict of the platform enterprises below. This is the month's "
               "correction " +
               N(r.number) + ", made on " + MomentWords(r.sealed_at, l) +
               ". A payment made after the grace never counts, so it changes no count."));
  Block changes;
  changes.kind = Block::kTable;
  changes.header =
      zh ? std::vector<std::string>{"平台企业", "维度", "更正前", "更正后", "终版后收到的记录"}
         : std::vector<std::string>{"Platform", "Dimension", "Before", "Now",
                                    "Records received after it was made final"};
  for (const RevisionChange& c : r.changes)
    changes.rows.push_back(
        {{PlatformName(in.platforms, l, c.platform_id)},
         {t.dimensions[static_cast<int>(c.dimension)]},
         {CellWords(t, l, c.from), c.from ? static_cast<int>(c.from->level) : -1},
         {CellWords(t, l, c.to), c.to ? static_cast<int>(c.to->level) : -1},
         {N(ArrivedAfterSealOf(*in.sealing, c.platform_id))}});
  s.blocks.push_back(std::move(changes));
  s.blocks.push_back(
      Link(zh ? "原公告保持发布时的原样：" : "The original announcement stays as published: ",
           MonthlyDocumentName(p, 0, format, l)));
  return s;
}

// Every revision of a sealed month, with what each changed.
Block RevisionsList(const MonthSealing& sealing, const PlatformRegistry* platforms, Lang l) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  std::vector<std::string> items;
  for (const Revision& r : sealing.revisions) {
    std::string item =
        r.number == 0
            ? (zh ? MomentWords(r.sealed_at, l) + "：首次确定为终版"
                  : MomentWords(r.sealed_at, l) + ": first made final")
            : (zh ? "第" + N(r.number) + "号更正，" + MomentWords(r.sealed_at, l) + "："
                  : "Correction " + N(r.number) + ", " + MomentWords(r.sealed_at, l) + ": ");
    for (size_t i = 0; i < r.changes.size(); ++i) {
      const RevisionChange& c = r.changes[i];
      item += (i == 0 ? "" : (zh ? "；" : "; ")) + PlatformName(platforms, l, c.platform_id) + " " +
              t.dimensions[static_cast<int>(c.dimension)] + (zh ? "由" : " from ") +
              CellWords(t, l, c.from) + (zh ? "改为" : " to ") + CellWords(t, l, c.to);
    }
    items.push_back(item + (zh ? "。" : "."));
  }
  return List(std::move(items));
}

Doc MonthlyDoc(const MonthlyInputs& in, Lang l, std::string_view format) {
  const Terms& t = TermsOf(l);
  const bool zh = l == Lang::kZh;
  const MonthEvaluation& m = *in.month;
  const MonthSealing* sealing =
      in.sealing && m.final && !in.sealing->revisions.empty() ? in.sealing : nullptr;
  const bool correction = sealing && in.correction && sealing->revisions.back().number > 0;
  Doc d;
  d.lang = l;
  d.title = std::string(t.monthly_title) + (zh ? "（" : ": ") + PeriodWords(m.period, l) +
            (zh ? "）" : "");
  if (correction)
    d.title = zh ? d.title + "第" + N(sealing->revisions.back().number) + "号更正"
                 : "Correction " + N(sealing->revisions.back().number) + " to the " + d.title;
  // The rule set's id and version are in the methodology, where a reader checks how the month was
  // judged; the status says only how far the month's figures can still move.
  d.status =
      (zh ? "状态：" : "Status: ") + std::string(m.final ? t.final_word : t.provisional_word);
  if (sealing && sealing->revisions.back().number > 0)
    d.status += zh ? "，经第" + N(sealing->revisions.back().number) + "号更正"
                   : ", as corrected by correction " + N(sealing->revisions.back().number);
  d.status += zh ? "。" : ".";
  if (correction) d.sections.push_back(CorrectionSection(in, l, format));

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
        {PlatformName(in.platforms, l, ps.platform_id)},
        {t.levels[static_cast<int>(ps.level)], static_cast<int>(ps.level)}};
    for (const DimensionScore& ds : ps.dimensions)
      row.push_back(ds.in_scope == 0
                        ? TableCell{zh ? "不适用" : "n/a"}
                        : TableCell{std::string(t.levels[static_cast<int>(ds.level)]) +
                                        (zh ? "（" : " (") + Percent(ds.affected, ds.in_scope) +
                                        (zh ? "）" : ")"),
                                    static_cast<int>(ds.level)});
    row.push_back({Change(t, l, ps, Find(in.previous, ps.platform_id), in.previous != nullptr)});
    table.rows.push_back(std::move(row));
  }
  if (ranked == 0) table.rows.push_back({{zh ? "（无）" : "(none)"}, {""}, {""}, {""}, {""}, {""}});
  d.sections.push_back({zh ? "纳入排名的平台企业" : "Ranked platforms", {table}});

  Section listed{zh ? "橙色、红色等级平台企业" : "Platforms at orange or red", {}};
  for (const PlatformScore* p : order) {
    const PlatformScore& ps = *p;
    if (ps.level < Level::kOrange) continue;
    listed.blocks.push_back(Subheading(PlatformNameAndCode(in.platforms, l, ps.platform_id) +
                                       (zh ? "：" : ": ") + t.levels[static_cast<int>(ps.level)]));
    std::vector<std::string> items;
    for (int dim = 0; dim < kDimensionCount; ++dim) {
      const DimensionScore& ds = ps.dimensions[dim];
      if (ds.affected == 0) continue;
      std::string item = std::string(t.dimensions[dim]) + (zh ? "：纳入核查" : ": ") +
                         N(ds.in_scope) + (zh ? "人月中" : " worker-months in scope, ") +
                         N(ds.affected) + (zh ? "人月存在问题（" : " affected (") +
                         Percent(ds.affected, ds.in_scope) + (zh ? "，" : ", ") +
                         t.levels[static_cast<int>(ds.level)] + (zh ? "）" : ")");
      // Each kind with its count and unit; the dispatch cap beside the kind it explains.
      std::string kinds;
      for (const auto& [kind, n] : ds.findings) {
        std::string words = Lookup(t.findings, kind) + (zh ? N(n) + "人月" : ": " + Unit(n));
        if (kind == "dispatch_over_cap")
          words += zh ? "（劳务派遣" + N(ps.dispatched) + "人月，上限为劳动关系人月的" +
                            NoTrailingZeros(in.rules->dispatch_cap, 4) + "%，即" +
                            N(ps.dispatch_cap) + "人月）"
                      : " (" + Unit(ps.dispatched) + " dispatched; the cap is " +
                            NoTrailingZeros(in.rules->dispatch_cap, 4) +
                            "% of labour-relation worker-months, " + N(ps.dispatch_cap) + ")";
        kinds += (kinds.empty() ? "" : (zh ? "；" : "; ")) + words;
      }
      if (!kinds.empty()) item += (zh ? "。其中：" : ". Of which: ") + kinds;
      items.push_back(item + (zh ? "。" : "."));
    }
    listed.blocks.push_back(List(std::move(items)));
    // Its trend over the months the state has before this one.
    std::vector<std::pair<Period, const PlatformScore*>> trend;
    for (const MonthEvaluation* before : in.history)
      if (const PlatformScore* b = Find(before, ps.platform_id))
        trend.emplace_back(before->period, b);
    trend.emplace_back(m.period, &ps);
    const std::string caption = PlatformName(in.platforms, l, ps.platform_id) +
                                (zh ? "：各月综合等级" : ": overall level by month");
    listed.blocks.push_back(Chart(TrendSvg(trend, t, caption), caption));
  }
  if (listed.blocks.empty()) listed.blocks.push_back(Paragraph(zh ? "无。" : "None."));
  d.sections.push_back(std::move(listed));

  Section warnings{zh ? "风险预警" : "Early warnings", {}};
  std::vector<std::string> items;
  if (in.warnings)
    for (const EarlyWarning& w : *in.warnings) {
      // In words: the detector, the figure and what was expected from which months. Its code,
      // version and score are in the JSON, for those who check it.
      const std::string window = PeriodRangeWords(w.window_from, w.window_to, l);
      if (zh)
        items.push_back(PlatformName(in.platforms, l, w.platform_id) + "：" +
                        Lookup(t.detectors, w.detector) + "，" + SeriesWords(t, l, w.series) +
                        "为" + WarningNumber(w.observed) + "，预期为" + WarningNumber(w.expected) +
                        "（考察期：" + window + "；把握程度：" +
                        (w.confidence == "high" ? "高" : "中") + "）。");
      else
        items.push_back(PlatformName(in.platforms, l, w.platform_id) + ": " +
                        Lookup(t.detectors, w.detector) + ": " + SeriesWords(t, l, w.series) + " " +
                        WarningNumber(w.observed) + " against " + WarningNumber(w.expected) +
                        " expected (months considered: " + window +
                        "; confidence: " + w.confidence + ").");
    }
  warnings.blocks.push_back(items.empty() ? Paragraph(zh ? "无。" : "None.") : List(items));
  d.sections.push_back(std::move(warnings));

  std::string unranked;
  for (const PlatformScore& ps : m.platforms)
    if (!ps.ranked)
      unranked += (unranked.empty() ? "" : (zh ? "、" : ", ")) +
                  PlatformName(in.platforms, l, ps.platform_id);
  d.sections.push_back({zh ? "未纳入排名" : "Not ranked",
                        {Paragraph(unranked.empty() ? (zh ? "无。" : "None.")
                                   : zh ? "纳入核查的劳动者不足" + N(in.rules->min_ranked_workers) +
                                              "人：" + unranked + "。"
                                        : "Fewer than " + N(in.rules->min_ranked_workers) +
                                              " workers in scope: " + unranked + ".")}});
  // Data quality: what the verdict stands on.
  int64_t wm = 0, orders = 0, payments = 0, late = 0, complaints = 0, rewritten = 0;
  Block quality;
  quality.kind = Block::kTable;
  quality.header = zh ? std::vector<std::string>{"平台企业",          "人月",         "订单",
                                                 "缴费记录",          "宽限期后缴费", "投诉",
                                                 "报送后被改动的记录"}
                      : std::vector<std::string>{"Platform",
                                                 "Worker-months",
                                                 "Orders",
                                                 "Contribution payments",
                                                 "Paid after the grace",
                                                 "Complaints",
                                                 "Resent with other content"};
  if (sealing) quality.header.push_back(zh ? "终版后收到的记录" : "Received after made final");
  if (in.rejected) quality.header.push_back(zh ? "不予采用的记录" : "Records not accepted");
  int64_t arrived = 0, rejected = 0;
  auto rejected_of = [&](const std::string& platform) -> int64_t {
    if (!in.rejected) return 0;
    auto it = in.rejected->by_platform.find(platform);
    return it == in.rejected->by_platform.end() ? 0 : it->second;
  };
  for (const PlatformScore& ps : m.platforms) {
    wm += ps.worker_months, orders += ps.orders, payments += ps.payments;
    late += ps.late_payments, complaints += ps.complaints, rewritten += ps.rewritten;
    quality.rows.push_back({{PlatformName(in.platforms, l, ps.platform_id)},
                            {N(ps.worker_months)},
                            {N(ps.orders)},
                            {N(ps.payments)},
                            {N(ps.late_payments)},
                            {N(ps.complaints)},
                            {N(ps.rewritten)}});
    if (sealing) {
      const int64_t n = ArrivedAfterSealOf(*sealing, ps.platform_id);
      arrived += n;
      quality.rows.back().push_back({N(n)});
    }
    if (in.rejected) quality.rows.back().push_back({N(rejected_of(ps.platform_id))});
  }
  // Platforms named only by rejected lines: every line of theirs was refused.
  if (in.rejected)
    for (const auto& [platform, n] : in.rejected->by_platform) {
      rejected += n;
      if (Find(&m, platform)) continue;
      std::vector<TableCell> row = {{PlatformName(in.platforms, l, platform)}};
      for (size_t c = 1; c + 1 < quality.header.size(); ++c) row.push_back({"0"});
      row.push_back({N(n)});
      quality.rows.push_back(std::move(row));
    }
  const std::string grace = N(in.rules->grace_days);
  d.sections.push_back(
      {zh ? "数据质量" : "Data quality",
       {Paragraph(
            (zh ? "本月：" + N(wm) + "人月，订单" + N(orders) + "单；相关缴费记录" + N(payments) +
                      "条，其中" + N(late) + "条在月末后" + grace + "日宽限期满后缴纳；投诉" +
                      N(complaints) +
                      "件。平台重复报送的同一记录只计一次，以首次收到的内容为准；同一记录编号再次"
                      "报送而内容不同（报送后被改动）的，本月共" +
                      N(rewritten) +
                      "条，按平台列于下表。不符合数据规范的记录不予采用，不计入任何月份，原因另行"
                      "告知报送平台" +
                      (in.rejected ? "；本月（按记录所载时间）不予采用" +
                                         N(rejected + in.rejected->unnamed) + "条，其中" +
                                         N(in.rejected->unnamed) +
                                         "条无法识别所属平台，其余按平台列于下表。"
                                   : std::string("。"))
                : "This month: " + N(wm) + " worker-months from " + N(orders) + " orders; " +
                      N(payments) + " contribution payments for them, " + N(late) +
                      " of which came after the " + grace + "-day grace; " + N(complaints) +
                      " complaints. A record a platform sends twice counts once, as first "
                      "received; " +
                      N(rewritten) +
                      " records were sent again under the same record number with other content "
                      "(changed after they were sent), shown per platform below. Records that do "
                      "not meet the data specification are not accepted and count in no month; "
                      "the platform is told why" +
                      (in.rejected ? "; " + N(rejected + in.rejected->unnamed) +
                                         " records of this month (by the time they give) were not "
                                         "accepted, " +
                                         N(in.rejected->unnamed) +
                                         " of them naming no platform that could be read, the "
                                         "others shown per platform below."
                                   : std::string("."))) +
            (!sealing ? std::string()
             : zh ? "该月结果确定为终版后，又收到" + N(arrived) + "条记录，均已计入。"
                  : " " + N(arrived) +
                        " records for the month were received after it was made final; all are "
                        "counted.")),
        quality}});
  std::vector<std::string> ids;
  for (const PlatformScore& ps : m.platforms) ids.push_back(ps.platform_id);
  if (in.rejected)
    for (const auto& [platform, n] : in.rejected->by_platform)
      if (!Find(&m, platform)) ids.push_back(platform);
  if (const std::string sentence = UnregisteredSentence(in.platforms, l, ids); !sentence.empty())
    d.sections.back().blocks.push_back(Paragraph(sentence));
  if (sealing)
    d.sections.push_back(
        {zh ? "修订记录" : "Revisions", {RevisionsList(*sealing, in.platforms, l)}});
  d.sections.push_back(
      {zh ? "核查方法" : "Methodology", {List(Methodology(*in.rules, m.period, l))}});
  d.masthead = Masthead(in.issuer, in.issue, l);
  if (std::vector<std::string> basis = BasisAndContact(in.issuer, l); !basis.empty()) {
    Section closing{zh ? "发布依据" : "Legal basis", {}};
    for (std::string& line : basis) closing.blocks.push_back(Paragraph(std::move(line)));
    d.sections.push_back(std::move(closing));
  }
  return d;
}

}  // namespace

std::string MonthlyMarkdown(const MonthlyInputs& in, Lang l) {
  return Markdown(MonthlyDoc(in, l, "md"));
}
std::string MonthlyHtml(const MonthlyInputs& in, Lang l) { return Html(MonthlyDoc(in, l, "html")); }

std::string MonthlyCsv(const MonthlyInputs& in, Lang l) {
  const bool zh = l == Lang::kZh;
  const Terms& t = TermsOf(l);
  const MonthEvaluation& m = *in.month;
  const MonthSealing* sealing =
      in.sealing && m.final && !in.sealing->revisions.empty() ? in.sealing : nullptr;
  // Chinese spreadsheets read a UTF-8 file as such only after a byte-order mark. The last three
  // columns say what the monitor sealed: the revision, the events after the seal, and for a cell
  // the latest revision changed, what it was before ("orange 14/64"; "absent").
  std::string s = zh ? "\xEF\xBB\xBF期间,是否终版,平台企业,是否纳入排名,综合等级,上月综合等级,维度,"
                       "纳入核查人月,存在问题人月,待定人月,问题比例,维度等级,修订版次,"
                       "封存后到达事件,修订前,平台企业名称,统一社会信用代码\r\n"
                     : "period,final,platform_id,ranked,level,previous_level,dimension,in_scope,"
                       "affected,pending,rate,dimension_level,revision,arrived_after_seal,"
                       "before_revision,platform_name,credit_code\r\n";
  auto yes = [&](bool b) { return std::string(zh ? (b ? "是" : "否") : (b ? "true" : "false")); };
  auto level = [&](Level v) {
    return zh ? std::string(t.levels[static_cast<int>(v)]) : std::string(NameOf(v));
  };
  const Revision* latest = sealing ? &sealing->revisions.back() : nullptr;
  for (const PlatformScore& ps : m.platforms) {
    const PlatformScore* before = Find(in.previous, ps.platform_id);
    for (int d = 0; d < kDimensionCount; ++d) {
      const DimensionScore& ds = ps.dimensions[d];
      s += FormatPeriod(m.period) + "," + yes(m.final) + "," + CsvCell(ps.platform_id) + "," +
           yes(ps.ranked) + "," + level(ps.level) + "," + (before ? level(before->level) : "") +
           "," + (zh ? std::string(t.dimensions[d]) : std::string(kDimensionNames[d])) + "," +
           N(ds.in_scope) + "," + N(ds.affected) + "," + N(ds.pending) + "," +
           RateText(ds.affected, ds.in_scope) + "," + level(ds.level) + ",";
      if (latest) {
        s += N(latest->number) + "," + N(ArrivedAfterSealOf(*sealing, ps.platform_id)) + ",";
        for (const RevisionChange& c : latest->changes)
          if (c.platform_id == ps.platform_id && static_cast<int>(c.dimension) == d)
            s += c.from
                     ? level(c.from->level) + " " + N(c.from->affected) + "/" + N(c.from->in_scope)
                     : std::string(zh ? "无" : "absent");
      } else {
        s += ",";
      }
      const PlatformInfo* info = in.platforms ? in.platforms->Find(ps.platform_id) : nullptr;
      s += "," + (info ? CsvCell(info->Name(l)) + "," + info->credit_code : std::string(","));
      s += "\r\n";
    }
  }
  return s;
}

}  // namespace flexwatch
