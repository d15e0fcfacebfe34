#include <librdkafka/rdkafka.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "flexwatch/core/json.h"
#include "flexwatch/core/registry.h"
#include "flexwatch/core/time.h"
#include "flexwatch/ingest/kafka.h"
#include "flexwatch/state/meta_keys.h"
#include "flexwatch/state/records.h"
#include "flexwatch/state/writer.h"
#include "kafka_settings.h"

namespace flexwatch {

using namespace kafka_detail;

namespace {

using Clock = std::chrono::steady_clock;

std::string SourceOf(std::string_view topic, int32_t partition) {
  return "kafka:" + std::string(topic) + ":" + std::to_string(partition);
}

std::string KafkaDeadLetterJson(const Rejection& rej, std::string_view topic, int32_t partition,
                                int64_t offset, std::string_view raw) {
  JsonWriter position;
  position.BeginObject(JsonWriter::kCompact).Key("topic").String(topic);
  position.Key("partition").Int(partition).Key("offset").Int(offset).EndObject();
  return DeadLetterJsonAt(rej, SourceOf(topic, partition), position.str(), raw, false);
}

// A platform's own topic of shared topic `shared`: "<shared>.<platform_id>" (events.md 1.1); the
// platform id, or empty.
std::string_view OwnTopicPlatform(std::string_view shared, std::string_view topic) {
  if (topic.size() <= shared.size() + 1 || !topic.starts_with(shared) ||
      topic[shared.size()] != '.')
    return {};
  return topic.substr(shared.size() + 1);
}

// Whether `topic` is one the consumer subscribes to: a shared topic of kafka.topics, or a
// platform's own topic of one.
bool Subscribed(const std::vector<std::string>& shared, std::string_view topic) {
  for (const std::string& t : shared)
    if (topic == t || !OwnTopicPlatform(t, topic).empty()) return true;
  return false;
}

// The subscription pattern (librdkafka: a name starting with ^ is a regular expression) of the
// platforms' own topics of shared topic `shared`.
std::string OwnTopicsPattern(std::string_view shared) {
  std::string out = "^";
  for (char c : shared) {
    if (!std::isalnum(static_cast<unsigned char>(c))) out += '\\';
    out += c;
  }
  return out + "\\..+$";
}

// librdkafka's log lines of a client whose opaque is a Consumer (Consumer::OnLog).
void ConsumerLog(const rd_kafka_t* rk, int level, const char* facility, const char* line);

// A librdkafka client of `type` with `settings`, `opaque`, and the callbacks `callbacks` puts on
// its configuration; `what` names it in an error.
Result<rd_kafka_t*> NewClient(rd_kafka_type_t type,
                              const std::map<std::string, std::string>& settings, void* opaque,
                              std::string_view what,
                              const std::function<void(rd_kafka_conf_t*)>& callbacks) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (Status s = SetAll(conf, settings); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  callbacks(conf);
  rd_kafka_conf_set_log_cb(conf, &ConsumerLog);
  rd_kafka_conf_set_opaque(conf, opaque);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);  // not taken on failure
    return Status::InvalidArgument("kafka " + std::string(what) + ": " + err);
  }
  return rk;
}

}  // namespace

std::string KafkaLibraryVersion() { return std::string("librdkafka ") + rd_kafka_version_str(); }

bool Ownership::Owns(std::string_view platform) const {
  if (!settled) return false;
  for (const std::string& t : shared) {
    std::string own = t;
    own.append(".").append(platform);
    if (own_topics.count(own)) return assigned.count({own, 0}) > 0;
  }
  for (const std::string& t : shared) {
    auto n = partitions.find(t);
    if (n == partitions.end() || n->second <= 0) continue;
    const int32_t p = rd_kafka_msg_partitioner_murmur2(nullptr, platform.data(), platform.size(),
                                                       n->second, nullptr, nullptr);
    return assigned.count({t, p}) > 0;
  }
  return false;
}

bool Ownership::publisher() const {
  return settled && !shared.empty() && assigned.count({shared.front(), 0}) > 0;
}

std::string Ownership::Encode() const {
  std::string out;
  for (const std::string& t : shared)
    out += "shared " + t + " " + std::to_string(partitions.count(t) ? partitions.at(t) : 0) + "\n";
  for (const std::string& t : own_topics) out += "own " + t + "\n";
  for (const auto& [topic, partition] : assigned)
    out += "assigned " + topic + " " + std::to_string(partition) + "\n";
  return out;
}

std::optional<Ownership> Ownership::Decode(std::string_view text) {
  Ownership o;
  o.settled = true;
  auto number = [](std::string_view s, int32_t& n) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    return ec == std::errc() && end == s.data() + s.size();
  };
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    const size_t a = line.find(' '), b = line.find(' ', a + 1);
    if (a == std::string_view::npos) return std::nullopt;
    const std::string_view kind = line.substr(0, a);
    const std::string topic(line.substr(a + 1, b == std::string_view::npos ? b : b - a - 1));
    int32_t n = 0;
    if (kind == "own" && b == std::string_view::npos)
      o.own_topics.insert(topic);
    else if (kind == "shared" && b != std::string_view::npos && number(line.substr(b + 1), n))
      o.shared.push_back(topic), o.partitions[topic] = n;
    else if (kind == "assigned" && b != std::string_view::npos && number(line.substr(b + 1), n))
      o.assigned.insert({topic, n});
    else
      return std::nullopt;
  }
  return o;
}

std::vector<std::string> Ownership::Assigned() const {
  std::vector<std::string> out;
  for (const auto& [topic, partition] : assigned)
    out.push_back(topic + "/" + std::to_string(partition));
  return out;
}

namespace {

// What the cluster says of the subscribed topics: their partitions, and the high watermarks of
// those not assigned here. Asked every few seconds on a thread of its own, through the outbox
// producer's connections: a request on the consumer's own connection to a broker waits behind
// the fetch in flight there, up to fetch.wait.max.ms (half a second) once the consumer has
// caught up, and the consumer's thread would wait with it.
class ClusterWatch {
 public:
  using TopicPartition = std::pair<std::string, int32_t>;
  struct View {
    uint64_t generation = 0;
    Clock::time_point at;                    // when it was asked
    std::vector<TopicPartition> partitions;  // every partition of the subscribed topics
    std::map<TopicPartition, int64_t> high;  // those not assigned here that answered
  };
  ClusterWatch(rd_kafka_t* rk, const std::vector<std::string>& topics, Clock::duration every)
      : rk_(rk), topics_(topics), every_(every) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~ClusterWatch() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void SetAssigned(std::set<TopicPartition> assigned) {
    std::lock_guard lock(mu_);
    assigned_ = std::move(assigned);
  }
  // The latest view, if newer than `generation`.
  std::optional<View> Newer(uint64_t generation) {
    std::lock_guard lock(mu_);
    if (!latest_ || latest_->generation <= generation) return std::nullopt;
    return latest_;
  }
  // Asks at once, on the caller's thread (none: the cluster did not answer).
  std::optional<View> AskNow() {
    std::optional<View> v = Ask();
    if (v) Publish(*v);
    return v;
  }

 private:
  std::optional<View> Ask() {
    View v;
    v.at = Clock::now();
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk_, /*all_topics=*/1, nullptr, &md, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      return std::nullopt;
    for (int t = 0; t < md->topic_cnt; ++t) {
      const rd_kafka_metadata_topic_t& topic = md->topics[t];
      if (topic.err || !Subscribed(topics_, topic.topic)) continue;
      for (int p = 0; p < topic.partition_cnt; ++p)
        v.partitions.emplace_back(topic.topic, topic.partitions[p].id);
    }
    rd_kafka_metadata_destroy(md);
    std::set<TopicPartition> assigned;
    {
      std::lock_guard lock(mu_);
      assigned = assigned_;
    }
    for (const TopicPartition& tp : v.partitions) {
      if (assigned.count(tp)) continue;  // its high watermark comes with the fetches
      if (Stopping()) break;
      int64_t low = -1, high = -1;
      if (rd_kafka_query_watermark_offsets(rk_, tp.first.c_str(), tp.second, &low, &high, 1000) ==
          RD_KAFKA_RESP_ERR_NO_ERROR)
        v.high[tp] = high;
    }
    return v;
  }
  void Publish(View& v) {
    std::lock_guard lock(mu_);
    v.generation = ++generation_;
    latest_ = v;
  }
  bool Stopping() {
    std::lock_guard lock(mu_);
    return stop_;
  }
  void Loop() {
    for (;;) {
      if (std::optional<View> v = Ask()) Publish(*v);
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, every_, [&] { return stop_; })) return;
    }
  }

  rd_kafka_t* rk_;
  const std::vector<std::string> topics_;  // the shared topics (kafka.topics)
  const Clock::duration every_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::set<TopicPartition> assigned_;
  uint64_t generation_ = 0;
  std::optional<View> latest_;
  std::thread thread_;
};

