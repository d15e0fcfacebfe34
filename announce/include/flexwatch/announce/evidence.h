// Evidence files for inspectors: per platform and dimension, the affected worker-months of a
// month with the facts behind each, worker ids replaced by keyed pseudonyms.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flexwatch/core/file.h"
#include "flexwatch/core/registry.h"
#include "flexwatch/rules/evaluate.h"

namespace flexwatch {

// HMAC-SHA256 pseudonyms of worker ids. The same key gives the same pseudonym, so inspectors can
// follow a worker across months and files without learning who it is.
class Pseudonymizer {
 public:
  // REQUIRES: key.size() >= 16.
  explicit Pseudonymizer(std::string key);
  // "w_" and 32 hex digits (128 bits of the HMAC).
  std::string Of(std::string_view worker_id) const;
  // Identifies the key (not secret): the first 8 hex digits of SHA-256 of the key.
  const std::string& key_id() const { return key_id_; }

 private:
  std::string key_;
  std::string key_id_;
};

// The key: $FLEXWATCH_PSEUDONYM_KEY if set, else the file (relative to `config_dir`). Fails
// naming what to set when there is none or it is shorter than 16 bytes.
Result<std::string> LoadPseudonymKey(const std::string& key_file, const std::string& config_dir);

class EvidenceCollector {
 public:
  explicit EvidenceCollector(const Pseudonymizer* pseudonyms) : pseudonyms_(pseudonyms) {}
  // Pass to EvaluateOptions::on_finding.
  void Add(const Finding& f);
  // The files <period>/<platform_id>.<dimension>.json, one for every platform (that `only`
  // accepts, if given) and dimension of the evaluation (an empty list where none is affected).
  // A registered platform's files carry its names and credit code (`platforms`, if given).
  Files Render(const MonthEvaluation& month, const RuleSet& rules,
               const std::function<bool(std::string_view platform)>& only = {},
               const PlatformRegistry* platforms = nullptr) const;

 private:
  const Pseudonymizer* pseudonyms_;
  // (platform, dimension) -> (pseudonym, details json)
  std::map<std::pair<std::string, int>, std::vector<std::pair<std::string, std::string>>> rows_;
};

}  // namespace flexwatch
