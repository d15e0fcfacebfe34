// Reading a YAML mapping through a table of its fields: each key is written once, beside the
// reader of its value. The table both reads the keys and refuses any other (a typo must not pass
// silently), and every error names the key's full path ("kafka.group: must not be empty").
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flexwatch/core/decimal.h"
#include "flexwatch/core/event.h"
#include "flexwatch/core/status.h"
#include "flexwatch/core/time.h"

namespace flexwatch::settings {

// Reads one key's value: the key's node (invalid when the key is absent) and its full name.
using Reader = std::function<Status(const YAML::Node& value, const std::string& name)>;

class Fields {
 public:
  // `where`: the mapping's own path ("kafka", "rules.tiers"; empty for the file's root).
  explicit Fields(std::string where) : where_(std::move(where)) {}
  Fields& Add(std::string key, Reader read) {
    fields_.emplace_back(std::move(key), std::move(read));
    return *this;
  }
  // A check run once every field has been read (a rule between fields).
  Fields& Then(std::function<Status()> check) {
    checks_.push_back(std::move(check));
    return *this;
  }
  // Refuses a key not in the table, then reads the fields in the table's order and runs the
  // checks, stopping at the first error.
  Status Read(const YAML::Node& node) const;

 private:
  std::string where_;
  std::vector<std::pair<std::string, Reader>> fields_;
  std::vector<std::function<Status()>> checks_;
};

// --- readers ---

// The value only when the key is there (and, for Optional, not null); else the default stays.
Reader IfPresent(Reader read);
Reader Optional(Reader read);
// "NAME: missing" when the key is absent or null.
Reader Required(Reader read);
// A nested mapping, read through the table `build` fills.
Reader Mapping(std::function<void(Fields&)> build);
// A string (a default kept when absent or null).
Reader Text(std::string& out);
// A string that must not be empty (nor only spaces).
Reader NonEmpty(std::string& out);
// A scalar of type T in [lo, hi] (the default kept when absent).
template <typename T>
Reader Number(T& out, T lo, T hi) {
  return [&out, lo, hi](const YAML::Node& n, const std::string& name) -> Status {
    if (!n) return Status::OK();
    T v;
    try {
      v = n.as<T>();
    } catch (const YAML::Exception&) {
      return Status::InvalidArgument(name + ": '" + n.as<std::string>("?") +
                                     "' is not a valid value of the expected type");
    }
    if (v < lo || v > hi) {
      std::ostringstream os;
      os << name << ": " << v << " is out of range [" << lo << ", " << hi << "]";
      return Status::InvalidArgument(os.str());
    }
    out = v;
    return Status::OK();
  };
}
// A decimal with at most `scale` decimals, as an integer times 10^scale, in [lo, hi] `unit`.
Reader Decimal(int scale, int64_t lo, int64_t hi, int64_t& out, const char* unit);
// A percent with up to four decimals, in parts per million.
Reader Percent(int64_t& out);
// A month, YYYY-MM.
Reader Month(Period& out);
// A whole number (a class), "NAME: a class is a whole number" otherwise.
Reader WholeNumber(int& out);
// One of `names`.
template <typename E, size_t N>
Reader Enum(const std::array<std::string_view, N>& names, E& out) {
  return [&names, &out](const YAML::Node& n, const std::string& name) -> Status {
    std::optional<E> e;
    if (n.IsScalar()) e = EnumFromName<E>(names, n.Scalar());
    if (!e) {
      std::string list;
      for (auto v : names) list += (list.empty() ? "" : ", ") + std::string(v);
      return Status::InvalidArgument(name + ": '" + (n.IsScalar() ? n.Scalar() : "?") +
                                     "' is not one of " + list);
    }
    out = *e;
    return Status::OK();
  };
}
// A list, each element read by `element` under "NAME[i]"; `what` names the list's content in
// the error when the value is not a list (or, with `non_empty`, an empty one).
Reader List(const std::string& what, bool non_empty,
            std::function<Status(const YAML::Node&, const std::string&)> element);
// The reader, then `check` (given the key's full name) when it succeeded.
Reader Checked(Reader read, std::function<Status(const std::string& name)> check);

}  // namespace flexwatch::settings
