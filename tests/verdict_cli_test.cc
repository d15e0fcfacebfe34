// The monthly verdict through the real binary: gen -> replay -> announce against the generator's
// ground truth, determinism, evidence pseudonyms, selfcheck and inspect.
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "cli_helpers.h"
#include "flexwatch/core/digest.h"

namespace flexwatch {
namespace {

using namespace flexwatch::testing;
namespace dom = simdjson::dom;

constexpr const char* kDimensions[] = {"contract_avoidance", "underpayment", "coverage_mismatch"};

class VerdictCliTest : public TempDirTest {
 protected:
  void TearDown() override {
    unsetenv("FLEXWATCH_PSEUDONYM_KEY");
    unsetenv("TMPDIR");
    TempDirTest::TearDown();
  }
  CommandResult Run(const std::vector<std::string>& args, const std::string& stdin_path = "") {
    return Flexwatch(args, dir_, stdin_path.empty() ? "/dev/null" : stdin_path);
  }
  // gen into dir_/name.ndjson (and its truth), then replay into dir_/name-state.
  void GenAndReplay(const std::string& name, const std::vector<std::string>& gen_args) {
    std::vector<std::string> args = {"gen", "--truth", (dir_ / (name + ".truth.json")).string()};
    args.insert(args.end(), gen_args.begin(), gen_args.end());
    CommandResult g = Run(args);
    ASSERT_EQ(g.exit_code, 0) << g.err;
    WriteFile(dir_ / (name + ".ndjson"), g.out);
    CommandResult r = Run({"replay", "--state", (dir_ / (name + "-state")).string(),
                           (dir_ / (name + ".ndjson")).string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  dom::element Parse(const std::string& json) {
    docs_.emplace_back(std::make_unique<dom::parser>());
    auto doc = docs_.back()->parse(json);
    EXPECT_FALSE(doc.error()) << json.substr(0, 300);
    return doc.value_unsafe();
  }
  std::vector<std::unique_ptr<dom::parser>> docs_;
};

int64_t Int(dom::element e, const char* key) { return int64_t(e[key]); }
std::string Str(dom::element e, const char* key) { return std::string(std::string_view(e[key])); }

TEST_F(VerdictCliTest, EveryPlantedViolationIsFoundAtItsLevelWithItsCount) {
  GenAndReplay("feed", {"--workers", "1200", "--platforms", "10", "--months", "2", "--seed", "11"});
  dom::element truth = Parse(ReadFile(dir_ / "feed.truth.json"));
  std::map<std::string, dom::element> planted;
  for (dom::element p : truth["platform_list"].get_array()) planted[Str(p, "platform_id")] = p;
  std::set<std::string> periods;
  for (dom::element c : truth["cells"].get_array()) periods.insert(Str(c, "period"));
  ASSERT_EQ(periods.size(), 2u);
  std::map<std::pair<std::string, std::string>, dom::element> announced;
  for (const std::string& p : periods) {
    CommandResult a =
        Run({"announce", "--state", (dir_ / "feed-state").string(), "--month", p, "--final"});
    ASSERT_EQ(a.exit_code, 0) << a.err;
    dom::element doc = Parse(a.out);
    EXPECT_EQ(Str(doc, "kind"), "monthly");
    EXPECT_EQ(Str(doc, "period"), p);
    EXPECT_TRUE(bool(doc["final"]));
    EXPECT_EQ(Str(doc["rules"], "id"), "beijing");
    for (dom::element pl : doc["platforms"].get_array())
      announced.emplace(std::make_pair(Str(pl, "platform_id"), p), pl);
  }
  int planted_found = 0, honest = 0;
  for (dom::element cell : truth["cells"].get_array()) {
    const std::string platform = Str(cell, "platform_id"), period = Str(cell, "period");
    SCOPED_TRACE(platform + " " + period);
    auto it = announced.find({platform, period});
    ASSERT_NE(it, announced.end());
    dom::element a = it->second;
    EXPECT_EQ(Int(a, "worker_months"), Int(cell, "worker_months"));
    EXPECT_EQ(bool(a["ranked"]), bool(cell["ranked"]));
    EXPECT_EQ(Str(a, "level"), Str(cell, "level"));
    bool any_planted = false;
    for (const char* dim : kDimensions) {
      SCOPED_TRACE(dim);
      dom::element t = cell[dim], x = a["dimensions"][dim];
      EXPECT_EQ(Int(x, "in_scope"), Int(t, "in_scope"));
      EXPECT_EQ(Int(x, "affected"), Int(t, "affected"));
      EXPECT_EQ(Str(x, "level"), Str(t, "level"));
      EXPECT_EQ(Int(x, "pending"), 0);
      if (double(planted[platform]["planted"][dim]) > 0) {
        any_planted = true;
        if (Int(t, "affected") > 0) ++planted_found;
      }
    }
    // The breakdown by kind of fault matches the planted kinds.
    dom::element ua = a["dimensions"]["underpayment"]["findings"], ut = cell["underpayment"];
    for (const char* kind : {"missing_scheme", "underdeclared_base", "short_payment"}) {
      int64_t n = 0;
      if (auto v = ua[kind]; !v.error()) n = int64_t(v.value_unsafe());
      EXPECT_EQ(n, Int(ut, kind)) << kind;
    }
    dom::element cf = a["dimensions"]["coverage_mismatch"]["findings"];
    for (const char* kind : {"pilot_uncovered", "policy_inadequate"}) {
      int64_t n = 0;
      if (auto v = cf[kind]; !v.error()) n = int64_t(v.value_unsafe());
      EXPECT_EQ(n, Int(cell["coverage_mismatch"], kind)) << kind;
    }
    if (double(planted[platform]["planted"]["contract_avoidance"]) == 0 && !any_planted) {
      ++honest;
      EXPECT_EQ(Str(a, "level"), "green");
    }
  }
  EXPECT_GE(planted_found, 12);  // of 2 x 9 planted platform-dimensions, most have a finding
  EXPECT_GE(honest, 2 * 3);

  // The year: its lists follow from the truth's monthly levels.
  std::map<std::string, std::string> expected_list;
  std::map<std::string, std::vector<std::string>> levels;
  std::map<std::string, bool> always_ranked;
  for (dom::element cell : truth["cells"].get_array()) {
    const std::string platform = Str(cell, "platform_id");
    if (!always_ranked.count(platform)) always_ranked[platform] = true;
    always_ranked[platform] = always_ranked[platform] && bool(cell["ranked"]);
    if (bool(cell["ranked"])) levels[platform].push_back(Str(cell, "level"));
  }
  for (const auto& [platform, ranked] : always_ranked) {
    const auto& l = levels[platform];
    if (std::count(l.begin(), l.end(), "red")) {
      expected_list[platform] = "violation";
    } else if (std::count(l.begin(), l.end(), "yellow") ||
               std::count(l.begin(), l.end(), "orange")) {
      expected_list[platform] = "watch";
    } else if (ranked) {
      expected_list[platform] = "commendation";
    }
  }
  CommandResult year =
      Run({"announce", "--state", (dir_ / "feed-state").string(), "--year", "2024", "--final"});
  ASSERT_EQ(year.exit_code, 0) << year.err;
  dom::element annual = Parse(year.out);
  EXPECT_EQ(Str(annual, "kind"), "annual");
  EXPECT_EQ(Str(annual, "period"), "2024");
  std::map<std::string, std::string> listed;
  for (const char* list : {"commendation", "watch", "violation"})
    for (dom::element id : annual[list].get_array())
      listed[std::string(std::string_view(id))] = list;
  EXPECT_EQ(listed, expected_list);
  EXPECT_GT(listed.size(), 3u);
  for (dom::element p : annual["platforms"].get_array())
    EXPECT_EQ(dom::array(p["months"]).size(), 2u);
}

TEST_F(VerdictCliTest, AnnouncementsAreByteIdenticalWhateverTheArrivalOrder) {
  GenAndReplay("a", {"--workers", "300", "--platforms", "6", "--months", "2", "--seed", "5"});
  // The same lines shuffled, into a second state.
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(dir_ / "a.ndjson"));
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::shuffle(lines.begin(), lines.end(), std::mt19937(3));
  std::string shuffled;
  for (const std::string& l : lines) shuffled += l + "\n";
  WriteFile(dir_ / "b.ndjson", shuffled);
  ASSERT_EQ(Run({"replay", "--state", (dir_ / "b-state").string(), (dir_ / "b.ndjson").string()})
                .exit_code,
            0);
  setenv("FLEXWATCH_PSEUDONYM_KEY", "a-test-key-of-some-length", 1);
  for (const std::vector<std::string>& period : {std::vector<std::string>{"--month", "2024-07"},
                                                 {"--month", "2024-08", "--final"},
                                                 {"--year", "2024"}}) {
    std::vector<std::string> args_a = {"announce", "--state", (dir_ / "a-state").string()};
    args_a.insert(args_a.end(), period.begin(), period.end());
    std::vector<std::string> args_b = args_a;
    args_b[2] = (dir_ / "b-state").string();
    CommandResult a1 = Run(args_a), a2 = Run(args_a), b = Run(args_b);
    ASSERT_EQ(a1.exit_code, 0) << a1.err;
    EXPECT_EQ(a1.out, a2.out);
    EXPECT_EQ(a1.out, b.out);
    EXPECT_GT(a1.out.size(), 500u);
    // With --out: the announcement and every evidence file, byte for byte.
    args_a.insert(args_a.end(), {"--out", (dir_ / "out-a").string()});
    args_b.insert(args_b.end(), {"--out", (dir_ / "out-b").string()});
    ASSERT_EQ(Run(args_a).exit_code, 0);
    ASSERT_EQ(Run(args_b).exit_code, 0);
  }
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "out-a")) {
    if (!e.is_regular_file()) continue;
    ++files;
    const fs::path twin = dir_ / "out-b" / fs::relative(e.path(), dir_ / "out-a");
    EXPECT_EQ(ReadFile(e.path()), ReadFile(twin)) << e.path();
  }
  EXPECT_EQ(files, 2 + 1 + 2 * 6 * 3);  // two monthly, one annual, evidence for 2 x 6 x 3
}

TEST_F(VerdictCliTest, EvidenceNamesWorkersOnlyByKeyedPseudonyms) {
  GenAndReplay("f", {"--workers", "300", "--platforms", "6", "--months", "1", "--seed", "9"});
  const std::string state = (dir_ / "f-state").string(), out = (dir_ / "out").string();
  CommandResult no_key = Run({"announce", "--state", state, "--month", "2024-07", "--out", out});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_NE(no_key.err.find("FLEXWATCH_PSEUDONYM_KEY"), std::string::npos) << no_key.err;
  const std::string key = "0123456789abcdef-secret";
  setenv("FLEXWATCH_PSEUDONYM_KEY", key.c_str(), 1);
  CommandResult a =
      Run({"announce", "--state", state, "--month", "2024-07", "--final", "--out", out});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  std::set<std::string> expected;  // the pseudonyms of the feed's workers under this key
  for (int w = 1; w <= 300; ++w) {
    char id[16];
    std::snprintf(id, sizeof id, "w-%06d", w);
    expected.insert("w_" + Hex(HmacSha256(key, id)).substr(0, 32));
  }
  int rows = 0;
  for (const auto& e : fs::directory_iterator(fs::path(out) / "evidence" / "2024-07")) {
    const std::string text = ReadFile(e.path());
    EXPECT_EQ(text.find("\"w-0"), std::string::npos) << "a raw worker id in " << e.path();
    dom::element doc = Parse(text);
    EXPECT_EQ(Str(doc, "kind"), "evidence");
    EXPECT_EQ(Int(doc, "affected"), int64_t(dom::array(doc["worker_months"]).size()));
    for (dom::element row : doc["worker_months"].get_array()) {
      EXPECT_TRUE(expected.count(Str(row, "worker"))) << Str(row, "worker");
      EXPECT_GT(dom::array(row["findings"]).size(), 0u);
      ++rows;
    }
  }
  EXPECT_GT(rows, 10);
  const std::string announcement = ReadFile(fs::path(out) / "monthly-2024-07.json");
  EXPECT_EQ(announcement.find("\"w-0"), std::string::npos);
}

TEST_F(VerdictCliTest, AnnounceUsageErrorsExitTwoWithAMessage) {
  GenAndReplay("f", {"--workers", "50", "--platforms", "2", "--months", "1"});
  const std::string state = (dir_ / "f-state").string();
  WriteFile(dir_ / "no-rules.yaml", "ingest:\n  commit_every: 100\n");
  // A labour relation in a month past the shipped table of base limits.
  std::string late;
  for (int d = 1; d <= 8; ++d)
    late += "{\"type\":\"order\",\"event_id\":\"o" + std::to_string(d) + "\",\"ts\":\"2025-08-0" +
            std::to_string(d) +
            "T09:00:00+08:00\",\"platform_id\":\"p\",\"worker_id\":\"w\",\"sector\":\"other\","
            "\"duration_min\":900,\"earnings_cny\":10}\n";
  WriteFile(dir_ / "late.ndjson", late);
  ASSERT_EQ(
      Run({"replay", "--state", (dir_ / "late-state").string(), (dir_ / "late.ndjson").string()})
          .exit_code,
      0);
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"announce", "--state", state}, "give --month YYYY-MM or --year YYYY"},
      {{"announce", "--state", state, "--month", "2024-13"}, "--month 2024-13"},
      {{"announce", "--state", state, "--month", "2024-07", "--year", "2024"}, "excludes"},
      {{"announce", "--state", state, "--month", "2024-07", "--format", "pdf"}, "--format pdf"},
      {{"announce", "--state", state, "--month", "2024-07", "--lang", "fr"}, "--lang fr"},
      {{"announce", "--state", (dir_ / "nothing").string(), "--month", "2024-07"},
       "holds no flexwatch state"},
      {{"announce", "--state", (dir_ / "late-state").string(), "--month", "2025-08"},
       "no contribution base limits in force for 2025-08"},
      {{"--config", (dir_ / "no-rules.yaml").string(), "announce", "--state", state, "--month",
        "2024-07"},
       "has no `rules` section"},
  };
  for (const auto& [args, message] : cases) {
    CommandResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

// A small feed by hand: platform p-a, July 2024. `labor` workers with 120 h of food delivery, a
// labour contract, every contribution and premium paid.
std::string HonestFeed(int labor) {
  std::string s;
  int id = 0;
  auto head = [&](const char* type, const std::string& w, const std::string& ts) {
    return "{\"type\":\"" + std::string(type) + "\",\"event_id\":\"e" + std::to_string(++id) +
           "\",\"ts\":\"" + ts + "\",\"platform_id\":\"p-a\",\"worker_id\":\"" + w + "\"";
  };
  for (int w = 0; w < labor; ++w) {
    const std::string wid = "rider-" + std::to_string(w);
    s += head("contract", wid, "2024-06-20T09:00:00+08:00") +
         ",\"action\":\"signed\",\"form\":\"labor_contract\",\"counterparty_id\":\"p-a\"}\n";
    for (int d = 1; d <= 8; ++d)
      s += head("order", wid, "2024-07-0" + std::to_string(d) + "T20:00:00+08:00") +
           ",\"sector\":\"food_delivery\",\"duration_min\":900,\"earnings_cny\":1000}\n";
    const std::pair<const char*, const char*> paid[] = {
        {"pension", "1280"}, {"medical", "784"}, {"unemployment", "40"}, {"work_injury", "32"}};
    for (auto [scheme, amount] : paid)
      s += head("contribution", wid, "2024-08-10T10:00:00+08:00") +
           ",\"period\":\"2024-07\",\"scheme\":\"" + scheme +
           "\",\"payer\":\"employer\",\"base_cny\":8000,\"amount_cny\":" + amount + "}\n";
    s += head("contribution", wid, "2024-08-05T10:00:00+08:00") +
         ",\"period\":\"2024-07\",\"scheme\":\"occupational_injury\",\"payer\":\"platform\","
         "\"amount_cny\":0.8,\"orders_covered\":8}\n";
  }
  return s;
}

TEST_F(VerdictCliTest, SelfcheckPassesAnHonestFeedInAThrowawayState) {
  WriteFile(dir_ / "feed.ndjson", HonestFeed(3));
  fs::create_directories(dir_ / "tmp");
  setenv("TMPDIR", (dir_ / "tmp").c_str(), 1);
  CommandResult text = Run({"selfcheck", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("flexwatch selfcheck: PASSED"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("p-a"), std::string::npos);
  CommandResult json =
      Run({"selfcheck", "--format", "json", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(json.exit_code, 0);
  dom::element doc = Parse(json.out);
  EXPECT_TRUE(bool(doc["passed"]));
  EXPECT_EQ(Int(doc["input"], "accepted"), 3 * 14);
  EXPECT_EQ(Int(doc["input"], "rejected"), 0);
  dom::element platform = doc["months"].at(0)["platforms"].at(0);
  EXPECT_EQ(Str(platform, "level"), "green");
  EXPECT_EQ(Int(platform["dimensions"]["underpayment"], "in_scope"), 3);
  // Three workers: a real platform this small would not be ranked, and the report says so.
  EXPECT_EQ(Int(platform, "in_scope_workers"), 3);
  EXPECT_FALSE(bool(platform["would_be_ranked"]));
  EXPECT_NE(text.out.find("fewer than 20 workers in scope is not ranked in the regulator's "
                          "announcement"),
            std::string::npos)
      << text.out;
  // The throwaway state is gone, and no state was made anywhere else.
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(VerdictCliTest, APaymentAfterTheGraceIsReportedAsPaidLateEverywhereAndNeverCounts) {
  // rider-0's pension for July paid on September 20, after the grace (September 14 included).
  std::string feed = HonestFeed(3);
  std::vector<std::string> lines;
  std::istringstream in(feed);
  for (std::string l; std::getline(in, l);) {
    if (l.find("\"rider-0\"") != std::string::npos &&
        l.find("\"scheme\":\"pension\"") != std::string::npos)
      l.replace(l.find("2024-08-10T10:00:00+08:00"), 25, "2024-09-20T10:00:00+08:00");
    lines.push_back(l);
  }
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  WriteFile(dir_ / "feed.ndjson", text);
  const std::string state = (dir_ / "state").string();
  ASSERT_EQ(Run({"replay", "--state", state, (dir_ / "feed.ndjson").string()}).exit_code, 0);
  // The announcement: one affected worker-month, of kinds missing_scheme and paid_late.
  CommandResult a = Run({"announce", "--state", state, "--month", "2024-07", "--format", "json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  dom::element up = Parse(a.out)["platforms"].at(0)["dimensions"]["underpayment"];
  EXPECT_EQ(Int(up, "affected"), 1);
  EXPECT_EQ(Int(up["findings"], "paid_late"), 1);
  EXPECT_EQ(Int(up["findings"], "missing_scheme"), 1);
  // inspect: the scheme's status and the explanation.
  CommandResult i = Run({"inspect", "--state", state, "--platform", "p-a", "--worker", "rider-0",
                         "--month", "2024-07"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("\"status\": \"paid_late\""), std::string::npos) << i.out;
  EXPECT_NE(i.out.find("is late and does not count"), std::string::npos) << i.out;
  // The evidence.
  setenv("FLEXWATCH_PSEUDONYM_KEY", "0123456789abcdef-secret", 1);
  const fs::path out = dir_ / "out";
  ASSERT_EQ(
      Run({"announce", "--state", state, "--month", "2024-07", "--out", out.string()}).exit_code,
      0);
  std::string evidence;
  for (const auto& e : fs::directory_iterator(out / "evidence" / "2024-07"))
    evidence += ReadFile(e.path());
  EXPECT_NE(evidence.find("\"paid_late\""), std::string::npos) << evidence;
  // The self-check, text and JSON: a finding, exit 1.
  CommandResult t = Run({"selfcheck", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(t.exit_code, 1) << t.out << t.err;
  EXPECT_NE(t.out.find("paid_late 1"), std::string::npos) << t.out;
  CommandResult j =
      Run({"selfcheck", "--format", "json", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_NE(j.out.find("\"paid_late\""), std::string::npos) << j.out;
}

TEST_F(VerdictCliTest, SelfcheckReportsBadLinesAndFindingsAndExitsOne) {
  std::string feed = HonestFeed(2);
  // Line 3 loses its worker_id; a line of another platform; one worker without a contract.
  std::vector<std::string> lines;
  std::istringstream in(feed);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  lines[2].replace(lines[2].find(",\"worker_id\":\"rider-0\""), 22, "");
  lines.push_back(
      "{\"type\":\"complaint\",\"event_id\":\"x1\",\"ts\":\"2024-07-05T10:00:00+08:00\","
      "\"platform_id\":\"p-other\",\"category\":\"other\"}");
  for (int d = 1; d <= 8; ++d)
    lines.push_back("{\"type\":\"order\",\"event_id\":\"n" + std::to_string(d) +
                    "\",\"ts\":\"2024-07-1" + std::to_string(d) +
                    "T09:00:00+08:00\",\"platform_id\":\"p-a\",\"worker_id\":\"rider-new\","
                    "\"sector\":\"live_streaming\",\"duration_min\":900,\"earnings_cny\":10}");
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  WriteFile(dir_ / "feed.ndjson", text);
  CommandResult r = Run({"selfcheck", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED"), std::string::npos);
  EXPECT_NE(r.out.find("feed.ndjson:3: missing_field (worker_id)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":" + std::to_string(lines.size() - 8) + ": foreign_platform"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rider-new: labor_relation (120.0 h): no contract in force"),
            std::string::npos)
      << r.out;
  CommandResult j = Run({"selfcheck", "--format", "json", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(j.exit_code, 1);
  dom::element doc = Parse(j.out);
  EXPECT_FALSE(bool(doc["passed"]));
  EXPECT_EQ(Int(doc["rejections"].at(0), "line"), 3);
  EXPECT_EQ(Str(doc["rejections"].at(0), "reason_code"), "missing_field");
}

// A line with three mistakes is reported with three, in the text and the JSON; in Chinese too.
TEST_F(VerdictCliTest, SelfcheckTellsEveryMistakeOfALineInEitherLanguage) {
  std::string feed = HonestFeed(1);
  feed +=
      "{\"type\":\"order\",\"event_id\":\"bad-1\",\"ts\":\"2024-07-09T09:00:00+08:00\","
      "\"platform_id\":\"p-a\",\"worker_id\":\"rider-0\",\"sector\":\"bike\","
      "\"duration_min\":-3,\"earnings_cny\":\"9.5\"}\n";
  WriteFile(dir_ / "feed.ndjson", feed);
  const int line = static_cast<int>(std::count(feed.begin(), feed.end(), '\n'));
  const std::string at = "feed.ndjson:" + std::to_string(line) + ": ";
  CommandResult en = Run({"selfcheck", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(en.exit_code, 1) << en.err;
  for (const std::string& told :
       {at + "unknown_enum (sector): field 'sector': unknown value \"bike\"",
        at + "out_of_range (duration_min): field 'duration_min': -3 is out of range",
        at + "wrong_type (earnings_cny): field 'earnings_cny': expected a number, got string"})
    EXPECT_NE(en.out.find(told), std::string::npos) << told << "\n" << en.out;
  EXPECT_NE(en.out.find("input: " + std::to_string(line) + " lines, " + std::to_string(line - 1) +
                        " accepted, 0 duplicates"),
            std::string::npos)
      << en.out;
  CommandResult j = Run({"selfcheck", "--format", "json", (dir_ / "feed.ndjson").string()});
  dom::element doc = Parse(j.out);
  dom::element rejection = doc["rejections"].at(0);
  EXPECT_EQ(Str(rejection, "reason_code"), "unknown_enum");
  dom::array errors = rejection["errors"];
  ASSERT_EQ(errors.size(), 3u) << j.out;
  std::vector<std::string> codes, fields;
  for (dom::element e : errors) {
    codes.push_back(Str(e, "reason_code"));
    fields.push_back(Str(e, "field"));
  }
  EXPECT_EQ(codes, (std::vector<std::string>{"unknown_enum", "out_of_range", "wrong_type"}));
  EXPECT_EQ(fields, (std::vector<std::string>{"sector", "duration_min", "earnings_cny"}));
  EXPECT_EQ(Int(doc["input"], "rejected"), 1);
  // One worker: every dimension rests on fewer worker-months than the announcement ranks on.
  dom::element contract =
      doc["months"].at(0)["platforms"].at(0)["dimensions"]["contract_avoidance"];
  EXPECT_TRUE(bool(contract["few_in_scope"])) << j.out;
  EXPECT_NE(en.out.find("0/1 0.0% green *"), std::string::npos) << en.out;
  EXPECT_NE(en.out.find("\n* the dimension rests on fewer than 20 worker-months in scope"),
            std::string::npos)
      << en.out;
  // In Chinese: the classes in words, each said once, and the verdict in the announcement's terms.
  CommandResult zh =
      Run({"selfcheck", "--lang", "zh", "--platform", "p-a", (dir_ / "feed.ndjson").string()});
  EXPECT_EQ(zh.exit_code, 1);
  for (const std::string& told :
       {std::string("flexwatch selfcheck：未通过"), at + "取值不在规定的范围内（unknown_enum）：",
        at + "数值超出合理范围（out_of_range）：", at + "字段类型错误（wrong_type）：",
        std::string("规避订立劳动合同 0/1（0.0%），绿色 *"),
        std::string("* 该维度纳入核查的人月少于 20 个"), std::string("结论：部分数据行无效；")})
    EXPECT_NE(zh.out.find(told), std::string::npos) << told << "\n" << zh.out;
  EXPECT_EQ(Run({"selfcheck", "--lang", "fr", (dir_ / "feed.ndjson").string()}).exit_code, 2);
}

TEST_F(VerdictCliTest, SelfcheckUsageErrorsExitTwo) {
  EXPECT_EQ(Run({"selfcheck"}).exit_code, 2);
  EXPECT_EQ(Run({"selfcheck", (dir_ / "missing.ndjson").string()}).exit_code, 2);
  WriteFile(dir_ / "f.ndjson", HonestFeed(1));
  EXPECT_EQ(Run({"selfcheck", "--format", "xml", (dir_ / "f.ndjson").string()}).exit_code, 2);
  EXPECT_EQ(Run({"selfcheck", "--platform", "bad id", (dir_ / "f.ndjson").string()}).exit_code, 2);
}

TEST_F(VerdictCliTest, InspectExplainsAWorkerMonth) {
  WriteFile(dir_ / "feed.ndjson", HonestFeed(1));
  ASSERT_EQ(
      Run({"replay", "--state", (dir_ / "s").string(), (dir_ / "feed.ndjson").string()}).exit_code,
      0);
  CommandResult r = Run({"inspect", "--state", (dir_ / "s").string(), "--platform", "p-a",
                         "--worker", "rider-0", "--month", "2024-07"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  dom::element doc = Parse(r.out);
  dom::element v = doc["worker_months"].at(0)["verdict"];
  EXPECT_EQ(Str(v, "tier"), "labor_relation");
  EXPECT_EQ(Str(v, "tier_rule"), "more than 104.0 h");
  EXPECT_FALSE(bool(v["final"]));  // the grace of July has not passed in event time
  dom::element up = v["dimensions"]["underpayment"];
  EXPECT_EQ(Str(up, "outcome"), "compliant");
  EXPECT_EQ(double(up["required_base_cny"]), 8000.0);
  EXPECT_EQ(Str(up["schemes"].at(0), "status"), "paid");
  EXPECT_EQ(Str(v["dimensions"]["coverage_mismatch"], "outcome"), "compliant");
  EXPECT_TRUE(bool(v["dimensions"]["coverage_mismatch"]["exempt"]));
}

// The inspector's path (cli.md 1.1): from the announcement's platform and dimension to the list
// of affected worker-months (as many as the announcement counts, each kind of fault as often as it
// says, the evidence file's pseudonyms), from a pseudonym to the worker behind it, and to the
// worker-month's verdict, whose explanation is the list's reason, in English and in Chinese.
TEST_F(VerdictCliTest, AnInspectorFollowsAnAnnouncementToTheWorkersBehindIt) {
  GenAndReplay("f", {"--workers", "300", "--platforms", "6", "--months", "1", "--seed", "9"});
  const std::string state = (dir_ / "f-state").string(), out = (dir_ / "out").string();
  setenv("FLEXWATCH_PSEUDONYM_KEY", "0123456789abcdef-secret", 1);
  ASSERT_EQ(
      Run({"announce", "--state", state, "--month", "2024-07", "--final", "--out", out}).exit_code,
      0);
  dom::element announcement = Parse(ReadFile(fs::path(out) / "monthly-2024-07.json"));
  int listed = 0, followed = 0;
  for (dom::element platform : announcement["platforms"].get_array()) {
    const std::string id = Str(platform, "platform_id");
    for (const char* dimension : kDimensions) {
      SCOPED_TRACE(id + " " + dimension);
      dom::element counted = platform["dimensions"][dimension];
      CommandResult r = Run({"inspect", "--state", state, "--platform", id, "--month", "2024-07",
                             "--dimension", dimension, "--final"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      dom::element list = Parse(r.out);
      for (const char* key : {"in_scope", "affected"}) EXPECT_EQ(Int(list, key), Int(counted, key));
      EXPECT_EQ(Str(list, "level"), Str(counted, "level"));
      EXPECT_EQ(bool(list["ranked"]), bool(platform["ranked"]));
      std::map<std::string, int64_t> kinds;  // each kind of fault, counted over the list
      std::set<std::string> pseudonyms;
      for (dom::element row : list["worker_months"].get_array()) {
        for (dom::element kind : row["findings"].get_array())
          ++kinds[std::string(std::string_view(kind))];
        pseudonyms.insert(Str(row, "pseudonym"));
        EXPECT_FALSE(Str(row, "reason").empty()) << simdjson::minify(row);
        ++listed;
      }
      EXPECT_EQ(int64_t(dom::array(list["worker_months"]).size()), Int(counted, "affected"));
      std::map<std::string, int64_t> said;
      for (dom::key_value_pair kv : dom::object(list["findings"]))
        said[std::string(kv.key)] = int64_t(kv.value);
      EXPECT_EQ(kinds, said);
      // The evidence file names the same worker-months, by the same pseudonyms.
      dom::element evidence = Parse(
          ReadFile(fs::path(out) / "evidence" / "2024-07" / (id + "." + dimension + ".json")));
      std::set<std::string> in_evidence;
      for (dom::element row : evidence["worker_months"].get_array())
        in_evidence.insert(Str(row, "worker"));
      EXPECT_EQ(pseudonyms, in_evidence);
      if (dom::array(list["worker_months"]).size() == 0) continue;
      // The first one's pseudonym back to its worker, and its verdict, in both languages.
      dom::element first = list["worker_months"].at(0);
      CommandResult who = Run({"inspect", "--state", state, "--pseudonym", Str(first, "pseudonym"),
                               "--month", "2024-07"});
      ASSERT_EQ(who.exit_code, 0) << who.err;
      dom::element found = Parse(who.out);
      EXPECT_EQ(Str(found, "worker_id"), Str(first, "worker_id"));
      EXPECT_EQ(Str(found, "pseudonym"), Str(first, "pseudonym"));
      for (const char* lang : {"en", "zh"}) {
        CommandResult listed_in =
            Run({"inspect", "--state", state, "--platform", id, "--month", "2024-07", "--dimension",
                 dimension, "--final", "--lang", lang});
        ASSERT_EQ(listed_in.exit_code, 0) << listed_in.err;
        const std::string reason = Str(Parse(listed_in.out)["worker_months"].at(0), "reason");
        CommandResult verdict =
            Run({"inspect", "--state", state, "--platform", id, "--worker", Str(first, "worker_id"),
                 "--month", "2024-07", "--final", "--lang", lang});
        ASSERT_EQ(verdict.exit_code, 0) << verdict.err;
        dom::element v = Parse(verdict.out)["worker_months"].at(0)["verdict"];
        EXPECT_EQ(Str(v["dimensions"][dimension], "outcome"), "affected");
        EXPECT_EQ(Str(v["dimensions"][dimension], "explanation"), reason);
        // Chinese words in the Chinese reason, none in the English one.
        const bool cjk =
            reason.find("\xe3") != std::string::npos || reason.find("\xe4") != std::string::npos ||
            reason.find("\xe5") != std::string::npos || reason.find("\xe6") != std::string::npos;
        EXPECT_EQ(cjk, std::string(lang) == "zh") << reason;
      }
      ++followed;
    }
  }
  EXPECT_GT(listed, 10);
  EXPECT_GE(followed, 3);
  // A pseudonym is resolved only with the key it was made with: refused without one, and not
  // found under another.
  CommandResult listing = Run({"inspect", "--state", state, "--platform", "p-ride-2", "--month",
                               "2024-07", "--dimension", "contract_avoidance", "--final"});
  const std::string pseudonym = Str(Parse(listing.out)["worker_months"].at(0), "pseudonym");
  setenv("FLEXWATCH_PSEUDONYM_KEY", "another-key-0123456789", 1);
  CommandResult other = Run({"inspect", "--state", state, "--pseudonym", pseudonym});
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("no worker"), std::string::npos) << other.err;
  unsetenv("FLEXWATCH_PSEUDONYM_KEY");
  CommandResult none = Run({"inspect", "--state", state, "--pseudonym", pseudonym});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("FLEXWATCH_PSEUDONYM_KEY"), std::string::npos) << none.err;
  EXPECT_EQ(Run({"inspect", "--state", state, "--pseudonym", "w_xyz"}).exit_code, 2);
  EXPECT_EQ(Run({"inspect", "--state", state, "--platform", "p-ride-2", "--month", "2024-07",
                 "--dimension", "contracts"})
                .exit_code,
            2);
  EXPECT_EQ(Run({"inspect", "--state", state, "--dimension", "underpayment"}).exit_code, 2);
}

// The platform registry: a registered platform is named by its registered name and credit code
// in every format and language, and one missing from the registry by its id, listed as
// unregistered in the data-quality section and the JSON.
TEST_F(VerdictCliTest, AnnouncementsNameRegisteredPlatformsAndListTheOthers) {
  GenAndReplay("f", {"--workers", "300", "--platforms", "6", "--months", "1", "--seed", "9"});
  const std::string config =
      WriteConfig(dir_ / "one.yaml",
                  {{"platforms",
                    "[{id: p-ride-2, name_zh: 甲出行平台有限公司, name_en: \"Jia Mobility Co., "
                    "Ltd.\", credit_code: 91110000EXAMPLE02M, sector: ride_hailing}]"}});
  const std::string state = (dir_ / "f-state").string();
  auto announce = [&](const std::string& format, const std::string& lang) {
    CommandResult r = Run({"--config", config, "announce", "--state", state, "--month", "2024-07",
                           "--final", "--format", format, "--lang", lang});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string zh = announce("md", "zh"), en = announce("md", "en");
  EXPECT_NE(zh.find("| 甲出行平台有限公司 |"), std::string::npos) << zh;
  EXPECT_NE(zh.find("### 甲出行平台有限公司（统一社会信用代码：91110000EXAMPLE02M）"),
            std::string::npos)
      << zh;
  EXPECT_NE(en.find("| Jia Mobility Co., Ltd. |"), std::string::npos) << en;
  EXPECT_EQ(zh.find("p-ride-2"), std::string::npos) << "a registered platform named by its id";
  EXPECT_NE(zh.find("| p-meal-1 |"), std::string::npos) << zh;
  EXPECT_NE(zh.find("未在平台企业名录中登记的平台（以平台编号列示）：p-dash-4、p-express-3、"
                    "p-freight-6、p-home-5、p-meal-1"),
            std::string::npos)
      << zh;
  EXPECT_NE(en.find("Not in the platform register (named by their platform ids): p-dash-4, "),
            std::string::npos)
      << en;
  dom::element json = Parse(announce("json", "en"));
  for (dom::element p : json["platforms"].get_array()) {
    const bool ride = Str(p, "platform_id") == "p-ride-2";
    EXPECT_EQ(p["credit_code"].error() == simdjson::SUCCESS, ride) << Str(p, "platform_id");
    if (ride) {
      EXPECT_EQ(Str(p, "name_en"), "Jia Mobility Co., Ltd.");
    }
  }
  EXPECT_EQ(dom::array(json["unregistered"]).size(), 5u);
  const std::string csv = announce("csv", "en");
  EXPECT_NE(csv.find(",platform_name,credit_code\r\n"), std::string::npos);
  EXPECT_NE(csv.find(",\"Jia Mobility Co., Ltd.\",91110000EXAMPLE02M\r\n"), std::string::npos)
      << csv;
}

}  // namespace
}  // namespace flexwatch
