// The publications against golden files: a small fixed state (a generated feed with a fixed
// seed) announced in each format and language, compared byte for byte with the files in
// tests/golden/, which were reviewed by eye. After a deliberate change of the wording or the
// generator, rewrite them with FLEXWATCH_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <tuple>

#include "cli_helpers.h"
#include "flexwatch/alerts/alerts.h"
#include "flexwatch/announce/publish.h"
#include "flexwatch/rules/revisions.h"
#include "flexwatch/settings/config.h"
#include "flexwatch/state/meta_keys.h"

namespace flexwatch::testing {
namespace {

class PublicationTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    setenv("FLEXWATCH_PSEUDONYM_KEY", "a-test-key-of-some-length", 1);
    // 160 workers on 4 platforms, July to December 2024, a falling premium at p-meal-1 from
    // December: levels of every colour, an unranked platform and an early warning.
    const int rc = Wait(Spawn({"gen", "--workers", "160", "--platforms", "4", "--months", "6",
                               "--seed", "12", "--drift", "premium:1:2024-12"},
                              dir_, "/dev/null", "gen-"));
    ASSERT_EQ(rc, 0) << ReadFile(dir_ / "gen-stderr");
    CommandResult r = Flexwatch(
        {"replay", "--state", (dir_ / "state").string(), (dir_ / "gen-stdout").string()}, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static fs::path Golden(const std::string& name) {
    return fs::path(FLEXWATCH_SOURCE_DIR) / "tests" / "golden" / name;
  }
};

TEST_F(PublicationTest, EachFormatAndLanguageMatchesItsGoldenFile) {
  const bool update = std::getenv("FLEXWATCH_UPDATE_GOLDEN") != nullptr;
  for (const char* lang : {"en", "zh"})
    for (const auto& [flag, period, stem] : {std::tuple<std::string, std::string, std::string>{
                                                 "--month", "2024-12", "monthly-2024-12"},
                                             {"--year", "2024", "annual-2024"}}) {
      const fs::path out = dir_ / lang;
      CommandResult r =
          Flexwatch({"announce", "--state", (dir_ / "state").string(), flag, period, "--final",
                     "--format", "all", "--lang", lang, "--out", out.string()},
                    dir_);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      for (const std::string& name : {stem + ".json", stem + "." + lang + ".md",
                                      stem + "." + lang + ".html", stem + "." + lang + ".csv"}) {
        const std::string got = ReadFile(out / name);
        ASSERT_FALSE(got.empty()) << name;
        if (update) {
          WriteFile(Golden(name), got);
          continue;
        }
        ASSERT_TRUE(fs::exists(Golden(name))) << name;
        EXPECT_EQ(got, ReadFile(Golden(name))) << name << " differs from tests/golden/" << name;
        // A single format to stdout is the same bytes.
        const std::string format = name.substr(name.rfind('.') + 1);
        CommandResult one = Flexwatch({"announce", "--state", (dir_ / "state").string(), flag,
                                       period, "--final", "--format", format, "--lang", lang},
                                      dir_);
        ASSERT_EQ(one.exit_code, 0) << one.err;
        EXPECT_EQ(one.out, got) << name;
      }
    }
}

// Whether `id` stands in `text` as a whole id (not inside a longer run of id characters, as
// "w-x" is inside "overflow-x").
bool Names(const std::string& text, const std::string& id) {
  auto id_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("._:-", c) != nullptr;
  };
  for (size_t at = text.find(id); at != std::string::npos; at = text.find(id, at + 1)) {
    const bool starts = at == 0 || !id_char(text[at - 1]);
    const bool ends = at + id.size() == text.size() || !id_char(text[at + id.size()]);
    if (starts && ends) return true;
  }
  return false;
}

TEST_F(PublicationTest, NoOutputNamesAWorker) {
  // Every worker id of the feed, and every file written: none names one.
  std::set<std::string> workers;
  const std::string feed = ReadFile(dir_ / "gen-stdout");
  const std::regex id("\"worker_id\":\"([A-Za-z0-9._:-]+)\"");
  for (auto it = std::sregex_iterator(feed.begin(), feed.end(), id); it != std::sregex_iterator();
       ++it)
    workers.insert((*it)[1]);
  ASSERT_GT(workers.size(), 100u);
  for (const char* lang : {"en", "zh"}) {
    CommandResult r =
        Flexwatch({"announce", "--state", (dir_ / "state").string(), "--month", "2024-12",
                   "--final", "--format", "all", "--lang", lang, "--out", (dir_ / "out").string()},
                  dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir_ / "out")) {
    if (!e.is_regular_file()) continue;
    ++files;
    const std::string text = ReadFile(e.path());
    for (const std::string& w : workers)
      EXPECT_FALSE(Names(text, w)) << e.path().filename() << " names worker " << w;
  }
  EXPECT_GT(files, 6);  // the announcements, and evidence files
}

TEST_F(PublicationTest, RunPublishesEachFinalMonthOnceAndTheSameBytesAfterACrash) {
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok());
  PublishOptions publish = cfg->publish;
  publish.platforms = &cfg->platforms;  // as the monitor sets them (MonitorOptions)
  publish.issuer = &cfg->issuer;
  publish.dir = (dir_ / "published").string();
  const Pseudonymizer pseudonyms("a-test-key-of-some-length");  // the CLI's, from SetUp
  std::map<std::string, std::string> first;                     // path under publish.dir -> bytes
  auto relative = [&](const fs::path& path, const fs::path& dir) {
    return fs::relative(path, dir).string();
  };
  size_t notices = 0;
  {
    auto store = Store::Open((dir_ / "state").string(), cfg->store);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // Quiet long enough that every month closes in wall-clock time, December with it.
    const TimestampMs later = *ParseRfc3339("2026-01-01T00:00:00+08:00");
    auto alerts = EvaluateAndAlert(
        **store, *cfg->rules, cfg->detectors,
        AlertOptions{.topic = "alerts", .quiet_now = later, .mark_publication = true});
    ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
    auto written = PublishDue(**store, *cfg->rules, cfg->detectors, publish, &pseudonyms);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    for (const std::string& path : *written) {
      EXPECT_TRUE(first.emplace(relative(path, publish.dir), ReadFile(path)).second)
          << path << " written twice";
    }
    // Six months and the year, each in json + 3 formats x 2 languages; the evidence of each
    // month: a file per platform and dimension.
    size_t documents = 0, evidence = 0;
    for (const auto& [path, bytes] : first)
      (path.starts_with("evidence/") ? evidence : documents)++;
    EXPECT_EQ(documents, 7u * 7u);
    EXPECT_GE(evidence, 6u * 3u);
    ASSERT_TRUE((**store)
                    .ForEachOutbox(0, 1000,
                                   [&](uint64_t, const OutboxMessage& m) {
                                     notices += m.topic == publish.topic;
                                   })
                    .ok());
    EXPECT_EQ(notices, 6u);
    // Each publication issued with a number of its own, in the order published (the months, then
    // the year with December), the same in every format and language.
    const std::regex number(R"(〔\d{4}〕(\d+)号)");
    std::map<std::string, std::string> numbers;  // stem -> number
    for (const auto& [path, bytes] : first) {
      if (path.starts_with("evidence/") || path.ends_with(".json") || path.ends_with(".csv"))
        continue;  // data, not documents: no masthead
      std::smatch m;
      ASSERT_TRUE(std::regex_search(bytes, m, number)) << path;
      const std::string stem = path.substr(0, path.find('.'));
      EXPECT_EQ(numbers.emplace(stem, m[1].str()).first->second, m[1].str()) << path;
    }
    EXPECT_EQ(numbers, (std::map<std::string, std::string>{{"annual-2024", "7"},
                                                           {"monthly-2024-07", "1"},
                                                           {"monthly-2024-08", "2"},
                                                           {"monthly-2024-09", "3"},
                                                           {"monthly-2024-10", "4"},
                                                           {"monthly-2024-11", "5"},
                                                           {"monthly-2024-12", "6"}}));
    // Nothing more is due.
    auto again = PublishDue(**store, *cfg->rules, cfg->detectors, publish, &pseudonyms);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->empty());
  }
  // Each file, evidence included, is what `announce` writes for that period and language.
  for (const char* lang : {"en", "zh"})
    for (const std::string period : {"2024-07", "2024-12", "2024"}) {
      const fs::path out = dir_ / ("cli-" + period + lang);
      CommandResult r = Flexwatch({"announce", "--state", (dir_ / "state").string(),
                                   period.size() == 4 ? "--year" : "--month", period, "--format",
                                   "all", "--lang", lang, "--out", out.string()},
                                  dir_);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      int documents = 0, evidence = 0;
      for (const auto& e : fs::recursive_directory_iterator(out)) {
        if (!e.is_regular_file()) continue;
        const std::string name = relative(e.path(), out);
        ASSERT_TRUE(first.count(name)) << name << " was not published";
        EXPECT_EQ(ReadFile(e.path()), first[name]) << name;
        ++(name.starts_with("evidence/") ? evidence : documents);
      }
      EXPECT_EQ(documents, 4);
      EXPECT_GE(evidence, 3);
    }
  // A crash after the files were written and before the mark was forgotten: published again,
  // the same bytes.
  {
    auto store = Store::Open((dir_ / "state").string(), cfg->store);
    ASSERT_TRUE(store.ok());
    Batch batch;
    batch.Put(meta_keys::PublishDue(MakePeriod(2024, 12)), "");
    ASSERT_TRUE((**store).Write(batch).ok());
    fs::remove_all(publish.dir);
    auto written = PublishDue(**store, *cfg->rules, cfg->detectors, publish, &pseudonyms);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    size_t documents = 0;
    for (const std::string& path : *written) {
      const std::string name = relative(path, publish.dir);
      documents += !name.starts_with("evidence/2024-12/");
      EXPECT_EQ(ReadFile(path), first[name]) << path;
    }
    EXPECT_EQ(documents, 14u);  // December and the year, and December's evidence
  }
  // Without a key, the documents only.
  {
    auto store = Store::Open((dir_ / "state").string(), cfg->store);
    ASSERT_TRUE(store.ok());
    Batch batch;
    batch.Put(meta_keys::PublishDue(MakePeriod(2024, 7)), "");
    ASSERT_TRUE((**store).Write(batch).ok());
    auto written = PublishDue(**store, *cfg->rules, cfg->detectors, publish);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(written->size(), 7u);
  }
}