// One consumer and its pending state. The rebalance, error and delivery callbacks and the read
// loop run on the same thread (the callbacks are served from inside the batch read and polls).
class Consumer {
 public:
  Consumer(Store& store, const KafkaOptions& kafka, const ReplayOptions& options,
           const ConsumeControl& control)
      : store_(store),
        kafka_(kafka),
        options_(options),
        control_(control),
        decoder_(options.decoder),
        writer_(&store) {
    // Evaluation rounds read the open month's worker-months after every commit or few: written
    // whole, they carry no merge operands (one per commit since the last flush) to fold.
    writer_.WriteAggregatesWhole(true);
  }
  ~Consumer() {
    watch_.reset();  // it asks through the producer
    if (queue_) rd_kafka_queue_destroy(queue_);
    for (rd_kafka_topic_t* t : topics_) rd_kafka_topic_destroy(t);
    if (rk_) rd_kafka_destroy_flags(rk_, destroy_flags_);
    if (replica_) rd_kafka_destroy_flags(replica_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    if (producer_) {
      // What is not delivered stays in the outbox for the next run: nothing to wait for.
      rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_destroy(producer_);
    }
  }

  Result<IngestCounts> Run();

 private:
  // Makes the group consumer (rk_) with settings_, subscribes it, and takes its queue (queue_).
  Status Join();
  // The group consumer was fenced by its own name (group.instance.id): as on a revocation, what
  // was read is committed and what is owed sent, and a new consumer joins under the same name.
  // The broker fences a static member whose coordinator moved (a broker lost) as it fences an
  // older instance that a newer one of the same name replaced; told apart by how often it
  // happens (kMaxFences within kFenceWindow: two running instances share a name, an error).
  Status Rejoin();
  static constexpr int kMaxFences = 3;
  // How long what is owed is delivered for when partitions are handed over (revoked, fenced).
  static constexpr int kHandOverMs = 30000;
  static constexpr auto kFenceWindow = std::chrono::minutes(5);
  std::vector<Clock::time_point> fenced_;  // when the group consumer was fenced, in the window
  bool rejoin_ = false;                    // fenced: Rejoin at the top of the loop
  std::map<std::string, std::string> settings_;  // the group consumer's
  rd_kafka_queue_t* queue_ = nullptr;            // its messages and rebalances
  friend void ConsumerLog(const rd_kafka_t*, int, const char*, const char*);
  // librdkafka's own log lines (any of its threads): through ConsumeControl::on_kafka_log, else
  // as librdkafka prints them.
  static void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
    auto* self = static_cast<Consumer*>(rd_kafka_opaque(rk));
    if (self && self->control_.on_kafka_log)
      self->control_.on_kafka_log(level,
                                  std::string(rd_kafka_name(rk)) + ": " + facility + ": " + line);
    else
      std::fprintf(stderr, "%%%d|%s|%s: %s\n", level, facility, rd_kafka_name(rk), line);
  }
  // A broker unreachable is not a quiet topic: idleness restarts from the last such error.
  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    self->last_broker_error_ = Clock::now();
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        err == RD_KAFKA_RESP_ERR__RESOLVE)
      self->broker_trouble_ = reason;
  }
  // Whether the cluster answers a metadata request within a second.
  bool ClusterAnswers();
  // Reports readiness changes: not ready when, after a broker error, the cluster does not
  // answer; ready again once a message arrives or it answers (tried every 2 s while not).
  void CheckReady(bool got_message);
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    static_cast<Consumer*>(opaque)->OnRebalance(rk, err, parts);
  }
  void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts);
  Status Commit();
  // Commits the partitions' next offsets to the broker (asynchronously).
  void CommitToBroker();
  // An offset commit the broker refused: the next one sends every partition again.
  static void OnOffsetCommit(rd_kafka_t*, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* offsets, void* opaque) {
    bool failed = err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET;
    for (int i = 0; offsets && i < offsets->cnt; ++i) failed = failed || offsets->elems[i].err;
    if (failed) static_cast<Consumer*>(opaque)->recommit_ = true;
  }
  bool recommit_ = false;
  // The report for control_.on_report: what the consumer has counted, and each partition's lag.
  void Report(int64_t messages, double commit_seconds);
  // Each event partition read here (by either handle) whose high watermark is known: how many
  // of its messages are not in the state yet.
  std::vector<ConsumerReport::Lag> Lags() const;
  // Whether the consumer has messages still to read: rejoining its group, a partition whose
  // high watermark is not known, or one read below it (not counting a partition held for its
  // trimmed history).
  bool Behind() const;
  // Each event partition read here (by either handle): its high watermark as last fetched (-1:
  // not known yet), the next offset to read, and whether it is held (trimmed history).
  void ForEachRead(const std::function<void(const std::pair<std::string, int32_t>& tp, int64_t high,
                                            int64_t next, bool held)>& fn) const;
  uint32_t TopicTag(const char* topic);
  // How the messages of a topic (by tag) must be placed (events.md 1.1, "Transport").
  struct Route {
    bool shared = false;     // a topic of kafka.topics: keyed by platform_id
    std::string platform;    // a platform's own topic: only its events
    int32_t partitions = 0;  // a shared topic's partition count (0: not known yet)
  };
  std::vector<Route> routes_;  // by topic tag
  // Whether `e`, read from `partition` of the topic tagged `tag`, is where its platform's events
  // belong; if not, why, in `rej` (misrouted, foreign_platform).
  bool Routed(uint32_t tag, int32_t partition, const Event& e, Rejection& rej);
  // A shared topic's partition count, asked of the cluster (through the producer's connections)
  // until it answers: a message cannot be judged placed right or wrong without it.
  int32_t PartitionCount(const std::string& topic);
  void Leave();
  // Seconds since the last message, assignment or broker error.
  double SinceActivity(Clock::time_point now) const {
    return std::chrono::duration<double>(now - std::max(last_activity_, last_broker_error_))
        .count();
  }
  double QuietSeconds(Clock::time_point now) const { return assigned_ ? SinceActivity(now) : 0; }
  void Handle(const rd_kafka_message_t& m);
  // Produces what the outbox holds and is not in flight yet, and forgets what the broker has
  // acknowledged, without waiting on the broker: delivery reports are served as the loop goes
  // (on this thread). `wait_ms` > 0 waits that long for what is in flight (on stopping).
  Status Deliver(int wait_ms = 0);
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<Consumer*>(opaque);
    const uint64_t seq = reinterpret_cast<uintptr_t>(m->_private);
    self->in_flight_.erase(seq);
    if (!m->err)
      self->acked_.insert(seq);
    else  // librdkafka gave up (message.timeout.ms): produced again from the outbox
      self->outbox_next_ = std::min(self->outbox_next_, seq);
  }

  Store& store_;
  const KafkaOptions& kafka_;
  const ReplayOptions& options_;
  const ConsumeControl& control_;
  Decoder decoder_;
  StateWriter writer_;
  Rejection rej_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::set<uint64_t> in_flight_;  // outbox entries produced, not yet acknowledged
  std::set<uint64_t> acked_;      // acknowledged, to be deleted from the outbox
  uint64_t outbox_next_ = 0;      // the outbox is produced from here on
  IngestCounts total_;
  Status failure_ = Status::OK();
  bool assigned_ = false;                           // partitions were assigned at least once
  bool awaiting_first_batch_ = false;               // assigned, and no message read since
  Clock::time_point last_activity_ = Clock::now();  // last message or assignment
  Clock::time_point last_broker_error_{};
  std::optional<std::string> broker_trouble_;  // set by the error callback, taken by CheckReady
  bool ready_ = true;
  // Since when, and why, the cluster has not answered (while not ready_): with --idle-exit, not
  // waited on past kUnreachableSeconds (or the idle time, when longer).
  Clock::time_point unanswered_since_;
  std::string unanswered_why_;
  static constexpr double kUnreachableSeconds = 30;
  Clock::time_point last_ready_check_{};
  int destroy_flags_ = 0;
  // Each partition read so far, with the next offset of what the pending commit holds.
  struct Partition {
    std::string topic;
    int32_t partition;
    std::string source;  // its position's name in the state
    int64_t next = 0;
    bool pending = false;  // `next` moved since the last commit
    // Its history is gone from the broker and the state never read it: not read (paused) until
    // the next assignment (KafkaOptions::accept_trimmed_history).
    bool held = false;
    // Its own watermark: the largest event time it has delivered, committed with its offset.
    TimestampMs event_time = INT64_MIN;
  };
  Partition& PartitionOf(const char* topic, int32_t partition);
  // Applies a message of `handle` (rk_ or replica_), or records the failure it reports.
  void Process(rd_kafka_t* handle, rd_kafka_message_t* m, Clock::time_point now);
  std::vector<Partition> partitions_;
  std::vector<rd_kafka_topic_t*> topics_;  // the subscribed topics' handles (Run)
  std::vector<std::string> topic_tags_;    // a topic's tag: its place here
  std::map<std::pair<uint32_t, RejectCode>, int64_t> rejected_;       // by topic tag and reason
  std::map<std::pair<std::string, int32_t>, int64_t> assigned_from_;  // start of each assigned

  // --- several instances, one city (cli.md 1.1) ---
  // Every instance reads every partition into its state: what the group assigns (rk_) is what it
  // judges; the others, and the alerts and announcement notices the instances send, a second
  // consumer reads with no group (replica_).
  rd_kafka_t* replica_ = nullptr;
  std::map<std::pair<std::string, int32_t>, int64_t> replica_from_;  // start of each it reads
  bool replica_dirty_ = true;             // what it reads is to be worked out again
  std::set<std::string> control_topics_;  // alerts, announcement notices: read back
  std::string state_id_;                  // meta_keys::kStateId: this instance's sends
  std::set<std::string> alerts_read_;     // ids of the alerts read back (any sender's)
  // The state keys (a level alerted, a warning raised) of other senders' alerts read back, each
  // with the outbox's next sequence then: an alert of this state's for the same key queued before
  // is said already, or overtaken by a later owner's judgement (queued before a crash, say, and
  // the platform judged by another instance while this one was down). Not sent: the level read
  // back is this state's now, and its next round alerts from it what its own verdict changes.
  std::map<std::string, uint64_t, std::less<>> superseded_;
  std::set<std::string> adopted_;  // revision records of seals read back (their keys)
  uint64_t outbox_start_ = 0;      // the outbox's next sequence when this run started
  Ownership own_;                  // when the caller keeps none
  Ownership& ownership() { return control_.ownership ? *control_.ownership : own_; }
  bool in_group_ = false;  // the last rebalance assigned (possibly nothing)
  // Since when no partition is assigned (the start, or the last revocation), and the seconds of
  // waiting at which ConsumeControl::on_join_wait is called next.
  Clock::time_point unassigned_since_ = Clock::now();
  double join_notice_at_ = 5;
  // The brokers are librdkafka's mock cluster (the embedded broker), which keeps no static
  // members: the group consumer's session there, in ms (0: a real cluster).
  int mock_session_ms_ = 0;
  bool leaving_ = false;       // Leave() closes the group consumer: its revocation is no rebalance
  bool settle_asked_ = false;  // the control partitions' high watermarks are in settle_highs_
  std::map<std::pair<std::string, int32_t>, int64_t> settle_highs_;
  // The partitions the replica reads: every partition of the event topics not assigned here,
  // and the control topics'. Commits first, so that each starts where the state stands.
  void ReassignReplica();
  // Settles the ownership once the control topics are read up to where they stood after the
  // assignment.
  void Settle();
  // The partitions just assigned: the dead letters held for them from offsets the group had not
  // committed (the previous owner had not produced them) go to the outbox, the rest are dropped.
  // With the group's committed offset of each (-1: not known: every held one goes).
  std::map<std::pair<std::string, int32_t>, int64_t> takeover_;
  void ReleaseHeld();
  // The partitions just assigned that the state had read less of than the group committed (their
  // previous owner read further, and alerted on what it read): up to where the state reads them
  // before their platforms are judged here, so that a new owner does not alert a verdict on less
  // than its predecessor's as a change (ConsumeControl::on_catch_up).
  std::map<std::pair<std::string, int32_t>, int64_t> catch_up_;
  Clock::time_point catch_up_from_;
  int catch_up_count_ = 0;
  bool CaughtUp();
  // An alert or announcement notice read back: what another instance sent is remembered here
  // (the levels it alerted, the months it published), so that nothing is sent twice.
  void HandleControl(const rd_kafka_message_t& m, Partition& part);
  // The handle reading a partition here, and where it started (none: not read here).
  std::optional<std::pair<rd_kafka_t*, int64_t>> Reading(
      const std::pair<std::string, int32_t>& tp) const {
    if (auto a = assigned_from_.find(tp); a != assigned_from_.end())
      return std::make_pair(rk_, a->second);
    if (auto r = replica_from_.find(tp); r != replica_from_.end())
      return std::make_pair(replica_, r->second);
    return std::nullopt;
  }

  // --- the closing watermark (rules.md section 4) ---
  // Every partition of the subscribed topics, assigned here or not, as last seen.
  struct Watched {
    int64_t high = -1;  // the broker's high watermark (-1: not known)
    Clock::time_point high_since{};
    int64_t stored_next = 0;  // the next offset the state holds (unassigned partitions)
    std::optional<TimestampMs> event_time;  // its watermark in the state
  };
  std::map<std::pair<std::string, int32_t>, Watched> watched_;
  bool metadata_known_ = false;
  std::unique_ptr<ClusterWatch> watch_;  // made once the producer is
  uint64_t view_generation_ = 0;         // the watch's view last taken
  bool refresh_at_once_ = false;         // the next commit asks the cluster itself
  TimestampMs closing_ = INT64_MIN;      // the closing watermark the state holds
  // Stopping after --idle-exit: the topics were judged quiet, so a partition read to its end
  // holds no one back, however short the idle time was (a batch job ends as a replay does).
  bool drained_ = false;
  // What the cluster watch has seen since last time (or, refresh_at_once_, what the cluster says
  // now): the partitions of the subscribed topics, and for those not assigned here their high
  // watermark and what the state holds of them.
  void RefreshWatched();
  // The smallest watermark over every partition that is not read to its end and quiet (none:
  // one such partition has delivered nothing yet, or the partitions are not known yet); the
  // largest when all of them are.
  std::optional<TimestampMs> ClosingCandidate(Clock::time_point now);
};

