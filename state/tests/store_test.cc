#include "flexwatch/state/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>

#include "flexwatch/ingest/decoder.h"
#include "flexwatch/state/id_set.h"
#include "flexwatch/state/inspect.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/records.h"
#include "flexwatch/state/writer.h"
#include "support.h"

namespace flexwatch {
namespace {

namespace fs = std::filesystem;

class StoreTest : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    root_ = dir_;
  }

  std::unique_ptr<Store> Open(const std::string& name = "state",
                              const StoreOptions& options = StoreOptions{}) {
    auto s = Store::Open((root_ / name).string(), options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  // Opens the state with RocksDB itself (after Open made its column families) and hands `write`
  // the column family `name`, to leave there what an earlier build left.
  void WriteAsAnEarlierBuildDid(
      const std::string& name,
      const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle*)>& write) {
    Open().reset();
    const std::string path = (root_ / "state").string();
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& n : names) families.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const size_t at = std::find(names.begin(), names.end(), name) - names.begin();
    ASSERT_LT(at, names.size());
    write(*db, handles[at]);
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  // Decodes and commits `lines` in batches of `batch`.
  IngestCounts Apply(Store& store, const std::vector<std::string>& lines, size_t batch = 1000,
                     bool whole_aggregates = false) {
    Decoder d;
    StateWriter w(&store);
    w.WriteAggregatesWhole(whole_aggregates);
    IngestCounts total;
    Event e;
    Rejection r;
    for (const auto& l : lines) {
      EXPECT_TRUE(d.Decode(l, e, r)) << r.message << ": " << l;
      EXPECT_TRUE(w.Add(e).ok());
      if (w.staged() >= batch) Accumulate(total, w);
    }
    Accumulate(total, w);
    return total;
  }
  static void Accumulate(IngestCounts& total, StateWriter& w) {
    auto c = w.Commit();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    total.accepted += c->accepted;
    total.duplicates += c->duplicates;
    total.rewritten += c->rewritten;
  }
  static std::string DumpOf(Store& s) {
    std::string out;
    EXPECT_TRUE(s.Dump([&](std::string_view l) { out.append(l).push_back('\n'); }).ok());
    return out;
  }
  fs::path root_;
};

std::string Contract(const std::string& id, const std::string& ts, const std::string& action,
                     const std::string& form, const std::string& cp = "p-1") {
  return R"({"type":"contract","event_id":")" + id + R"(","ts":")" + ts +
         R"(","platform_id":"p-1","worker_id":"w-1","action":")" + action + R"(","form":")" + form +
         R"(","counterparty_id":")" + cp + "\"}";
}

std::string Order(const std::string& id, const std::string& ts, const std::string& sector,
                  const std::string& minutes, const std::string& yuan,
                  const std::string& platform = "p-1", const std::string& worker = "w-1") {
  return R"({"type":"order","event_id":")" + id + R"(","ts":")" + ts + R"(","platform_id":")" +
         platform + R"(","worker_id":")" + worker + R"(","sector":")" + sector +
         R"(","duration_min":)" + minutes + R"(,"earnings_cny":)" + yuan + "}";
}

TEST_F(StoreTest, ContractTimelineIsInEventTimeWhateverTheArrivalOrder) {
  auto store = Open();
  Apply(*store, {Contract("c-3", "2024-08-01T09:00:00+08:00", "signed", "labor_contract"),
                 Contract("c-1", "2024-06-01T09:00:00+08:00", "signed", "outsourcing", "ag-1"),
                 Contract("c-2", "2024-07-15T01:00:00Z", "terminated", "outsourcing", "ag-1")});
  auto timeline = store->Contracts("p-1", "w-1");
  ASSERT_EQ(timeline.size(), 3u);
  EXPECT_EQ(timeline[0].event_id, "c-1");
  EXPECT_EQ(timeline[0].form, ContractForm::kOutsourcing);
  EXPECT_EQ(timeline[0].counterparty_id, "ag-1");
  EXPECT_EQ(timeline[1].event_id, "c-2");
  EXPECT_EQ(timeline[1].action, ContractAction::kTerminated);
  EXPECT_EQ(timeline[2].event_id, "c-3");
  EXPECT_EQ(timeline[2].form, ContractForm::kLaborContract);
  EXPECT_TRUE(store->Contracts("p-1", "w-2").empty());
  EXPECT_TRUE(store->Contracts("p-2", "w-1").empty());
}

