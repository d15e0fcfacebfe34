// SHA-256 and HMAC-SHA256 (OpenSSL), for rule-set fingerprints and worker pseudonyms.
#pragma once

#include <string>
#include <string_view>

namespace flexwatch {

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
// The 32 raw bytes of HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
std::string Hex(std::string_view bytes);

}  // namespace flexwatch