void Consumer::RefreshWatched() {
  if (!watch_) return;
  std::optional<ClusterWatch::View> view =
      refresh_at_once_ ? watch_->AskNow() : watch_->Newer(view_generation_);
  refresh_at_once_ = false;
  if (!view) return;
  view_generation_ = view->generation;
  std::map<std::string, int32_t> partitions;  // of each topic
  for (const auto& tp : view->partitions) {
    if (watched_.try_emplace(tp).second) replica_dirty_ = true;  // a partition to read
    ++partitions[tp.first];
  }
  Ownership& own = ownership();
  own.shared = kafka_.topics;
  for (const auto& [topic, n] : partitions) {
    if (std::find(kafka_.topics.begin(), kafka_.topics.end(), topic) != kafka_.topics.end())
      own.partitions[topic] = n;
    else
      own.own_topics.insert(topic);
  }
  for (size_t tag = 0; tag < routes_.size(); ++tag)
    if (auto n = partitions.find(topic_tags_[tag]); n != partitions.end() && routes_[tag].shared)
      routes_[tag].partitions = n->second;
  const auto offsets = StoredOffsets(store_);
  const auto watermarks = store_.SourceWatermarks();
  for (auto& [tp, w] : watched_) {
    auto o = offsets.find({tp.first, tp.second});
    w.stored_next = o != offsets.end() ? o->second : 0;
    auto e = watermarks.find(SourceOf(tp.first, tp.second));
    if (e != watermarks.end()) w.event_time = e->second;
    if (Reading(tp)) continue;  // its high watermark comes with the fetches
    auto high = view->high.find(tp);
    if (high != view->high.end() && high->second != w.high) {
      w.high = high->second;
      w.high_since = view->at;
    }
  }
  metadata_known_ = !watched_.empty();
}

std::optional<TimestampMs> Consumer::ClosingCandidate(Clock::time_point now) {
  if (!metadata_known_) return std::nullopt;
  const auto idle = drained_ ? Clock::duration{0}
                             : Clock::duration{std::chrono::seconds(kafka_.partition_idle_seconds)};
  std::optional<TimestampMs> lowest, highest;
  bool held = false;
  for (auto& [tp, w] : watched_) {
    std::optional<TimestampMs> event_time = w.event_time;
    int64_t next = w.stored_next;
    if (auto from = Reading(tp)) {
      int64_t low = -1, high = -1;
      if (rd_kafka_get_watermark_offsets(from->first, tp.first.c_str(), tp.second, &low, &high) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0 && high != w.high) {
        w.high = high;
        w.high_since = now;
      }
      next = from->second >= 0 ? from->second : std::max<int64_t>(0, low);
      for (const Partition& p : partitions_)
        if (p.partition == tp.second && p.topic == tp.first) {
          if (p.next > 0) next = p.next;
          if (p.event_time != INT64_MIN)
            event_time = std::max(event_time.value_or(INT64_MIN), p.event_time);
        }
    }
    if (event_time) highest = std::max(highest.value_or(INT64_MIN), *event_time);
    const bool quiet_at_end = w.high >= 0 && next >= w.high && now - w.high_since >= idle;
    if (quiet_at_end) continue;
    if (!event_time) {
      held = true;
      continue;
    }
    lowest = std::min(lowest.value_or(INT64_MAX), *event_time);
  }
  if (held) return std::nullopt;
  return lowest ? lowest : highest;
}

Consumer::Partition& Consumer::PartitionOf(const char* topic, int32_t partition) {
  for (Partition& p : partitions_)
    if (p.partition == partition && p.topic == topic) return p;
  partitions_.push_back({topic, partition, SourceOf(topic, partition)});
  Partition& p = partitions_.back();
  if (auto w = watched_.find({p.topic, partition}); w != watched_.end() && w->second.event_time)
    p.event_time = *w->second.event_time;
  else if (auto stored = store_.SourceWatermarks(); stored.count(p.source))
    p.event_time = stored.at(p.source);
  return p;
}

bool Consumer::ClusterAnswers() {
  last_ready_check_ = Clock::now();
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk_, 0, nullptr, &md, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  const bool answers = md->broker_cnt > 0;
  rd_kafka_metadata_destroy(md);
  return answers;
}

void Consumer::CheckReady(bool got_message) {
  const auto since_check = Clock::now() - last_ready_check_;
  if (ready_) {
    if (!broker_trouble_ || since_check < std::chrono::seconds(2)) return;
    const std::string why = *broker_trouble_;
    broker_trouble_.reset();
    if (ClusterAnswers()) return;
    ready_ = false;
    unanswered_since_ = Clock::now();
    unanswered_why_ = why;
    if (control_.on_ready) control_.on_ready(false, why);
    return;
  }
  broker_trouble_.reset();
  if (!got_message && (since_check < std::chrono::seconds(2) || !ClusterAnswers())) return;
  ready_ = true;
  if (control_.on_ready) control_.on_ready(true, "");
}