TEST_F(StoreTest, WorkerMonthsArePerPlatformAndBeijingMonth) {
  auto store = Open();
  Apply(*store, {Order("o-1", "2024-07-31T15:59:00Z", "food_delivery", "30", "10"),
                 Order("o-2", "2024-07-31T16:01:00Z", "food_delivery", "20", "5.5"),  // Aug 1 BJT
                 Order("o-3", "2024-07-10T10:00:00+08:00", "express_delivery", "15.25", "4.05"),
                 Order("o-4", "2024-07-10T11:00:00+08:00", "ride_hailing", "40", "30", "p-2")});
  auto jul = store->GetWorkerMonth(*ParsePeriod("2024-07"), "p-1", "w-1");
  ASSERT_TRUE(jul.ok() && jul->has_value());
  EXPECT_EQ((*jul)->duration, 45250);
  EXPECT_EQ((*jul)->earnings, 1405);
  EXPECT_EQ((*jul)->TotalOrders(), 2);
  EXPECT_EQ((*jul)->sector_days[static_cast<int>(Sector::kExpressDelivery)], 1u << 9);
  auto aug = store->GetWorkerMonth(*ParsePeriod("2024-08"), "p-1", "w-1");
  ASSERT_TRUE(aug.ok() && aug->has_value());
  EXPECT_EQ((*aug)->duration, 20000);
  auto other = store->GetWorkerMonth(*ParsePeriod("2024-07"), "p-2", "w-1");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->TotalOrders(), 1);
  std::vector<Period> periods = store->Periods();
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(FormatPeriod(periods[0]), "2024-07");
  EXPECT_EQ(store->Platforms(), (std::vector<std::string>{"p-1", "p-2"}));
}

TEST_F(StoreTest, ContributionsCoverageAndComplaints) {
  auto store = Open();
  Apply(
      *store,
      {R"({"type":"contribution","event_id":"s-1","ts":"2024-08-10T10:00:00+08:00","platform_id":"p-1","worker_id":"w-1","period":"2024-07","scheme":"pension","payer":"employer","base_cny":6821,"amount_cny":600})",
       R"({"type":"contribution","event_id":"s-2","ts":"2024-08-20T10:00:00+08:00","platform_id":"p-1","worker_id":"w-1","period":"2024-07","scheme":"pension","payer":"employer","base_cny":6821,"amount_cny":491.36})",
       R"({"type":"contribution","event_id":"s-3","ts":"2024-08-05T10:00:00+08:00","platform_id":"p-1","worker_id":"w-1","period":"2024-07","scheme":"occupational_injury","payer":"platform","amount_cny":42.3,"orders_covered":423})",
       R"({"type":"coverage","event_id":"v-1","ts":"2024-06-28T10:00:00+08:00","platform_id":"p-1","worker_id":"w-1","product":"accident","sum_insured_cny":600000,"valid_from":"2024-07-01","valid_to":"2024-07-31"})",
       R"({"type":"complaint","event_id":"q-1","ts":"2024-07-20T18:00:00+08:00","platform_id":"p-1","category":"no_contract"})",
       R"({"type":"complaint","event_id":"q-2","ts":"2024-07-21T18:00:00+08:00","platform_id":"p-1","worker_id":"w-1","category":"no_contract"})"});
  // Payments are kept per scheme, payer and the day they were made (the rules decide which came
  // in time); two on one day are summed.
  Apply(
      *store,
      {R"({"type":"contribution","event_id":"s-4","ts":"2024-08-20T16:00:00+08:00","platform_id":"p-1","worker_id":"w-1","period":"2024-07","scheme":"pension","payer":"employer","base_cny":6900,"amount_cny":8.64})"});
  auto contribs = store->Contributions(*ParsePeriod("2024-07"), "p-1", "w-1");
  ASSERT_EQ(contribs.size(), 3u);
  EXPECT_EQ(contribs[0].scheme, Scheme::kPension);
  EXPECT_EQ(FormatDate(contribs[0].paid_on), "2024-08-10");
  EXPECT_EQ(contribs[0].total.amount, 60000);
  EXPECT_EQ(contribs[0].total.payments, 1);
  EXPECT_EQ(contribs[1].scheme, Scheme::kPension);
  EXPECT_EQ(FormatDate(contribs[1].paid_on), "2024-08-20");
  EXPECT_EQ(contribs[1].total.amount, 50000);
  EXPECT_EQ(contribs[1].total.base, 690000);
  EXPECT_EQ(contribs[1].total.payments, 2);
  EXPECT_EQ(contribs[2].scheme, Scheme::kOccupationalInjury);
  EXPECT_EQ(FormatDate(contribs[2].paid_on), "2024-08-05");
  EXPECT_EQ(contribs[2].total.orders_covered, 423);
  auto policies = store->Policies("p-1", "w-1");
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0].sum_insured, 60000000);
  EXPECT_EQ(FormatDate(policies[0].valid_to), "2024-07-31");
  auto complaints = store->Complaints(*ParsePeriod("2024-07"), "p-1");
  ASSERT_EQ(complaints.size(), 1u);
  EXPECT_EQ(complaints[0].second, 2);
}

TEST_F(StoreTest, ContributionsOfTheEarlierLayoutAreReadDatedByTheirLastPayment) {
  // A state written before payments were kept per day: one record per scheme and payer, its key
  // without the day. Written here with RocksDB itself, as that build left it.
  WriteAsAnEarlierBuildDid("contrib", [](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* contrib) {
    const Period july = *ParsePeriod("2024-07");
    std::string key = keys::Contribution(july, "p-1", "w-1", Scheme::kPension, Payer::kEmployer, 0);
    key.resize(key.size() - 4);  // no day
    ContributionTotal t;
    t.amount = 109136;
    t.base = 682100;
    t.payments = 1;
    t.first_paid = t.last_paid = *ParseRfc3339("2024-09-20T10:00:00+08:00");
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), contrib, key, t.Encode()).ok());
  });
  auto store = Open();
  const auto records = store->Contributions(*ParsePeriod("2024-07"), "p-1", "w-1");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(FormatDate(records[0].paid_on), "2024-09-20");
  EXPECT_EQ(records[0].total.amount, 109136);
}

