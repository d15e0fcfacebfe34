#include "flexwatch/rules/revisions.h"

#include <sstream>

#include "flexwatch/core/json.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/records.h"

namespace flexwatch {
namespace {

// A revision as stored: "revision N\nsealed_at MS\n" then one line per platform and dimension,
// "platform\tdimension\tlevel\tin_scope\taffected" (platform ids hold no tabs or newlines).
std::string Encode(const Revision& r) {
  std::string out =
      "revision " + std::to_string(r.number) + "\nsealed_at " + std::to_string(r.sealed_at) + "\n";
  for (const auto& [platform, cells] : r.verdict)
    for (int d = 0; d < kDimensionCount; ++d)
      out += platform + "\t" + std::to_string(d) + "\t" +
             std::to_string(static_cast<int>(cells[d].level)) + "\t" +
             std::to_string(cells[d].in_scope) + "\t" + std::to_string(cells[d].affected) + "\n";
  return out;
}

bool Decode(const std::string& in, Revision& r) {
  std::istringstream s(in);
  std::string word;
  if (!(s >> word >> r.number) || word != "revision") return false;
  if (!(s >> word >> r.sealed_at) || word != "sealed_at") return false;
  std::string line;
  std::getline(s, line);  // the rest of the sealed_at line
  while (std::getline(s, line)) {
    std::istringstream f(line);
    std::string platform;
    int d = 0, level = 0;
    SealedCell c;
    if (!std::getline(f, platform, '\t') || !(f >> d >> level >> c.in_scope >> c.affected) ||
        d < 0 || d >= kDimensionCount || level < 0 || level >= static_cast<int>(kLevelNames.size()))
      return false;
    c.level = static_cast<Level>(level);
    r.verdict[platform][d] = c;
  }
  return true;
}

}  // namespace

SealedVerdict SealedVerdictOf(const MonthEvaluation& m) {
  SealedVerdict v;
  for (const PlatformScore& ps : m.platforms) {
    auto& cells = v[ps.platform_id];
    for (int d = 0; d < kDimensionCount; ++d)
      cells[d] =
          SealedCell{ps.dimensions[d].level, ps.dimensions[d].in_scope, ps.dimensions[d].affected};
  }
  return v;
}

std::vector<RevisionChange> ChangesBetween(const SealedVerdict& before,
                                           const SealedVerdict& after) {
  std::vector<RevisionChange> out;
  std::map<std::string, bool> platforms;
  for (const auto& [p, cells] : before) platforms[p] = true;
  for (const auto& [p, cells] : after) platforms[p] = true;
  for (const auto& [p, unused] : platforms) {
    const auto b = before.find(p), a = after.find(p);
    for (int d = 0; d < kDimensionCount; ++d) {
      std::optional<SealedCell> from, to;
      if (b != before.end()) from = b->second[d];
      if (a != after.end()) to = a->second[d];
      if (from == to) continue;
      out.push_back(RevisionChange{p, static_cast<Dimension>(d), from, to});
    }
  }
  return out;
}

Result<std::vector<Revision>> ReadRevisions(Store& store, Period p) {
  std::vector<Revision> out;
  for (const std::string& key : store.MetaKeys(meta_keys::RevisionPrefix(p))) {
    auto value = store.GetMeta(key);
    Revision r;
    if (!value || !Decode(*value, r) || r.number != static_cast<int>(out.size()))
      return Status::Corruption("state: revision record " + key + " is unreadable");
    if (!out.empty()) r.changes = ChangesBetween(out.back().verdict, r.verdict);
    out.push_back(std::move(r));
  }
  return out;
}

std::string EncodeRevision(const Revision& r) { return Encode(r); }

void PutRevision(Batch& batch, Period p, const Revision& r) {
  batch.Put(meta_keys::Revision(p, r.number), Encode(r));
}

namespace {
// The counters under `prefix`, by the rest of their keys.
std::map<std::string, int64_t> Counters(Store& store, const std::string& prefix) {
  std::map<std::string, int64_t> out;
  for (const std::string& key : store.MetaKeys(prefix)) {
    int64_t n = 0;
    if (auto v = store.GetMeta(key); v && DecodeCounter(*v, n)) out[key.substr(prefix.size())] = n;
  }
  return out;
}
}  // namespace

std::map<std::string, int64_t> RecordEventsAtSeal(Store& store, Batch& batch, Period p) {
  std::map<std::string, int64_t> at = Counters(store, meta_keys::MonthEventsPrefix(p));
  PutEventsAtSeal(batch, p, at);
  return at;
}

std::optional<std::map<std::string, int64_t>> EventsAtSeal(Store& store, Period p) {
  if (!store.GetMeta(meta_keys::AtSealRecorded(p))) return std::nullopt;
  return Counters(store, meta_keys::AtSealPrefix(p));
}

void PutEventsAtSeal(Batch& batch, Period p, const std::map<std::string, int64_t>& at) {
  for (const auto& [platform, n] : at) batch.Put(meta_keys::AtSeal(p, platform), EncodeCounter(n));
  batch.Put(meta_keys::AtSealRecorded(p), "");
}

std::map<std::string, int64_t> ArrivedAfterSeal(Store& store, Period p, bool seen_here) {
  std::map<std::string, int64_t> out;
  // The month's events now less those when it was sealed, per platform: the same on every state
  // that has read the same messages, whichever instance sealed.
  if (!seen_here && store.GetMeta(meta_keys::AtSealRecorded(p))) {
    const std::map<std::string, int64_t> at = Counters(store, meta_keys::AtSealPrefix(p));
    for (const auto& [platform, n] : Counters(store, meta_keys::MonthEventsPrefix(p))) {
      const auto sealed = at.find(platform);
      const int64_t since = n - (sealed == at.end() ? 0 : sealed->second);
      if (since > 0) out[platform] = since;
    }
    return out;
  }
  // A month sealed by a build that did not record them: the counts kept as events arrived.
  return Counters(store,
                  seen_here ? meta_keys::SeenAfterSealPrefix(p) : meta_keys::AfterSealPrefix(p));
}

std::string SealedCellJson(const std::optional<SealedCell>& c) {
  if (!c) return "null";
  JsonWriter w;
  w.BeginObject().Key("level").String(NameOf(c->level)).Key("in_scope").Int(c->in_scope);
  return w.Key("affected").Int(c->affected).EndObject().Take();
}

std::string RevisionJson(const Revision& r) {
  JsonWriter w;
  w.BeginObject().Key("revision").Int(r.number).Key("sealed_at").String(FormatBeijing(r.sealed_at));
  w.Key("changes").BeginArray();
  for (const RevisionChange& c : r.changes) {
    w.BeginObject().Key("platform_id").String(c.platform_id);
    w.Key("dimension").String(kDimensionNames[static_cast<int>(c.dimension)]);
    w.Key("from").Raw(SealedCellJson(c.from)).Key("to").Raw(SealedCellJson(c.to)).EndObject();
  }
  return w.EndArray().EndObject().Take();
}

}  // namespace flexwatch