void Consumer::OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts) {
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Every partition starts where the state says, whatever the broker has committed.
    auto stored = StoredOffsets(store_);
    assigned_from_.clear();
    for (int i = 0; i < parts->cnt; ++i) {
      rd_kafka_topic_partition_t& p = parts->elems[i];
      auto it = stored.find({p.topic, p.partition});
      p.offset = it != stored.end() ? it->second : RD_KAFKA_OFFSET_BEGINNING;
      assigned_from_[{p.topic, p.partition}] = p.offset;
    }
    for (Partition& p : partitions_) p.held = false;  // judged again on its first message
    Ownership& own = ownership();
    own.assigned.clear();
    for (const auto& [tp, from] : assigned_from_) own.assigned.insert(tp);
    own.settled = false;
    writer_.CountAfterSeal(kafka_.seals_topic.empty());  // until it settles (Run)
    in_group_ = true;
    settle_asked_ = false;
    // What the group committed before this assignment says how far its previous owner had gone
    // (asked before the offsets of this state are committed below).
    takeover_.clear();
    catch_up_.clear();
    rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(parts);
    const bool known = rd_kafka_committed(rk, committed, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < committed->cnt; ++i) {
      const rd_kafka_topic_partition_t& c = committed->elems[i];
      takeover_[{c.topic, c.partition}] = !known || c.err ? -1 : std::max<int64_t>(0, c.offset);
      const int64_t from = std::max<int64_t>(0, assigned_from_[{c.topic, c.partition}]);
      if (known && !c.err && c.offset > from) catch_up_[{c.topic, c.partition}] = c.offset;
    }
    catch_up_from_ = Clock::now();
    catch_up_count_ = static_cast<int>(catch_up_.size());
    rd_kafka_topic_partition_list_destroy(committed);
    replica_dirty_ = true;  // it reads what the group did not assign here, from the next turn
    rd_kafka_assign(rk, parts);
    // What the state holds is committed to the broker too, for lag tools: a partition with
    // nothing new to read would otherwise show what the group last committed, however old.
    rd_kafka_topic_partition_list_t* from_state = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; ++i)
      if (parts->elems[i].offset >= 0)
        rd_kafka_topic_partition_list_add(from_state, parts->elems[i].topic,
                                          parts->elems[i].partition)
            ->offset = parts->elems[i].offset;
    if (from_state->cnt > 0) rd_kafka_commit(rk, from_state, /*async=*/1);
    rd_kafka_topic_partition_list_destroy(from_state);
    awaiting_first_batch_ = true;
    if (control_.on_assign) {
      std::vector<std::pair<std::string, int32_t>> which;
      std::vector<int64_t> from;
      for (int i = 0; i < parts->cnt; ++i) {
        which.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
        from.push_back(parts->elems[i].offset);
      }
      control_.on_assign(which, from);
    }
    assigned_ = true;
    last_activity_ = Clock::now();  // joining a group takes seconds: idleness counts from here
  } else {
    // Revoked: what was read from these partitions is committed before another may read them,
    // and what this instance has to send for their platforms is sent (and acknowledged) before
    // another takes them over and reads the alerts back. The group waits for this (up to its
    // rebalance timeout, max.poll.interval.ms): long enough for a partition of the alerts topic
    // to get a new leader when its broker was lost, so that an alert in flight then is not
    // alerted again by the next owner.
    if (control_.on_revoke && !leaving_) control_.on_revoke(parts->cnt);
    if (Status s = Commit(); !s.ok() && failure_.ok()) failure_ = s;
    if (producer_ && failure_.ok())
      if (Status s = Deliver(kHandOverMs); !s.ok()) failure_ = s;
    rd_kafka_assign(rk, nullptr);
    unassigned_since_ = Clock::now();
    join_notice_at_ = 5;
    assigned_from_.clear();
    ownership().assigned.clear();
    ownership().settled = false;
    writer_.CountAfterSeal(kafka_.seals_topic.empty());
    in_group_ = false;
    replica_dirty_ = true;
    takeover_.clear();
    catch_up_.clear();
  }
}

void Consumer::ReleaseHeld() {
  if (takeover_.empty() || replica_dirty_) return;
  if (Status s = Commit(); !s.ok()) {  // what is staged held, in the state first
    if (failure_.ok()) failure_ = s;
    return;
  }
  Batch batch;
  std::vector<OutboxMessage> release;
  for (const auto& [tp, offset] : takeover_) {
    const int64_t committed = std::max<int64_t>(0, offset);
    const std::string prefix = meta_keys::HeldDeadLetterPrefix(SourceOf(tp.first, tp.second));
    for (const std::string& key : store_.MetaKeys(prefix)) {
      const int64_t at = std::stoll(key.substr(prefix.size()), nullptr, 16);
      OutboxMessage m;
      if (auto value = store_.GetMeta(key);
          at >= committed && value && OutboxMessage::Decode(*value, m))
        release.push_back(std::move(m));
      batch.Delete(key);
    }
  }
  takeover_.clear();
  if (batch.empty()) return;
  store_.PutOutbox(batch, release);
  if (Status s = store_.Write(batch); !s.ok() && failure_.ok()) failure_ = s;
}

void Consumer::ReassignReplica() {
  replica_dirty_ = false;
  if (!replica_) return;
  std::set<std::pair<std::string, int32_t>> want;
  // The events once the group has assigned this instance its share (before that, a lone
  // instance would read everything here and start judging only after its join).
  if (assigned_)
    for (const auto& [tp, w] : watched_)
      if (!assigned_from_.count(tp)) want.insert(tp);
  if (!control_topics_.empty()) {
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(producer_, /*all_topics=*/1, nullptr, &md, 2000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      replica_dirty_ = true;  // asked again next turn
      return;
    }
    for (int t = 0; t < md->topic_cnt; ++t)
      if (!md->topics[t].err && control_topics_.count(md->topics[t].topic))
        for (int p = 0; p < md->topics[t].partition_cnt; ++p)
          want.insert({md->topics[t].topic, md->topics[t].partitions[p].id});
    rd_kafka_metadata_destroy(md);
  }
  std::set<std::pair<std::string, int32_t>> have;
  for (const auto& [tp, from] : replica_from_) have.insert(tp);
  if (want != have) {
    if (Status s = Commit(); !s.ok()) {
      if (failure_.ok()) failure_ = s;
      return;
    }
    const auto stored = StoredOffsets(store_);
    replica_from_.clear();
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(want.size()));
    for (const auto& tp : want) {
      auto it = stored.find(tp);
      const int64_t from = it != stored.end() ? it->second : RD_KAFKA_OFFSET_BEGINNING;
      replica_from_[tp] = from;
      rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = from;
    }
    rd_kafka_assign(replica_, list);
    rd_kafka_topic_partition_list_destroy(list);
  }
  if (watch_) {
    std::set<ClusterWatch::TopicPartition> reading;
    for (const auto& [tp, from] : assigned_from_) reading.insert(tp);
    for (const auto& [tp, from] : replica_from_) reading.insert(tp);
    watch_->SetAssigned(std::move(reading));
  }
}

void Consumer::Settle() {
  Ownership& own = ownership();
  if (own.settled || !in_group_ || replica_dirty_) return;
  if (!settle_asked_) {
    settle_highs_.clear();
    for (const auto& [tp, from] : replica_from_) {
      if (!control_topics_.count(tp.first)) continue;
      int64_t low = -1, high = -1;
      if (rd_kafka_query_watermark_offsets(producer_, tp.first.c_str(), tp.second, &low, &high,
                                           2000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;  // asked again next turn
      settle_highs_[tp] = high;
    }
    settle_asked_ = true;
  }
  for (const auto& [tp, high] : settle_highs_) {
    int64_t next = std::max<int64_t>(0, replica_from_.count(tp) ? replica_from_.at(tp) : 0);
    for (const Partition& p : partitions_)
      if (p.partition == tp.second && p.topic == tp.first) next = std::max(next, p.next);
    if (next < high) return;
  }
  if (!CaughtUp()) return;
  own.settled = true;
  // The instance that seals counts the events arrived after its seals; the others take its
  // counts with its seals (none sent without the notices' topic: each seals on its own).
  writer_.CountAfterSeal(own.publisher() || kafka_.seals_topic.empty());
}

bool Consumer::CaughtUp() {
  if (catch_up_.empty()) return true;
  ForEachRead(
      [&](const std::pair<std::string, int32_t>& tp, int64_t high, int64_t next, bool held) {
        auto it = catch_up_.find(tp);
        // Read up to the committed offset, or to the end of what the partition holds (a committed
        // offset past a transaction's marker, or past messages retention removed), or not read.
        if (it != catch_up_.end() && (next >= it->second || held || (high >= 0 && next >= high)))
          catch_up_.erase(it);
      });
  const double seconds = std::chrono::duration<double>(Clock::now() - catch_up_from_).count();
  if (!catch_up_.empty() && seconds < ConsumeControl::kCatchUpSeconds) return false;
  if (control_.on_catch_up) control_.on_catch_up(catch_up_.empty(), catch_up_count_, seconds);
  catch_up_.clear();
  return true;
}

Status Consumer::Commit() {
  int pending = 0;
  for (const Partition& p : partitions_) pending += p.pending;
  const auto now = Clock::now();
  RefreshWatched();
  const std::optional<TimestampMs> closing = ClosingCandidate(now);
  const bool advances = closing && *closing > closing_;
  if (closing) ownership().read_to = std::max(ownership().read_to.value_or(INT64_MIN), *closing);
  if (writer_.staged() == 0 && pending == 0 && !advances) return Status::OK();
  // Each partition's next offset and own watermark in the batch of the state it produced, and
  // the closing watermark they make.
  for (const Partition& p : partitions_)
    if (p.pending && control_topics_.count(p.topic))
      writer_.PutMeta(meta_keys::ReadBack(p.source), "{\"offset\":" + std::to_string(p.next) + "}");
    else if (p.pending)
      writer_.SetPosition(p.source, "{\"offset\":" + std::to_string(p.next) +
                                        (p.event_time != INT64_MIN
                                             ? ",\"event_time\":" + std::to_string(p.event_time)
                                             : std::string()) +
                                        "}");
  if (advances) writer_.AdvanceClosingWatermark(*closing);
  const int64_t messages = static_cast<int64_t>(writer_.staged());
  const auto start = Clock::now();
  auto c = writer_.Commit();
  if (!c.ok()) return c.status();
  if (advances) closing_ = *closing;
  const double commit_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  total_.accepted += c->accepted;
  total_.duplicates += c->duplicates;
  total_.rewritten += c->rewritten;
  total_.rejected += c->rejected;
  if (pending > 0 || recommit_) CommitToBroker();
  for (Partition& p : partitions_) p.pending = false;
  if (control_.on_commit) control_.on_commit(total_);
  Report(messages, commit_seconds);
  return Status::OK();
}

void Consumer::CommitToBroker() {
  if (!rk_) return;
  // For lag tools only: the state is what resumes. After a commit the broker refused (a
  // rebalance under way, say), every partition read and still assigned goes again.
  const bool all = recommit_;
  recommit_ = false;
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size()));
  for (const Partition& p : partitions_)
    if (assigned_from_.count({p.topic, p.partition}) && (p.pending || (all && p.next > 0)))
      rd_kafka_topic_partition_list_add(list, p.topic.c_str(), p.partition)->offset = p.next;
  if (list->cnt > 0) rd_kafka_commit(rk_, list, /*async=*/1);
  rd_kafka_topic_partition_list_destroy(list);
}

