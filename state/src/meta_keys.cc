#include "flexwatch/state/meta_keys.h"

#include <algorithm>
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

namespace {
std::string FourDigits(int number) {
  char n[16];
  std::snprintf(n, sizeof n, "%04d", number);
  return n;
}
}  // namespace

std::string CorrectionDue(Period p, int revision) {
  return PublishDue(p) + "/r" + FourDigits(revision);
}
std::optional<Due> ParseDue(std::string_view key) {
  if (!key.starts_with(kPublishDuePrefix)) return std::nullopt;
  key.remove_prefix(kPublishDuePrefix.size());
  auto p = ParsePeriod(key.substr(0, 7));
  if (!p.ok()) return std::nullopt;
  Due due{*p, 0};
  key.remove_prefix(std::min<size_t>(7, key.size()));
  if (key.empty()) return due;
  if (key.size() != 6 || !key.starts_with("/r")) return std::nullopt;
  for (char c : key.substr(2))
    if (c < '0' || c > '9') return std::nullopt;
  due.revision = std::stoi(std::string(key.substr(2)));
  if (due.revision == 0) return std::nullopt;
  return due;
}

std::string Revision(Period p, int number) { return RevisionPrefix(p) + FourDigits(number); }
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
std::string SeenAfterSeal(Period p, std::string_view platform) {
  return SeenAfterSealPrefix(p) + std::string(platform);
}
std::string SeenAfterSealPrefix(Period p) { return "seen-after-seal/" + FormatPeriod(p) + "/"; }
std::string MonthEvents(Period p, std::string_view platform) {
  return MonthEventsPrefix(p) + std::string(platform);
}
std::string MonthEventsPrefix(Period p) { return "month-events/" + FormatPeriod(p) + "/"; }
std::string AtSeal(Period p, std::string_view platform) {
  return AtSealPrefix(p) + std::string(platform);
}
std::string AtSealPrefix(Period p) { return AtSealRecorded(p) + "/"; }
std::string AtSealRecorded(Period p) { return "at-seal/" + FormatPeriod(p); }
std::string Rewritten(Period p, std::string_view platform) {
  return RewrittenPrefix(p) + std::string(platform);
}
std::string RewrittenPrefix(Period p) { return "rewritten/" + FormatPeriod(p) + "/"; }
std::string SealedHere(Period p) { return "sealed-here/" + FormatPeriod(p); }
std::string RevisionChecked(Period p) { return "revision-checked/" + FormatPeriod(p); }
std::string RevisionAlerted(Period p) { return "revision-alerted/" + FormatPeriod(p); }
std::string RevisionChangeAlerted(Period p, int revision, std::string_view dimension,
                                  std::string_view platform) {
  return "revision-change/" + FormatPeriod(p) + "/" + FourDigits(revision) + "/" +
         std::string(dimension) + "/" + std::string(platform);
}
std::string SealedDocument(Period p, int revision, std::string_view name) {
  return "sealed-doc/" + FormatPeriod(p) + "/" + FourDigits(revision) + "/" + std::string(name);
}

std::string Issued(std::string_view stem) { return "issued/" + std::string(stem); }
std::string IssueSeq(int year) { return "issue-seq/" + std::to_string(year); }

std::string HeldDeadLetter(std::string_view source, int64_t offset) {
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(offset));
  return HeldDeadLetterPrefix(source) + hex;
}
std::string ReadBack(std::string_view source) { return "readback/" + std::string(source); }
std::string HeldDeadLetterPrefix(std::string_view source) {
  return "held-dead/" + std::string(source) + "/";
}

bool IsBookkeeping(std::string_view key) {
  // What the monitor sealed and published differs between a monitor's state and a replay of the
  // same events: bookkeeping too, left out of the canonical dump.
  for (std::string_view prefix :
       {"count/",      "outbox/",      "state-id",          "judging",           "held-dead/",
        "readback/",   "level/",       "alerted-final/",    "warned/",           "publish-due/",
        "revision/",   "after-seal/",  "revision-checked/", "revision-alerted/", "revision-change/",
        "sealed-doc/", "sealed-here/", "seen-after-seal/",  "month-events/",     "at-seal/",
        "issued/",     "issue-seq/"})
    if (key.starts_with(prefix)) return true;
  return false;
}

}  // namespace flexwatch::meta_keys
