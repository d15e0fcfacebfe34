// Alertmanager sink: the alerts that hold are posted to Alertmanager's v2 API
// (POST /api/v2/alerts), so that routing, grouping, silences and inhibition are Alertmanager's.
// An alert holds for each platform-dimension level other than green of the months a round judged
// (the open ones and the last final one) and for each of their early warnings. They are re-sent
// every `resend_seconds`, each saying it ends after four of those (so that the alerts of a
// monitor that died resolve, as Prometheus does), and one that stops holding (a level changed, a
// newer month became final) is sent once more as resolved.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flexwatch/alerts/alerts.h"

namespace flexwatch {

struct AlertmanagerAlert {
  std::map<std::string, std::string> labels, annotations;
};

// The alerts a round holds: FlexwatchComplianceLevel (labels platform, dimension, level,
// period, final, severity, rule_set) and FlexwatchEarlyWarning (platform, detector, series,
// period, final, severity), each with the annotations summary and evidence. In a stable order.
std::vector<AlertmanagerAlert> AlertmanagerAlerts(const AlertRound& round, const RuleSet& rules);

// The JSON body of a post: `firing` ending at `ends_ms`, `resolved` ending at `now_ms`, each
// starting when first sent (`starts_ms`, by position).
struct PostedAlert {
  AlertmanagerAlert alert;
  TimestampMs starts_ms = 0, ends_ms = 0;
};
std::string AlertmanagerBody(const std::vector<PostedAlert>& alerts);

class AlertmanagerSink {
 public:
  // Starts the sender thread. `on_post` (optional) hears each post's outcome, on that thread.
  AlertmanagerSink(AlertmanagerOptions options,
                   std::function<void(bool ok, const std::string& error)> on_post = {});
  ~AlertmanagerSink();  // sends what changed once more (within the timeout) and stops
  AlertmanagerSink(const AlertmanagerSink&) = delete;
  AlertmanagerSink& operator=(const AlertmanagerSink&) = delete;

  // The alerts that hold are now those of `round`: new ones fire, missing ones resolve.
  void Update(const AlertRound& round, const RuleSet& rules);

 private:
  struct Held {
    AlertmanagerAlert alert;
    TimestampMs starts_ms = 0;
  };
  void Loop();
  // Posts what holds and what resolved; true when Alertmanager took it.
  bool Post(const std::vector<PostedAlert>& alerts, std::string& error);

  const AlertmanagerOptions options_;
  std::function<void(bool, const std::string&)> on_post_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Held> active_;  // by identity (the labels)
  std::vector<Held> resolved_;          // to be sent as resolved
  bool changed_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace flexwatch
