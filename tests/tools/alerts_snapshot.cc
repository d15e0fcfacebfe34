// alerts_snapshot STATE [CONFIG]: the alerts one round of the monitor writes for a replayed state
// (every month not yet final, provisional levels and early warnings), then the alerts of the round
// that closes them all, one JSON line each, in outbox order. A state and a configuration give the
// same lines, byte for byte: scripts/behaviour-snapshot.sh keeps them beside the announcements.
#include <iostream>

#include "flexwatch/alerts/alerts.h"
#include "flexwatch/settings/config.h"

int main(int argc, char** argv) {
  using namespace flexwatch;
  if (argc < 2) {
    std::cerr << "usage: alerts_snapshot STATE [CONFIG]\n";
    return 2;
  }
  auto cfg = argc > 2 ? LoadConfig(argv[2]) : ShippedConfig();
  if (!cfg.ok()) {
    std::cerr << cfg.status().ToString() << "\n";
    return 2;
  }
  auto rules = cfg->Rules();
  auto store = Store::Open(argv[1], cfg->store);
  if (!rules.ok() || !store.ok()) {
    std::cerr << (rules.ok() ? store.status() : rules.status()).ToString() << "\n";
    return 2;
  }
  // A provisional round, then one in which the wall clock says every month has closed.
  for (std::optional<TimestampMs> quiet_now :
       {std::optional<TimestampMs>(), std::optional<TimestampMs>(4102444800000LL)}) {
    auto alerts =
        EvaluateAndAlert(**store, **rules, cfg->detectors,
                         AlertOptions{.topic = cfg->kafka.alerts_topic, .quiet_now = quiet_now});
    if (!alerts.ok()) {
      std::cerr << alerts.status().ToString() << "\n";
      return 2;
    }
    for (const Alert& a : *alerts) std::cout << a.json << "\n";
  }
  return 0;
}
