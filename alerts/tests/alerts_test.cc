// EvaluateAndAlert on a real state: each level change is one alert, in the outbox with the levels
// it moves to, with an id made of what it says; nothing changed, nothing alerted; closing the
// months alerts their final levels once; the same events in another order give the same alerts.
#include "flexwatch/alerts/alerts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/decoder.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/rules/revisions.h"
#include "flexwatch/settings/config.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/writer.h"
#include "support.h"

namespace flexwatch {
namespace {

class AlertsTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    auto cfg = ShippedConfig();
    ASSERT_TRUE(cfg.ok());
    config_ = *cfg;
    GenOptions gen;
    gen.workers = 300;
    gen.platforms = 5;
    gen.months = 2;
    gen.seed = 3;
    gen.rules = &*config_.rules;
    std::ostringstream feed;
    ASSERT_TRUE(Generate(gen, feed, nullptr).ok());
    std::istringstream in(feed.str());
    for (std::string l; std::getline(in, l);) lines_.push_back(l);
  }
  // A state of `lines`, in the order given.
  std::unique_ptr<Store> StateOf(const std::string& name, const std::vector<std::string>& lines) {
    const auto file = dir_ / (name + ".ndjson");
    {
      std::ofstream out(file);
      for (const std::string& l : lines) out << l << "\n";
    }
    auto store = Store::Open((dir_ / name).string(), StoreOptions{});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_TRUE(ReplayFiles(**store, {file.string()}, config_.ingest).ok());
    return std::move(*store);
  }
  std::vector<Alert> Round(Store& store, std::optional<TimestampMs> quiet_now = std::nullopt,
                           bool mark_publication = false) {
    auto alerts = EvaluateAndAlert(
        store, *config_.rules, config_.detectors,
        AlertOptions{
            .topic = "alerts", .quiet_now = quiet_now, .mark_publication = mark_publication});
    EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
    return alerts.ok() ? *alerts : std::vector<Alert>{};
  }
  static std::vector<std::string> Outbox(Store& store) {
    std::vector<std::string> out;
    EXPECT_TRUE(store
                    .ForEachOutbox(0, 100000,
                                   [&](uint64_t, const OutboxMessage& m) {
                                     EXPECT_EQ(m.topic, "alerts");
                                     out.push_back(m.payload);
                                   })
                    .ok());
    return out;
  }
  // Events for July of `platform` after its seal: a labour relation without a contract (it moves
  // the contract avoidance counts), and a pension paid after the grace (it moves no count).
  static std::vector<std::string> LateForJuly(const std::string& platform) {
    std::vector<std::string> late;
    for (int day = 1; day <= 10; ++day)
      late.push_back("{\"type\":\"order\",\"event_id\":\"late-" + std::to_string(day) +
                     "\",\"ts\":\"2024-07-" + (day < 10 ? "0" : "") + std::to_string(day) +
                     "T10:00:00+08:00\",\"platform_id\":\"" + platform +
                     "\",\"worker_id\":\"w-late\",\"sector\":\"live_streaming\","
                     "\"duration_min\":720,\"earnings_cny\":500}");
    late.push_back(
        "{\"type\":\"contribution\",\"event_id\":\"late-pay\",\"ts\":"
        "\"2024-10-20T10:00:00+08:00\",\"platform_id\":\"" +
        platform +
        "\",\"worker_id\":\"w-late\",\"period\":\"2024-07\",\"scheme\":\"pension\","
        "\"payer\":\"employer\",\"base_cny\":6821,\"amount_cny\":1091.36}");
    return late;
  }
  Config config_;
  std::vector<std::string> lines_;
};

