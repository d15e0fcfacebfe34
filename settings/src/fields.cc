#include "fields.h"

#include <set>

namespace flexwatch::settings {

Status Fields::Read(const YAML::Node& node) const {
  if (!node.IsMap()) return Status::InvalidArgument(where_ + ": expected a mapping");
  std::set<std::string> allowed;
  for (const auto& [key, read] : fields_) allowed.insert(key);
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    if (allowed.count(key)) continue;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Status::InvalidArgument((where_.empty() ? "" : where_ + ".") + key +
                                   ": unknown key (expected one of: " + list + ")");
  }
  for (const auto& [key, read] : fields_) {
    // Copied, not assigned: indexing a YAML::Node with a missing key gives an invalid node.
    const YAML::Node value = node[key];
    if (Status s = read(value, where_.empty() ? key : where_ + "." + key); !s.ok()) return s;
  }
  for (const auto& check : checks_)
    if (Status s = check(); !s.ok()) return s;
  return Status::OK();
}

Reader IfPresent(Reader read) {
  return [read = std::move(read)](const YAML::Node& n, const std::string& name) {
    return n ? read(n, name) : Status::OK();
  };
}

Reader Optional(Reader read) {
  return [read = std::move(read)](const YAML::Node& n, const std::string& name) {
    return n && !n.IsNull() ? read(n, name) : Status::OK();
  };
}

Reader Required(Reader read) {
  return [read = std::move(read)](const YAML::Node& n, const std::string& name) {
    if (!n || n.IsNull()) return Status::InvalidArgument(name + ": missing");
    return read(n, name);
  };
}

Reader Mapping(std::function<void(Fields&)> build) {
  return [build = std::move(build)](const YAML::Node& n, const std::string& name) {
    Fields fields(name);
    build(fields);
    return fields.Read(n);
  };
}

Reader Text(std::string& out) {
  return [&out](const YAML::Node& n, const std::string& name) {
    if (!n || n.IsNull()) return Status::OK();
    if (!n.IsScalar()) return Status::InvalidArgument(name + ": expected a string");
    out = n.Scalar();
    return Status::OK();
  };
}

Reader NonEmpty(std::string& out) {
  return [&out](const YAML::Node& n, const std::string& name) {
    if (Status s = Text(out)(n, name); !s.ok()) return s;
    if (out.find_first_not_of(" \t") == std::string::npos)
      return Status::InvalidArgument(name + ": must not be empty");
    return Status::OK();
  };
}

Reader Decimal(int scale, int64_t lo, int64_t hi, int64_t& out, const char* unit) {
  return [=, &out](const YAML::Node& n, const std::string& name) {
    if (!n.IsScalar()) return Status::InvalidArgument(name + ": expected a number");
    auto v = ParseScaledDecimal(n.Scalar(), scale, ExcessDigits::kReject);
    if (!v.ok())
      return Status::InvalidArgument(name + ": '" + n.Scalar() + "' is not a number with at most " +
                                     std::to_string(scale) + " decimals");
    if (*v < lo || *v > hi)
      return Status::InvalidArgument(name + ": " + n.Scalar() + " is out of range [" +
                                     FormatScaled(lo, scale) + ", " + FormatScaled(hi, scale) +
                                     "] " + unit);
    out = *v;
    return Status::OK();
  };
}

Reader Percent(int64_t& out) { return Decimal(4, 0, 100 * 10000, out, "percent"); }

Reader Month(Period& out) {
  return [&out](const YAML::Node& n, const std::string& name) {
    auto p = n.IsScalar() ? ParsePeriod(n.Scalar()) : Status::InvalidArgument("not a scalar");
    if (!p.ok())
      return Status::InvalidArgument(name + ": expected a month YYYY-MM, got '" +
                                     (n.IsScalar() ? n.Scalar() : std::string("?")) + "'");
    out = *p;
    return Status::OK();
  };
}

Reader WholeNumber(int& out) {
  return [&out](const YAML::Node& n, const std::string& name) {
    try {
      out = n.as<int>();
    } catch (const YAML::Exception&) {
      return Status::InvalidArgument(name + ": a class is a whole number");
    }
    return Status::OK();
  };
}

Reader List(const std::string& what, bool non_empty,
            std::function<Status(const YAML::Node&, const std::string&)> element) {
  return [=](const YAML::Node& n, const std::string& name) {
    if (!n.IsSequence() || (non_empty && n.size() == 0))
      return Status::InvalidArgument(name + ": expected " + what);
    for (size_t i = 0; i < n.size(); ++i)
      if (Status s = element(n[i], name + "[" + std::to_string(i) + "]"); !s.ok()) return s;
    return Status::OK();
  };
}

Reader Checked(Reader read, std::function<Status(const std::string& name)> check) {
  return [read = std::move(read), check = std::move(check)](const YAML::Node& n,
                                                            const std::string& name) {
    if (Status s = read(n, name); !s.ok()) return s;
    return check(name);
  };
}

}  // namespace flexwatch::settings
