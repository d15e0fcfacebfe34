#include "flexwatch/state/meta_keys.h"

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

bool IsBookkeeping(std::string_view key) {
  for (std::string_view prefix :
       {"count/", "outbox/", "level/", "alerted-final/", "warned/", "publish-due/"})
    if (key.starts_with(prefix)) return true;
  return false;
}

}  // namespace flexwatch::meta_keys