// Two instances: one publishes, the other (no publish.dir) keeps the sealed month's documents as
// drafts, since it has not been told of the issue yet. Once the publisher's notice brings the
// issue (its record, as the consumer adopts it), `announce --revision 0` there prints exactly the
// published bytes, number and date of issue included; before it, the draft.
TEST_F(PublicationTest, AnInstanceThatKeptDraftsPrintsThePublishersIssueOnceItIsTold) {
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok());
  const TimestampMs later = *ParseRfc3339("2026-01-01T00:00:00+08:00");
  auto seal = [&](const fs::path& state, const std::string& dir) {
    PublishOptions publish = cfg->publish;
    publish.platforms = &cfg->platforms;
    publish.issuer = &cfg->issuer;
    publish.dir = dir;
    auto store = Store::Open(state.string(), cfg->store);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto a = EvaluateAndAlert(
        **store, *cfg->rules, cfg->detectors,
        // The seal as the city's (the other instance adopts the sealer's, with its time).
        AlertOptions{.topic = "alerts",
                     .quiet_now = later,
                     .mark_publication = true,
                     .now = *ParseRfc3339("2025-09-16T10:00:00+08:00")});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto w = PublishDue(**store, *cfg->rules, cfg->detectors, publish);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    EXPECT_EQ(w->empty(), dir.empty());
  };
  fs::copy(dir_ / "state", dir_ / "other", fs::copy_options::recursive);
  seal(dir_ / "state", (dir_ / "published").string());  // the publisher
  seal(dir_ / "other", "");                             // keeps drafts
  auto revision0 = [&](const std::string& state, const std::string& format,
                       const std::string& lang) {
    CommandResult r = Flexwatch({"announce", "--state", (dir_ / state).string(), "--month",
                                 "2024-07", "--revision", "0", "--format", format, "--lang", lang},
                                dir_);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_NE(revision0("other", "md", "zh").find("未发布稿"), std::string::npos);
  {
    auto publisher = Store::Open((dir_ / "state").string(), cfg->store);
    ASSERT_TRUE(publisher.ok());
    const std::optional<std::string> record =
        (**publisher).GetMeta(meta_keys::Issued("monthly-2024-07"));
    ASSERT_TRUE(record.has_value());
    publisher->reset();
    auto other = Store::Open((dir_ / "other").string(), cfg->store);
    ASSERT_TRUE(other.ok());
    Batch told;
    told.Put(meta_keys::Issued("monthly-2024-07"), *record);
    ASSERT_TRUE((**other).Write(told).ok());
  }
  for (const std::string lang : {"zh", "en"})
    for (const std::string format : {"md", "html", "csv"}) {
      const std::string published =
          ReadFile(dir_ / "published" / ("monthly-2024-07." + lang + "." + format));
      ASSERT_FALSE(published.empty()) << lang << format;
      EXPECT_EQ(revision0("other", format, lang), published) << lang << "." << format;
    }
  EXPECT_EQ(revision0("other", "json", "en"),
            ReadFile(dir_ / "published" / "monthly-2024-07.json"));
  EXPECT_EQ(revision0("other", "md", "zh").find("未发布稿"), std::string::npos);
}

