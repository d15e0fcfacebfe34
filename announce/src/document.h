// A publication as a document, whatever its language: sections of paragraphs, lists, tables and
// charts, written out as Markdown (charts left out) or as a self-contained HTML page (inline CSS
// and SVG), and the cells of the CSV files. Internal to announce/.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "terms.h"

namespace flexwatch::render_detail {

struct TableCell {
  std::string text;
  int level = -1;  // >= 0: a level's colour in HTML
};
struct Block {
  enum Kind { kParagraph, kList, kTable, kChart, kSubheading, kLink } kind = kParagraph;
  std::string text;  // paragraph, subheading, link; chart: the SVG
  std::string href;  // link: a file beside the document
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
  // Lines under the title: the issuing authority, the document number and the date of issue.
  std::vector<std::string> masthead;
  std::string status;
  std::vector<Section> sections;
};

Block Paragraph(std::string text);
Block List(std::vector<std::string> items);
Block Subheading(std::string text);
Block Chart(std::string svg, std::string caption = {});
// A paragraph that is a link: `text`, then the link to `href`.
Block Link(std::string text, std::string href);

std::string Markdown(const Doc& d);
// HTML-escaped text.
std::string Escape(std::string_view text);
// Green, yellow, orange, red.
inline constexpr const char* kLevelColours[] = {"#2e7d32", "#f9a825", "#ef6c00", "#c62828"};
std::string Html(const Doc& d);

// Horizontal bars: how many platforms at each level.
std::string DistributionSvg(const std::array<int, 4>& counts, const Terms& t,
                            const std::string& title);
// A platform's overall level month by month: a point per month, its colour and height the level.
std::string TrendSvg(const std::vector<std::pair<Period, const PlatformScore*>>& months,
                     const Terms& t, const std::string& title);

// A CSV cell from the data (a platform id): quoted when it holds a separator, a quote or a line
// break, and led by an apostrophe when it starts as a spreadsheet formula would (=, +, -, @, a
// tab or a carriage return), as OWASP advises against formula injection.
std::string CsvCell(std::string_view v);

}  // namespace flexwatch::render_detail
