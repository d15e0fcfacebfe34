// The Kafka source: a librdkafka consumer in a consumer group whose every partition's next offset
// is kept in the state, in the same WriteBatch as the state it produced. On assignment each
// partition starts from the offset the state holds, never the broker's committed one; offsets
// are committed to Kafka too after each local commit, for lag tools only. Each message goes
// through the same decoder and state writer as a file line (`replay`).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "flexwatch/ingest/replay.h"

namespace flexwatch {

struct KafkaOptions {
  // Bootstrap servers; empty: the embedded broker (librdkafka's mock cluster, in process).
  std::string brokers;
  std::vector<std::string> topics = {"flexwatch.events"};
  // Rejected messages go here (with the Kafka Connect error headers), and alerts there.
  std::string dead_letter_topic = "flexwatch.dead-letter";
  std::string alerts_topic = "flexwatch.alerts";
  // The seals of the instance of the group that seals months (AlertOptions::seal_topic), read
  // back by the others (empty: none sent; each instance seals on its own). Compacted.
  std::string seals_topic = "flexwatch.seals";
  std::string group = "flexwatch";
  // This instance's name in the group (group.instance.id, KIP-345), or empty. Named, a member
  // restarted within the session timeout takes its partitions back at once, without a
  // rebalance; two running instances may not share a name (the broker fences the older one).
  std::string instance_id;
  // Passed to librdkafka as they are (security.protocol, ssl.*, sasl.*, ...).
  std::map<std::string, std::string> client;
  // Partitions of each topic the embedded broker creates.
  int embedded_partitions = 4;
  // A commit is made at least this often while messages arrive: it bounds how much a crash
  // redoes and how stale the offsets lag tools see are.
  int commit_interval_ms = 500;
  // How often `run` re-evaluates the open months while data arrives (provisional levels).
  int evaluate_interval_ms = 500;
  // A quiet month still closes: once no message has arrived for this long (and the brokers are
  // reachable), months whose grace has passed in wall-clock time are final. Long enough that a
  // pause in a backfill does not close months whose data is still to come.
  int quiet_close_seconds = 600;
  // Months close in event time on the smallest of the partitions' own watermarks, over every
  // partition of the subscribed topics (the broker's metadata says how many); a partition read
  // to its end that has stayed quiet this long holds no one back (rules.md section 4).
  int partition_idle_seconds = 60;
  // A partition this state never read whose beginning is no longer on the broker (retention,
  // the embedded broker's trimming) is not read (false: its platforms would be judged on part
  // of their history) or read from what is left (true: an operator's explicit choice).
  bool accept_trimmed_history = false;
};

// What a commit did and where the consumer stands, for the monitor's metrics.
struct ConsumerReport {
  int64_t messages = 0;       // in the commit just made (0: a report between commits)
  double commit_seconds = 0;  // its atomic write to the state
  // Since the consumer started, per topic: events applied or duplicate by type ("applied",
  // "duplicate", reason empty), and rejected by reason code (type "unknown": a rejected line's
  // type is not trusted).
  struct Outcome {
    std::string topic, type, outcome, reason;
    int64_t count = 0;
  };
  std::vector<Outcome> outcomes;
  // Each assigned partition: the broker's last known high watermark less the next offset to
  // read (messages not yet in the state).
  struct Lag {
    std::string topic;
    int32_t partition = 0;
    int64_t messages = 0;
    // The largest event time the partition has delivered so far (INT64_MIN: none yet).
    int64_t event_time = INT64_MIN;
  };
  std::vector<Lag> lags;
};

// Which platforms this instance judges (cli.md 1.1, "Several monitors, one city"). Every
// instance reads every partition of the event topics into its state, so that each state holds
// the whole city; the group's assignment says which platforms each one alerts for and publishes:
// a platform belongs to the owner of its own topic T.<platform_id> when there is one, and
// otherwise to the owner of the partition of T its id hashes to (murmur2, events.md 1.1). Kept up
// to date by the consumer on its thread; read there too (the periodic work).
struct Ownership {
  // False until the group has assigned partitions and the alerts and announcements the others
  // sent before that have been read (a platform taken over is not alerted again for what its
  // previous owner said), and again during a rebalance: then nothing is owned.
  bool settled = false;
  std::vector<std::string> shared;                     // kafka.topics
  std::map<std::string, int32_t> partitions;           // a shared topic's partition count
  std::set<std::pair<std::string, int32_t>> assigned;  // by the group
  std::set<std::string> own_topics;                    // the platforms' own topics that exist
  // The event time this instance has itself read every partition to in this run (its own
  // closing candidate, not one taken from another instance's alerts; none yet).
  std::optional<int64_t> read_to;

