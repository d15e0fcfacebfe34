#!/usr/bin/env bash
# A real three-node Apache Kafka cluster on loopback, laid out as a regulator would run one:
# KRaft (each node a broker and a controller), replication factor 3 and min.insync.replicas 2,
# SASL/SCRAM-SHA-512 for every client and between brokers, and ACLs (Kafka's StandardAuthorizer,
# nothing allowed that no ACL allows). Users, topics and ACLs are made with Kafka's own
# command-line tools, the same commands the README's production section shows.
#
#   scripts/kafka-cluster.sh start DIR [BASEPORT]   start (formatting on first use); prints the
#                                                   bootstrap servers once all three answer
#   scripts/kafka-cluster.sh setup DIR [PARTITIONS] the monitor's and the gateway's users, the
#                                                   shared topics, their ACLs
#   scripts/kafka-cluster.sh add-platform DIR ID    platform ID's user, its own topic
#                                                   flexwatch.events.ID and the ACL to write it
#   scripts/kafka-cluster.sh topic DIR NAME [PARTS] a topic (replicated 3 times)
#   scripts/kafka-cluster.sh node-stop DIR N [kill] stop node N (1-3); `kill`: SIGKILL
#   scripts/kafka-cluster.sh node-start DIR N       start node N again
#   scripts/kafka-cluster.sh leader DIR TOPIC PART  the node leading a partition
#   scripts/kafka-cluster.sh coordinator DIR GROUP  the node coordinating a consumer group
#   scripts/kafka-cluster.sh stop DIR [kill]        stop every node; `kill`: SIGKILL
#
# DIR holds each node's configuration, data and log (DIR/node-N), and the clients' credentials:
# DIR/clients/NAME.properties (Java clients and the tools) and DIR/clients/NAME.password for
# `admin` (the brokers' own, a super user), `monitor` and each platform. Ports: clients on
# BASEPORT..+2 (default 29092), brokers among themselves on +3..+5, controllers on +6..+8.
# FLEXWATCH_CLUSTER_OWNER=PID stops the nodes when process PID ends (a test that dies leaves no
# JVM behind). Needs Java 17 and Maven (scripts/setup-debian.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage() {
  sed -n '8,19p' "$0" | sed 's/^# //' >&2
  exit 2
}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
lib="$root/kafka/target/lib"
if ! ls "$lib"/kafka-tools-*.jar >/dev/null 2>&1; then
  (cd "$root/kafka" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=target/lib \
    -DincludeScope=runtime) >&2
