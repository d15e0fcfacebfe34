#include "flexwatch/state/meta_keys.h"

#include <cstdio>

namespace flexwatch::meta_keys {

std::string Position(std::string_view source) { return "pos/" + std::string(source); }

std::string Platform(std::string_view platform) { return "platform/" + std::string(platform); }

std::string Counter(std::string_view name) { return "count/" + std::string(name); }

std::string QuietClosed(Period p) { return "quiet-closed/" + FormatPeriod(p); }

std::string Level(Period p, std::string_view platform, std::string_view dimension) {
  return "level/" + FormatPeriod(p) + "/" + std::string(platform) + "/" + std::string(dimension);
}

std::string AlertedFinal(Period p) { return "alerted-final/" + FormatPeriod(p); }

std::string Warned(Period p, std::string_view platform, std::string_view detector,
                   std::string_view series) {
  return "warned/" + FormatPeriod(p) + "/" + std::string(platform) + "/" + std::string(detector) +
         "/" + std::string(series);
}

std::string PublishDue(Period p) { return std::string(kPublishDuePrefix) + FormatPeriod(p); }

std::string Revision(Period p, int number) {
  char n[16];
  std::snprintf(n, sizeof n, "%04d", number);
  return RevisionPrefix(p) + n;
}
std::string RevisionPrefix(Period p) {
  return std::string(kRevisionsPrefix) + FormatPeriod(p) + "/";
}
std::optional<Period> PeriodOfRevision(std::string_view key) {
  if (!key.starts_with(kRevisionsPrefix) || key.size() < kRevisionsPrefix.size() + 8)
    return std::nullopt;
  auto p = ParsePeriod(key.substr(kRevisionsPrefix.size(), 7));
  if (!p.ok()) return std::nullopt;
  return *p;
}
std::string AfterSeal(Period p, std::string_view platform) {
  return AfterSealPrefix(p) + std::string(platform);
}
std::string AfterSealPrefix(Period p) { return "after-seal/" + FormatPeriod(p) + "/"; }
std::string RevisionChecked(Period p) { return "revision-checked/" + FormatPeriod(p); }

bool IsBookkeeping(std::string_view key) {
  // What the monitor sealed and published differs between a monitor's state and a replay of the
  // same events: bookkeeping too, left out of the canonical dump.
  for (std::string_view prefix : {"count/", "outbox/", "level/", "alerted-final/", "warned/",
                                  "publish-due/", "revision/", "after-seal/", "revision-checked/"})
    if (key.starts_with(prefix)) return true;
  return false;
}

}  // namespace flexwatch::meta_keys