uint32_t Consumer::TopicTag(const char* topic) {
  for (size_t i = 0; i < topic_tags_.size(); ++i)
    if (topic_tags_[i] == topic) return static_cast<uint32_t>(i);
  topic_tags_.emplace_back(topic);
  Route route;
  for (const std::string& t : kafka_.topics) {
    if (t == topic) route.shared = true;
    if (std::string_view own = OwnTopicPlatform(t, topic); !own.empty() && route.platform.empty())
      route.platform = own;
  }
  routes_.push_back(std::move(route));
  return static_cast<uint32_t>(topic_tags_.size() - 1);
}

int32_t Consumer::PartitionCount(const std::string& topic) {
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      if (control_.stop && control_.stop->load()) return 0;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer_, topic.c_str(), nullptr);
    if (!rkt) continue;
    const rd_kafka_metadata_t* md = nullptr;
    int32_t count = 0;
    if (rd_kafka_metadata(producer_, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int t = 0; t < md->topic_cnt; ++t)
        if (!md->topics[t].err && topic == md->topics[t].topic) count = md->topics[t].partition_cnt;
      rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    if (count > 0) return count;
  }
}

bool Consumer::Routed(uint32_t tag, int32_t partition, const Event& e, Rejection& rej) {
  Route& route = routes_[tag];
  const std::string& topic = topic_tags_[tag];
  if (!route.platform.empty() && !route.shared && e.platform_id != route.platform) {
    rej.code = RejectCode::kForeignPlatform;
    rej.field = "platform_id";
    rej.message = "field 'platform_id': '" + e.platform_id + "' on topic " + topic + ", which is " +
                  route.platform + "'s own: a platform's topic carries only its own events";
    return false;
  }
  if (!route.shared) return true;
  if (route.partitions <= 0) route.partitions = PartitionCount(topic);
  if (route.partitions <= 0) return true;  // stopping: the message is not applied anyway
  const int32_t want = rd_kafka_msg_partitioner_murmur2(
      nullptr, e.platform_id.data(), e.platform_id.size(), route.partitions, nullptr, nullptr);
  if (want == partition) return true;
  rej.code = RejectCode::kMisrouted;
  rej.field = "platform_id";
  rej.message = "field 'platform_id': '" + e.platform_id + "' belongs on partition " +
                std::to_string(want) + " of " + topic + ", not " + std::to_string(partition) +
                ": messages are keyed by platform_id (murmur2 over the topic's " +
                std::to_string(route.partitions) +
                " partitions; librdkafka producers set partitioner=murmur2_random)";
  return false;
}

void Consumer::Report(int64_t messages, double commit_seconds) {
  if (!control_.on_report) return;
  ConsumerReport r;
  r.messages = messages;
  r.commit_seconds = commit_seconds;
  for (uint32_t tag = 0; tag < topic_tags_.size(); ++tag)
    for (size_t t = 0; t < kEventTypeNames.size(); ++t)
      for (bool duplicate : {false, true})
        if (int64_t n = writer_.resolved(tag, static_cast<EventType>(t), duplicate))
          r.outcomes.push_back({topic_tags_[tag], std::string(kEventTypeNames[t]),
                                duplicate ? "duplicate" : "applied", "", n});
  for (const auto& [key, n] : rejected_)
    r.outcomes.push_back({topic_tags_[key.first], "unknown", "rejected",
                          std::string(RejectCodeName(key.second)), n});
  r.lags = Lags();
  control_.on_report(r);
}

void Consumer::ForEachRead(
    const std::function<void(const std::pair<std::string, int32_t>& tp, int64_t high, int64_t next,
                             bool held)>& fn) const {
  for (const auto* reading : {&assigned_from_, &replica_from_})
    for (const auto& [tp, from] : *reading) {
      if (control_topics_.count(tp.first)) continue;
      int64_t low = -1, high = -1;
      if (rd_kafka_get_watermark_offsets(reading == &assigned_from_ ? rk_ : replica_,
                                         tp.first.c_str(), tp.second, &low, &high))
        high = -1;
      int64_t next = from >= 0 ? from : low;
      bool held = false;
      for (const Partition& p : partitions_)
        if (p.partition == tp.second && p.topic == tp.first) {
          if (p.next > 0) next = p.next;
          held = p.held;
        }
      fn(tp, high, next, held);
    }
}

bool Consumer::Behind() const {
  if (!in_group_) return true;  // rejoining: what it will be assigned is not known yet
  bool behind = false;
  ForEachRead([&](const auto&, int64_t high, int64_t next, bool held) {
    // A high watermark not known yet: a partition just handed over, or its leader lost.
    behind = behind || high < 0 || (!held && next < high);
  });
  return behind;
}

std::vector<ConsumerReport::Lag> Consumer::Lags() const {
  std::vector<ConsumerReport::Lag> lags;
  // A held partition (its history gone from the broker; said when it was held) is not read: it
  // counts as read to its end, so that the others' catching up is still said.
  ForEachRead(
      [&](const std::pair<std::string, int32_t>& tp, int64_t high, int64_t next, bool held) {
        if (high >= 0)
          lags.push_back({tp.first, tp.second, held ? 0 : std::max<int64_t>(0, high - next)});
      });
  for (ConsumerReport::Lag& l : lags)
    for (const Partition& p : partitions_)
      if (p.partition == l.partition && p.topic == l.topic) l.event_time = p.event_time;
  return lags;
}

void Consumer::Handle(const rd_kafka_message_t& m) {
  const char* topic = rd_kafka_topic_name(m.rkt);
  Partition& part = PartitionOf(topic, m.partition);
  // Read by both consumers while a partition changes hands (the group's and the replica's):
  // applied once.
  if (part.next > 0 && m.offset < part.next) return;
  if (control_topics_.count(part.topic)) return HandleControl(m, part);
  const std::string_view raw(static_cast<const char*>(m.payload), m.len);
  if (part.held) return;  // nothing of it applied, its offset not moved
  if (m.offset > 0 && part.next == 0) {
    // The first message of a partition read from the beginning: is the beginning still there?
    auto from = Reading({part.topic, part.partition});
    if (from && from->second == RD_KAFKA_OFFSET_BEGINNING) {
      const bool hold = !kafka_.accept_trimmed_history;
      if (control_.on_start_gap) control_.on_start_gap(part.topic, part.partition, m.offset, hold);
      if (hold) {
        part.held = true;
        rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, m.partition);
        rd_kafka_pause_partitions(from->first, list);
        rd_kafka_topic_partition_list_destroy(list);
        return;
      }
    }
  }
  const uint32_t tag = TopicTag(topic);
  Event& event = writer_.NextEvent();
  // Decoded in place: no copy to add.
  if (decoder_.Decode(raw, event, rej_) && Routed(tag, m.partition, event, rej_)) {
    part.event_time = std::max(part.event_time, event.ts);
    if (Status s = writer_.AddNext(tag); !s.ok() && failure_.ok()) failure_ = s;
  } else {
    ++rejected_[{tag, rej_.code}];
    writer_.AddRejection(part.source, m.offset, raw,
                         KafkaDeadLetterJson(rej_, topic, m.partition, m.offset, raw));
    // To the dead-letter topic as it came, with the Kafka Connect error headers: by the
    // instance the partition is assigned to (held here otherwise, see ReleaseHeld).
    OutboxMessage dead;
    dead.topic = kafka_.dead_letter_topic;
    if (m.key) dead.key.assign(static_cast<const char*>(m.key), m.key_len);
    dead.payload.assign(raw);
    dead.headers = {{"__connect.errors.topic", topic},
                    {"__connect.errors.partition", std::to_string(m.partition)},
                    {"__connect.errors.offset", std::to_string(m.offset)},
                    {"__connect.errors.exception.message", rej_.message},
                    {"flexwatch.reason_code", std::string(RejectCodeName(rej_.code))}};
    if (!rej_.field.empty()) dead.headers.emplace_back("flexwatch.field", rej_.field);
    if (assigned_from_.count({part.topic, part.partition}))
      writer_.AddOutbox(std::move(dead));
    else
      writer_.PutMeta(meta_keys::HeldDeadLetter(part.source, m.offset), dead.Encode());
  }
  part.next = m.offset + 1;
  part.pending = true;
}