fi
cp=$(ls "$lib"/*.jar | tr '\n' ':')
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
tool() {  # a Kafka command-line tool by its class, as bin/kafka-*.sh runs it
  "$java" -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" "$@"
}
base() { cat "$dir/baseport"; }
bootstrap() {
  local b
  b=$(base)
  echo "127.0.0.1:$b,127.0.0.1:$((b + 1)),127.0.0.1:$((b + 2))"
}
secret() {  # a password kept in DIR/clients, made on first use
  local f="$dir/clients/$1.password"
  if [ ! -s "$f" ]; then
    mkdir -p "$dir/clients"
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$f")
  fi
  cat "$f"
}
client_properties() {  # DIR/clients/NAME.properties: SASL/SCRAM as user NAME
  local name=$1 password
  password=$(secret "$name")
  (umask 077 && cat >"$dir/clients/$name.properties" <<PROPS)
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$name" password="$password";
PROPS
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
node_config() {
  local n=$1 b admin voters
  b=$(base)
  admin=$(secret admin)
  voters="1@127.0.0.1:$((b + 6)),2@127.0.0.1:$((b + 7)),3@127.0.0.1:$((b + 8))"
  mkdir -p "$dir/node-$n"
  cat >"$dir/node-$n/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=CLIENT://127.0.0.1:$((b + n - 1)),INTERNAL://127.0.0.1:$((b + n + 2)),CONTROLLER://127.0.0.1:$((b + n + 5))
advertised.listeners=CLIENT://127.0.0.1:$((b + n - 1)),INTERNAL://127.0.0.1:$((b + n + 2))
listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
# Brokers among themselves: SCRAM as admin (its credentials are written when the storage is
# formatted). Controllers: PLAIN, since the SCRAM credentials live in the metadata they serve.
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.internal.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin";
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin" user_admin="$admin";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
log.dirs=$dir/node-$n/data
auto.create.topics.enable=false
default.replication.factor=3
min.insync.replicas=2
num.partitions=1
offsets.topic.replication.factor=3
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
group.initial.rebalance.delay.ms=0
unclean.leader.election.enable=false
log.retention.hours=-1
PROPS
}
node_start() {
  local n=$1 owner=${FLEXWATCH_CLUSTER_OWNER:-}
  if [ -f "$dir/node-$n/pid" ] && kill -0 "$(cat "$dir/node-$n/pid")" 2>/dev/null; then
    echo "kafka-cluster.sh: node $n already runs" >&2
    return 1
  fi
  # A process group of its own (setsid), so that stopping it stops nothing else.
  setsid "$java" -Xms256m -Xmx512m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" \
    kafka.Kafka "$dir/node-$n/server.properties" >>"$dir/node-$n/broker.log" 2>&1 </dev/null &
  echo $! >"$dir/node-$n/pid"
  if [ -n "$owner" ]; then
    local pid=$!
    (while kill -0 "$owner" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 1; done
      kill -KILL "$pid" 2>/dev/null || true) </dev/null >/dev/null 2>&1 &
  fi
}
node_stop() {
  local n=$1 signal=${2:-TERM} pid
  [ -f "$dir/node-$n/pid" ] || return 0
  pid=$(cat "$dir/node-$n/pid")
  kill "-$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/node-$n/pid"
}
wait_answering() {  # until node n takes client connections (or its JVM ends)
  local n=$1
  for _ in $(seq 1 1200); do
    if ! kill -0 "$(cat "$dir/node-$n/pid")" 2>/dev/null; then
      tail -n 30 "$dir/node-$n/broker.log" >&2
      return 1
    fi
    listening $(($(base) + n - 1)) && return 0
    sleep 0.1
  done
  echo "kafka-cluster.sh: node $n did not answer in 2 minutes" >&2
  return 1
}
admin_tool() {  # CLASS ARGS...: a tool as the admin user
  local class=$1
  shift
  tool "$class" --bootstrap-server "$(bootstrap)" --command-config "$dir/clients/admin.properties" "$@"
}
acl() { admin_tool org.apache.kafka.tools.AclCommand --add --force "$@" >/dev/null; }
topic() {  # NAME PARTITIONS [CONFIG...]: created once, replicated 3 times
  local name=$1 partitions=$2
  shift 2
  local configs=()
  for c in "$@"; do configs+=(--config "$c"); done
  admin_tool org.apache.kafka.tools.TopicCommand --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor 3 "${configs[@]}" >/dev/null
}
user() {  # NAME: SCRAM credentials for NAME, and its client properties
  local name=$1
  client_properties "$name"
  admin_tool kafka.admin.ConfigCommand --alter --entity-type users --entity-name "$name" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$(secret "$name")]" >/dev/null
}

case "$cmd" in
  start)
    if [ ! -f "$dir/baseport" ]; then echo "${3:-29092}" >"$dir/baseport"; fi
    b=$(base)
    for n in 1 2 3; do
      for p in $((b + n - 1)) $((b + n + 2)) $((b + n + 5)); do
        if listening "$p"; then
          echo "kafka-cluster.sh: something already listens on 127.0.0.1:$p" >&2
          exit 1
        fi
      done
    done
    client_properties admin
    if [ ! -f "$dir/cluster-id" ]; then
      tool kafka.tools.StorageTool random-uuid >"$dir/cluster-id"
    fi
    for n in 1 2 3; do
      node_config "$n"
      if [ ! -f "$dir/node-$n/data/meta.properties" ]; then
        tool kafka.tools.StorageTool format --config "$dir/node-$n/server.properties" \
          --cluster-id "$(cat "$dir/cluster-id")" \
          --add-scram "SCRAM-SHA-512=[name=admin,password=$(secret admin)]" \
          >"$dir/node-$n/format.log" 2>&1 || { cat "$dir/node-$n/format.log" >&2; exit 1; }
      fi
    done
    for n in 1 2 3; do node_start "$n"; done
    for n in 1 2 3; do wait_answering "$n"; done
    # The cluster serves once its metadata names three brokers.
    for _ in $(seq 1 600); do
      if admin_tool org.apache.kafka.tools.BrokerApiVersionsCommand 2>/dev/null |
        grep -c '^127.0.0.1:' | grep -qx 3; then
        bootstrap
        exit 0
      fi
      sleep 0.2
    done
    echo "kafka-cluster.sh: the three nodes did not form a cluster in 2 minutes" >&2
    exit 1
    ;;
  setup)
    partitions=${3:-8}
    user monitor
    # The shared topic, keyed by platform_id; the monitor's outputs (which every instance of the
    # group reads back: the alerts, publication notices and seals the others sent).
    topic flexwatch.events "$partitions"
    topic flexwatch.dead-letter "$partitions"
    topic flexwatch.alerts 1
    topic flexwatch.announcements 1
    topic flexwatch.seals 1 cleanup.policy=compact
    # The monitor reads every events topic (flexwatch.events and flexwatch.events.<platform>)
    # and its group's offsets, and writes its outputs; platforms write only their own topic
    # (add-platform), or the shared one when given Write on it.
    acl --allow-principal User:monitor --operation Read --operation Describe \
      --topic flexwatch.events --resource-pattern-type prefixed
    acl --allow-principal User:monitor --operation Read --operation Describe \
      --group flexwatch --resource-pattern-type prefixed
    for t in flexwatch.dead-letter flexwatch.alerts flexwatch.announcements flexwatch.seals; do
      acl --allow-principal User:monitor --operation Write --operation Read --operation Describe \
        --topic "$t" --resource-pattern-type prefixed
    done
    # A gateway of the regulator's that writes the shared topic keyed by platform_id: it may
    # speak for every platform, so it is never a platform's.
    user gateway
    acl --allow-principal User:gateway --operation Write --operation Describe \
      --topic flexwatch.events
    echo "monitor: $dir/clients/monitor.properties"
    echo "gateway: $dir/clients/gateway.properties"
    ;;
  add-platform)
    id=${3:?usage: kafka-cluster.sh add-platform DIR PLATFORM_ID}
    user "platform-$id"
    topic "flexwatch.events.$id" 1
    acl --allow-principal "User:platform-$id" --operation Write --operation Describe \
      --topic "flexwatch.events.$id"
    echo "platform-$id: $dir/clients/platform-$id.properties"
    ;;
  topic)
    topic "${3:?usage: kafka-cluster.sh topic DIR NAME [PARTITIONS]}" "${4:-1}"
    ;;
  node-stop)
    n=${3:?node 1-3}
    if [ "${4:-}" = kill ]; then node_stop "$n" KILL; else node_stop "$n" TERM; fi
    ;;
  node-start)
    n=${3:?node 1-3}
    node_start "$n"
    wait_answering "$n"
    ;;
  leader)
    t=${3:?topic}
    part=${4:?partition}
    admin_tool org.apache.kafka.tools.TopicCommand --describe --topic "$t" |
      awk -v p="$part" '$0 ~ ("Partition: " p "\t") { for (i = 1; i <= NF; ++i)
        if ($i == "Leader:") print $(i + 1) }'
    ;;
  coordinator)
    g=${3:?group}
    # "GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS": the ID in parentheses.
    admin_tool org.apache.kafka.tools.consumer.group.ConsumerGroupCommand --describe --state \
      --group "$g" | awk -v g="$g" '$1 == g { gsub(/[()]/, "", $3); print $3 }'
    ;;
  stop)
    # All at once: a node stopped alone hands its partitions over, which the last ones cannot.
    signal=TERM
    [ "${3:-}" = kill ] && signal=KILL
    for n in 1 2 3; do node_stop "$n" "$signal" & done
    wait
    ;;
  *) usage ;;
esac
