#include "flexwatch/alerts/alerts.h"

#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "flexwatch/core/digest.h"
#include "flexwatch/core/json.h"
#include "flexwatch/rules/revisions.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/records.h"

namespace flexwatch {
namespace {

std::string LevelKey(Period p, const std::string& platform, Dimension d) {
  return meta_keys::Level(p, platform, NameOf(d));
}
std::string WarnedKey(const EarlyWarning& w) {
  return meta_keys::Warned(w.period, w.platform_id, w.detector, w.series);
}

// An alert's id is a hash of everything it says (`body`: the alert as one JSON object without
// its id), so that two alerts that say different things never share an id and the same alert
// made again (after a crash, before its delivery) has the same one. The id goes first.
void Identify(Alert& a, const std::string& body) {
  a.alert_id = Sha256Hex(body).substr(0, 24);
  JsonWriter w;
  w.BeginObject().Key("alert_id").String(a.alert_id).Members(body).EndObject();
  a.json = w.Take();
}

}  // namespace

Result<std::vector<Alert>> EvaluateAndAlert(Store& store, const RuleSet& rules,
                                            const DetectorConfig& detectors,
                                            const AlertOptions& options, AlertRound* round) {
  const std::string& alerts_topic = options.topic;
  const std::optional<TimestampMs>& quiet_now = options.quiet_now;
  SeriesCache* history = options.history;
  const bool mark_publication = options.mark_publication;
  if (quiet_now)
    if (auto closed = CloseQuietMonths(store, rules, *quiet_now); !closed.ok())
      return closed.status();
  std::vector<Alert> alerts;
  Batch batch;
  std::vector<OutboxMessage> messages;
  SeriesCache own;
  SeriesCache& cache = history ? *history : own;
  // Kept: the months a detector may still look back on; the cache brings each up to date
  // (the platforms changed since, or the whole month when its finality changed).
  const std::vector<Period> periods = store.Periods();
  const Period oldest = periods.empty() ? 0 : periods.back() - detectors.history_months;
  cache.Retain([&](Period p) { return p > oldest; });
  auto owned = [&](const std::string& platform) { return !options.owns || options.owns(platform); };
  const std::string sender = store.GetMeta(meta_keys::kStateId).value_or("");
  // The event time this state closes months on, for the other instances of its group.
  const std::optional<TimestampMs> closing = store.ClosingWatermark();
  // `key` and `value`: what the state remembers with it (in the same batch), carried in headers
  // for the other instances of the group.
  // `change`: the revision change it alerts (meta_keys::RevisionChangeAlerted), if it is one.
  auto queue = [&](Alert a, const std::string& platform, const std::string& key,
                   const std::string& value, const std::string& change = {}) {
    OutboxMessage msg;
    msg.topic = alerts_topic;
    msg.key = platform;
    msg.payload = a.json;
    msg.headers = {{"flexwatch.alert_id", a.alert_id},
                   {"flexwatch.state_key", key},
                   {"flexwatch.state_value", value}};
    if (!change.empty()) msg.headers.emplace_back("flexwatch.revision_change", change);
    if (!sender.empty()) msg.headers.emplace_back("flexwatch.sender", sender);
    if (closing) msg.headers.emplace_back("flexwatch.closing_watermark", std::to_string(*closing));
    messages.push_back(std::move(msg));
    alerts.push_back(std::move(a));
  };
  // A seal for the other instances of the group: revision `r` of month `p`, and the events
  // arrived after the seal so far (AlertOptions::seal_topic).
  // `changes`: of a revision made now (none: the counts of one made before changed).
  // `at_seal`: the month's events when it was sealed, recorded in this round (none: as the state
  // holds them), carried by every message of the month's seal so that the topic, compacted,
  // keeps them.
  auto send_seal = [&](Period p, const Revision& r, const std::map<std::string, int64_t>& arrived,
                       std::optional<size_t> changes,
                       const std::map<std::string, int64_t>* at_seal = nullptr) {
    if (round && changes) round->sealed.push_back({p, r.number, *changes});
    if (options.seal_topic.empty()) return;
    auto lines = [](const std::map<std::string, int64_t>& by_platform, int64_t* total) {
      std::string out;
      for (const auto& [platform, n] : by_platform) {
        if (total) *total += n;
        out += platform + "\t" + std::to_string(n) + "\n";
      }
      return out;
    };
    int64_t total = 0;
    const std::string counts = lines(arrived, &total);
    std::optional<std::map<std::string, int64_t>> held;
    if (!at_seal && (held = EventsAtSeal(store, p))) at_seal = &*held;
    OutboxMessage msg;
    msg.topic = options.seal_topic;
    msg.key = FormatPeriod(p) + "/r" + std::to_string(r.number);  // compacted: the latest counts
    JsonWriter w;
    w.BeginObject().Key("kind").String("seal").Key("period").String(FormatPeriod(p));
    w.Key("revision").Int(r.number).Key("sealed_at").String(FormatBeijing(r.sealed_at));
    msg.payload = w.Key("arrived_after_seal").Int(total).EndObject().Take();
    msg.headers = {{"flexwatch.seal", FormatPeriod(p)},
                   {"flexwatch.revision", std::to_string(r.number)},
                   {"flexwatch.state_key", meta_keys::Revision(p, r.number)},
                   {"flexwatch.state_value", EncodeRevision(r)},
                   {"flexwatch.after_seal", counts},
                   {"flexwatch.group", options.group}};
    if (at_seal) msg.headers.emplace_back("flexwatch.at_seal", lines(*at_seal, nullptr));
    if (!sender.empty()) msg.headers.emplace_back("flexwatch.sender", sender);
    messages.push_back(std::move(msg));
  };
  // The revision changes alerted in this round (their meta_keys::RevisionChangeAlerted, in the
  // batch), and whether one has been alerted, in this round, before it or by another instance.
  std::set<std::string> changes_alerted;
  auto change_key = [](Period p, int number, const RevisionChange& c) {
    return meta_keys::RevisionChangeAlerted(
        p, number, kDimensionNames[static_cast<int>(c.dimension)], c.platform_id);
  };
  auto change_alerted = [&](Period p, int number, const RevisionChange& c) {
    const std::string key = change_key(p, number, c);
    return changes_alerted.count(key) || store.GetMeta(key).has_value();
  };
  // The alert of change `c` of revision `number` of month `p`.
  auto alert_revision = [&](Period p, int number, const RevisionChange& c,
                            const std::map<std::string, int64_t>& arrived) {
    const std::string_view dim = kDimensionNames[static_cast<int>(c.dimension)];
    const std::string change = change_key(p, number, c);
    batch.Put(change, "");
    changes_alerted.insert(change);
    Alert a;
    JsonWriter w;
    w.BeginObject().Key("kind").String("revision").Key("revision").Int(number);
    w.Key("platform_id").String(c.platform_id).Key("dimension").String(dim);
    w.Key("period").String(FormatPeriod(p)).Key("final").Bool(true);
    w.Key("from").Raw(SealedCellJson(c.from)).Key("to").Raw(SealedCellJson(c.to));
    const auto n = arrived.find(c.platform_id);
    w.Key("arrived_after_seal").Int(n == arrived.end() ? 0 : n->second);
    Identify(a, w.Key("rules").Raw(RulesStampJson(rules)).EndObject().Take());
    a.kind = "revision";
    a.dimension = dim;
    a.level = c.to ? NameOf(c.to->level) : "green";
    a.final = true;
    a.platform_id = c.platform_id;
    a.period = p;
    a.previous = c.from ? NameOf(c.from->level) : "green";
    a.revision = number;
    const std::string key = meta_keys::Level(p, c.platform_id, dim), value = a.level + "|1";
    batch.Put(key, value);
    queue(std::move(a), c.platform_id, key, value, change);
  };
  if (round) {
    round->months.clear();
    round->not_judged.clear();
    round->sealed.clear();
    round->takeover_pending = false;
  }
  const TimestampMs now = options.now ? *options.now
                                      : std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count();
  // Whether this state has itself read far enough to seal month `m`.
  auto sealable = [&](const MonthEvaluation& m) {
    return !options.seal_until || m.final_at <= *options.seal_until || m.closed_at.has_value();
  };
  // On a takeover (AlertOptions::takeover), the cells of the sealed month being looked at whose
  // final level no instance said (see find_unsaid): their revision changes are not alerted
  // apart, they are in the final level told once the month stands at its latest revision.
  std::set<std::pair<std::string, int>> unsaid;
  auto in_unsaid = [&](const RevisionChange& c) {
    return unsaid.count({c.platform_id, static_cast<int>(c.dimension)}) > 0;
  };
  // A sealed month that events arrived for since it was last looked at: judged again, and a
  // changed verdict is its next revision.
  auto revise = [&](Period p) -> Status {
    std::map<std::string, int64_t> arrived = ArrivedAfterSeal(store, p);
    // The counts held, or, of a month sealed here, those seen here since when larger.
    if (options.recheck && store.GetMeta(meta_keys::SealedHere(p)) &&
        !store.GetMeta(meta_keys::AtSealRecorded(p)))
      for (const auto& [platform, n] : ArrivedAfterSeal(store, p, /*seen_here=*/true))
        if (int64_t& city = arrived[platform]; n > city) {
          city = n;
          batch.Put(meta_keys::AfterSeal(p, platform), EncodeCounter(n));
        }
    int64_t total = 0;
    for (const auto& [platform, n] : arrived) total += n;
    // Never checked here (a seal adopted from another instance, which may have come after
    // events for the month were applied here, uncounted), or checked before this state sealed:
    // judged once.
    std::optional<int64_t> checked;
    if (auto v = store.GetMeta(meta_keys::RevisionChecked(p)); v && !options.recheck)
      checked = std::stoll(*v);
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    if (checked == total && !revisions->empty()) return Status::OK();
    // A month the rule set in force cannot judge (a rule set that no longer covers it) keeps
    // its seal; it is named, not judged, and the round goes on.
    if (Status judgeable = rules.Judgeable(p); !judgeable.ok()) {
      if (round) round->not_judged.push_back({p, judgeable.message()});
      return Status::OK();
    }
    auto m = EvaluateMonth(store, rules, p, EvaluateOptions{});
    if (!m.ok()) return m.status();
    // Neither sealed nor revised on part of the month's events: judged again next round (its
    // last check forgotten when it is judged once more).
    if (!sealable(*m)) {
      if (options.recheck) batch.Delete(meta_keys::RevisionChecked(p));
      return Status::OK();
    }
    batch.Put(meta_keys::RevisionChecked(p), std::to_string(total));
    Revision next;
    next.number = revisions->empty() ? 0 : revisions->back().number + 1;
    next.sealed_at = now;
    next.verdict = SealedVerdictOf(*m);
    if (revisions->empty()) {  // alerted final by a build (or an instance) that did not seal
      PutRevision(batch, p, next);
      const std::map<std::string, int64_t> at = RecordEventsAtSeal(store, batch, p);
      batch.Put(meta_keys::SealedHere(p), "");
      batch.Put(meta_keys::RevisionAlerted(p), "0");
      send_seal(p, next, {}, 0, &at);
      return Status::OK();
    }
    const std::vector<RevisionChange> changes =
        ChangesBetween(revisions->back().verdict, next.verdict);
    if (changes.empty()) {  // the counts of events arrived after the seal changed
      send_seal(p, revisions->back(), arrived, std::nullopt);
      return Status::OK();
    }
    PutRevision(batch, p, next);
    if (mark_publication) batch.Put(meta_keys::CorrectionDue(p, next.number), "");
    cache.Retain([p](Period q) { return q != p; });  // its series are judged again when needed
    for (const RevisionChange& c : changes)
      if (owned(c.platform_id) && !in_unsaid(c))
        alert_revision(p, next.number, c, arrived);  // else its owner's, or in a final level
    batch.Put(meta_keys::RevisionAlerted(p), std::to_string(next.number));
    send_seal(p, next, arrived, changes.size());
    return Status::OK();
  };
  // A sealed month at an instance that does not seal: the revisions adopted from the one that
  // does (read back by the consumer), each one's changes alerted for the platforms owned here,
  // unless the level change was alerted already (by a previous owner, read back).
  auto adopted = [&](Period p) -> Status {
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    if (revisions->empty()) return Status::OK();  // not sealed yet
    int alerted = 0;
    if (auto v = store.GetMeta(meta_keys::RevisionAlerted(p)))
      std::from_chars(v->data(), v->data() + v->size(), alerted);
    if (revisions->back().number <= alerted) return Status::OK();
    const std::map<std::string, int64_t> arrived = ArrivedAfterSeal(store, p);
    for (const Revision& r : *revisions) {
      if (r.number <= alerted) continue;
      for (const RevisionChange& c : r.changes) {
        if (!owned(c.platform_id) || in_unsaid(c)) continue;
        const std::string_view dim = kDimensionNames[static_cast<int>(c.dimension)];
        const std::string to = c.to ? std::string(NameOf(c.to->level)) : "green";
        const bool level_changed = (c.from ? std::string(NameOf(c.from->level)) : "green") != to;
        if (change_alerted(p, r.number, c) ||
            (level_changed && store.GetMeta(meta_keys::Level(p, c.platform_id, dim)) == to + "|1"))
          continue;  // alerted by the platform's previous owner
        alert_revision(p, r.number, c, arrived);
      }
    }
    batch.Put(meta_keys::RevisionAlerted(p), std::to_string(revisions->back().number));
    cache.Retain([p](Period q) { return q != p; });  // its series are judged again when needed
    return Status::OK();
  };
  // The platforms owned here changed (AlertOptions::takeover): each change of a revision of
  // sealed month `p` for a platform now owned here that no instance has alerted (its judge died
  // with the alert in its outbox, or the revision came while no instance judged the platform) is
  // alerted now, once.
  auto unsent_changes = [&](Period p) -> Status {
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    std::optional<std::map<std::string, int64_t>> arrived;
    for (const Revision& r : *revisions)
      for (const RevisionChange& c : r.changes) {
        if (r.number == 0 || !owned(c.platform_id) || in_unsaid(c) ||
            change_alerted(p, r.number, c))
          continue;
        if (!arrived) arrived = ArrivedAfterSeal(store, p);
        alert_revision(p, r.number, c, *arrived);
      }
    return Status::OK();
  };
  // Platform `ps`'s dimension `d` of month `m` (`p`) against the level remembered with its last
  // alert: a changed level, or a final one told for the first time, is alerted.
  auto judge_cell = [&](Period p, const MonthEvaluation& m, const PlatformScore& ps, int d) {
    const Dimension dim = static_cast<Dimension>(d);
    const DimensionScore& ds = ps.dimensions[d];
    const std::string key = LevelKey(p, ps.platform_id, dim);
    std::string previous = "green", previous_final = "0";
    if (auto v = store.GetMeta(key)) {
      previous = v->substr(0, v->find('|'));
      previous_final = v->substr(v->find('|') + 1);
    }
    const std::string level(NameOf(ds.level));
    const bool changed = level != previous;
    const bool finalised = m.final && previous_final == "0" && level != "green";
    if (!changed && !finalised) {
      if (m.final && previous_final == "0") batch.Put(key, level + "|1");
      return;
    }
    Alert a;
    JsonWriter w;
    w.BeginObject().Key("kind").String("level_change");
    w.Key("platform_id").String(ps.platform_id).Key("dimension").String(NameOf(dim));
    w.Key("period").String(FormatPeriod(p)).Key("level").String(level);
    w.Key("previous_level").String(previous).Key("final").Bool(m.final);
    w.Key("ranked").Bool(ps.ranked).Key("rules").Raw(RulesStampJson(rules));
    w.Key("in_scope").Int(ds.in_scope).Key("affected").Int(ds.affected);
    w.Key("pending").Int(ds.pending).Key("rate").Raw(RateText(ds.affected, ds.in_scope));
    w.Key("findings").BeginObject();
    for (const auto& [name, n] : ds.findings) w.Key(name).Int(n);
    Identify(a, w.EndObject().EndObject().Take());
    a.kind = "level_change";
    a.dimension = NameOf(dim);
    a.level = level;
    a.final = m.final;
    a.platform_id = ps.platform_id;
    a.period = p;
    a.previous = previous;
    const std::string value = level + "|" + (m.final ? "1" : "0");
    batch.Put(key, value);
    queue(std::move(a), ps.platform_id, key, value);
  };
  auto cell_of = [](const SealedVerdict& v, const std::string& platform,
                    int d) -> std::optional<SealedCell> {
    const auto it = v.find(platform);
    if (it == v.end()) return std::nullopt;
    return it->second[d];
  };
  // The platforms owned here changed (AlertOptions::takeover): a platform now owned here whose
  // final level for sealed month `p` no instance has said (its judge died with the final alert in
  // its outbox; this state, not judging it then, remembered no level) is alerted final now, as
  // the month stands; the changes of its revisions are in that level, not alerted apart. Told
  // only when the month as it stands is its latest revision's verdict for the cell: events
  // arrived since make a revision first (`round->takeover_pending`: looked at again next round).
  // A cell green when sealed was said (a green final is not alerted): its changes are revisions.
  // First the cells of sealed month `p` with something to say (into `unsaid`): of a platform
  // owned here, no final level remembered, and a level other than green sealed or last alerted.
  auto find_unsaid = [&](Period p) -> Status {
    unsaid.clear();
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    if (revisions->empty()) return Status::OK();
    for (const auto& [platform, cells] : revisions->back().verdict) {
      if (!owned(platform)) continue;
      for (int d = 0; d < kDimensionCount; ++d) {
        const auto v = store.GetMeta(LevelKey(p, platform, static_cast<Dimension>(d)));
        if (v && v->ends_with("|1")) continue;
        if (cells[d].level != Level::kGreen || (v && !v->starts_with("green|")))
          unsaid.emplace(platform, d);
      }
    }
    return Status::OK();
  };
  // Each of those told, once the month as it stands is its latest revision's verdict for the
  // cell (evaluated only when there is one: a takeover does not cost the history's evaluation).
  auto final_unsaid = [&](Period p) -> Status {
    if (unsaid.empty()) return Status::OK();
    auto revisions = ReadRevisions(store, p);
    if (!revisions.ok()) return revisions.status();
    const SealedVerdict& sealed = revisions->back().verdict;
    auto series = cache.Get(store, rules, p, false);
    if (!series.ok()) return series.status();
    const MonthEvaluation& m = (*series)->evaluation;
    if (!m.final) return Status::OK();
    const SealedVerdict now_verdict = SealedVerdictOf(m);
    for (const PlatformScore& ps : m.platforms)
      for (int d = 0; d < kDimensionCount; ++d) {
        if (!unsaid.count({ps.platform_id, d})) continue;
        if (cell_of(sealed, ps.platform_id, d) != cell_of(now_verdict, ps.platform_id, d)) {
          if (round) round->takeover_pending = true;
          continue;
        }
        judge_cell(p, m, ps, d);
        for (const Revision& r : *revisions)
          for (const RevisionChange& c : r.changes)
            if (c.platform_id == ps.platform_id && static_cast<int>(c.dimension) == d) {
              const std::string change = change_key(p, r.number, c);
              batch.Put(change, "");
              changes_alerted.insert(change);
            }
      }
    return Status::OK();
  };
  std::optional<Period> last_final;
  // The last month alerted as final: its levels still hold for metrics and Alertmanager.
  auto add_last_final = [&]() -> Status {
    auto series = cache.Get(store, rules, *last_final, false);
    if (!series.ok()) return series.status();
    auto warnings = DetectWarnings(store, rules, detectors, *last_final, false, cache);
    if (!warnings.ok()) return warnings.status();
    round->months.push_back(
        {*last_final, true, (*series)->evaluation.platforms, std::move(*warnings)});
    return Status::OK();
  };
  for (Period p : periods) {
    if (store.GetMeta(meta_keys::AlertedFinal(p))) {  // final, alerted as such: sealed
      last_final = p;
      unsaid.clear();
      if (options.takeover)
        if (Status s = find_unsaid(p); !s.ok()) return s;
      if (Status s = options.seals ? revise(p) : adopted(p); !s.ok()) return s;
      if (options.takeover) {
        if (Status s = final_unsaid(p); !s.ok()) return s;
        if (Status s = unsent_changes(p); !s.ok()) return s;
      }
      unsaid.clear();
      continue;
    }
    if (Status judgeable = rules.Judgeable(p); !judgeable.ok()) {
      if (round) round->not_judged.push_back({p, judgeable.message()});
      continue;
    }
    if (round && last_final && round->months.empty())
      if (Status s = add_last_final(); !s.ok()) return s;
    auto series = cache.Get(store, rules, p, false);
    if (!series.ok()) return series.status();
    const MonthEvaluation* m = &(*series)->evaluation;
    if (round) round->months.push_back({p, m->final, m->platforms, {}});
    for (const PlatformScore& ps : m->platforms) {
      if (!owned(ps.platform_id)) continue;  // its owner alerts it
      for (int d = 0; d < kDimensionCount; ++d) judge_cell(p, *m, ps, d);
    }
    // Early warnings: each (month, platform, detector, series) once, when first raised.
    auto warnings = DetectWarnings(store, rules, detectors, p, false, cache);
    if (!warnings.ok()) return warnings.status();
    if (round) round->months.back().warnings = *warnings;
    for (const EarlyWarning& w : *warnings) {
      const std::string key = WarnedKey(w);
      if (!owned(w.platform_id) || store.GetMeta(key)) continue;
      Alert a;
      JsonWriter json;
      json.BeginObject().Key("kind").String("early_warning");
      json.Key("platform_id").String(w.platform_id).Key("period").String(FormatPeriod(p));
      json.Key("final").Bool(m->final).Key("rules").Raw(RulesStampJson(rules));
      Identify(a, json.Key("warning").Raw(EarlyWarningJson(w)).EndObject().Take());
      a.kind = "early_warning";
      a.detector = w.detector;
      a.final = m->final;
      a.platform_id = w.platform_id;
      a.period = p;
      a.series = w.series;
      batch.Put(key, "");
      queue(std::move(a), w.platform_id, key, "");
    }
    if (m->final) {
      batch.Put(meta_keys::AlertedFinal(p), "");
      // Sealed already when a seal of another instance was adopted (late events since are judged
      // from the next round on, as a revision).
      const bool sealed = !store.MetaKeys(meta_keys::RevisionPrefix(p)).empty();
      if (options.seals && sealable(*m) && !sealed) {
        // Sealed as revision 0: the verdict as alerted final now.
        const Revision sealed{0, now, SealedVerdictOf(*m), {}};
        PutRevision(batch, p, sealed);
        const std::map<std::string, int64_t> at = RecordEventsAtSeal(store, batch, p);
        batch.Put(meta_keys::SealedHere(p), "");
        batch.Put(meta_keys::RevisionChecked(p), "0");
        batch.Put(meta_keys::RevisionAlerted(p), "0");
        send_seal(p, sealed, {}, 0, &at);
      }
      if (mark_publication) batch.Put(meta_keys::PublishDue(p), "");
    }
  }
  if (round && last_final && round->months.empty())  // every month is final
    if (Status s = add_last_final(); !s.ok()) return s;
  store.PutOutbox(batch, messages);
  if (!batch.empty())
    if (Status s = store.Write(batch); !s.ok()) return s;
  return alerts;
}

}  // namespace flexwatch