TEST_F(AlertsTest, EachChangeIsOneAlertInTheOutboxWithAnIdOfWhatItSays) {
  auto store = StateOf("s", lines_);
  const std::vector<Alert> first = Round(*store);
  ASSERT_FALSE(first.empty());  // the generator plants violations on most platforms
  std::set<std::string> ids, changes;
  for (const Alert& a : first) {
    EXPECT_TRUE(ids.insert(a.alert_id).second) << a.json;
    EXPECT_NE(a.json.find("\"alert_id\": \"" + a.alert_id + "\""), std::string::npos) << a.json;
    if (a.kind != "level_change") continue;
    EXPECT_NE(a.level, "green") << a.json;  // from green: only a level other than green is news
    EXPECT_NE(a.json.find("\"previous_level\": \"green\""), std::string::npos) << a.json;
    changes.insert(a.dimension);
  }
  EXPECT_FALSE(changes.empty());
  std::vector<std::string> payloads;
  for (const Alert& a : first) payloads.push_back(a.json);
  EXPECT_EQ(Outbox(*store), payloads);
  // Nothing changed: nothing to say, and the outbox is as it was.
  EXPECT_TRUE(Round(*store).empty());
  EXPECT_EQ(Outbox(*store), payloads);
}

TEST_F(AlertsTest, TheSameEventsInAnotherOrderGiveTheSameAlerts) {
  std::vector<std::string> shuffled = lines_;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(9));
  auto a = StateOf("a", lines_);
  auto b = StateOf("b", shuffled);
  std::vector<std::string> from_a, from_b;
  for (const Alert& x : Round(*a)) from_a.push_back(x.json);
  for (const Alert& x : Round(*b)) from_b.push_back(x.json);
  EXPECT_FALSE(from_a.empty());
  EXPECT_EQ(from_a, from_b);
}

TEST_F(AlertsTest, AlertsThatSayDifferentThingsNeverShareAnId) {
  // The same feed, and the same feed with one more labour-relation worker without a contract on
  // each platform in its first month: the contract avoidance counts move, mostly not the levels.
  std::vector<std::string> more = lines_;
  std::set<std::string> platforms;
  for (const std::string& l : lines_) {
    const size_t at = l.find("\"platform_id\":\"") + 15;
    platforms.insert(l.substr(at, l.find('"', at) - at));
  }
  int n = 0;
  for (const std::string& p : platforms)
    for (int day = 1; day <= 10; ++day)
      more.push_back("{\"type\":\"order\",\"event_id\":\"extra-" + std::to_string(++n) +
                     "\",\"ts\":\"2024-07-" + (day < 10 ? "0" : "") + std::to_string(day) +
                     "T10:00:00+08:00\",\"platform_id\":\"" + p +
                     "\",\"worker_id\":\"w-extra\",\"sector\":\"live_streaming\","
                     "\"duration_min\":720,\"earnings_cny\":500}");
  auto a = StateOf("a", lines_);
  auto b = StateOf("b", more);
  // What an alert says besides its id, by what used to make its id.
  auto said = [](const Alert& x) {
    std::string body = x.json;
    body.erase(body.find("\"alert_id\""), 40);  // "alert_id": "<24 hex digits>",
    return body;
  };
  std::map<std::string, const Alert*> by_old_identity;
  const std::vector<Alert> from_a = Round(*a), from_b = Round(*b);
  for (const Alert& x : from_a)
    if (x.kind == "level_change")
      by_old_identity[x.json.substr(x.json.find("\"platform_id\""), 120) + x.level] = &x;
  int same = 0, different = 0;
  for (const Alert& y : from_b) {
    if (y.kind != "level_change") continue;
    auto it = by_old_identity.find(y.json.substr(y.json.find("\"platform_id\""), 120) + y.level);
    if (it == by_old_identity.end()) continue;
    const Alert& x = *it->second;
    if (said(x) == said(y)) {
      ++same;
      EXPECT_EQ(x.alert_id, y.alert_id) << x.json;
    } else {
      ++different;
      EXPECT_NE(x.alert_id, y.alert_id) << x.json << "\n" << y.json;
    }
  }
  EXPECT_GT(same, 0);       // the dimensions the extra worker leaves alone
  EXPECT_GT(different, 0);  // same platform, dimension, month and level; other counts
}

