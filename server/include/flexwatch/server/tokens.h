// Per-platform bearer tokens of the self-check API. A token is "fwst_" and 43 characters of
// base64url (256 random bits); the file keeps only its SHA-256, one line per token:
// "platform<TAB>id<TAB>sha256-hex", where the id (the hash's first 12 hex digits) names it for
// `flexwatch token revoke`. Verification hashes the presented token and compares it with every
// stored hash in constant time, so neither a match's place nor a near miss shows in the timing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "flexwatch/core/status.h"

namespace flexwatch {

struct TokenEntry {
  std::string platform, id, sha256;
};

class TokenStore {
 public:
  // Reads `path` (a missing file is an empty store). A malformed line is skipped and listed in
  // problems() (file and line), so that one bad line never locks every platform out.
  static Result<TokenStore> Load(const std::string& path);
  const std::vector<std::string>& problems() const { return problems_; }
  // A new token for `platform`: returned once (only its hash is kept) and written to the file.
  Result<std::string> Add(const std::string& platform);
  // Removes the token with this id or, when no token has this id, every token of this
  // platform; how many went.
  Result<int> Revoke(const std::string& id_or_platform);
  // The platform whose token this is, if any.
  std::optional<std::string> Verify(std::string_view token) const;
  const std::vector<TokenEntry>& entries() const { return entries_; }

 private:
  Status Save() const;
  std::string path_;
  std::vector<TokenEntry> entries_;
  std::vector<std::string> problems_;
};

}  // namespace flexwatch
