#include "flexwatch/core/digest.h"

#include <gtest/gtest.h>

namespace flexwatch {
namespace {

// Published test vectors: FIPS 180-2 for SHA-256, RFC 4231 test case 2 for HMAC-SHA256.
TEST(Digest, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Digest, HmacDependsOnKey) {
  EXPECT_NE(HmacSha256("k1", "w-1"), HmacSha256("k2", "w-1"));
  EXPECT_EQ(HmacSha256("k1", "w-1").size(), 32u);
}

}  // namespace
}  // namespace flexwatch
