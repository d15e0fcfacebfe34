#include "flexwatch/server/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "flexwatch/core/digest.h"
#include "flexwatch/core/file.h"
#include "flexwatch/ingest/decoder.h"

namespace flexwatch {
namespace {

constexpr std::string_view kPrefix = "fwst_";

std::string Base64Url(const unsigned char* bytes, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | bytes[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

}  // namespace

Result<TokenStore> TokenStore::Load(const std::string& path) {
  TokenStore store;
  store.path_ = path;
  std::ifstream in(path);
  if (!in) return store;  // none yet
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    TokenEntry e;
    std::getline(fields, e.platform, '\t');
    std::getline(fields, e.id, '\t');
    std::getline(fields, e.sha256, '\t');
    // A line spoiled by hand is skipped and reported; it never locks the other platforms out.
    if (!IsValidPlatformId(e.platform) || e.sha256.size() != 64 ||
        e.sha256.find_first_not_of("0123456789abcdef") != std::string::npos || e.id.empty()) {
      store.problems_.push_back(path + ":" + std::to_string(n) +
                                ": skipped: expected platform<TAB>id<TAB>sha256 (64 lowercase "
                                "hex digits)");
      continue;
    }
    store.entries_.push_back(std::move(e));
  }
  return store;
}

Status TokenStore::Save() const {
  std::string text = "# flexwatch self-check API tokens: platform, id, SHA-256 of the token\n";
  for (const TokenEntry& e : entries_) text += e.platform + "\t" + e.id + "\t" + e.sha256 + "\n";
  if (Status s = WriteFileAtomically(path_, text); !s.ok()) return s;
  chmod(path_.c_str(), 0600);  // hashes only, but nobody else's business
  return Status::OK();
}

Result<std::string> TokenStore::Add(const std::string& platform) {
  if (!IsValidPlatformId(platform))
    return Status::InvalidArgument("'" + platform +
                                   "' is not a valid platform id (1-64 of [A-Za-z0-9._:-], not "
                                   "starting with '-', not only dots)");
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1)
    return Status::IOError("no randomness for a token (OpenSSL RAND_bytes)");
  const std::string token = std::string(kPrefix) + Base64Url(random, sizeof random);
  const std::string hash = Sha256Hex(token);
  entries_.push_back({platform, hash.substr(0, 12), hash});
  if (Status s = Save(); !s.ok()) return s;
  return token;
}

Result<int> TokenStore::Revoke(const std::string& id_or_platform) {
  const size_t before = entries_.size();
  // A token id names one token; only when no token has that id is it taken as a platform, so
  // that revoking one token never revokes a platform that happens to share its name.
  const bool is_id = std::any_of(entries_.begin(), entries_.end(),
                                 [&](const TokenEntry& e) { return e.id == id_or_platform; });
  std::erase_if(entries_, [&](const TokenEntry& e) {
    return is_id ? e.id == id_or_platform : e.platform == id_or_platform;
  });
  const int gone = static_cast<int>(before - entries_.size());
  if (gone == 0) return gone;
  if (Status s = Save(); !s.ok()) return s;
  return gone;
}

std::optional<std::string> TokenStore::Verify(std::string_view token) const {
  const std::string hash = Sha256Hex(token);
  const TokenEntry* match = nullptr;
  for (const TokenEntry& e : entries_)  // every entry compared, whatever matched before
    if (CRYPTO_memcmp(e.sha256.data(), hash.data(), hash.size()) == 0) match = &e;
  if (!match) return std::nullopt;
  return match->platform;
}

}  // namespace flexwatch