void Consumer::Process(rd_kafka_t* handle, rd_kafka_message_t* m, Clock::time_point now) {
  if (!failure_.ok()) {  // nothing after a failure is applied
    rd_kafka_message_destroy(m);
    return;
  }
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    Handle(*m);
    last_activity_ = now;
  } else if ((m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
              m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) &&
             m->rkt && control_topics_.count(rd_kafka_topic_name(m->rkt))) {
    // Alerts and notices read back are not events: a topic made again, or trimmed, is read
    // from what it holds.
    Partition& part = PartitionOf(rd_kafka_topic_name(m->rkt), m->partition);
    part.next = 0;
    part.pending = true;
    replica_from_.erase({part.topic, part.partition});
    replica_dirty_ = true;
  } else if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
             m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
    const std::string where =
        m->rkt ? std::string(rd_kafka_topic_name(m->rkt)) + "/" + std::to_string(m->partition)
               : std::string("?");
    failure_ = Status::Corruption("kafka " + where + ": the offset the state holds (" +
                                  std::to_string(m->offset) +
                                  ") is no longer on the broker: " + rd_kafka_message_errstr(m) +
                                  " (refusing to skip or re-read silently)");
  } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    // Transient errors (a broker down, a rebalance) are retried by librdkafka.
    char err[512];
    const rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(handle, err, sizeof err);
    if (fatal == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID && handle == rk_ && !rejoin_) {
      const auto now = Clock::now();
      std::erase_if(fenced_, [&](Clock::time_point t) { return now - t > kFenceWindow; });
      fenced_.push_back(now);
      rejoin_ = static_cast<int>(fenced_.size()) < kMaxFences;
      if (rejoin_ && control_.on_fenced) control_.on_fenced(err);
    }
    if (fatal && !rejoin_)
      failure_ = Status::IOError(std::string("kafka fatal error: ") + err +
                                 (fatal == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID
                                      ? " (fenced " + std::to_string(fenced_.size()) +
                                            " times within 5 minutes: another member of group " +
                                            kafka_.group + " has joined as instance " +
                                            kafka_.instance_id +
                                            ": each running instance needs a name of its own)"
                                      : ""));
  }
  rd_kafka_message_destroy(m);
}

void Consumer::HandleControl(const rd_kafka_message_t& m, Partition& part) {
  part.next = m.offset + 1;
  part.pending = true;
  std::map<std::string, std::string, std::less<>> h;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0; !rd_kafka_header_get_all(headers, i, &name, &value, &size); ++i)
      h[name] = value ? std::string(static_cast<const char*>(value), size) : std::string();
  }
  auto header = [&h](std::string_view name) -> const std::string* {
    auto it = h.find(name);
    return it == h.end() ? nullptr : &it->second;
  };
  // On the topic already: not sent again from what an earlier run left in the outbox (a change
  // alerted by the platform's new owner while this instance was down, or this instance's own
  // alert that reached the broker just before a crash).
  if (part.topic == kafka_.alerts_topic)
    if (const std::string* id = header("flexwatch.alert_id")) alerts_read_.insert(*id);
  const std::string* sender = header("flexwatch.sender");
  if (!sender || *sender == state_id_) return;  // this state's own, or from before senders
  // The sender's closing watermark: months it judged final are final here too (the instances
  // read the same partitions, but one that stops, say, judges them quiet before the others do).
  if (const std::string* closing = header("flexwatch.closing_watermark")) {
    TimestampMs t = 0;
    const auto [end, ec] = std::from_chars(closing->data(), closing->data() + closing->size(), t);
    if (ec == std::errc() && end == closing->data() + closing->size() && t > closing_) {
      writer_.AdvanceClosingWatermark(t);
      closing_ = t;
    }
  }
  if (part.topic == kafka_.alerts_topic) {
    // What the sender remembers with the alert: a level alerted, or a warning raised.
    const std::string *key = header("flexwatch.state_key"),
                      *value = header("flexwatch.state_value");
    if (key && value && (key->starts_with("level/") || key->starts_with("warned/"))) {
      writer_.PutMeta(*key, *value);
      superseded_[*key] = store_.NextOutboxSequence();
    }
    // A revision's change, alerted: not alerted again by the platform's next judge.
    if (const std::string* change = header("flexwatch.revision_change");
        change && change->starts_with("revision-change/"))
      writer_.PutMeta(*change, "");
    return;
  }
  // A seal of the instance that seals (KafkaOptions::seals_topic): the first record of each
  // revision on the topic is the city's, and the counts of events arrived after the seal are its
  // latest.
  if (const std::string* sealed = header("flexwatch.seal");
      sealed && part.topic == kafka_.seals_topic) {
    const Result<Period> p = ParsePeriod(*sealed);
    const std::string *key = header("flexwatch.state_key"),
                      *value = header("flexwatch.state_value"),
                      *counts = header("flexwatch.after_seal");
    const std::string* group = header("flexwatch.group");
    if (!group || *group != kafka_.group) return;  // another group's city (a topic shared)
    if (!p.ok() || !key || !value || meta_keys::PeriodOfRevision(*key) != *p) return;
    if (!adopted_.count(*key) && !store_.GetMeta(*key)) {
      writer_.PutMeta(*key, *value);
      const std::string* revision = header("flexwatch.revision");
      int n = 0;
      if (revision) std::from_chars(revision->data(), revision->data() + revision->size(), n);
      if (n > 0) writer_.PutMeta(meta_keys::CorrectionDue(*p, n), "");  // kept until published
    }
    adopted_.insert(*key);
    // "<platform>\t<n>" lines, each given to `put`.
    auto each_count = [](const std::string* lines, auto put) {
      for (std::string_view rest = lines ? std::string_view(*lines) : std::string_view();
           !rest.empty();) {
        const size_t eol = rest.find('\n'), tab = rest.find('\t');
        if (eol == std::string_view::npos || tab > eol) break;
        int64_t n = 0;
        const std::string_view number = rest.substr(tab + 1, eol - tab - 1);
        if (std::from_chars(number.data(), number.data() + number.size(), n).ec == std::errc())
          put(rest.substr(0, tab), n);
        rest.remove_prefix(eol + 1);
      }
    };
    each_count(counts, [&](std::string_view platform, int64_t n) {
      writer_.PutMeta(meta_keys::AfterSeal(*p, platform), EncodeCounter(n));
    });
    // The month's events when it was sealed (the first record on the topic, as for the seal).
    const std::string recorded = meta_keys::AtSealRecorded(*p);
    if (const std::string* at = header("flexwatch.at_seal");
        at && !adopted_.count(recorded) && !store_.GetMeta(recorded)) {
      each_count(at, [&](std::string_view platform, int64_t n) {
        writer_.PutMeta(meta_keys::AtSeal(*p, platform), EncodeCounter(n));
      });
      writer_.PutMeta(recorded, "");
      adopted_.insert(recorded);
    }
    return;
  }
  // A publication notice: the month (or its correction) is published, no longer due here, and
  // when it was issued with its number (the same documents from every state).
  const std::string *period = header("flexwatch.announcement"),
                    *revision = header("flexwatch.revision");
  if (!period) return;
  if (const std::string* issued = header("flexwatch.issued"))
    for (std::string_view rest = *issued; !rest.empty();) {
      const size_t end = std::min(rest.find(';'), rest.size());
      const std::string_view one = rest.substr(0, end);
      rest.remove_prefix(std::min(end + 1, rest.size()));
      const size_t eq = one.find('=');
      if (eq == std::string_view::npos || !IssueRecord::Decode(one.substr(eq + 1))) continue;
      const std::string key = meta_keys::Issued(one.substr(0, eq));
      if (!store_.GetMeta(key)) writer_.PutMeta(key, std::string(one.substr(eq + 1)));
    }
  const Result<Period> p = ParsePeriod(*period);
  if (!p.ok()) return;
  int n = 0;
  if (revision) {
    const auto [end, ec] =
        std::from_chars(revision->data(), revision->data() + revision->size(), n);
    if (ec != std::errc() || end != revision->data() + revision->size() || n < 1) return;
  }
  writer_.PutMeta(n > 0 ? meta_keys::CorrectionDue(*p, n) : meta_keys::PublishDue(*p),
                  std::nullopt);
}

Status Consumer::Deliver(int wait_ms) {
  rd_kafka_poll(producer_, 0);  // delivery reports
  bool full = false;
  Status failed = Status::OK();
  if (Status s = store_.ForEachOutbox(
          outbox_next_, 10000,
          [&](uint64_t seq, const OutboxMessage& m) {
            // After a failed delivery the outbox is read again from that entry: what is in
            // flight, or acknowledged and not deleted yet, is not produced a second time.
            if (full || in_flight_.count(seq) || acked_.count(seq)) return;
            // Alerts and notices go out from the instance that judges their platform (publishes)
            // now: one that lost it since (a takeover while it was down) leaves them to the new
            // owner, which alerts what its verdict and the alerts read back say is not said yet.
            if (control_topics_.count(m.topic)) {
              const Ownership& own = ownership();
              if (!own.settled) {  // not known yet: the rest waits
                full = true;
                return;
              }
              bool ours = m.topic == kafka_.alerts_topic ? own.Owns(m.key) : own.publisher();
              for (const auto& [name, value] : m.headers) {
                if (name == "flexwatch.alert_id" && seq < outbox_start_ &&
                    alerts_read_.count(value))
                  ours = false;
                if (name != "flexwatch.state_key" || m.topic != kafka_.alerts_topic) continue;
                if (auto it = superseded_.find(value); it != superseded_.end() && seq < it->second)
                  ours = false;
              }
              if (!ours) {
                acked_.insert(seq);  // forgotten with the acknowledged
                outbox_next_ = seq + 1;
                return;
              }
            }
            rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size());
            for (const auto& [name, value] : m.headers)
              rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()),
                                  value.data(), static_cast<ssize_t>(value.size()));
            rd_kafka_resp_err_t e = rd_kafka_producev(
                producer_, RD_KAFKA_V_TOPIC(m.topic.c_str()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(m.key.data(), m.key.size()),
                RD_KAFKA_V_VALUE(const_cast<char*>(m.payload.data()), m.payload.size()),
                RD_KAFKA_V_HEADERS(headers),
                RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(seq))),
                RD_KAFKA_V_END);
            if (e) {
              rd_kafka_headers_destroy(headers);  // not taken over on failure
              full = true;                        // the rest waits for the next round
              if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                failed =
                    Status::IOError("kafka: producing to " + m.topic + ": " + rd_kafka_err2str(e));
              return;
            }
            in_flight_.insert(seq);
            outbox_next_ = seq + 1;
          });
      !s.ok())
    return s;
  if (!failed.ok()) return failed;
  if (wait_ms > 0) rd_kafka_flush(producer_, wait_ms);  // what is not acknowledged stays
  rd_kafka_poll(producer_, 0);
  if (acked_.empty()) return Status::OK();
  Status s = store_.DeleteOutbox(std::vector<uint64_t>(acked_.begin(), acked_.end()));
  acked_.clear();
  return s;
}