TEST_F(AlertsTest, ClosingTheMonthsAlertsTheirFinalLevelsOnceAndMarksThemForPublishing) {
  auto store = StateOf("s", lines_);
  Round(*store, std::nullopt, true);  // as the monitor does when it publishes
  // The topics quiet and the clock far past every grace: the months close in wall-clock time.
  const std::vector<Alert> closing = Round(*store, 4102444800000LL, true);
  ASSERT_FALSE(closing.empty());  // at least the last month closes here
  for (const Alert& a : closing) EXPECT_TRUE(a.final) << a.json;
  for (Period p : store->Periods()) {
    EXPECT_TRUE(store->GetMeta(meta_keys::AlertedFinal(p))) << FormatPeriod(p);
    EXPECT_TRUE(store->GetMeta(meta_keys::PublishDue(p))) << FormatPeriod(p);
  }
  EXPECT_TRUE(Round(*store, 4102444800000LL, true).empty());
}

TEST_F(AlertsTest, AFinalMonthIsSealedAndLateEventsThatChangeItAreItsNextRevision) {
  auto store = StateOf("s", lines_);
  const TimestampMs far = 4102444800000LL;  // every grace long past: the months close quiet
  auto round = [&](TimestampMs now) {
    auto alerts = EvaluateAndAlert(*store, *config_.rules, config_.detectors,
                                   AlertOptions{.topic = "alerts", .quiet_now = far, .now = now});
    EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
    return alerts.ok() ? *alerts : std::vector<Alert>{};
  };
  round(1000);
  const Period july = *ParsePeriod("2024-07");
  auto sealed = ReadRevisions(*store, july);
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), 1u);
  EXPECT_EQ((*sealed)[0].number, 0);
  EXPECT_EQ((*sealed)[0].sealed_at, 1000);
  auto july_now = EvaluateMonth(*store, *config_.rules, july, EvaluateOptions{});
  ASSERT_TRUE(july_now.ok());
  EXPECT_EQ((*sealed)[0].verdict, SealedVerdictOf(*july_now));
  EXPECT_TRUE(round(2000).empty());  // nothing arrived: nothing to say, no revision

  const std::string platform = july_now->platforms.front().platform_id;
  {
    std::ofstream out(dir_ / "late.ndjson");
    for (const std::string& l : LateForJuly(platform)) out << l << "\n";
  }
  ASSERT_TRUE(ReplayFiles(*store, {(dir_ / "late.ndjson").string()}, config_.ingest).ok());
  EXPECT_EQ(ArrivedAfterSeal(*store, july), (std::map<std::string, int64_t>{{platform, 11}}));
  const std::vector<Alert> revised = round(3000);
  sealed = ReadRevisions(*store, july);
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), 2u);
  const Revision& r1 = (*sealed)[1];
  EXPECT_EQ(r1.number, 1);
  EXPECT_EQ(r1.sealed_at, 3000);
  ASSERT_FALSE(r1.changes.empty());
  std::set<std::string> changed;
  for (const RevisionChange& c : r1.changes) {
    EXPECT_EQ(c.platform_id, platform);
    ASSERT_TRUE(c.from && c.to);
    EXPECT_NE(*c.from, *c.to);
    changed.insert(std::string(kDimensionNames[static_cast<int>(c.dimension)]));
  }
  EXPECT_TRUE(changed.count("contract_avoidance"));
  // Each change alerted once, as a revision saying from and to.
  std::set<std::string> alerted;
  for (const Alert& a : revised) {
    if (a.kind != "revision") continue;
    EXPECT_TRUE(alerted.insert(a.dimension).second) << a.json;
    EXPECT_NE(a.json.find("\"revision\": 1"), std::string::npos) << a.json;
    EXPECT_NE(a.json.find("\"arrived_after_seal\": 11"), std::string::npos) << a.json;
  }
  EXPECT_EQ(alerted, changed);
  EXPECT_TRUE(round(4000).empty());
  // The payment after the grace alone: applied, counted after the seal, and no revision.
  {
    std::ofstream out(dir_ / "late2.ndjson");
    out << "{\"type\":\"contribution\",\"event_id\":\"late-pay-2\",\"ts\":"
           "\"2024-10-21T10:00:00+08:00\",\"platform_id\":\""
        << platform
        << "\",\"worker_id\":\"w-late\",\"period\":\"2024-07\",\"scheme\":\"medical\","
           "\"payer\":\"employer\",\"base_cny\":6821,\"amount_cny\":668.46}\n";
  }
  ASSERT_TRUE(ReplayFiles(*store, {(dir_ / "late2.ndjson").string()}, config_.ingest).ok());
  EXPECT_EQ(ArrivedAfterSeal(*store, july).at(platform), 12);
  EXPECT_TRUE(round(5000).empty());
  EXPECT_EQ(ReadRevisions(*store, july)->size(), 2u);
}