// Late data after the seal (rules.md section 4): a late order, then a late contract termination,
// then a payment after the grace, each replayed after July was sealed and published. The first
// two are revisions 1 and 2, each published as a correction notice in every format and language
// beside the original, which stays byte for byte as it was; the payment after the grace changes
// no count, so no revision. `announce --revision N` prints exactly what was published.
TEST_F(PublicationTest, LateEventsAfterTheSealArePublishedAsCorrectionsBesideTheUntouchedOriginal) {
  auto cfg = ShippedConfig();
  ASSERT_TRUE(cfg.ok());
  PublishOptions publish = cfg->publish;
  publish.platforms = &cfg->platforms;  // as the monitor sets them (MonitorOptions)
  publish.issuer = &cfg->issuer;
  publish.dir = (dir_ / "published").string();
  const Period july = MakePeriod(2024, 7);
  const TimestampMs later = *ParseRfc3339("2026-01-01T00:00:00+08:00");
  std::map<std::string, std::string> published;  // file name -> bytes, as first written
  std::string platform;
  const TimestampMs day = 86'400'000;
  TimestampMs sealed_at = *ParseRfc3339("2025-09-16T10:00:00+08:00");
  // One monitor round, as `run` makes it: alerts, then what is due published.
  auto round = [&](std::vector<Alert>& alerts, std::vector<std::string>& written) {
    auto store = Store::Open((dir_ / "state").string(), cfg->store);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto a = EvaluateAndAlert(
        **store, *cfg->rules, cfg->detectors,
        AlertOptions{
            .topic = "alerts", .quiet_now = later, .mark_publication = true, .now = sealed_at});
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    alerts = *a;
    auto w = PublishDue(**store, *cfg->rules, cfg->detectors, publish);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    written.clear();
    for (const std::string& path : *w) {
      const std::string name = fs::path(path).filename().string();
      if (name.starts_with("monthly-2024-07")) written.push_back(name);
      EXPECT_TRUE(published.emplace(name, ReadFile(path)).second) << path << " written again";
    }
    std::sort(written.begin(), written.end());
    if (platform.empty()) {
      auto revisions = ReadRevisions(**store, july);
      ASSERT_TRUE(revisions.ok() && !revisions->empty());
      platform = revisions->front().verdict.begin()->first;
    }
  };
  auto replay_late = [&](const std::string& name, const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& l : lines) text += l + "\n";
    WriteFile(dir_ / name, text);
    CommandResult r =
        Flexwatch({"replay", "--state", (dir_ / "state").string(), (dir_ / name).string()}, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  auto revision_alerts = [](const std::vector<Alert>& alerts) {
    std::vector<std::string> out;
    for (const Alert& a : alerts)
      if (a.kind == "revision") out.push_back(a.dimension);
    return out;
  };

  std::vector<Alert> alerts;
  std::vector<std::string> written;
  round(alerts, written);  // every month final: sealed as revision 0 and published
  EXPECT_EQ(written, EveryFormatOf("monthly-2024-07"));
  const std::map<std::string, std::string> originals = published;

  const std::vector<std::vector<std::string>> late = LateJulyDeliveries(platform);
  // 1. A late order: ten long days of a labour relation on the platform, with a labour contract.
  replay_late("late-1.ndjson", late[0]);
  sealed_at += day;
  round(alerts, written);
  EXPECT_EQ(written, EveryFormatOf("monthly-2024-07.r1"));
  // In scope one more on contract avoidance (signed: not affected), and one more unpaid.
  EXPECT_EQ(revision_alerts(alerts),
            (std::vector<std::string>{"contract_avoidance", "underpayment"}));
  const std::string r1 = published.at("monthly-2024-07.r1.en.md");
  EXPECT_NE(r1.find("# Correction 1 to the Monthly compliance announcement"), std::string::npos)
      << r1;
  EXPECT_NE(r1.find("[monthly-2024-07.en.md](monthly-2024-07.en.md)"), std::string::npos) << r1;
  // (named as the registry names it)
  const PlatformInfo* registered = cfg->platforms.Find(platform);
  ASSERT_NE(registered, nullptr) << platform;
  EXPECT_NE(r1.find("| " + registered->name_en + " | Contract avoidance |"), std::string::npos)
      << r1;
  EXPECT_NE(published.at("monthly-2024-07.r1.zh.html").find("href=\"monthly-2024-07.zh.html\""),
            std::string::npos);
  const std::string r1_json = published.at("monthly-2024-07.r1.json");
  EXPECT_NE(r1_json.find("\"revision\": 1"), std::string::npos);
  EXPECT_NE(r1_json.find("\"original\": \"monthly-2024-07.json\""), std::string::npos);

  // 2. A late termination of that contract, on July 2: not in force at the last order.
  replay_late("late-2.ndjson", late[1]);
  sealed_at += day;
  round(alerts, written);
  EXPECT_EQ(written, EveryFormatOf("monthly-2024-07.r2"));
  EXPECT_EQ(revision_alerts(alerts), std::vector<std::string>{"contract_avoidance"});
  {
    auto store = Store::Open((dir_ / "state").string(), cfg->store);
    ASSERT_TRUE(store.ok());
    auto revisions = ReadRevisions(**store, july);
    ASSERT_TRUE(revisions.ok());
    ASSERT_EQ(revisions->size(), 3u);
    const Revision& r2 = (*revisions)[2];
    ASSERT_EQ(r2.changes.size(), 1u);
    ASSERT_TRUE(r2.changes[0].from && r2.changes[0].to);
    EXPECT_EQ(r2.changes[0].to->in_scope, r2.changes[0].from->in_scope);
    EXPECT_EQ(r2.changes[0].to->affected, r2.changes[0].from->affected + 1);
    // The CSV of the correction says what the changed cell was before.
    const std::string csv = published.at("monthly-2024-07.r2.en.csv");
    const std::string before = std::string(NameOf(r2.changes[0].from->level)) + " " +
                               std::to_string(r2.changes[0].from->affected) + "/" +
                               std::to_string(r2.changes[0].from->in_scope);
    EXPECT_NE(csv.find(",contract_avoidance,"), std::string::npos);
    // 11 events of July after the seal: the ten orders and the termination (the contract
    // signed in June counts for June).
    EXPECT_NE(csv.find(",2,11," + before + ","), std::string::npos) << csv;
  }

  // 3. A pension paid after the grace: applied and counted after the seal, but no count moves.
  replay_late("late-3.ndjson", late[2]);
  sealed_at += day;
  round(alerts, written);
  EXPECT_TRUE(written.empty());
  EXPECT_TRUE(revision_alerts(alerts).empty());

  // The originals were never written again and are what `announce --revision 0` prints; each
  // correction is what `--revision N` prints.
  for (const auto& [name, bytes] : originals)
    EXPECT_EQ(ReadFile(fs::path(publish.dir) / name), bytes) << name;
  for (const auto& [revision, format, lang, name] :
       {std::tuple<std::string, std::string, std::string, std::string>{"0", "json", "en",
                                                                       "monthly-2024-07.json"},
        {"0", "html", "zh", "monthly-2024-07.zh.html"},
        {"1", "md", "en", "monthly-2024-07.r1.en.md"},
        {"2", "csv", "zh", "monthly-2024-07.r2.zh.csv"}}) {
    CommandResult r =
        Flexwatch({"announce", "--state", (dir_ / "state").string(), "--month", "2024-07",
                   "--revision", revision, "--format", format, "--lang", lang},
                  dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.out == published.at(name)) << name;
  }
  // The latest, as the state stands: every revision listed, and the events after the seal.
  CommandResult latest =
      Flexwatch({"announce", "--state", (dir_ / "state").string(), "--month", "2024-07"}, dir_);
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_NE(latest.out.find("\"revision\": 2"), std::string::npos);
  EXPECT_NE(latest.out.find("\"arrived_after_seal\": 12"), std::string::npos);
  CommandResult none = Flexwatch(
      {"announce", "--state", (dir_ / "state").string(), "--month", "2024-07", "--revision", "3"},
      dir_);
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("2024-07 has no revision 3 (it has 0 to 2)"), std::string::npos)
      << none.err;
  CommandResult unsealed = Flexwatch(
      {"announce", "--state", (dir_ / "state").string(), "--month", "2025-03", "--revision", "0"},
      dir_);
  EXPECT_NE(unsealed.exit_code, 0);
  EXPECT_NE(unsealed.err.find("no monitor sealed it"), std::string::npos) << unsealed.err;
  // A correction notice for each revision, naming the original.
  auto store = Store::Open((dir_ / "state").string(), cfg->store);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> corrections;
  ASSERT_TRUE((**store)
                  .ForEachOutbox(0, 100000,
                                 [&](uint64_t, const OutboxMessage& m) {
                                   if (m.payload.find("\"kind\": \"correction\"") !=
                                       std::string::npos)
                                     corrections.push_back(m.payload);
                                 })
                  .ok());
  ASSERT_EQ(corrections.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NE(corrections[i].find("\"revision\": " + std::to_string(i + 1)), std::string::npos);
    EXPECT_NE(corrections[i].find("\"original\": \"monthly-2024-07.json\""), std::string::npos)
        << corrections[i];
    EXPECT_NE(corrections[i].find("\"monthly-2024-07.r" + std::to_string(i + 1) + ".zh.html\""),
              std::string::npos)
        << corrections[i];
  }
}