void Consumer::Leave() {
  // The state is committed already: leaving the group only spares the others a session timeout.
  // With the coordinator unreachable a leave would wait on it, so it gets a bounded time, and
  // then the process goes without it (the group forgets the member when its session expires).
  constexpr auto kLeaveTimeout = std::chrono::seconds(10);
  if (!rk_) return;                 // a new consumer could not be made after a fencing
  if (recommit_) CommitToBroker();  // closing waits for the commits in flight
  leaving_ = true;                  // its partitions go back, as in a rebalance, not said as one
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk_);
  if (rd_kafka_error_t* e = rd_kafka_consumer_close_queue(rk_, q)) {
    rd_kafka_error_destroy(e);
  } else {
    // The revocation comes through this queue as an event.
    const auto deadline = Clock::now() + kLeaveTimeout;
    while (!rd_kafka_consumer_closed(rk_) && Clock::now() < deadline) {
      rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 100);
      if (!ev) continue;
      if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
        OnRebalance(rk_, rd_kafka_event_error(ev), rd_kafka_event_topic_partition_list(ev));
      rd_kafka_event_destroy(ev);
    }
  }
  if (!rd_kafka_consumer_closed(rk_)) destroy_flags_ = RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE;
  rd_kafka_queue_destroy(q);
}

