// libFuzzer target for the whole judging path: an input's lines decoded, applied to a real
// state (RocksDB in a temporary directory, kept across inputs so that months fill up), and
// every month they touch evaluated, its early warnings detected and its announcement rendered
// (JSON, Markdown, CSV; both languages). Properties: nothing crashes, hangs or trips a
// sanitizer; a month is judged or refused with a Status (a month the rules cannot judge); every
// dimension has 0 <= pending, affected <= in_scope; the same month judged twice renders the same
// bytes; the JSON parses.
#include <simdjson.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/announce/publish.h"
#include "flexwatch/detectors/detectors.h"
#include "flexwatch/ingest/decoder.h"
#include "flexwatch/rules/evaluate.h"
#include "flexwatch/settings/config.h"
#include "flexwatch/state/store.h"
#include "flexwatch/state/writer.h"

namespace fs = std::filesystem;
using namespace flexwatch;

namespace {

void Fail(const std::string& what) {
  std::fprintf(stderr, "property violated: %s\n", what.c_str());
  std::abort();
}

struct World {
  Config config = *ShippedConfig();
  fs::path dir =
      fs::temp_directory_path() / ("flexwatch-evaluate-fuzz-" + std::to_string(getpid()));
  std::unique_ptr<Store> store;
  int inputs = 0;

  World() { Reset(); }
  ~World() {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // A fresh state now and then, so that each input stays quick.
  void Reset() {
    store.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
    StoreOptions small = config.store;
    small.block_cache_bytes = 8u << 20;
    small.write_buffer_total_bytes = 16u << 20;
    small.write_buffer_bytes = 4u << 20;
    auto s = Store::Open(dir.string(), small);
    if (!s.ok()) Fail("open: " + s.status().message());
    store = std::move(*s);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  static Decoder decoder(world.config.ingest.decoder);
  static simdjson::dom::parser parser;
  if (++world.inputs % 500 == 0) world.Reset();
  const RuleSet& rules = *world.config.rules;
  Store& store = *world.store;

  // Lines in, as replay takes them.
  StateWriter writer(&store);
  std::set<Period> touched;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Rejection rej;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    Event& event = writer.NextEvent();
    if (!decoder.Decode(line, event, rej)) continue;
    touched.insert(BeijingPeriod(event.ts));
    if (event.type == EventType::kContribution) touched.insert(event.contribution.period);
    if (Status s = writer.AddNext(); !s.ok()) Fail("add: " + s.message());
  }
  if (auto c = writer.Commit(); !c.ok()) Fail("commit: " + c.status().message());

  for (Period p : touched) {
    for (bool close : {false, true}) {
      EvaluateOptions eo;
      eo.close = close;
      auto month = EvaluateMonth(store, rules, p, eo);
      if (!month.ok()) {
        if (rules.Judgeable(p).ok()) Fail("a judgeable month failed: " + month.status().message());
        continue;
      }
      for (const PlatformScore& ps : month->platforms)
        for (const DimensionScore& ds : ps.dimensions)
          if (ds.in_scope < 0 || ds.affected < 0 || ds.pending < 0 || ds.affected > ds.in_scope ||
              ds.pending > ds.in_scope)
            Fail("counts out of order for " + ps.platform_id);
      SeriesCache cache;
      auto warnings = DetectWarnings(store, rules, world.config.detectors, p, close, cache);
      if (!warnings.ok()) Fail("detectors: " + warnings.status().message());
      const std::string json = MonthlyJson(*month, rules, *warnings);
      auto again = EvaluateMonth(store, rules, p, eo);
      if (!again.ok() || MonthlyJson(*again, rules, *warnings) != json)
        Fail("the same month judged twice differs");
      simdjson::dom::element doc;
      if (parser.parse(json).get(doc)) Fail("the announcement's JSON does not parse");
      PublicationRequest request;
      request.months = {p};
      request.close = close;
      request.formats = {"json", "md", "csv"};
      auto publication = MakePublication(store, rules, world.config.detectors, request);
      if (!publication.ok()) Fail("publish: " + publication.status().message());
    }
  }
  if (Status s = store.ReadStatus(); !s.ok()) Fail("read: " + s.message());
  return 0;
}