// In a group, the instance that seals may change (cli.md 1.1). Events arrived after a seal are the
// month's events less those the seal recorded (meta_keys::AtSeal), so every state counts them
// alike: one that does not seal, and one that applied them before it adopted the seal (the
// instance that sealed was behind it). A state that becomes the sealer (AlertOptions::recheck)
// judges every sealed month once more.
TEST_F(AlertsTest, EventsAfterTheSealAreCountedAlikeWhoeverSealedAndANewSealerJudgesThem) {
  auto store = StateOf("s", lines_);
  const TimestampMs far = 4102444800000LL;
  auto round = [&](TimestampMs now, bool seals, bool recheck) {
    auto alerts = EvaluateAndAlert(
        *store, *config_.rules, config_.detectors,
        AlertOptions{
            .topic = "alerts", .quiet_now = far, .now = now, .seals = seals, .recheck = recheck});
    EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
    return alerts.ok() ? *alerts : std::vector<Alert>{};
  };
  round(1000, true, false);
  const Period july = *ParsePeriod("2024-07");
  ASSERT_EQ(ReadRevisions(*store, july)->size(), 1u);
  const auto at_seal = EventsAtSeal(*store, july);
  ASSERT_TRUE(at_seal.has_value());
  ASSERT_FALSE(at_seal->empty());
  auto july_now = EvaluateMonth(*store, *config_.rules, july, EvaluateOptions{});
  ASSERT_TRUE(july_now.ok());
  const std::string platform = july_now->platforms.front().platform_id;
  {  // applied as an instance that does not seal applies them
    StateWriter writer(store.get());
    writer.CountAfterSeal(false);
    Decoder decoder(config_.ingest.decoder);
    Rejection rejection;
    for (const std::string& line : LateForJuly(platform)) {
      ASSERT_TRUE(decoder.Decode(line, writer.NextEvent(), rejection)) << line;
      ASSERT_TRUE(writer.AddNext().ok());
    }
    ASSERT_TRUE(writer.Commit().ok());
  }
  const std::map<std::string, int64_t> eleven{{platform, 11}};
  EXPECT_EQ(ArrivedAfterSeal(*store, july), eleven);
  // A state that applied the same events, the late ones included, before it held the seal, and
  // then adopted it as the consumer does (the revision and the events it recorded): the same.
  {
    std::vector<std::string> all = lines_;
    for (const std::string& l : LateForJuly(platform)) all.push_back(l);
    auto ahead = StateOf("ahead", all);
    Batch batch;
    PutRevision(batch, july, ReadRevisions(*store, july)->front());
    PutEventsAtSeal(batch, july, *at_seal);
    ASSERT_TRUE(ahead->Write(batch).ok());
    EXPECT_EQ(ArrivedAfterSeal(*ahead, july), eleven);
  }
  // An instance that does not seal makes no revision of its own.
  EXPECT_TRUE(round(2000, false, false).empty());
  EXPECT_EQ(ReadRevisions(*store, july)->size(), 1u);
  // Now the one that seals: July judged again, its changes revision 1, with the count.
  const std::vector<Alert> revised = round(4000, true, true);
  auto sealed = ReadRevisions(*store, july);
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), 2u);
  EXPECT_EQ((*sealed)[1].sealed_at, 4000);
  int revisions = 0;
  for (const Alert& a : revised) {
    if (a.kind != "revision") continue;
    ++revisions;
    EXPECT_NE(a.json.find("\"arrived_after_seal\": 11"), std::string::npos) << a.json;
  }
  EXPECT_GT(revisions, 0);
  EXPECT_EQ(ArrivedAfterSeal(*store, july), eleven);
  EXPECT_TRUE(round(5000, true, false).empty());
  EXPECT_TRUE(round(6000, true, true).empty());  // judged again: nothing changed since
  EXPECT_EQ(ReadRevisions(*store, july)->size(), 2u);
}