// Headless Chromium (Debian's, with the Noto CJK fonts) loads each HTML announcement: no console
// message, the platforms and levels in the rendered text, a phone-width screenshot and an A4
// PDF kept as artifacts under the build's test-artifacts/.
// axe-core's engine, as scripts/setup-debian.sh installs it.
constexpr const char* kAxeJs = "/opt/flexwatch-deps/axe-core/axe.min.js";

TEST_F(PublicationTest, TheHtmlRendersInABrowser) {
  ASSERT_TRUE(fs::exists(kAxeJs)) << kAxeJs << ": run scripts/setup-debian.sh";
  const fs::path artifacts = fs::path(FLEXWATCH_BINARY).parent_path() / "test-artifacts";
  fs::create_directories(artifacts);
  for (const char* lang : {"zh", "en"})
    for (const std::string period : {"2024-12", "2024"}) {
      const std::string format = "html";
      CommandResult r = Flexwatch({"announce", "--state", (dir_ / "state").string(),
                                   period.size() == 4 ? "--year" : "--month", period, "--final",
                                   "--format", format, "--lang", lang},
                                  dir_);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const std::string stem = (period.size() == 4 ? "annual-" : "monthly-") + period + "." + lang;
      fs::path page = dir_ / (stem + ".html");
      WriteFile(page, r.out);
      auto chromium = [&](const std::vector<std::string>& extra, const std::string& name) {
        std::vector<std::string> args = {
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--user-data-dir=" + (dir_ / ("profile-" + name)).string()};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("file://" + page.string());
        const std::string out = (dir_ / (name + ".out")).string(),
                          err = (dir_ / (name + ".err")).string();
        const int rc = Wait(SpawnProgram("/usr/bin/chromium", args, out, err));
        EXPECT_EQ(rc, 0) << ReadFile(err);
        return std::make_pair(ReadFile(out), ReadFile(err));
      };
      const auto [dom, log] = chromium({"--dump-dom"}, stem + "-dom");
      EXPECT_EQ(log.find(":CONSOLE("), std::string::npos) << stem << ": " << log;
      auto shipped = ShippedConfig();
      ASSERT_TRUE(shipped.ok());
      for (const char* platform : {"p-meal-1", "p-ride-2", "p-express-3", "p-dash-4"}) {
        const std::string name = shipped->platforms.Find(platform)->Name(
            std::string(lang) == "zh" ? Lang::kZh : Lang::kEn);
        EXPECT_NE(dom.find(name), std::string::npos) << stem << " lacks " << name;
      }
      for (const char* level : std::string(lang) == "zh" ? std::vector<const char*>{"红色", "绿色"}
                                                         : std::vector<const char*>{"red", "green"})
        EXPECT_NE(dom.find(level), std::string::npos) << stem << " lacks " << level;
      EXPECT_NE(dom.find("<svg"), std::string::npos) << stem;
      const fs::path png = artifacts / (stem + ".png"), pdf = artifacts / (stem + ".pdf");
      fs::remove(png);
      fs::remove(pdf);
      chromium({"--window-size=390,2400", "--screenshot=" + png.string()}, stem + "-png");
      const fs::path wide = artifacts / (stem + ".1280.png");
      chromium({"--window-size=1280,2400", "--screenshot=" + wide.string()}, stem + "-wide");
      EXPECT_GT(fs::exists(wide) ? fs::file_size(wide) : 0, 10000u) << wide;
      // In the phone layout (the window as narrow as headless Chromium makes it, 500 px, below
      // the layout's 36rem): axe-core's WCAG 2.1 A and AA rules find nothing; the page itself
      // never scrolls sideways, and each table wider than the screen says it scrolls.
      const std::string html = ReadFile(page);
      const std::string probe =
          "<script src=\"file://" + std::string(kAxeJs) +
          "\"></script><script>axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', "
          "'wcag2aa', 'wcag21a', 'wcag21aa']}}).then(function (r) {"
          "var hidden = 0; document.querySelectorAll('.table').forEach(function (t) {"
          "  var hint = t.previousElementSibling;"
          "  if (t.scrollWidth > t.clientWidth && (!hint || getComputedStyle(hint).display == "
          "'none')) hidden++; });"
          "var out = document.createElement('pre'); out.id = 'probe';"
          "out.textContent = JSON.stringify({violations: r.violations.map(function (v) {"
          "  return v.id + ' ' + v.impact + ' ' + v.nodes.length; }),"
          "  overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,"
          "  phone_layout: matchMedia('(max-width: 36rem)').matches, unhinted_tables: hidden});"
          "document.body.appendChild(out); });</script>";
      const fs::path probed = dir_ / (stem + ".probe.html");
      WriteFile(probed, html.substr(0, html.rfind("</body>")) + probe + "</body>\n</html>\n");
      const fs::path shown = page;
      page = probed;
      const auto [checked, probe_log] = chromium(
          {"--window-size=390,2400", "--virtual-time-budget=30000", "--dump-dom"}, stem + "-axe");
      page = shown;
      const size_t at = checked.find("<pre id=\"probe\">");
      ASSERT_NE(at, std::string::npos) << stem << ": axe-core did not report\n" << probe_log;
      const std::string report = checked.substr(at + 16, checked.find("</pre>", at) - at - 16);
      EXPECT_NE(report.find("\"violations\":[]"), std::string::npos) << stem << ": " << report;
      EXPECT_NE(report.find("\"overflow\":0,"), std::string::npos) << stem << ": " << report;
      EXPECT_NE(report.find("\"phone_layout\":true"), std::string::npos) << stem << ": " << report;
      EXPECT_NE(report.find("\"unhinted_tables\":0"), std::string::npos) << stem << ": " << report;
      chromium({"--no-pdf-header-footer", "--print-to-pdf=" + pdf.string()}, stem + "-pdf");
      EXPECT_GT(fs::exists(png) ? fs::file_size(png) : 0, 10000u) << png;
      EXPECT_GT(fs::exists(pdf) ? fs::file_size(pdf) : 0, 10000u) << pdf;
    }
}

// The main job, as the README runs it: from the repository, with the config found beside the
// binary and a directory relative to where it starts. It runs as a batch (the monitor returns once
// the topic is quiet, closing what the feed's event time closed) and ends at the HTML
// announcement of the latest final month: with two months, July (its grace passed in August's
// contributions' event time), not August, whose announcement is provisional; with one month, it
// says that none is final and which provisional one is the latest.
TEST(DemoTest, TheMainJobEndsAtTheLatestFinalMonthsHtmlAnnouncement) {
  const fs::path dir = "flexwatch-demo-test-" + std::to_string(::getpid());
  fs::remove_all(dir);
  unsetenv("FLEXWATCH_PSEUDONYM_KEY");  // the demo makes its own key
  const fs::path logs = fs::temp_directory_path() / dir;
  fs::create_directories(logs);
  CommandResult r =
      Flexwatch({"demo", "--dir", dir.string(), "--workers", "150", "--months", "2"}, logs);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const fs::path announcements = fs::absolute(dir / "announcements");
  const fs::path page = announcements / "monthly-2024-07.zh.html";
  EXPECT_TRUE(fs::exists(page)) << r.out;
  EXPECT_NE(
      r.out.find("The latest final month's announcement, open it in a browser: " + page.string()),
      std::string::npos)
      << r.out;
  EXPECT_NE(ReadFile(announcements / "monthly-2024-07.json").find("\"final\": true"),
            std::string::npos);
  EXPECT_NE(ReadFile(announcements / "monthly-2024-08.json").find("\"final\": false"),
            std::string::npos);
  EXPECT_FALSE(fs::is_empty(dir / "announcements" / "evidence" / "2024-08"));
  // It says where its metrics were served, and keeps them as they stood at the end.
  EXPECT_NE(r.out.find("metrics at http://127.0.0.1:"), std::string::npos) << r.out;
  const std::string metrics = ReadFile(dir / "metrics.prom");
  EXPECT_NE(metrics.find("flexwatch_events_total{outcome=\"applied\""), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("flexwatch_platform_level{"), std::string::npos);
  // One month: nothing is final yet, and the demo says so.
  CommandResult one =
      Flexwatch({"demo", "--dir", dir.string(), "--workers", "60", "--months", "1"}, logs);
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("No month is final yet; the latest, provisional, announcement: " +
                         (announcements / "monthly-2024-07.zh.html").string()),
            std::string::npos)
      << one.out;
  EXPECT_FALSE(fs::exists(announcements / "monthly-2024-08.json"));  // the earlier run's
  if (!::testing::Test::HasFailure()) {
    fs::remove_all(dir);
    fs::remove_all(logs);
  }
}

TEST_F(PublicationTest, UnknownFormatsAndLanguagesAreUsageErrors) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"--format", "pdf"}, {"--lang", "fr"}, {"--format", "all"}}) {
    std::vector<std::string> args = {"announce", "--state", (dir_ / "state").string(), "--month",
                                     "2024-12"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Flexwatch(args, dir_);
    EXPECT_EQ(r.exit_code, 2) << extra[1];
    EXPECT_NE(r.err.find(extra[1]), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace flexwatch::testing