Status Consumer::Join() {
  Result<rd_kafka_t*> rk =
      NewClient(RD_KAFKA_CONSUMER, settings_, this, "consumer", [](rd_kafka_conf_t* conf) {
        rd_kafka_conf_set_rebalance_cb(conf, &Consumer::Rebalance);
        rd_kafka_conf_set_error_cb(conf, &Consumer::OnError);
        rd_kafka_conf_set_offset_commit_cb(conf, &Consumer::OnOffsetCommit);
      });
  if (!rk.ok()) return rk.status();
  rk_ = *rk;
  destroy_flags_ = 0;
  rd_kafka_poll_set_consumer(rk_);
  // Each topic's partition leaders, learnt before the group assigns them: librdkafka 2.0 looks
  // up a partition's first offset at once only when its leader is known, and otherwise half a
  // second later (the partition's "offset query timer"), so that partitions assigned before the
  // topic's metadata reached them started half a second behind the others. (Answered or not,
  // the subscription goes on: a broker not answering yet is judged by the loop.)
  for (const std::string& t : kafka_.topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, t.c_str(), nullptr);
    if (!rkt) continue;
    topics_.push_back(rkt);  // held, so that what its metadata told stays known
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk_, 0, rkt, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR)
      rd_kafka_metadata_destroy(md);
  }
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(kafka_.topics.size()));
  for (const std::string& t : kafka_.topics) {
    rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
    // Each platform's own topic, <t>.<platform_id>, as it is made.
    rd_kafka_topic_partition_list_add(topics, OwnTopicsPattern(t).c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t e = rd_kafka_subscribe(rk_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) return Status::IOError(std::string("kafka subscribe: ") + rd_kafka_err2str(e));
  queue_ = rd_kafka_queue_get_consumer(rk_);
  return Status::OK();
}

void ConsumerLog(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  Consumer::OnLog(rk, level, facility, line);
}

Status Consumer::Rejoin() {
  rejoin_ = false;
  if (Status s = Commit(); !s.ok()) return s;
  if (Status s = Deliver(kHandOverMs); !s.ok()) return s;
  rd_kafka_queue_destroy(queue_);
  queue_ = nullptr;
  for (rd_kafka_topic_t* t : topics_) rd_kafka_topic_destroy(t);
  topics_.clear();
  // Fenced, it may not leave the group: the member it was is gone already.
  rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  rk_ = nullptr;
  assigned_from_.clear();
  ownership().assigned.clear();
  ownership().settled = false;
  in_group_ = false;
  replica_dirty_ = true;
  takeover_.clear();
  awaiting_first_batch_ = false;
  return Join();
}

Result<IngestCounts> Consumer::Run() {
  for (const std::string& t : kafka_.topics)
    for (const std::string* out :
         {&kafka_.dead_letter_topic, &kafka_.alerts_topic, &kafka_.seals_topic})
      if (*out == t || !OwnTopicPlatform(t, *out).empty())
        return Status::InvalidArgument("kafka: topic " + *out + " would be read as events: it is " +
                                       t + " or one of its platforms' own topics (" + t +
                                       ".<platform_id>)");
  settings_ = {
      {"bootstrap.servers", kafka_.brokers},
      {"group.id", kafka_.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "false"},
      {"client.id", "flexwatch"},
      // Once the pre-fetch queue reaches these (all partitions together), librdkafka 2.0 stops
      // fetching and starts again only up to a second after it drained: with its defaults
      // (100,000 messages, a quarter of a second of folding into the state) the consumer would
      // starve for most of that second. 1,000,000 messages or 128 MiB is more than a second's
      // work: memory against throughput, overridable in kafka.client.
      {"queued.min.messages", "1000000"},
      // A platform's own topic made after the start is subscribed (by pattern) at the next
      // metadata refresh: 30 s, not librdkafka's 5 minutes.
      {"topic.metadata.refresh.interval.ms", "30000"},
      {"queued.max.messages.kbytes", "131072"},
  };
  for (const auto& [k, v] : kafka_.client) settings_[k] = v;
  if (!kafka_.instance_id.empty()) settings_["group.instance.id"] = kafka_.instance_id;
  {
    // The replica: no group (it is given its partitions), no name in one.
    std::map<std::string, std::string> r = settings_;
    r["group.id"] = kafka_.group + ".replica";
    r.erase("group.instance.id");
    r["client.id"] = "flexwatch-replica";
    Result<rd_kafka_t*> replica = NewClient(
        RD_KAFKA_CONSUMER, r, this, "consumer",
        [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_error_cb(conf, &Consumer::OnError); });
    if (!replica.ok()) return replica.status();
    replica_ = *replica;
    rd_kafka_poll_set_consumer(replica_);
  }
  outbox_start_ = store_.NextOutboxSequence();
  // Until a settled assignment says whether this instance seals, it counts no event as arrived
  // after a seal for the city (an instance behind, or new, applies events the one that sealed had
  // applied before its seal); it counts what it saw itself (meta_keys::SeenAfterSeal), which it
  // takes when it seals again a month it sealed.
  writer_.CountAfterSeal(kafka_.seals_topic.empty());
  control_topics_ = {kafka_.alerts_topic};
  if (!kafka_.seals_topic.empty()) control_topics_.insert(kafka_.seals_topic);
  if (!control_.announcements_topic.empty()) control_topics_.insert(control_.announcements_topic);
  state_id_ = store_.GetMeta(meta_keys::kStateId).value_or("");
  if (state_id_.empty()) {
    std::random_device random;
    char id[17];
    snprintf(id, sizeof id, "%08x%08x", random(), random());
    state_id_ = id;
    Batch batch;
    batch.Put(meta_keys::kStateId, state_id_);
    if (Status s = store_.Write(batch); !s.ok()) return s;
  }
  {
    std::map<std::string, std::string> p = {{"bootstrap.servers", kafka_.brokers},
                                            {"enable.idempotence", "true"},
                                            {"linger.ms", "5"},
                                            {"client.id", "flexwatch-outbox"}};
    for (const auto& [k, v] : kafka_.client)
      if (!ConsumerOnly(k)) p[k] = v;
    Result<rd_kafka_t*> producer = NewClient(
        RD_KAFKA_PRODUCER, p, this, "producer",
        [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, &Consumer::OnDelivery); });
    if (!producer.ok()) return producer.status();
    producer_ = *producer;
  }
  watch_ = std::make_unique<ClusterWatch>(producer_, kafka_.topics, std::chrono::seconds(5));
  // The embedded broker (`flexwatch broker`, librdkafka's mock cluster) keeps no static members:
  // a member that stopped without leaving holds its partitions, named or not, until its session
  // expires, and while it does the group cannot complete a rebalance (librdkafka's default 45 s:
  // five quick kill -9s kept a group from assigning for over a minute). A short session there,
  // unless kafka.client sets one: its brokers are the loopback of a test or a demo.
  if (char* id = rd_kafka_clusterid(producer_, 2000)) {
    if (std::string_view(id).starts_with("mockCluster")) {
      if (!kafka_.client.count("session.timeout.ms")) settings_["session.timeout.ms"] = "6000";
      if (!kafka_.client.count("heartbeat.interval.ms"))
        settings_["heartbeat.interval.ms"] = "1000";
      mock_session_ms_ =
          std::stoi(settings_.count("session.timeout.ms") ? settings_.at("session.timeout.ms")
                                                          : std::string("45000"));
    }
    rd_kafka_mem_free(producer_, id);
  }
  if (Status s = Join(); !s.ok()) return s;

  if (auto closing = store_.ClosingWatermark()) closing_ = *closing;
  rd_kafka_queue_t* replica_queue = replica_ ? rd_kafka_queue_get_consumer(replica_) : nullptr;
  std::vector<rd_kafka_message_t*> batch(1000);
  auto last_commit = Clock::now();
  // Rounds start every interval, unless they cost more than the consumer can spare (below).
  auto round_started = Clock::now(), round_ended = round_started;
  const auto periodic_interval = std::chrono::milliseconds(control_.periodic_interval_ms);
  Clock::duration round_spacing{0};  // from the end of a round to the start of the next
  double round_cpu = -1;             // smoothed CPU seconds of a round (none yet)
  Clock::duration waited{0};         // since the last round: time spent waiting for messages
  // Before the first assignment, a group join (a broker's initial rebalance delay, a previous
  // member's session to expire) may take a while: idleness is not judged that early.
  constexpr double kJoinGraceSeconds = 60;
  const auto interval = std::chrono::milliseconds(kafka_.commit_interval_ms);
  bool last_full = false;     // the last batch came back full
  bool replica_full = false;  // and the replica's
  unassigned_since_ = Clock::now();
  join_notice_at_ = 5;
  while (failure_.ok()) {
    if (control_.stop && control_.stop->load()) break;
    if (rejoin_) {
      failure_ = Rejoin();
      if (!failure_.ok()) break;
    }
    if (!in_flight_.empty()) rd_kafka_poll(producer_, 0);  // delivery reports
    // A batch: up to its size, or what arrived within 100 ms (rebalances are served inside).
    // Right after a full batch, with events staged, only 10 ms: a fetch under way lands within
    // that, and when none is (the last message of a backlog read) the commit is not held back by
    // a wait for messages that are not coming.
    const auto asked = Clock::now();
    if (replica_dirty_ && failure_.ok()) ReassignReplica();
    if (failure_.ok()) ReleaseHeld();
    Settle();
    const int wait_ms = replica_full ? 0 : last_full && writer_.staged() > 0 ? 10 : 100;
    const ssize_t n = rd_kafka_consume_batch_queue(queue_, wait_ms, batch.data(), batch.size());
    const auto now = Clock::now();
    waited += now - asked;  // a batch that is there already takes microseconds
    if (n > 0 && awaiting_first_batch_) {
      awaiting_first_batch_ = false;
      if (control_.on_first_batch) control_.on_first_batch();
    }
    for (ssize_t i = 0; i < n; ++i) Process(rk_, batch[i], now);
    // What the replica has read by now (it never waits: the wait above is the loop's).
    ssize_t replica_n = 0;
    if (replica_queue && failure_.ok()) {
      replica_n = rd_kafka_consume_batch_queue(replica_queue, 0, batch.data(), batch.size());
      for (ssize_t i = 0; i < replica_n; ++i) Process(replica_, batch[i], now);
    }
    replica_full = replica_n == static_cast<ssize_t>(batch.size());
    CheckReady(n > 0 || replica_n > 0);
    // A batch that came back short waited its time for fewer messages than it holds: the
    // consumer has caught up, and what it read is committed now rather than after one more wait.
    const bool caught_up = n < static_cast<ssize_t>(batch.size()) && !replica_full;
    last_full = n == static_cast<ssize_t>(batch.size());
    const bool due = writer_.staged() >= options_.commit_every ||
                     writer_.pending_bytes() >= options_.commit_max_bytes ||
                     (writer_.staged() > 0 && (now - last_commit >= interval || caught_up));
    if (due && failure_.ok()) {
      if (Status s = Commit(); !s.ok()) failure_ = s;
      if (failure_.ok()) failure_ = Deliver();
      last_commit = now;
    }
    if (control_.periodic && failure_.ok() && now - round_started >= periodic_interval &&
        now - round_ended >= round_spacing) {
      // Of the time since the last round, the share this thread waited for messages: the
      // consumer keeps up as rounds are spaced now when it is well above zero.
      const double since = std::chrono::duration<double>(now - round_ended).count();
      const double idle = since > 0 ? std::chrono::duration<double>(waited).count() / since : 0;
      round_started = now;
      if (Status s = Commit(); !s.ok()) failure_ = s;
      Report(0, 0);
      const double round_start = ThreadCpuSeconds();
      if (failure_.ok()) failure_ = control_.periodic(QuietSeconds(now));
      if (failure_.ok()) failure_ = Deliver();
      round_ended = Clock::now();
      waited = Clock::duration{0};
      // A round costs what changed since the last one. While the consumer keeps up (it waited
      // for messages a fifth of the time or more), rounds start every interval, at least their
      // cost apart; when it does not, they are spaced so that they take at most a fifth of this
      // thread's time, and consuming never falls behind because of them. The cost is the
      // thread's CPU time (time the machine gave to others is not the round's), smoothed over
      // the last rounds so that one dear round (a month judged whole) does not hold back the
      // next.
      const double cpu = ThreadCpuSeconds() - round_start;
      round_cpu = round_cpu < 0 ? cpu : 0.75 * round_cpu + 0.25 * cpu;
      round_spacing = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>((idle >= 0.2 ? 1 : 4) * round_cpu));
    }
    if (!in_group_ && ready_ && control_.on_join_wait) {
      const double waiting = std::chrono::duration<double>(now - unassigned_since_).count();
      if (waiting >= join_notice_at_) {
        control_.on_join_wait(waiting, assigned_, mock_session_ms_);
        join_notice_at_ *= 2;
      }
    }
    if (control_.idle_exit_seconds > 0 && !ready_) {
      const double unanswered = std::chrono::duration<double>(now - unanswered_since_).count();
      if (unanswered >= std::max(control_.idle_exit_seconds, kUnreachableSeconds)) {
        failure_ = Status::IOError(
            "the brokers (" + kafka_.brokers + ") have not answered for " +
            std::to_string(static_cast<int>(unanswered)) + " s (" + unanswered_why_ +
            "); with --idle-exit, run stops rather than wait for them (without it, it waits "
            "and resumes when they answer)");
        break;
      }
    }
    if (control_.idle_exit_seconds > 0) {
      const double idle = SinceActivity(now);
      // Quiet with messages still to read is not idle, for a while: a partition without a
      // leader (its broker lost, a new one not elected yet) or a group rejoining delivers
      // nothing for seconds. (Bounded: a partition held for its trimmed history, or the offset
      // a transaction's marker takes, leaves a lag that reading never closes.)
      const bool behind =
          idle >= control_.idle_exit_seconds && idle < kJoinGraceSeconds && Behind();
      if (assigned_ && idle >= control_.idle_exit_seconds && !behind) {
        drained_ = true;
        refresh_at_once_ = true;  // the last commit looks at every partition again
        break;
      }
      if (!assigned_ && idle >= std::max(control_.idle_exit_seconds, kJoinGraceSeconds)) {
        failure_ = Status::IOError("no partition of the topics was assigned within " +
                                   std::to_string(static_cast<int>(idle)) + " s (brokers " +
                                   kafka_.brokers + ", group " + kafka_.group + ")");
        break;
      }
    }
  }
  // The last round judges what this instance owns: settled first if it can be within a few
  // seconds (the alerts and notices read back up to where they stand).
  for (const auto until = Clock::now() + std::chrono::seconds(5);
       failure_.ok() && in_group_ && !ownership().settled && Clock::now() < until;) {
    if (replica_dirty_) ReassignReplica();
    const ssize_t n =
        replica_queue ? rd_kafka_consume_batch_queue(replica_queue, 100, batch.data(), batch.size())
                      : 0;
    for (ssize_t i = 0; i < n; ++i) Process(replica_, batch[i], Clock::now());
    Settle();
  }
  if (failure_.ok()) failure_ = Commit();
  if (failure_.ok() && control_.periodic) failure_ = control_.periodic(QuietSeconds(Clock::now()));
  // A month final here whose seal the instance that seals has not sent yet (it judges the month
  // final in its own last round, say): waited for, so that this state holds the city's seal.
  if (failure_.ok() && control_.awaiting_seal && control_.awaiting_seal()) {
    if (Status s = Deliver(); !s.ok()) failure_ = s;  // the final alerts carry the watermark
    const auto start = Clock::now();
    const auto until = start + std::chrono::seconds(ConsumeControl::kSealWaitSeconds);
    bool waiting = true;
    while (failure_.ok() && waiting && Clock::now() < until &&
           !(control_.stop && control_.stop->load())) {
      if (replica_dirty_) ReassignReplica();
      if (!in_flight_.empty()) rd_kafka_poll(producer_, 0);
      const ssize_t n = replica_queue ? rd_kafka_consume_batch_queue(replica_queue, 100,
                                                                     batch.data(), batch.size())
                                      : 0;
      for (ssize_t i = 0; i < n; ++i) Process(replica_, batch[i], Clock::now());
      if (failure_.ok() && n > 0) failure_ = Commit();
      waiting = control_.awaiting_seal();
    }
    if (failure_.ok() && control_.periodic)
      failure_ = control_.periodic(QuietSeconds(Clock::now()));
    if (control_.on_seal_wait)
      control_.on_seal_wait(!waiting, std::chrono::duration<double>(Clock::now() - start).count());
  }
  if (failure_.ok()) failure_ = Deliver(/*wait_ms=*/5000);
  if (queue_) rd_kafka_queue_destroy(queue_);
  queue_ = nullptr;
  if (replica_queue) rd_kafka_queue_destroy(replica_queue);
  Leave();
  if (!failure_.ok()) return failure_;
  return total_;
}

}  // namespace

std::map<std::pair<std::string, int>, int64_t> StoredOffsets(Store& store) {
  std::map<std::pair<std::string, int>, int64_t> out;
  std::vector<std::pair<std::string, std::string>> positions = store.Positions();
  for (const std::string& key : store.MetaKeys(meta_keys::kReadBackPrefix))
    if (auto value = store.GetMeta(key))
      positions.emplace_back(key.substr(meta_keys::kReadBackPrefix.size()), *value);
  for (const auto& [source, position] : positions) {
    if (!source.starts_with("kafka:")) continue;
    const size_t colon = source.rfind(':');
    const size_t at = position.find("\"offset\":");
    if (colon <= 6 || at == std::string::npos) continue;
    out[{source.substr(6, colon - 6), std::atoi(source.c_str() + colon + 1)}] =
        std::atoll(position.c_str() + at + 9);
  }
  return out;
}

Result<IngestCounts> ConsumeKafka(Store& store, const KafkaOptions& kafka,
                                  const ReplayOptions& options, const ConsumeControl& control) {
  Consumer consumer(store, kafka, options, control);
  return consumer.Run();
}

}  // namespace flexwatch