TEST_F(StoreTest, SeenIdsOfTheEarlierLayoutAreCarriedOverAndStayDuplicates) {
  // A state written before the seen-id index: a bucket per id but its last 2 characters, its
  // suffixes sorted. Written here with RocksDB itself, as that build left it.
  const std::vector<std::string> ids = {
      "o-1", "o-2", "o-10", "ab", "7", "1b4e28ba-2fa1-4d2b-883f-0016d3cca427", "9f86d081884c7d65"};
  WriteAsAnEarlierBuildDid("seen", [&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* seen) {
    std::map<std::string, std::vector<uint16_t>> buckets;  // "p-1" \0 all but 2 chars -> those
    for (const std::string& id : ids) {
      const size_t keep = id.size() > 2 ? id.size() - 2 : 0;
      uint16_t suffix = 0;
      for (char c : id.substr(keep)) suffix = static_cast<uint16_t>(suffix << 8 | uint8_t(c));
      if (id.size() == 1) suffix <<= 8;  // one character: the second \0
      buckets[std::string("p-1", 4) + id.substr(0, keep)].push_back(suffix);
    }
    for (auto& [key, suffixes] : buckets) {
      std::sort(suffixes.begin(), suffixes.end());
      ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), seen, key,
                         EncodeSeenSet(suffixes.data(), suffixes.size()))
                      .ok());
    }
  });
  auto store = Open();
  // Carried over: nothing of the earlier layout is left, and each id is still a duplicate, even
  // with other content (what it said then was not kept).
  std::string dump;
  ASSERT_TRUE(store->Dump([&](std::string_view line) { dump += std::string(line) + "\n"; }).ok());
  for (const std::string& line : {std::string("seen\tp-1"), std::string("seen\tp-1\\x00")})
    EXPECT_EQ(dump.find(line), std::string::npos) << dump;
  std::vector<std::string> again;
  for (const std::string& id : ids)
    again.push_back(Order(id, "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10"));
  again.push_back(Order("o-1", "2024-07-09T10:00:00+08:00", "freight", "300", "90"));
  IngestCounts c = Apply(*store, again);
  EXPECT_EQ(c.accepted, 0);
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(ids.size()) + 1);
  EXPECT_EQ(c.rewritten, 0);  // what they said first is not known
  c = Apply(*store,
            {Order("o-3", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10"),
             Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10", "p-2")});
  EXPECT_EQ(c.accepted, 2);
  // Opened again, nothing more to carry, and the same answers.
  store.reset();
  store = Open();
  c = Apply(*store, again);
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(ids.size()) + 1);
}

// The same ids, whatever their shape, in any order and split over any commits: each applied once.
TEST_F(StoreTest, EveryIdShapeIsDeduplicatedAcrossCommitsAndReopens) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 3000; ++i) {
    ids.push_back("o-" + std::to_string(i));
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(i) * 0x9e3779b97f4a7c15ull);
    ids.push_back(hex);
    ids.push_back(std::to_string(595407289714450435ull + static_cast<uint64_t>(i) * 4194304));
    ids.push_back(std::string("1b4e28ba-2fa1-4d2b-883f-") + hex + "abcd");
  }
  std::vector<std::string> lines;
  for (const std::string& id : ids)
    lines.push_back(Order(id, "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10"));
  std::vector<std::string> twice = lines;
  twice.insert(twice.end(), lines.begin(), lines.end());
  std::mt19937 rng(5);
  std::shuffle(twice.begin(), twice.end(), rng);
  auto store = Open();
  IngestCounts c =
      Apply(*store, std::vector<std::string>(twice.begin(), twice.begin() + 10000), 777);
  IngestCounts d =
      Apply(*store, std::vector<std::string>(twice.begin() + 10000, twice.end()), 5000);
  EXPECT_EQ(c.accepted + d.accepted, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(c.duplicates + d.duplicates, static_cast<int64_t>(ids.size()));
  store.reset();
  store = Open();
  c = Apply(*store, lines);
  EXPECT_EQ(c.accepted, 0);
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(ids.size()));
}