// Issue 23, item 4: a revision's change is alerted by the instance judging the platform. One
// made while the platform's judge did not alert it (the judge died with it in its outbox, or no
// instance judged the platform at that moment) is alerted by its next judge when it takes the
// platform over (AlertOptions::takeover), once; one its previous judge sent (read back from the
// alerts topic: the header flexwatch.revision_change) is not sent again.
TEST_F(AlertsTest, ARevisionChangeNoJudgeSentIsAlertedOnceByTheNextJudge) {
  const TimestampMs far = 4102444800000LL;
  const Period july = *ParsePeriod("2024-07");
  std::string platform;
  // A state that sealed July judging every platform (its final levels said), then recorded
  // revision 1 from late events while judging none (the platform's judge was another instance).
  auto revised_unowned = [&](const std::string& name) {
    auto store = StateOf(name, lines_);
    auto none = [](std::string_view platform) { return platform.empty(); };
    for (TimestampMs now : {1000, 2000}) {
      if (now == 2000) {
        const auto late = dir_ / (name + "-late.ndjson");
        std::ofstream out(late);
        for (const std::string& l : LateForJuly(platform)) out << l << "\n";
        out.close();
        EXPECT_TRUE(ReplayFiles(*store, {late.string()}, config_.ingest).ok());
      }
      auto alerts = EvaluateAndAlert(
          *store, *config_.rules, config_.detectors,
          AlertOptions{.topic = "alerts",
                       .quiet_now = far,
                       .now = now,
                       .owns = now == 1000 ? std::function<bool(std::string_view)>() : none,
                       .takeover = now == 1000});
      EXPECT_TRUE(alerts.ok());
      if (now == 2000) {
        EXPECT_TRUE(alerts->empty());  // nothing alerted for another's platforms
      }
      if (now == 1000) {
        auto m = EvaluateMonth(*store, *config_.rules, july, EvaluateOptions{});
        EXPECT_TRUE(m.ok());
        if (platform.empty()) platform = m->platforms.front().platform_id;
      }
    }
    return store;
  };
  auto take_over = [&](Store& store, TimestampMs now) {
    auto alerts = EvaluateAndAlert(
        store, *config_.rules, config_.detectors,
        AlertOptions{.topic = "alerts", .quiet_now = far, .now = now, .takeover = true});
    EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
    return alerts.ok() ? *alerts : std::vector<Alert>{};
  };
  auto first = revised_unowned("first");
  auto revisions = ReadRevisions(*first, july);
  ASSERT_TRUE(revisions.ok());
  ASSERT_EQ(revisions->size(), 2u);
  ASSERT_FALSE((*revisions)[1].changes.empty());
  std::set<std::string> changed;
  for (const RevisionChange& c : (*revisions)[1].changes)
    changed.insert(std::string(kDimensionNames[static_cast<int>(c.dimension)]));

  // Taken over: each change of revision 1 alerted, once, with the header that tells the others.
  std::set<std::string> alerted;
  for (const Alert& a : take_over(*first, 3000)) {
    ASSERT_EQ(a.kind, "revision") << a.json;
    EXPECT_EQ(a.platform_id, platform);
    EXPECT_EQ(a.revision, 1);
    EXPECT_TRUE(alerted.insert(a.dimension).second) << a.json;
  }
  EXPECT_EQ(alerted, changed);
  std::vector<std::string> told;
  ASSERT_TRUE(first
                  ->ForEachOutbox(0, 1000,
                                  [&](uint64_t, const OutboxMessage& m) {
                                    for (const auto& [name, value] : m.headers)
                                      if (name == "flexwatch.revision_change")
                                        told.push_back(value);
                                  })
                  .ok());
  EXPECT_EQ(told.size(), changed.size());
  EXPECT_TRUE(take_over(*first, 4000).empty());  // taken over again: already said

  // Another state in the same place, which read back the first one's alerts: it sends none.
  auto second = revised_unowned("second");
  {
    StateWriter writer(second.get());
    for (const std::string& key : told) writer.PutMeta(key, "");
    ASSERT_TRUE(writer.Commit().ok());
  }
  EXPECT_TRUE(take_over(*second, 3000).empty());
  // Without them (a judge that died before it delivered), it would have sent them all.
  auto third = revised_unowned("third");
  EXPECT_EQ(take_over(*third, 3000).size(), changed.size());
}