  bool Owns(std::string_view platform) const;
  // The instance that publishes the city's announcements: the owner of partition 0 of the first
  // events topic (one at a time, whatever the number of instances).
  bool publisher() const;
  // The partitions assigned, as "topic/partition", in order.
  std::vector<std::string> Assigned() const;
  // As kept in the state (meta_keys::kJudging), one line each: "shared <topic> <partitions>",
  // "own <topic>", "assigned <topic> <partition>"; Decode gives it back settled (none: not
  // that).
  std::string Encode() const;
  static std::optional<Ownership> Decode(std::string_view text);
};

struct ConsumeControl {
  // Stop cleanly after this many seconds without a new message (0: never), and nothing left to
  // read (for up to a minute: a partition whose leader was lost is quiet and behind).
  double idle_exit_seconds = 0;
  // Set from a signal handler: commit, leave the group and return.
  const std::atomic<bool>* stop = nullptr;
  // Called after each commit with the run's counts so far (optional).
  std::function<void(const IngestCounts&)> on_commit;
  // Called when the consumer stops being ready (every broker is unreachable: it waits, and
  // loses nothing) with librdkafka's reason, and when it is ready again (optional).
  std::function<void(bool ready, const std::string& why)> on_ready;
  // Called when the group consumer, named (KafkaOptions::instance_id), was fenced by the broker
  // and joins again under its name, with librdkafka's reason (optional). A static member whose
  // group coordinator was lost (a broker down) is fenced by its own name when it comes back;
  // fenced a third time within five minutes, another running instance has the same name, and
  // the consumer fails.
  std::function<void(const std::string& why)> on_fenced;
  // librdkafka's own log lines, with their syslog level (3 error, 4 warning, 5-6 notice and
  // info, 7 debug; `log_level` in kafka.client sets which come), "client: facility: text";
  // called on librdkafka's threads (optional: without it they go to stderr as librdkafka prints
  // them).
  std::function<void(int level, const std::string& line)> on_kafka_log;
  // Called when the group assigns partitions, with each one's starting offset from the state
  // (-2: the beginning, none stored yet) (optional).
  std::function<void(const std::vector<std::pair<std::string, int32_t>>& partitions,
                     const std::vector<int64_t>& offsets)>
      on_assign;
  // Called when partitions taken over from another instance were behind in the state (it had
  // read less of them than the group had committed) and the state has read them up to there,
  // before their platforms are judged here; or, with `caught` false, when it has not within
  // kCatchUpSeconds and judges them with what it holds (optional). With how many partitions and
  // the seconds it took.
  std::function<void(bool caught, int partitions, double seconds)> on_catch_up;
  static constexpr int kCatchUpSeconds = 60;
  // Called while the cluster answers and no partition is assigned, 5 s after the start (or after
  // the group took this instance's partitions back for a rebalance: `rebalancing`) and then at
  // 10, 20, 40 s..., with the seconds waited (optional): a member that stopped without leaving
  // the group holds its partitions until its session expires. `mock_session_ms`: the brokers
  // are librdkafka's mock cluster (the embedded broker), which keeps no static members, and the
  // session there (0: a real cluster, where a member restarted under its name is let in at once).
  std::function<void(double seconds, bool rebalancing, int mock_session_ms)> on_join_wait;
  // Called when the group takes this instance's partitions back for a rebalance, with how many
  // (optional): until it assigns them again, nothing is read or judged here.
  std::function<void(int partitions)> on_revoke;
  // Called with the first batch of messages after each assignment, before it is applied
  // (optional): how long an assignment took to deliver.
  std::function<void()> on_first_batch;
  // Called when a partition the state holds no offset for starts above offset 0: the messages
  // before `first_offset` are no longer on the broker (retention, or the embedded broker's
  // trimming) and, unless another state read them, the monitor never sees them. `held`: the
  // partition is not read (KafkaOptions::accept_trimmed_history false) (optional).
  std::function<void(const std::string& topic, int32_t partition, int64_t first_offset, bool held)>
      on_start_gap;
  // Called on the consumer's thread every `interval_ms` while it runs, between commits, and once
  // more before it returns (optional): the place for work that writes the state too, such as
  // evaluating open months and writing alerts to the outbox. Its argument is how long the topics
  // have been quiet: seconds since the last message or broker error (0 before an assignment).
  // A failure stops the consumer.
  std::function<Status(double quiet_seconds)> periodic;
  // Called after each commit, and with the lags alone before each `periodic` (optional).
  std::function<void(const ConsumerReport&)> on_report;
  int periodic_interval_ms = 5000;
  // Kept up to date with the group's assignment (optional).
  Ownership* ownership = nullptr;
  // The publication notices' topic, read back with the alerts (empty: not read): a month another
  // instance published is no longer due here.
  std::string announcements_topic;
  // Called after the last round (optional): whether the state holds a month judged final here
  // and not yet sealed by the instance of the group that seals (AlertOptions::seals). Then the
  // consumer reads the topics read back for up to kSealWaitSeconds more, until the seal is
  // adopted, and runs the last round again; `on_seal_wait` (optional) says how that went.
  std::function<bool()> awaiting_seal;
  std::function<void(bool adopted, double seconds)> on_seal_wait;
  static constexpr int kSealWaitSeconds = 15;
};

// The next offset of each partition the state holds (events, and the topics read back), by
// (topic, partition).
std::map<std::pair<std::string, int>, int64_t> StoredOffsets(Store& store);

// The librdkafka this build runs on, e.g. "librdkafka 2.8.0" (flexwatch --version).
std::string KafkaLibraryVersion();

// Consumes until stopped, idle or failing. Fails on a state error, a fatal consumer error, or a
// stored offset the broker no longer has (an explicit error naming topic, partition and offset,
// never a silent jump).
Result<IngestCounts> ConsumeKafka(Store& store, const KafkaOptions& kafka,
                                  const ReplayOptions& options, const ConsumeControl& control);

// librdkafka's mock cluster, in this process: a broker for a first run, demos and fast tests. It
// keeps only the newest ~5 MB of each partition, so it is never the only Kafka a behaviour is
// tested on.
class EmbeddedBroker {
 public:
  static Result<std::unique_ptr<EmbeddedBroker>> Start(const std::vector<std::string>& topics,
                                                       int partitions, int brokers = 1);
  ~EmbeddedBroker();
  const std::string& bootstrap() const { return bootstrap_; }
  // Takes broker `id` (1-based) down or up again, as a failure test does.
  Status SetDown(int id, bool down);

 private:
  EmbeddedBroker() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bootstrap_;
};

// Produces NDJSON lines to `topic`, each keyed by its platform_id and placed as the Java client
// places keys (murmur2), as events.md 1.1 asks; a line without one (not JSON, say) goes unkeyed,
// so that invalid lines go too. Waits until every one is acknowledged.
// `pace` (optional) is called before each message with the number produced so far, and may
// block: the embedded broker keeps only ~5 MB per partition, so a producer feeding it waits for
// the consumer.
Status ProduceLines(const std::string& brokers, const std::map<std::string, std::string>& client,
                    const std::string& topic, const std::vector<std::string>& lines,
                    const std::function<void(int64_t produced)>& pace = {});

}  // namespace flexwatch
