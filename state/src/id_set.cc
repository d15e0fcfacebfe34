#include "flexwatch/state/id_set.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>

#include "flexwatch/state/records.h"

namespace flexwatch {

namespace {

constexpr int kBucketBits = 12;  // at most 4096 buckets per platform and class
constexpr size_t kMaxPrefix = 16;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// What a byte can be in an id of the exact classes, and its value as a hex digit.
enum : uint8_t { kDigit = 1, kLowerHex = 2, kUpperHex = 4 };
struct HexTable {
  uint8_t kind[256] = {};
  uint8_t value[256] = {};
  constexpr HexTable() {
    for (int c = '0'; c <= '9'; ++c) kind[c] = kDigit, value[c] = static_cast<uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c)
      kind[c] = kLowerHex, value[c] = static_cast<uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c)
      kind[c] = kUpperHex, value[c] = static_cast<uint8_t>(c - 'A' + 10);
  }
};
constexpr HexTable kHex;

// The significant bits of the largest value a class can hold.
int BitsOfDecimal(int digits) {
  uint64_t max = 9;
  for (int i = 1; i < digits; ++i) max = max * 10 + 9;  // 19 digits: 9999999999999999999 < 2^64
  return 64 - std::countl_zero(max);
}

// At most 4096 buckets per class, and none smaller than 4096 values (a class of up to 12 bits is
// one bucket): a producer's counter fills its buckets densely, and a bucket of random values
// holds its share of the class.
void SetShift(IdSlot& out, int bits) {
  out.shift = bits <= kBucketBits ? bits : std::max(kBucketBits, bits - kBucketBits);
}

// 1-16 hex digits of one case, at least one of them a letter. One pass, whatever the id.
bool HexClass(std::string_view id, IdSlot& out) {
  if (id.empty() || id.size() > 16) return false;
  uint64_t v = 0;
  uint8_t kinds = 0;
  bool other = false;
  for (char c : id) {
    const uint8_t byte = static_cast<uint8_t>(c);
    kinds |= kHex.kind[byte];
    other |= kHex.kind[byte] == 0;
    v = v << 4 | kHex.value[byte];
  }
  const uint8_t letters = kinds & (kLowerHex | kUpperHex);
  // all digits: the decimal class; both cases: hashed
  if (other || letters == 0 || letters == (kLowerHex | kUpperHex)) return false;
  out.cls.assign(1, letters == kUpperHex ? 'X' : 'x');
  out.cls.push_back(static_cast<char>(id.size()));
  out.value = v;
  SetShift(out, static_cast<int>(4 * id.size()));
  return true;
}

}  // namespace

void IdSlotOf(std::string_view id, IdSlot& out) {
  size_t digits = 0;
  while (digits < id.size() && IsDigit(id[id.size() - 1 - digits])) ++digits;
  const size_t prefix = id.size() - digits;
  if (digits >= 1 && digits <= 19 && prefix <= kMaxPrefix &&
      std::none_of(id.begin(), id.begin() + static_cast<ptrdiff_t>(prefix), IsDigit)) {
    uint64_t v = 0;
    for (char c : id.substr(prefix)) v = v * 10 + static_cast<uint64_t>(c - '0');
    out.cls.assign(1, 'd');
    out.cls.push_back(static_cast<char>(digits));
    out.cls.append(id.substr(0, prefix));
    out.value = v;
    SetShift(out, BitsOfDecimal(static_cast<int>(digits)));
    return;
  }
  if (HexClass(id, out)) return;
  out.cls.assign(1, 'h');
  out.value = XXH3_64bits(id.data(), id.size());
  SetShift(out, 64);
}

void AppendIdBucketKey(std::string& out, std::string_view platform, const IdSlot& slot) {
  out.assign(1, kIdBucketMark);
  out.append(platform);
  out.push_back('\0');
  out.push_back(static_cast<char>(slot.cls.size()));
  out.append(slot.cls);
  const uint64_t bucket = BucketNumber(slot);
  out.push_back(static_cast<char>(bucket >> 8));
  out.push_back(static_cast<char>(bucket & 0xff));
}

