#include "flexwatch/rules/config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace flexwatch {
namespace {

// Reads a mapping's keys, refusing any not in `allowed` (a typo must not pass silently).
Status CheckKeys(const YAML::Node& node, const std::string& where,
                 const std::set<std::string>& allowed) {
  if (!node.IsMap()) return Status::InvalidArgument(where + ": expected a mapping");
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Status::InvalidArgument((where.empty() ? "" : where + ".") + key +
                                     ": unknown key (expected one of: " + list + ")");
    }
  }
  return Status::OK();
}

template <typename T>
Status Read(const YAML::Node& parent, const std::string& where, const char* key, T& out,
            T min_value, T max_value) {
  YAML::Node n = parent[key];
  if (!n) return Status::OK();  // keep the default
  const std::string name = where + "." + key;
  T v;
  try {
    v = n.as<T>();
  } catch (const YAML::Exception&) {
    return Status::InvalidArgument(name + ": '" + n.as<std::string>("?") +
                                   "' is not a valid value of the expected type");
  }
  if (v < min_value || v > max_value) {
    std::ostringstream os;
    os << name << ": " << v << " is out of range [" << min_value << ", " << max_value << "]";
    return Status::InvalidArgument(os.str());
  }
  out = v;
  return Status::OK();
}

}  // namespace

Result<Config> ParseConfig(const std::string& text, const std::string& name) {
  Config cfg;
  cfg.path = name;
  auto fail = [&](const Status& s) { return Status::InvalidArgument(name + ": " + s.message()); };
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return cfg;
    if (Status s = CheckKeys(root, "", {"ingest", "state"}); !s.ok()) return fail(s);
    if (YAML::Node in = root["ingest"]) {
      if (Status s = CheckKeys(in, "ingest", {"max_line_bytes", "commit_every", "commit_max_mb"});
          !s.ok())
        return fail(s);
      uint64_t max_line = cfg.ingest.decoder.max_line_bytes, every = cfg.ingest.commit_every;
      uint64_t max_mb = cfg.ingest.commit_max_bytes >> 20;
      if (Status s = Read<uint64_t>(in, "ingest", "commit_max_mb", max_mb, 1, 4096); !s.ok())
        return fail(s);
      cfg.ingest.commit_max_bytes = max_mb << 20;
      if (Status s = Read<uint64_t>(in, "ingest", "max_line_bytes", max_line, 256, 64u << 20);
          !s.ok())
        return fail(s);
      if (Status s = Read<uint64_t>(in, "ingest", "commit_every", every, 1, 1u << 26); !s.ok())
        return fail(s);
      cfg.ingest.decoder.max_line_bytes = max_line;
      cfg.ingest.commit_every = every;
    }
    if (YAML::Node st = root["state"]) {
      if (Status s = CheckKeys(st, "state",
                               {"block_cache_mb", "write_buffer_total_mb", "write_buffer_mb",
                                "sync_commits", "background_jobs"});
          !s.ok())
        return fail(s);
      uint64_t cache = cfg.store.block_cache_bytes >> 20,
               total = cfg.store.write_buffer_total_bytes >> 20,
               one = cfg.store.write_buffer_bytes >> 20;
      int jobs = cfg.store.background_jobs;
      bool sync = cfg.store.sync_commits;
      for (auto [key, ref] : {std::pair<const char*, uint64_t*>{"block_cache_mb", &cache},
                              {"write_buffer_total_mb", &total},
                              {"write_buffer_mb", &one}})
        if (Status s = Read<uint64_t>(st, "state", key, *ref, 1, 1u << 16); !s.ok()) return fail(s);
      if (Status s = Read<int>(st, "state", "background_jobs", jobs, 1, 64); !s.ok())
        return fail(s);
      if (Status s = Read<bool>(st, "state", "sync_commits", sync, false, true); !s.ok())
        return fail(s);
      if (one > total)
        return fail(Status::InvalidArgument("state.write_buffer_mb: " + std::to_string(one) +
                                            " exceeds state.write_buffer_total_mb " +
                                            std::to_string(total)));
      cfg.store.block_cache_bytes = cache << 20;
      cfg.store.write_buffer_total_bytes = total << 20;
      cfg.store.write_buffer_bytes = one << 20;
      cfg.store.background_jobs = jobs;
      cfg.store.sync_commits = sync;
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(name + ": not valid YAML: " + e.what());
  }
  return cfg;
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read config " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace flexwatch
