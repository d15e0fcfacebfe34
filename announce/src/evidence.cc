#include "flexwatch/announce/evidence.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "flexwatch/announce/announcement.h"
#include "flexwatch/core/digest.h"
#include "flexwatch/core/file.h"
#include "flexwatch/core/ids.h"
#include "flexwatch/core/json.h"

namespace flexwatch {

namespace fs = std::filesystem;

Pseudonymizer::Pseudonymizer(std::string key)
    : key_(std::move(key)), key_id_(Sha256Hex(key_).substr(0, 8)) {}

std::string Pseudonymizer::Of(std::string_view worker_id) const {
  return "w_" + Hex(HmacSha256(key_, worker_id)).substr(0, 32);
}

Result<std::string> LoadPseudonymKey(const std::string& key_file, const std::string& config_dir) {
  if (const char* env = std::getenv("FLEXWATCH_PSEUDONYM_KEY"); env && *env) {
    std::string key(env);
    if (key.size() < 16)
      return Status::InvalidArgument("FLEXWATCH_PSEUDONYM_KEY is shorter than 16 bytes");
    return key;
  }
  if (key_file.empty())
    return Status::InvalidArgument(
        "evidence needs a pseudonym key: set FLEXWATCH_PSEUDONYM_KEY or "
        "evidence.pseudonym_key_file in the config");
  fs::path path(key_file);
  if (path.is_relative() && !config_dir.empty()) path = fs::path(config_dir) / path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read the pseudonym key file " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() < 16)
    return Status::InvalidArgument("pseudonym key file " + path.string() +
                                   " holds fewer than 16 bytes");
  return key;
}

void EvidenceCollector::Add(const Finding& f) {
  rows_[{f.platform_id, static_cast<int>(f.dimension)}].emplace_back(pseudonyms_->Of(f.worker_id),
                                                                     f.details_json);
}

Files EvidenceCollector::Render(const MonthEvaluation& month, const RuleSet& rules,
                                const std::function<bool(std::string_view)>& only,
                                const PlatformRegistry* platforms) const {
  Files out;
  const std::string folder = FormatPeriod(month.period) + "/";
  for (const PlatformScore& ps : month.platforms) {
    if (only && !only(ps.platform_id)) continue;
    for (int d = 0; d < kDimensionCount; ++d) {
      const DimensionScore& ds = ps.dimensions[d];
      std::vector<std::pair<std::string, std::string>> rows;
      if (auto it = rows_.find({ps.platform_id, d}); it != rows_.end()) rows = it->second;
      // Pseudonym order: the order of the state's keys would say something about the raw ids.
      std::sort(rows.begin(), rows.end());
      JsonWriter w;
      w.BeginObject(JsonWriter::kBlock).Key("kind").String("evidence");
      w.Key("period").String(FormatPeriod(month.period)).Key("final").Bool(month.final);
      w.Key("platform_id").String(ps.platform_id);
      if (const PlatformInfo* info = platforms ? platforms->Find(ps.platform_id) : nullptr) {
        w.Key("name_zh").String(info->name_zh).Key("name_en").String(info->name_en);
        w.Key("credit_code").String(info->credit_code);
      }
      w.Key("dimension").String(kDimensionNames[d]);
      w.Key("rules").Raw(RulesStampJson(rules)).Key("pseudonyms").BeginObject();
      w.Key("scheme").String("hmac-sha256").Key("key_id").String(pseudonyms_->key_id());
      w.EndObject().Key("in_scope").Int(ds.in_scope).Key("affected").Int(ds.affected);
      w.Key("rate").Raw(RateText(ds.affected, ds.in_scope)).Key("level").String(NameOf(ds.level));
      w.Key("worker_months").BeginArray(JsonWriter::kBlock);
      for (const auto& [pseudonym, details] : rows)
        w.BeginObject().Key("worker").String(pseudonym).Members(details).EndObject();
      w.EndArray().EndObject();
      std::string s = w.Take() + "\n";
      out.emplace_back(
          folder + FileStem(ps.platform_id) + "." + std::string(kDimensionNames[d]) + ".json",
          std::move(s));
    }
  }
  return out;
}

}  // namespace flexwatch