uint8_t ContentTag(const Event& e) {
  // The fields of spec/events.md as decoded (so that formatting, key order or a time zone
  // written otherwise do not count as a change), one after the other.
  thread_local std::string s;  // its capacity kept from event to event
  s.clear();
  auto put = [&](const void* p, size_t n) { s.append(static_cast<const char*>(p), n); };
  auto str = [&](const std::string& v) {
    const uint32_t n = static_cast<uint32_t>(v.size());
    put(&n, sizeof n);
    s.append(v);
  };
  put(&e.type, 1);
  put(&e.ts, sizeof e.ts);
  str(e.worker_id);
  switch (e.type) {
    case EventType::kOrder:
      put(&e.order.sector, 1);
      put(&e.order.duration, sizeof e.order.duration);
      put(&e.order.earnings, sizeof e.order.earnings);
      str(e.order.district);
      break;
    case EventType::kContract:
      put(&e.contract.action, 1);
      put(&e.contract.form, 1);
      str(e.contract.counterparty_id);
      break;
    case EventType::kContribution:
      put(&e.contribution.period, sizeof e.contribution.period);
      put(&e.contribution.scheme, 1);
      put(&e.contribution.payer, 1);
      put(&e.contribution.base, sizeof e.contribution.base);
      put(&e.contribution.amount, sizeof e.contribution.amount);
      put(&e.contribution.orders_covered, sizeof e.contribution.orders_covered);
      break;
    case EventType::kCoverage:
      put(&e.coverage.product, 1);
      put(&e.coverage.sum_insured, sizeof e.coverage.sum_insured);
      put(&e.coverage.valid_from, sizeof e.coverage.valid_from);
      put(&e.coverage.valid_to, sizeof e.coverage.valid_to);
      break;
    case EventType::kComplaint:
      put(&e.complaint.category, 1);
      break;
  }
  return static_cast<uint8_t>(XXH3_64bits(s.data(), s.size()) % 15 + 1);
}