// Past its cache, the writer lets go of the buckets met longest ago and reads them again when
// they are met: every id stays known, whatever its shape and wherever it went, and the cache
// stays within its bound after every commit.
TEST_F(StoreTest, ASeenIdCacheSmallerThanTheIndexLetsBucketsGoAndForgetsNoId) {
  std::vector<std::string> lines;
  for (int i = 1; i <= 4000; ++i) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(i) * 0x9e3779b97f4a7c15ull);
    for (const std::string& id :
         {"o-" + std::to_string(i), std::string(hex),
          std::to_string(595407289714450435ull + static_cast<uint64_t>(i) * 4194304),
          std::string("1b4e28ba-2fa1-4d2b-883f-") + hex + "abcd"})
      lines.push_back(Order(id, "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10",
                            i % 2 ? "p-1" : "p-2"));
  }
  std::vector<std::string> twice = lines;
  twice.insert(twice.end(), lines.begin(), lines.end());
  std::mt19937 rng(9);
  std::shuffle(twice.begin(), twice.end(), rng);
  StoreOptions options;
  options.seen_cache_bytes = 16 << 10;  // about 2,000 ids of the 16,000
  auto store = Open("state", options);
  Decoder d;
  StateWriter w(store.get());
  IngestCounts total;
  size_t most = 0;
  Event e;
  Rejection r;
  for (const std::string& l : twice) {
    ASSERT_TRUE(d.Decode(l, e, r)) << r.message;
    ASSERT_TRUE(w.Add(e).ok());
    if (w.staged() < 700) continue;
    Accumulate(total, w);
    EXPECT_LE(w.seen_cached_bytes(), options.seen_cache_bytes);
    most = std::max(most, w.seen_cached_bytes());
  }
  Accumulate(total, w);
  EXPECT_GT(most, options.seen_cache_bytes / 2);  // the cache was used, and let go of some
  EXPECT_EQ(total.accepted, static_cast<int64_t>(lines.size()));
  EXPECT_EQ(total.duplicates, static_cast<int64_t>(lines.size()));
  EXPECT_EQ(total.rewritten, 0);
  // The same writer, every id again: all known, from the cache or read back from state.
  for (const std::string& l : lines) {
    ASSERT_TRUE(d.Decode(l, e, r));
    ASSERT_TRUE(w.Add(e).ok());
  }
  auto c = w.Commit();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->accepted, 0);
  EXPECT_EQ(c->duplicates, static_cast<int64_t>(lines.size()));
}

