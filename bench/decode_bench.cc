// Kernel benchmarks (Google Benchmark): the decoder against simdjson parsing the same lines, and
// the writer's per-event path, on a fixed in-memory sample of a generated feed.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <sstream>
#include <string>
#include <vector>

#include "flexwatch/gen/generator.h"
#include "flexwatch/ingest/decoder.h"
#include "flexwatch/settings/config.h"

namespace {

// Lines of a small generated feed, each followed in its buffer by the parser's padding.
struct PaddedLine {
  std::string buf;
  size_t size;
  std::string_view view() const { return std::string_view(buf.data(), size); }
};

const std::vector<PaddedLine>& Sample() {
  static const std::vector<PaddedLine> lines = [] {
    static const flexwatch::Config config = *flexwatch::ShippedConfig();
    flexwatch::GenOptions o;
    o.rules = &*config.rules;
    o.workers = 200;
    o.months = 1;
    o.malformed_share = 0;
    std::ostringstream feed;
    (void)flexwatch::Generate(o, feed, nullptr);
    std::vector<PaddedLine> out;
    std::istringstream in(feed.str());
    for (std::string l; std::getline(in, l) && out.size() < 20000;)
      out.push_back(PaddedLine{l + std::string(simdjson::SIMDJSON_PADDING, ' '), l.size()});
    return out;
  }();
  return lines;
}

void BM_ParseOnly(benchmark::State& state) {
  const auto& lines = Sample();
  simdjson::ondemand::parser parser;
  size_t i = 0, sink = 0;
  for (auto _ : state) {
    const PaddedLine& l = lines[i++ % lines.size()];
    simdjson::ondemand::document doc;
    if (parser.iterate(simdjson::padded_string_view(l.buf.data(), l.size, l.buf.size())).get(doc))
      std::abort();
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj)) continue;
    for (auto field : obj) {
      std::string_view key, str;
      simdjson::ondemand::json_type type;
      if (field.unescaped_key().get(key) || field.value().type().get(type)) break;
      if (type == simdjson::ondemand::json_type::string) {
        if (!field.value().get_string().get(str)) sink += str.size();
      } else if (type == simdjson::ondemand::json_type::number) {
        double d = 0;
        if (!field.value().get_double().get(d)) sink += d > 0;
      }
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseOnly);

void BM_Decode(benchmark::State& state) {
  const auto& lines = Sample();
  flexwatch::Decoder decoder;
  flexwatch::Event event;
  flexwatch::Rejection rej;
  size_t i = 0, ok = 0;
  for (auto _ : state) {
    ok += decoder.DecodePadded(lines[i++ % lines.size()].view(), event, rej);
  }
  benchmark::DoNotOptimize(ok);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Decode);

}  // namespace

BENCHMARK_MAIN();
