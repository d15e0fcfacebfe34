// flexwatch.yaml: the one place where configuration is read and validated. Every key is checked;
// an error names the file, the key and the problem.
#pragma once

#include <string>

#include "flexwatch/core/status.h"
#include "flexwatch/ingest/replay.h"
#include "flexwatch/state/store.h"

namespace flexwatch {

struct Config {
  std::string path;  // where it was read from
  ReplayOptions ingest;
  StoreOptions store;
};

Result<Config> LoadConfig(const std::string& path);
// Parses YAML text; `name` is used in error messages.
Result<Config> ParseConfig(const std::string& text, const std::string& name);

}  // namespace flexwatch