namespace {

// Where `v` would go among the n values of `at` (value(at[i]) strictly increasing), searched from
// `guess` in steps that double (1, 2, 4...) towards it, then by halves between the last two
// steps: a value `d` places from its guess costs about 2 log2(d) looks, mostly at cache lines
// beside the guess, not log2(n) all over the array.
template <typename ValueOf>
size_t LowerBoundFrom(const uint64_t* at, size_t n, size_t guess, uint64_t v, ValueOf value) {
  size_t lo, hi;  // the place is in [lo, hi]
  if (value(at[guess]) < v) {
    lo = guess + 1;
    hi = n;
    for (size_t step = 1; lo + step - 1 < n; step <<= 1) {
      const size_t p = lo + step - 1;
      if (value(at[p]) >= v) {
        hi = p;
        break;
      }
      lo = p + 1;
    }
  } else {
    lo = 0;
    hi = guess;
    for (size_t step = 1; step <= hi; step <<= 1) {
      const size_t p = hi - step;
      if (value(at[p]) < v) {
        lo = p + 1;
        break;
      }
      hi = p;
    }
  }
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (value(at[mid]) < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

size_t GuessOf(uint64_t v, int shift, size_t n) {
  const size_t i = static_cast<size_t>(static_cast<unsigned __int128>(v) * n >> shift);
  return i < n ? i : n - 1;
}

uint64_t Same(uint64_t v) { return v; }

}  // namespace

void IdBucket::Index() {
  skip.clear();
  if (entries.size() < kSkipFrom) {
    skip.shrink_to_fit();
    return;
  }
  skip.reserve(entries.capacity() / kSkipStep + 1);
  for (size_t i = 0; i < entries.size(); i += kSkipStep) skip.push_back(IdValue(entries[i]));
}

const uint64_t* IdBucket::Guess(uint64_t v, int shift) const {
  return skip.empty() ? &entries[GuessOf(v, shift, entries.size())]
                      : &skip[GuessOf(v, shift, skip.size())];
}

ptrdiff_t IdBucket::Find(uint64_t v, int shift) const {
  // A bucket's values are spread about evenly over its 2^shift (a hash's low bits, a full run of
  // a counter): the place is guessed from the value and searched from there (LowerBoundFrom). A
  // bucket of hashed ids then costs the cache line of the guess (which the writer prefetches)
  // and one or two beside it. In a large bucket, the run of kSkipStep entries is found so in
  // `skip`, then searched.
  const size_t n = entries.size();
  if (n == 0) return -1;
  const uint64_t* at = entries.data();
  size_t first = 0, last = n;
  if (skip.empty()) {
    first = LowerBoundFrom(at, n, GuessOf(v, shift, n), v, IdValue);
    last = std::min(n, first + 1);
  } else {
    const size_t m = skip.size();
    const size_t j = LowerBoundFrom(skip.data(), m, GuessOf(v, shift, m), v, Same);
    if (j < m && skip[j] == v) return static_cast<ptrdiff_t>(j * kSkipStep);
    if (j == 0) return -1;  // before the first value
    first = (j - 1) * kSkipStep;
    last = std::min(n, j * kSkipStep);
  }
  const uint64_t* it = std::lower_bound(at + first, at + last, v,
                                        [](uint64_t e, uint64_t x) { return IdValue(e) < x; });
  return it != at + last && IdValue(*it) == v ? it - at : -1;
}

namespace {

// Bits written from the most significant end of each byte, a word at a time.
class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(out) {}
  void Flush() {
    while (n_ > 0) {  // the last byte padded with zeros
      out_.push_back(static_cast<char>(acc_ >> 56));
      acc_ <<= 8;
      n_ = n_ > 8 ? n_ - 8 : 0;
    }
  }
  // The low `n` (at most 32) bits of v; written out four bytes at a time.
  void Bits(uint64_t v, int n) {
    if (n == 0) return;
    acc_ |= (v & (~uint64_t{0} >> (64 - n))) << (64 - n_ - n);
    n_ += n;
    if (n_ >= 32) {
      const char bytes[4] = {static_cast<char>(acc_ >> 56), static_cast<char>(acc_ >> 48),
                             static_cast<char>(acc_ >> 40), static_cast<char>(acc_ >> 32)};
      out_.append(bytes, 4);
      acc_ <<= 32;
      n_ -= 32;
    }
  }
  void Wide(uint64_t v, int n) {  // up to 64 bits
    if (n > 32) Bits(v >> 32, n - 32), n = 32;
    Bits(v, n);
  }
  void Ones(uint64_t q) {
    for (; q > 32; q -= 32) Bits(~uint64_t{0}, 32);
    Bits(~uint64_t{0}, static_cast<int>(q));
  }

 private:
  std::string& out_;
  uint64_t acc_ = 0;
  int n_ = 0;  // bits held in acc_, from its top
};

class BitReader {
 public:
  explicit BitReader(std::string_view in) : in_(in) {}
  // The next 64 bits (zeros past the end), not consumed.
  uint64_t Peek() const {
    const size_t byte = at_ / 8;
    auto at = [this](size_t i) -> uint64_t {
      return i < in_.size() ? static_cast<uint8_t>(in_[i]) : 0;
    };
    uint64_t w = 0;
    for (size_t i = 0; i < 8; ++i) w = w << 8 | at(byte + i);
    const int off = static_cast<int>(at_ % 8);
    return off == 0 ? w : w << off | at(byte + 8) >> (8 - off);
  }
  bool Skip(size_t n) {
    if (at_ + n > in_.size() * 8) return false;
    at_ += n;
    return true;
  }
  bool Bits(int n, uint64_t& v) {  // n <= 57
    if (n == 0) {
      v = 0;
      return true;
    }
    v = Peek() >> (64 - n);
    return Skip(static_cast<size_t>(n));
  }
  bool Wide(int n, uint64_t& v) {
    uint64_t hi = 0, lo = 0;
    if (n > 32) {
      if (!Bits(n - 32, hi)) return false;
      n = 32;
    }
    if (!Bits(n, lo)) return false;
    v = hi << n | lo;
    return true;
  }
  // Ones up to the next zero (which is consumed), at most `limit`.
  bool Unary(uint64_t limit, uint64_t& q) {
    q = 0;
    while (q < limit) {
      const uint64_t w = Peek();
      const int ones = std::countl_one(w);
      if (ones < 64) {
        const uint64_t take = std::min<uint64_t>(static_cast<uint64_t>(ones), limit - q);
        q += take;
        if (q == limit) return Skip(take);
        return Skip(take + 1);
      }
      q += 64;
      if (!Skip(64)) return false;
    }
    return true;
  }

 private:
  std::string_view in_;
  size_t at_ = 0;
};

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// A Rice quotient this large is written as its escape: 64 ones, then the gap in 64 bits.
constexpr uint64_t kEscape = 64;

}  // namespace

// Layout: kind, varint n, Rice parameter k, the tags (two per byte), then per value the gap
// from the one before (the first: from 0; the others less one, the values being distinct) as
// q = gap >> k in unary and gap's low k bits.
std::string EncodeIdSet(const uint64_t* entries, size_t n) {
  std::string out;
  AppendIdSet(out, entries, n);
  return out;
}

void AppendIdSet(std::string& out, const uint64_t* entries, size_t n) {
  out.push_back(static_cast<char>(RecordKind::kIdSet));
  PutVarint(out, n);
  int k = 0;
  if (n > 0) {
    const long double mean = (static_cast<long double>(IdValue(entries[n - 1])) + 1) / n;
    while (k < 63 && (static_cast<long double>(uint64_t{1} << (k + 1))) <= mean * 0.69L) ++k;
  }
  out.push_back(static_cast<char>(k));
  out.reserve(out.size() + (n + 1) / 2 + (n * static_cast<size_t>(k + 2) + 7) / 8 + 16);
  for (size_t i = 0; i < n; i += 2)
    out.push_back(
        static_cast<char>(IdTag(entries[i]) << 4 | (i + 1 < n ? IdTag(entries[i + 1]) : 0)));
  BitWriter bits(out);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t gap =
        i == 0 ? IdValue(entries[0]) : IdValue(entries[i]) - IdValue(entries[i - 1]) - 1;
    const uint64_t q = gap >> k;
    if (q >= kEscape) {
      bits.Ones(kEscape);
      bits.Wide(gap, 64);
      continue;
    }
    bits.Ones(q);
    bits.Bits(0, 1);
    bits.Wide(gap, k);
  }
  bits.Flush();
}

