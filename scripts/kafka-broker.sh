#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, broker and controller in one JVM) on loopback,
# for integration tests and for trying flexwatch with real Kafka:
#
#   scripts/kafka-broker.sh DIR [PORT [PARTITIONS]]
#
# DIR holds its configuration, data and log; PARTITIONS (4) is that of each topic it creates on
# first use. Fetches the broker from Maven Central the first time
# (kafka/pom.xml), prints "127.0.0.1:PORT" on stdout once the broker accepts connections, then
# runs in the foreground until SIGTERM or Ctrl-C. Needs Java 17 and Maven (scripts/setup-debian.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: kafka-broker.sh DIR [PORT [PARTITIONS]]}
port=${2:-19092}
partitions=${3:-4}  # of each topic created automatically
controller=$((port + 1))
lib="$root/kafka/target/lib"
if ! ls "$lib"/kafka_2.13-*.jar >/dev/null 2>&1; then
  (cd "$root/kafka" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=target/lib \
    -DincludeScope=runtime) >&2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=$partitions
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
PROPS
for p in "$port" "$controller"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "kafka-broker.sh: something already listens on 127.0.0.1:$p (a broker left running?)" >&2
    exit 1
  fi
done
cp=$(ls "$lib"/*.jar | tr '\n' ':')
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
if [ ! -f "$dir/data/meta.properties" ]; then
  "$java" -cp "$cp" kafka.tools.StorageTool format --config "$dir/server.properties" \
    --cluster-id "$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid)" >"$dir/format.log" 2>&1 ||
    { cat "$dir/format.log" >&2; exit 1; }
fi
"$java" -Xms256m -Xmx768m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$cp" kafka.Kafka "$dir/server.properties" >"$dir/broker.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; exit 0' TERM INT
for _ in $(seq 1 600); do
  if ! kill -0 $pid 2>/dev/null; then
    tail -n 30 "$dir/broker.log" >&2
    exit 1
  fi
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "127.0.0.1:$port"
    break
  fi
  sleep 0.1
done
wait $pid
