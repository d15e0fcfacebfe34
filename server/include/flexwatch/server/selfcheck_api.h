// The platforms' self-check service: `flexwatch selfcheck` over HTTP, on its own listen address.
//   POST /api/v1/selfcheck        NDJSON body -> the report of `selfcheck --format json` (200),
//                                 its id in `Location` and `X-Flexwatch-Report-Id`
//   GET  /api/v1/selfcheck/{id}   a past report of the caller's own platform (else 404)
//   GET  /api/v1/openapi.json     the API's description (server/openapi.json)
// Every request but the description needs `Authorization: Bearer <token>` of a platform
// (TokenStore), checked from the headers before any byte of the body is read; a feed is judged
// as that platform's, any line of another platform refused. Limits: body size on the wire and
// once decompressed (413), a header deadline and a whole-request deadline (408), connections in
// total and per client address (503, closed unread), a per-token rate (429 with Retry-After),
// concurrent self-checks (503 with Retry-After). Errors are JSON {"code", "message"} with a
// stable code. Nothing here opens the regulator's state: each self-check runs in a throwaway
// state of its own.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "flexwatch/core/status.h"
#include "flexwatch/selfcheck/selfcheck.h"
#include "flexwatch/server/options.h"

namespace flexwatch {

// What the self-check service serves with: its own options, what a self-check judges with, and
// the Kafka client settings (`kafka.client`) for test feeds over Kafka.
struct SelfcheckService {
  SelfcheckApiOptions api;
  SelfcheckSetup judging;
  std::map<std::string, std::string> kafka_client;
};

class SelfcheckApi {
 public:
  // Serves until destroyed. `log` (optional) receives one line per request: method, path,
  // platform, bytes received, status, error code, duration (never the body).
  // `service` must outlive the server.
  static Result<std::unique_ptr<SelfcheckApi>> Start(const SelfcheckService& service,
                                                     std::function<void(const std::string&)> log);
  ~SelfcheckApi();
  const std::string& address() const { return address_; }
  bool tls() const { return tls_; }

 private:
  SelfcheckApi() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string address_;
  bool tls_ = false;
};

// Judges `feed` (NDJSON) as `platform`'s self-check and keeps the report under
// `service.api.reports_dir`/<platform>/<id>.json, for GET by id.
struct KeptReport {
  std::string id;
  SelfcheckReport report;
};
// `lang`: of the examples' explanations (and of the text report).
Result<KeptReport> CheckAndKeep(const SelfcheckService& service, const std::string& platform,
                                const std::string& feed, Lang lang = Lang::kEn);

// Test feeds over Kafka (SelfcheckApiOptions::test_topic_prefix): a consumer of every platform's
// test topic, on its own thread, whose reports go to each platform's results topic.
class SelfcheckKafka {
 public:
  // `service` must outlive the consumer.
  static Result<std::unique_ptr<SelfcheckKafka>> Start(const SelfcheckService& service,
                                                       const std::string& brokers,
                                                       std::function<void(const std::string&)> log);
  ~SelfcheckKafka();  // stops and leaves the group

 private:
  SelfcheckKafka() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI document served at /api/v1/openapi.json.
std::string_view SelfcheckOpenApi();

// The error document of the API and of the results topics: {"code": ..., "message": ...}.
std::string ErrorJson(std::string_view code, std::string_view message);

}  // namespace flexwatch
