// What the publishing path reads from flexwatch.yaml (sections `evidence` and `publish`).
#pragma once

#include <string>
#include <vector>

#include "flexwatch/core/registry.h"

namespace flexwatch {

struct EvidenceOptions {
  // File holding the key of worker pseudonyms (HMAC-SHA256), relative to the config file's
  // folder unless absolute. The environment variable FLEXWATCH_PSEUDONYM_KEY, when set, wins.
  std::string pseudonym_key_file;
};

// What `run` publishes when a month becomes final (and the annual announcement when December
// does), and where.
struct PublishOptions {
  std::string dir;  // empty: `run` publishes nothing
  std::vector<std::string> formats = {"json", "md", "html", "csv"};
  std::vector<std::string> langs = {"zh", "en"};
  std::string topic = "flexwatch.announcements";  // a notice per publication
  // Another instance of the group publishes (cli.md 1.1, "Several monitors, one city"): each
  // month's documents are kept in the state as they would be published, nothing is written, and
  // the month stays due until the publisher's notice is read back from `topic`.
  bool another_publishes = false;
  // The platforms' registered names (not owned; none: platforms are named by their ids).
  const PlatformRegistry* platforms = nullptr;
  const Issuer* issuer = nullptr;  // who issues them (not owned; none: no masthead)
};

}  // namespace flexwatch
