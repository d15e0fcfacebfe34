#include "document.h"

#include <regex>

namespace flexwatch::render_detail {

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
Block Chart(std::string svg, std::string caption) {
  Block b;
  b.kind = Block::kChart;
  b.text = std::move(svg);
  b.caption = std::move(caption);
  return b;
}

Block Link(std::string text, std::string href) {
  Block b;
  b.kind = Block::kLink;
  b.text = std::move(text);
  b.href = std::move(href);
  return b;
}

std::string Markdown(const Doc& d) {
  std::string s = "# " + d.title + "\n\n";
  for (const std::string& line : d.masthead) s += line + "  \n";
  if (!d.masthead.empty()) s += "\n";
  s += d.status + "\n";
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
        case Block::kLink:
          s += b.text + "[" + b.href + "](" + b.href + ")\n";
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
p.masthead { margin: 0.1rem 0; font-weight: 600; }
.table { overflow-x: auto; }
.scroll-hint { display: none; font-size: 0.85rem; color: var(--muted); margin: 0.2rem 0; }
.nobr { white-space: nowrap; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid var(--rule); padding: 0.3rem 0.5rem; text-align: left;
  vertical-align: top; white-space: nowrap; }
th { background: #f3f3f3; white-space: normal; min-width: 4em; }
td:first-child { white-space: normal; min-width: 9em; }
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
@media (max-width: 36rem) { body { font-size: 15px; } th, td { padding: 0.25rem 0.35rem; }
  th { white-space: nowrap; min-width: 0; } td:first-child { min-width: 7em; }
  h1 { font-size: 1.35rem; } .scroll-hint { display: block; } }
)";

// A Chinese date or span of months ("2024年9月", "2024年9月30日", "2024年度", "7月至9月",
// "3个月") kept on one line: a title breaks between words, never inside one.
std::string KeepDatesWhole(const std::string& html) {
  static const std::regex kDate(
      "([0-9]{4}年(?:度|[0-9]{1,2}月(?:[0-9]{1,2}日)?)|[0-9]{1,2}月至[0-9]{1,2}月|[0-9]+个月)");
  return std::regex_replace(html, kDate, "<span class=\"nobr\">$1</span>");
}

std::string Html(const Doc& d) {
  const bool zh = d.lang == Lang::kZh;
  std::string s = std::string("<!DOCTYPE html>\n<html lang=\"") + (zh ? "zh-CN" : "en") +
                  "\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                  "content=\"width=device-width, initial-scale=1\">\n<title>" +
                  Escape(d.title) + "</title>\n<style>" + kStyle +
                  "</style>\n</head>\n<body>\n<main>\n<h1>" + KeepDatesWhole(Escape(d.title)) +
                  "</h1>\n";
  for (const std::string& line : d.masthead)
    s += "<p class=\"masthead\">" + Escape(line) + "</p>\n";
  s += "<p class=\"status\">" + Escape(d.status) + "</p>\n";
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
        case Block::kLink:
          s += "<p>" + Escape(b.text) + "<a href=\"" + Escape(b.href) + "\">" + Escape(b.href) +
               "</a></p>\n";
          break;
        case Block::kList:
          s += "<ul>\n";
          for (const std::string& item : b.items) s += "<li>" + Escape(item) + "</li>\n";
          s += "</ul>\n";
          break;
        case Block::kTable:
          // On a narrow screen the table scrolls sideways, and says so; the scrolling region
          // takes the keyboard's focus.
          s += std::string("<p class=\"scroll-hint\">") +
               (zh ? "表格较宽，可左右滑动查看。"
                   : "This table is wider than the screen: scroll it sideways.") +
               "</p>\n<div class=\"table\" tabindex=\"0\" role=\"region\" aria-label=\"" +
               Escape(sec.heading) + "\"><table>\n<thead><tr>";
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
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 340 136\" role=\"img\" "
      "width=\"340\" height=\"136\"><title>" +
      Escape(title) + "</title>";
  // Sized to be read as it is on a phone (at most 340 px wide: never scaled down there).
  for (int i = 0; i < 4; ++i) {
    const int y = 6 + i * 32, w = counts[i] * 210 / most;
    s += "<text x=\"0\" y=\"" + std::to_string(y + 18) + "\" font-size=\"15\">" +
         Escape(t.levels[i]) + "</text><rect x=\"72\" y=\"" + std::to_string(y) + "\" width=\"" +
         std::to_string(std::max(w, 1)) + "\" height=\"24\" fill=\"" + kLevelColours[i] +
         "\"/><text x=\"" + std::to_string(80 + w) + "\" y=\"" + std::to_string(y + 18) +
         "\" font-size=\"15\">" + std::to_string(counts[i]) + "</text>";
  }
  return s + "</svg>";
}

// A platform's overall level month by month: a point per month, its colour and height the level.
std::string TrendSvg(const std::vector<std::pair<Period, const PlatformScore*>>& months,
                     const Terms& t, const std::string& title) {
  // Sized to be read as it is on a phone: a year of months fits in 340 px, so it is never scaled
  // down there; the labels are 14 px.
  const int n = static_cast<int>(months.size());
  const int step = n <= 6 ? 40 : 22;
  const int width = 76 + std::max(n, 1) * step;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                  std::to_string(width) + " 132\" role=\"img\" width=\"" + std::to_string(width) +
                  "\" height=\"132\"><title>" + Escape(title) + "</title>";
  for (int lv = 0; lv < 4; ++lv)
    s += "<text x=\"0\" y=\"" + std::to_string(98 - lv * 26) +
         "\" font-size=\"14\" fill=\"#444\">" + Escape(t.levels[lv]) +
         "</text><line x1=\"58\" x2=\"" + std::to_string(width) + "\" y1=\"" +
         std::to_string(93 - lv * 26) + "\" y2=\"" + std::to_string(93 - lv * 26) +
         "\" stroke=\"#e0e0e0\"/>";
  std::string path;
  for (int i = 0; i < n; ++i) {
    const auto& [p, ps] = months[static_cast<size_t>(i)];
    const int x = 76 + i * step, y = 93 - static_cast<int>(ps->level) * 26;
    path += (i ? " L" : "M") + std::to_string(x) + " " + std::to_string(y);
    s += "<circle cx=\"" + std::to_string(x) + "\" cy=\"" + std::to_string(y) +
         "\" r=\"6\" fill=\"" + kLevelColours[static_cast<int>(ps->level)] + "\"/><text x=\"" +
         std::to_string(x) + "\" y=\"124\" font-size=\"14\" " + "text-anchor=\"middle\">" +
         std::to_string(PeriodMonth(p)) + "</text>";
  }
  if (n > 1) s += "<path d=\"" + path + "\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.5\"/>";
  return s + "</svg>";
}

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

}  // namespace flexwatch::render_detail