// A repeated event id whose content differs from its first arrival is counted as rewritten, per
// platform and month, wherever the first arrival is (state, this commit, a bucket of any kind);
// a re-delivery of the same content is not; the first arrival is what counts.
TEST_F(StoreTest, ARepeatedIdWithOtherContentIsCountedAsRewrittenPerPlatformAndMonth) {
  const std::string july = "2024-07-03T10:00:00+08:00", august = "2024-08-03T10:00:00+08:00";
  Decoder decoder;
  auto tag_of = [&](const std::string& line) {
    Event e;
    Rejection r;
    EXPECT_TRUE(decoder.Decode(line, e, r)) << r.message;
    return ContentTag(e);
  };
  // The order `id` with other minutes, whose 4-bit tag differs from the original's (one rewrite
  // in 15 has the same tag and is taken for a re-delivery: not the case under test here).
  auto rewrite = [&](const std::string& id, const std::string& ts) {
    const uint8_t original = tag_of(Order(id, july, "food_delivery", "30", "10"));
    for (int minutes = 31;; ++minutes) {
      std::string line = Order(id, ts, "food_delivery", std::to_string(minutes), "10");
      if (tag_of(line) != original) return line;
    }
  };
  // Ids of each kind of bucket: a counter (a small bucket: a map of tags), 16 hex digits (a
  // large one, in order or hashed), UUIDs (hashed).
  std::vector<std::string> ids;
  for (int i = 1; i <= 600; ++i) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(i) * 0x9e3779b97f4a7c15ull);
    ids.push_back("o-" + std::to_string(i));
    ids.push_back(hex);
    ids.push_back(std::string("1b4e28ba-2fa1-4d2b-883f-") + hex + "abcd");
  }
  std::vector<std::string> originals;
  for (const std::string& id : ids)
    originals.push_back(Order(id, july, "food_delivery", "30", "10"));
  std::mt19937 rng(3);
  std::shuffle(originals.begin(), originals.end(), rng);
  auto store = Open();
  ASSERT_EQ(Apply(*store, originals).accepted, static_cast<int64_t>(ids.size()));

  // Against the state: every id again as it was (re-deliveries), every third rewritten, one in
  // August.
  std::vector<std::string> again = originals;
  int64_t rewritten = 0;
  for (size_t i = 0; i < ids.size(); i += 3, ++rewritten)
    again.push_back(rewrite(ids[i], i == 0 ? august : july));
  std::shuffle(again.begin(), again.end(), rng);
  IngestCounts c = Apply(*store, again, 700);
  EXPECT_EQ(c.accepted, 0);
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(again.size()));
  EXPECT_EQ(c.rewritten, rewritten);
  // Within one commit: new ids (in order, then out of order), each repeated as it was and
  // rewritten.
  const std::vector<std::string> fresh_ids = {"o-1001",
                                              "o-1002",
                                              "o-1003",
                                              "ffff000000000001",
                                              "ffff000000000002",
                                              "ffff000000000009",
                                              "ffff000000000005",
                                              "n-1-a",
                                              "n-2-b"};
  std::vector<std::string> fresh;
  for (const std::string& id : fresh_ids)
    fresh.push_back(Order(id, july, "food_delivery", "30", "10"));
  const size_t n = fresh.size();
  for (size_t i = 0; i < n; ++i) {
    fresh.push_back(fresh[i]);
    fresh.push_back(rewrite(fresh_ids[i], july));
  }
  c = Apply(*store, fresh, 100000);
  EXPECT_EQ(c.accepted, static_cast<int64_t>(n));
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(2 * n));
  EXPECT_EQ(c.rewritten, static_cast<int64_t>(n));

  // Counted per platform and month (the month the repeat speaks of), and in the run counter.
  auto counted = [&](const std::string& month, const std::string& platform) {
    int64_t v = 0;
    if (auto m = store->GetMeta(meta_keys::Rewritten(*ParsePeriod(month), platform))) {
      EXPECT_TRUE(DecodeCounter(*m, v));
    }
    return v;
  };
  EXPECT_EQ(counted("2024-07", "p-1"), rewritten - 1 + static_cast<int64_t>(n));
  EXPECT_EQ(counted("2024-08", "p-1"), 1);
  EXPECT_EQ(counted("2024-07", "p-2"), 0);
  EXPECT_EQ(store->Counter("rewritten"), rewritten + static_cast<int64_t>(n));
  // What arrived first is what counts: every order 30 minutes, all in July.
  auto wm = store->GetWorkerMonth(*ParsePeriod("2024-07"), "p-1", "w-1");
  ASSERT_TRUE(wm.ok() && *wm);
  EXPECT_EQ((*wm)->TotalOrders(), static_cast<int64_t>(ids.size() + n));
  auto august_wm = store->GetWorkerMonth(*ParsePeriod("2024-08"), "p-1", "w-1");
  ASSERT_TRUE(august_wm.ok());
  EXPECT_FALSE(august_wm->has_value());

  // Many ids of one large bucket in one commit, out of order (snowflake ids): the first few
  // hundred kept in order, the rest in the commit's hash set; each then repeated and rewritten.
  std::vector<std::string> snowflakes, crowd;
  for (int i = 0; i < 1500; ++i)
    snowflakes.push_back(std::to_string(595407289714450435ull + uint64_t(i) * 4194304));
  std::shuffle(snowflakes.begin(), snowflakes.end(), rng);
  for (const std::string& id : snowflakes)
    crowd.push_back(Order(id, july, "food_delivery", "30", "10"));
  for (const std::string& id : snowflakes) {
    crowd.push_back(Order(id, july, "food_delivery", "30", "10"));
    crowd.push_back(rewrite(id, july));
  }
  c = Apply(*store, crowd, 100000);
  EXPECT_EQ(c.accepted, 1500);
  EXPECT_EQ(c.duplicates, 3000);
  EXPECT_EQ(c.rewritten, 1500);
  c = Apply(*store, {crowd[0], crowd[1500], crowd[1501]});
  EXPECT_EQ(c.duplicates, 3);

  // Opened again: the tags are in the state.
  store.reset();
  store = Open();
  c = Apply(*store, {rewrite(ids[1], july), Order(ids[1], july, "food_delivery", "30", "10")});
  EXPECT_EQ(c.duplicates, 2);
  EXPECT_EQ(c.rewritten, 1);
}

// A source that has delivered closes nothing before every source has (the consumer then sets
// the closing watermark): the largest event time of one is no closing watermark. A state written
// before sources kept their own stays closed as far as its largest event time, after it is
// opened by this build too.
TEST_F(StoreTest, TheClosingWatermarkIsNeverOneSourcesLatestEvent) {
  auto commit = [&](Store& store, const std::string& line, const std::string& position) {
    Decoder d;
    StateWriter w(&store);
    Event e;
    Rejection r;
    ASSERT_TRUE(d.Decode(line, e, r)) << r.message;
    ASSERT_TRUE(w.Add(e).ok());
    w.SetPosition("kafka:flexwatch.events:0", position);
    ASSERT_TRUE(w.Commit().ok());
  };
  const std::string october = "2024-10-20T10:00:00+08:00";
  auto store = Open("now");
  commit(*store, Order("o-1", october, "food_delivery", "30", "10"),
         R"({"offset":1,"event_time":1729389600000})");
  EXPECT_TRUE(store->MaxEventTime().has_value());
  EXPECT_FALSE(store->ClosingWatermark().has_value());
  store.reset();
  store = Open("now");
  EXPECT_FALSE(store->ClosingWatermark().has_value());

  // The earlier layout: positions without a watermark of their own.
  store = Open("earlier");
  commit(*store, Order("o-1", october, "food_delivery", "30", "10"), R"({"offset":1})");
  ASSERT_TRUE(store->ClosingWatermark().has_value());
  const TimestampMs closed = *store->ClosingWatermark();
  EXPECT_EQ(closed, *store->MaxEventTime());
  store.reset();
  store = Open("earlier");  // keeps it
  commit(*store, Order("o-2", "2024-10-01T10:00:00+08:00", "food_delivery", "30", "10"),
         R"({"offset":2,"event_time":1727748000000})");
  EXPECT_EQ(store->ClosingWatermark(), std::optional<TimestampMs>(closed));
}