bool IsIdSet(std::string_view in) {
  return !in.empty() && static_cast<RecordKind>(in[0]) == RecordKind::kIdSet;
}

bool DecodeIdSet(std::string_view in, IdBucket& out) {
  if (!IsIdSet(in)) return false;
  in.remove_prefix(1);
  uint64_t n = 0;
  if (!GetVarint(in, n) || in.empty() || n > in.size() * 16) return false;
  const int k = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  if (k > 63 || in.size() < (n + 1) / 2) return false;
  const std::string_view tags = in.substr(0, (n + 1) / 2);
  in.remove_prefix(tags.size());
  out.entries.reserve(out.entries.size() + n);
  BitReader bits(in);
  uint64_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t q = 0;
    if (!bits.Unary(kEscape, q)) return false;
    uint64_t gap = 0;
    if (q == kEscape) {
      if (!bits.Wide(64, gap)) return false;
    } else {
      uint64_t low = 0;
      if (!bits.Wide(k, low)) return false;
      gap = q << k | low;
    }
    if (i > 0 && gap >= (uint64_t{1} << kIdValueBits) - 1 - last) return false;
    last = i == 0 ? gap : last + gap + 1;
    if (last >> kIdValueBits) return false;
    out.entries.push_back(
        IdEntry(last, static_cast<uint8_t>(static_cast<uint8_t>(tags[i / 2]) >> (i % 2 ? 0 : 4))));
  }
  return true;
}

bool FoldIdSets(const std::string_view* sets, size_t n, std::string& out) {
  // Each set decoded after the others, then merged stably by value: the first set holding a
  // value keeps its tag.
  IdBucket all;
  for (size_t i = 0; i < n; ++i)
    if (!DecodeIdSet(sets[i], all)) return false;
  std::stable_sort(all.entries.begin(), all.entries.end(),
                   [](uint64_t a, uint64_t b) { return IdValue(a) < IdValue(b); });
  std::vector<uint64_t> entries;
  entries.reserve(all.size());
  for (uint64_t e : all.entries)
    if (entries.empty() || IdValue(entries.back()) != IdValue(e)) entries.push_back(e);
  out = EncodeIdSet(entries.data(), entries.size());
  return true;
}

}  // namespace flexwatch
