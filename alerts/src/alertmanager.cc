#include "flexwatch/alerts/alertmanager.h"

#include <httplib.h>

#include <chrono>
#include <ctime>

#include "flexwatch/core/json.h"

namespace flexwatch {
namespace {

TimestampMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339(TimestampMs ms) {
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03lldZ", buf, static_cast<long long>(ms % 1000));
  return out;
}

std::string Severity(Level level) {
  switch (level) {
    case Level::kRed:
      return "critical";
    case Level::kOrange:
      return "warning";
    default:
      return "info";
  }
}

std::string Identity(const AlertmanagerAlert& a) {
  std::string id;
  for (const auto& [k, v] : a.labels) id += k + "=" + v + "\x1f";
  return id;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

std::vector<AlertmanagerAlert> AlertmanagerAlerts(const AlertRound& round, const RuleSet& rules) {
  std::vector<AlertmanagerAlert> out;
  for (const RoundMonth& m : round.months) {
    const std::string period = FormatPeriod(m.period), final = m.final ? "true" : "false";
    for (const PlatformScore& ps : m.platforms)
      for (int d = 0; d < kDimensionCount; ++d) {
        const DimensionScore& ds = ps.dimensions[d];
        if (ds.level == Level::kGreen) continue;
        const std::string dim(NameOf(static_cast<Dimension>(d)));
        AlertmanagerAlert a;
        a.labels = {{"alertname", "FlexwatchComplianceLevel"},
                    {"platform", ps.platform_id},
                    {"dimension", dim},
                    {"level", std::string(NameOf(ds.level))},
                    {"period", period},
                    {"final", final},
                    {"severity", Severity(ds.level)},
                    {"rule_set", rules.id + "/" + rules.version}};
        std::string findings;
        for (const auto& [kind, n] : ds.findings)
          findings += (findings.empty() ? "" : ", ") + kind + " " + std::to_string(n);
        a.annotations = {
            {"summary", ps.platform_id + " is " + std::string(NameOf(ds.level)) + " on " + dim +
                            " in " + period + (m.final ? " (final)" : " (provisional)") + ": " +
                            std::to_string(ds.affected) + " of " + std::to_string(ds.in_scope) +
                            " worker-months in scope affected (rate " +
                            RateText(ds.affected, ds.in_scope) + ")"},
            {"evidence", "findings by kind: " + (findings.empty() ? "none" : findings) +
                             (ds.pending ? "; pending " + std::to_string(ds.pending) : "") +
                             "; per worker-month in evidence/" + period + "/" + ps.platform_id +
                             "." + dim + ".json (flexwatch announce --month " + period +
                             " --out DIR)"}};
        out.push_back(std::move(a));
      }
    for (const EarlyWarning& w : m.warnings) {
      AlertmanagerAlert a;
      a.labels = {{"alertname", "FlexwatchEarlyWarning"},
                  {"platform", w.platform_id},
                  {"detector", w.detector},
                  {"series", w.series},
                  {"period", period},
                  {"final", final},
                  {"severity", "warning"}};
      a.annotations = {
          {"summary", w.platform_id + ": " + w.series + " " + w.direction + " in " + period + ", " +
                          Number(w.observed) + " " + w.unit + " against " + Number(w.expected) +
                          " expected (" + w.detector + " v" + w.version + ", score " +
                          Number(w.score) + ")"},
          {"evidence", w.basis + "; months " + FormatPeriod(w.window_from) + " to " +
                           FormatPeriod(w.window_to) + "; flexwatch series --platform " +
                           w.platform_id}};
      out.push_back(std::move(a));
    }
  }
  return out;
}

std::string AlertmanagerBody(const std::vector<PostedAlert>& alerts) {
  JsonWriter w;
  w.BeginArray(JsonWriter::kCompact);
  for (const PostedAlert& p : alerts) {
    w.BeginObject(JsonWriter::kCompact);
    for (const auto& [name, part] :
         {std::pair{"labels", &p.alert.labels}, std::pair{"annotations", &p.alert.annotations}}) {
      w.Key(name).BeginObject(JsonWriter::kCompact);
      for (const auto& [k, v] : *part) w.Key(k).String(v);
      w.EndObject();
    }
    w.Key("startsAt").String(Rfc3339(p.starts_ms)).Key("endsAt").String(Rfc3339(p.ends_ms));
    w.EndObject();
  }
  return w.EndArray().Take();
}

AlertmanagerSink::AlertmanagerSink(AlertmanagerOptions options,
                                   std::function<void(bool, const std::string&)> on_post)
    : options_(std::move(options)), on_post_(std::move(on_post)) {
  thread_ = std::thread([this]() { Loop(); });
}

AlertmanagerSink::~AlertmanagerSink() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AlertmanagerSink::Update(const AlertRound& round, const RuleSet& rules) {
  const TimestampMs now = NowMs();
  std::map<std::string, AlertmanagerAlert> holds;
  for (AlertmanagerAlert& a : AlertmanagerAlerts(round, rules)) {
    std::string id = Identity(a);
    holds.emplace(std::move(id), std::move(a));
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = active_.begin(); it != active_.end();) {
    if (holds.count(it->first)) {
      it->second.alert.annotations = holds[it->first].annotations;  // the figures may move
      ++it;
      continue;
    }
    resolved_.push_back(std::move(it->second));
    it = active_.erase(it);
    changed_ = true;
  }
  for (auto& [id, a] : holds)
    if (!active_.count(id)) {
      active_[id] = Held{std::move(a), now};
      changed_ = true;
    }
  if (changed_) cv_.notify_all();
}

void AlertmanagerSink::Loop() {
  const auto resend = std::chrono::seconds(options_.resend_seconds);
  bool failed = false;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // After a failure, try again within 5 s; else on a change or when a re-send is due.
    cv_.wait_for(lock, failed ? std::min(resend, std::chrono::seconds(5)) : resend,
                 [this]() { return stop_ || changed_; });
    if (active_.empty() && resolved_.empty()) {
      changed_ = false;
      if (stop_) return;
      continue;
    }
    const TimestampMs now = NowMs();
    std::vector<PostedAlert> posted;
    for (const auto& [id, h] : active_)
      posted.push_back({h.alert, h.starts_ms, now + 4000LL * options_.resend_seconds});
    const size_t resolved = resolved_.size();
    for (const Held& h : resolved_) posted.push_back({h.alert, h.starts_ms, now});
    changed_ = false;
    const bool stopping = stop_;
    lock.unlock();
    std::string error;
    const bool ok = Post(posted, error);
    if (on_post_) on_post_(ok, error);
    lock.lock();
    failed = !ok;
    if (ok) resolved_.erase(resolved_.begin(), resolved_.begin() + static_cast<long>(resolved));
    if (stopping) return;
  }
}

bool AlertmanagerSink::Post(const std::vector<PostedAlert>& alerts, std::string& error) {
  // The url is scheme://host[:port][/prefix]: the API is under the prefix.
  const std::string& url = options_.url;
  const size_t host_at = url.find("://") + 3;
  const size_t path_at = url.find('/', host_at);
  const std::string base = url.substr(0, path_at);
  std::string prefix = path_at == std::string::npos ? "" : url.substr(path_at);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  httplib::Client client(base);
  const time_t sec = options_.timeout_ms / 1000, usec = (options_.timeout_ms % 1000) * 1000;
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
  auto res = client.Post(prefix + "/api/v2/alerts", AlertmanagerBody(alerts), "application/json");
  if (!res) {
    error = "alertmanager " + url + ": " + httplib::to_string(res.error());
    return false;
  }
  if (res->status != 200) {
    error = "alertmanager " + url + ": HTTP " + std::to_string(res->status) + ": " +
            res->body.substr(0, 200);
    return false;
  }
  return true;
}

}  // namespace flexwatch