TEST_F(StoreTest, DuplicatesAreIgnoredWithinAndAcrossCommits) {
  auto store = Open();
  std::string o1 = Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10");
  std::string o2 = Order("o-2", "2024-07-03T11:00:00+08:00", "food_delivery", "30", "10");
  IngestCounts c = Apply(*store, {o1, o1, o2});
  EXPECT_EQ(c.accepted, 2);
  EXPECT_EQ(c.duplicates, 1);
  c = Apply(*store, {o2, o1});
  EXPECT_EQ(c.accepted, 0);
  EXPECT_EQ(c.duplicates, 2);
  // The same event_id from another platform is another producer's event.
  c = Apply(*store,
            {Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10", "p-9")});
  EXPECT_EQ(c.accepted, 1);
  auto wm = store->GetWorkerMonth(*ParsePeriod("2024-07"), "p-1", "w-1");
  EXPECT_EQ((*wm)->TotalOrders(), 2);
  EXPECT_EQ(store->Counter("accepted"), 3);
  EXPECT_EQ(store->Counter("duplicates"), 3);
}

TEST_F(StoreTest, IdsOfEveryLengthAreTellApartAcrossBuckets) {
  auto store = Open();
  std::vector<std::string> ids = {"1", "2", "12", "21", "123", "124", "1234", "12:4", "a.b_c-d"};
  for (int i = 100; i < 300; ++i) ids.push_back("x-" + std::to_string(i));
  auto line = [](const std::string& id) {
    return Order(id, "2024-07-03T10:00:00+08:00", "food_delivery", "1", "1");
  };
  std::vector<std::string> first, second;
  for (size_t i = 0; i < ids.size(); ++i) (i % 2 ? second : first).push_back(line(ids[i]));
  IngestCounts c = Apply(*store, first, 37);
  EXPECT_EQ(c.accepted, static_cast<int64_t>(first.size()));
  EXPECT_EQ(c.duplicates, 0);
  // The second half is new, the first half now repeated, in one commit.
  std::vector<std::string> mixed = second;
  mixed.insert(mixed.end(), first.begin(), first.end());
  c = Apply(*store, mixed, 100000);
  EXPECT_EQ(c.accepted, static_cast<int64_t>(second.size()));
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(first.size()));
  auto wm = store->GetWorkerMonth(*ParsePeriod("2024-07"), "p-1", "w-1");
  EXPECT_EQ((*wm)->TotalOrders(), static_cast<int64_t>(ids.size()));
}

TEST_F(StoreTest, EverySuffixKindSharesABucketAndIsDeduplicatedWithinACommit) {
  // One bucket ("q-7") holding suffixes of hex digits (kept in the commit's bitmap) and of any
  // other characters (kept in its added-id set), each repeated within the same commit.
  std::vector<std::string> ids = {"q-700", "q-7ff", "q-7a0", "q-709", "q-7AB", "q-7Z-",
                                  "q-7.:", "q-70A", "q-7g0", "q-7_f", "q-7f9", "q-799"};
  std::vector<std::string> lines;
  for (const std::string& id : ids)
    lines.push_back(Order(id, "2024-07-03T10:00:00+08:00", "food_delivery", "1", "1"));
  std::vector<std::string> twice = lines;
  twice.insert(twice.end(), lines.rbegin(), lines.rend());
  auto a = Open("a");
  IngestCounts c = Apply(*a, twice, 100000);  // one commit
  EXPECT_EQ(c.accepted, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(ids.size()));
  auto b = Open("b");
  c = Apply(*b, twice, 1);  // a commit per event
  EXPECT_EQ(c.accepted, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(ids.size()));
  EXPECT_EQ(DumpOf(*a), DumpOf(*b));
  c = Apply(*a, lines, 5);
  EXPECT_EQ(c.accepted, 0);
  EXPECT_EQ(c.duplicates, static_cast<int64_t>(ids.size()));
}

TEST_F(StoreTest, AggregatesWrittenWholeEqualMergedOnes) {
  std::vector<std::string> lines;
  for (int i = 0; i < 120; ++i) {
    const std::string day = std::to_string(10 + i % 18);
    lines.push_back(Order("o-" + std::to_string(i), "2024-07-" + day + "T10:00:00+08:00",
                          i % 4 ? "food_delivery" : "freight", std::to_string(5 + i % 30),
                          std::to_string(i % 9) + ".5", "p-" + std::to_string(i % 2),
                          "w-" + std::to_string(i % 5)));
    if (i % 6 == 0)
      lines.push_back(R"({"type":"contribution","event_id":"s-)" + std::to_string(i) +
                      R"(","ts":"2024-08-0)" + std::to_string(1 + i % 9) +
                      R"(T10:00:00+08:00","platform_id":"p-1","worker_id":"w-)" +
                      std::to_string(i % 5) +
                      R"(","period":"2024-07","scheme":"pension","payer":"employer","base_cny":)" +
                      std::to_string(6000 + i) + R"(,"amount_cny":)" + std::to_string(i) + "}");
  }
  auto merged = Open("merged");
  Apply(*merged, lines, 7);
  // Half written merged (an existing state), the rest whole, in commits of five lines.
  auto whole = Open("whole");
  const size_t half = lines.size() / 2;
  Apply(*whole, std::vector<std::string>(lines.begin(), lines.begin() + half), 7);
  IngestCounts c = Apply(*whole, std::vector<std::string>(lines.begin() + half, lines.end()), 5,
                         /*whole_aggregates=*/true);
  EXPECT_EQ(c.accepted, static_cast<int64_t>(lines.size() - half));
  const std::string dm = DumpOf(*merged);
  EXPECT_NE(dm.find("wm\t"), std::string::npos);  // worker-month records are in it
  EXPECT_EQ(DumpOf(*whole), dm);
  auto wm = whole->GetWorkerMonth(*ParsePeriod("2024-07"), "p-0", "w-0");
  ASSERT_TRUE(wm.ok() && *wm);
  EXPECT_EQ((*wm)->TotalOrders(), 12);
  int64_t payments = 0;
  for (const ContributionRecord& r : whole->Contributions(*ParsePeriod("2024-07"), "p-1", "w-1"))
    payments += r.total.payments;
  EXPECT_EQ(payments, 4);
}