// The same for a month's final levels: a state that judged no platform when the months became
// final, and so remembers none of their final levels, says each one no instance said once it
// takes the platforms over, as a state that judged them all along said them.
TEST_F(AlertsTest, AFinalLevelNoJudgeSaidIsAlertedByTheNextJudge) {
  const TimestampMs far = 4102444800000LL;
  auto finals = [](const std::vector<Alert>& alerts) {
    std::set<std::string> out;
    for (const Alert& a : alerts)
      if (a.final)
        out.insert(FormatPeriod(a.period) + " " + a.platform_id + " " + a.dimension + " " +
                   a.level);
    return out;
  };
  auto all_along = StateOf("all-along", lines_);
  std::vector<Alert> said;
  for (TimestampMs now : {1000, 2000, 3000}) {
    auto a = EvaluateAndAlert(*all_along, *config_.rules, config_.detectors,
                              AlertOptions{.topic = "alerts", .quiet_now = far, .now = now});
    ASSERT_TRUE(a.ok());
    said.insert(said.end(), a->begin(), a->end());
  }
  ASSERT_FALSE(finals(said).empty());
  auto later = StateOf("later", lines_);
  auto a = EvaluateAndAlert(*later, *config_.rules, config_.detectors,
                            AlertOptions{.topic = "alerts",
                                         .quiet_now = far,
                                         .now = 1000,
                                         .owns = [](std::string_view) { return false; },
                                         .takeover = true});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
  a = EvaluateAndAlert(*later, *config_.rules, config_.detectors,
                       AlertOptions{.topic = "alerts", .quiet_now = far, .now = 2000});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty()) << "alerted without a takeover";
  AlertRound round;
  a = EvaluateAndAlert(
      *later, *config_.rules, config_.detectors,
      AlertOptions{.topic = "alerts", .quiet_now = far, .now = 3000, .takeover = true}, &round);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(finals(*a), finals(said));
  EXPECT_FALSE(round.takeover_pending);
  a = EvaluateAndAlert(
      *later, *config_.rules, config_.detectors,
      AlertOptions{.topic = "alerts", .quiet_now = far, .now = 4000, .takeover = true});
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
}

