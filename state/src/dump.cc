// Reading the state whole: the dead letters, and `inspect --dump` (every record, keys and values
// escaped, bookkeeping left out).

#include "flexwatch/state/meta_keys.h"
#include "store_impl.h"

namespace flexwatch {

using namespace state_detail;

namespace {

// Printable ASCII as is, every other byte (and the backslash) as \xNN.
std::string Escape(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x21 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace

Status Store::ForEachDeadLetter(const std::function<void(std::string_view json)>& fn) {
  auto it = impl_->Iter(Cf::kDead);
  for (it->SeekToFirst(); it->Valid(); it->Next()) fn(Sv(it->value()));
  if (!it->status().ok()) return Status::IOError(it->status().ToString());
  return Status::OK();
}

Status Store::Dump(const std::function<void(std::string_view line)>& fn) {
  std::string line;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    auto it = impl_->Iter(static_cast<Cf>(i));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (static_cast<Cf>(i) == Cf::kOutbox) break;
      if (static_cast<Cf>(i) == Cf::kDefault &&
          meta_keys::IsBookkeeping(std::string_view(it->key().data(), it->key().size())))
        continue;
      line = kCfNames[i];
      line += '\t';
      line += Escape(Sv(it->key()));
      line += '\t';
      line += Escape(Sv(it->value()));
      fn(line);
    }
    if (!it->status().ok()) return Status::IOError(it->status().ToString());
  }
  return Status::OK();
}

}  // namespace flexwatch