TEST_F(StoreTest, ShuffledArrivalGivesTheSameState) {
  std::vector<std::string> lines;
  for (int i = 0; i < 400; ++i) {
    std::string ts = "2024-07-" + std::string(i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) +
                     "T1" + std::to_string(i % 10) + ":00:00+08:00";
    lines.push_back(Order("o-" + std::to_string(i), ts, i % 3 ? "food_delivery" : "home_services",
                          std::to_string(10 + i % 50), std::to_string(i % 40) + ".25",
                          "p-" + std::to_string(i % 3), "w-" + std::to_string(i % 17)));
    if (i % 7 == 0)
      lines.push_back(Contract("c-" + std::to_string(i), ts, i % 2 ? "signed" : "terminated",
                               "labor_contract"));
  }
  lines.push_back(lines[5]);  // a duplicate
  auto a = Open("a");
  Apply(*a, lines, 64);
  std::mt19937 rng(7);
  std::shuffle(lines.begin(), lines.end(), rng);
  auto b = Open("b");
  Apply(*b, lines, 50);
  std::string da = DumpOf(*a), db = DumpOf(*b);
  EXPECT_GT(da.size(), 1000u);
  EXPECT_EQ(da, db);
}

TEST_F(StoreTest, StateSurvivesReopen) {
  {
    auto store = Open();
    Apply(*store, {Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10")});
  }
  auto store = Open();
  auto wm = store->GetWorkerMonth(*ParsePeriod("2024-07"), "p-1", "w-1");
  ASSERT_TRUE(wm.ok() && wm->has_value());
  EXPECT_EQ((*wm)->earnings, 1000);
  auto json = InspectJson(*store, InspectQuery{"p-1", "w-1", std::nullopt, {}, {}});
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"earnings_cny\": 10.00"), std::string::npos) << *json;
}

TEST_F(StoreTest, InspectListsContributionsOfMonthsWithoutOrders) {
  auto store = Open();
  Apply(
      *store,
      {Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10"),
       R"({"type":"contribution","event_id":"s-9","ts":"2024-10-10T10:00:00+08:00","platform_id":"p-1","worker_id":"w-1","period":"2024-09","scheme":"pension","payer":"employer","base_cny":6821,"amount_cny":1091.36})"});
  auto json = InspectJson(*store, InspectQuery{"p-1", "w-1", std::nullopt, {}, {}});
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_NE(json->find("{\"period\": \"2024-09\", \"scheme\": \"pension\""), std::string::npos)
      << *json;
  EXPECT_NE(json->find("\"period\": \"2024-07\""), std::string::npos) << *json;
}

TEST_F(StoreTest, AWorkerIsFoundOnEveryPlatformWithARecordOfThem) {
  auto store = Open();
  std::string contract_elsewhere =
      Contract("c-1", "2024-06-01T09:00:00+08:00", "signed", "freelance", "p-2");
  const std::string from = "\"platform_id\":\"p-1\"";
  contract_elsewhere.replace(contract_elsewhere.find(from), from.size(), "\"platform_id\":\"p-2\"");
  Apply(*store,
        {Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "10"),
         Order("o-2", "2024-07-03T11:00:00+08:00", "food_delivery", "30", "10", "p-1", "w-2"),
         contract_elsewhere});
  EXPECT_EQ(store->Workers("p-1"), (std::vector<std::string>{"w-1", "w-2"}));
  EXPECT_EQ(store->Workers("p-2"), (std::vector<std::string>{"w-1"}));
  auto json = InspectJson(*store, InspectQuery{"", "w-1", std::nullopt, {}, {}});
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_NE(json->find("\"platform_id\": \"p-1\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"platform_id\": \"p-2\""), std::string::npos) << *json;
}