// Taken over with events arrived since the month's latest revision: a final level no instance
// said (a level other than green sealed) waits for their revision, and is then told as the month
// stands, the revision's change in it (not alerted apart): the platform's alerts go from what was
// last said to the final level. (A cell green when sealed was said: its change is a revision.)
TEST_F(AlertsTest, AFinalLevelNoJudgeSaidWaitsForTheRevisionOfWhatArrivedSince) {
  const TimestampMs far = 4102444800000LL;
  const Period july = *ParsePeriod("2024-07");
  const int contracts = static_cast<int>(Dimension::kContractAvoidance);
  auto store = StateOf("s", lines_);
  auto a = EvaluateAndAlert(*store, *config_.rules, config_.detectors,
                            AlertOptions{.topic = "alerts",
                                         .quiet_now = far,
                                         .now = 1000,
                                         .owns = [](std::string_view) { return false; },
                                         .takeover = true});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->empty());
  auto before = EvaluateMonth(*store, *config_.rules, july, EvaluateOptions{});
  ASSERT_TRUE(before.ok());
  // A platform whose contract avoidance was sealed at a level other than green: the late
  // events (a labour relation without a contract) change its counts.
  std::string platform;
  for (const PlatformScore& ps : before->platforms)
    if (platform.empty() && ps.dimensions[contracts].level != Level::kGreen)
      platform = ps.platform_id;
  ASSERT_FALSE(platform.empty());
  {
    std::ofstream out(dir_ / "late.ndjson");
    for (const std::string& l : LateForJuly(platform)) out << l << "\n";
  }
  ASSERT_TRUE(ReplayFiles(*store, {(dir_ / "late.ndjson").string()}, config_.ingest).ok());
  auto after = EvaluateMonth(*store, *config_.rules, july, EvaluateOptions{});
  ASSERT_TRUE(after.ok());
  const PlatformScore* now = nullptr;
  for (const PlatformScore& ps : after->platforms)
    if (ps.platform_id == platform) now = &ps;
  ASSERT_NE(now, nullptr);
  auto is_the_cell = [&](const Alert& x) {
    return x.period == july && x.platform_id == platform &&
           x.dimension == kDimensionNames[contracts];
  };
  // Taken over: the revision is made in this round; the cell waits for it.
  AlertRound round;
  a = EvaluateAndAlert(
      *store, *config_.rules, config_.detectors,
      AlertOptions{.topic = "alerts", .quiet_now = far, .now = 2000, .takeover = true}, &round);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(round.takeover_pending);
  for (const Alert& x : *a) EXPECT_FALSE(is_the_cell(x)) << x.json;
  auto revisions = ReadRevisions(*store, july);
  ASSERT_TRUE(revisions.ok());
  ASSERT_EQ(revisions->size(), 2u);
  bool revised = false;
  for (const RevisionChange& c : (*revisions)[1].changes)
    revised |= c.platform_id == platform && c.dimension == Dimension::kContractAvoidance;
  EXPECT_TRUE(revised);
  // Next round: the month stands at revision 1, and the cell's final level is told as the month
  // now is, once, as a level change; its revision change is not alerted.
  a = EvaluateAndAlert(
      *store, *config_.rules, config_.detectors,
      AlertOptions{.topic = "alerts", .quiet_now = far, .now = 3000, .takeover = true}, &round);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(round.takeover_pending);
  int told = 0;
  for (const Alert& x : *a) {
    if (!is_the_cell(x)) continue;
    ++told;
    EXPECT_EQ(x.kind, "level_change") << x.json;
    EXPECT_TRUE(x.final);
    EXPECT_EQ(x.level, NameOf(now->dimensions[contracts].level));
  }
  EXPECT_EQ(told, 1);
  a = EvaluateAndAlert(
      *store, *config_.rules, config_.detectors,
      AlertOptions{.topic = "alerts", .quiet_now = far, .now = 4000, .takeover = true}, &round);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->empty());
}

}  // namespace
}  // namespace flexwatch