TEST_F(StoreTest, UnusableDirectoryIsAClearError) {
  fs::create_directories(root_);
  std::ofstream(root_ / "file") << "x";
  auto s = Store::Open((root_ / "file").string(), StoreOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a directory"), std::string::npos);
  auto first = Open("locked");
  auto second = Store::Open((root_ / "locked").string(), StoreOptions{});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
}

TEST_F(StoreTest, PeriodWalksEndOnAnyPeriodAStateHolds) {
  // A period the decoder no longer lets through (before 2000, even before year 0), as a state
  // written before the plausibility rules may hold: listing the months must still end.
  auto store = Open();
  Event e;
  Rejection r;
  Decoder d;
  ASSERT_TRUE(
      d.Decode(Order("o-1", "2024-07-03T10:00:00+08:00", "food_delivery", "30", "9"), e, r));
  StateWriter w(store.get());
  ASSERT_TRUE(w.Add(e).ok());
  e.event_id = "o-2";
  e.ts = -62167248000000LL - 3600000;  // Beijing year -1
  ASSERT_TRUE(w.Add(e).ok());
  ASSERT_TRUE(w.Commit().ok());
  const std::vector<Period> periods = store->Periods();
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(periods[0], MakePeriod(2024, 7));
  EXPECT_LT(periods[1], 0);
}

}  // namespace
}  // namespace flexwatch

namespace flexwatch {
namespace {

TEST(MetaKeysTest, EachKindHasItsShapeAndBookkeepingIsKnown) {
  const Period p = MakePeriod(2024, 7);
  EXPECT_EQ(meta_keys::Position("feed.ndjson"), "pos/feed.ndjson");
  EXPECT_EQ(meta_keys::QuietClosed(p), "quiet-closed/2024-07");
  EXPECT_EQ(meta_keys::Level(p, "p-1", "underpayment"), "level/2024-07/p-1/underpayment");
  EXPECT_EQ(meta_keys::Warned(p, "p-1", "own_history", "contribution_ratio"),
            "warned/2024-07/p-1/own_history/contribution_ratio");
  EXPECT_EQ(meta_keys::PublishDue(p), "publish-due/2024-07");
  EXPECT_TRUE(meta_keys::PublishDue(p).starts_with(meta_keys::kPublishDuePrefix));
  for (const std::string& k : {meta_keys::Counter("accepted"), std::string(meta_keys::kOutboxNext),
                               meta_keys::Level(p, "p", "d"), meta_keys::AlertedFinal(p),
                               meta_keys::Warned(p, "p", "d", "s"), meta_keys::PublishDue(p),
                               meta_keys::SealedHere(p), meta_keys::SeenAfterSeal(p, "p-1"),
                               meta_keys::Revision(p, 0), meta_keys::AfterSeal(p, "p-1")})
    EXPECT_TRUE(meta_keys::IsBookkeeping(k)) << k;
  for (const std::string& k : {meta_keys::Position("f"), meta_keys::Platform("p-1"),
                               std::string(meta_keys::kWatermark), meta_keys::QuietClosed(p)})
    EXPECT_FALSE(meta_keys::IsBookkeeping(k)) << k;
}

}  // namespace

TEST_F(StoreTest, ABatchWritesBookkeepingAtomicallyAndTheDumpLeavesDeliveryOut) {
  auto store = Open();
  ASSERT_TRUE(store);
  const Period p = MakePeriod(2024, 7);
  Batch batch;
  batch.Put(meta_keys::QuietClosed(p), "1720000000000");
  batch.Put(meta_keys::PublishDue(p), "");
  batch.Put(meta_keys::AlertedFinal(p), "");
  store->PutOutbox(batch, {OutboxMessage{"alerts", "k", "{}", {}}});
  EXPECT_FALSE(store->GetMeta(meta_keys::PublishDue(p)));  // nothing before Write
  ASSERT_TRUE(store->Write(batch).ok());
  EXPECT_EQ(store->GetMeta(meta_keys::QuietClosed(p)), "1720000000000");
  EXPECT_EQ(store->MetaKeys(meta_keys::kPublishDuePrefix),
            std::vector<std::string>{meta_keys::PublishDue(p)});
  int outbox = 0;
  ASSERT_TRUE(store->ForEachOutbox(0, 10, [&](uint64_t, const OutboxMessage&) { ++outbox; }).ok());
  EXPECT_EQ(outbox, 1);
  const std::string dump = DumpOf(*store);
  EXPECT_NE(dump.find("default\tquiet-closed/2024-07\t"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("publish-due/"), std::string::npos) << dump;
  EXPECT_EQ(dump.find("alerted-final/"), std::string::npos) << dump;
  Batch forget;
  forget.Delete(meta_keys::PublishDue(p));
  ASSERT_TRUE(store->Write(forget).ok());
  EXPECT_TRUE(store->MetaKeys(meta_keys::kPublishDuePrefix).empty());
}

}  // namespace flexwatch
