# Sourced by the bench scripts (after setting $root and $work): start_broker NAME BASE [PARTITIONS]
# starts a real single-node Kafka broker (scripts/kafka-broker.sh) in $work/broker on a port drawn
# from BASE..BASE+999, stops it and removes $work when the script exits, and sets $brokers to its
# bootstrap address once it answers (NAME names the script in an error).
start_broker() {
  local name=$1 base=$2
  "$root/scripts/kafka-broker.sh" "$work/broker" "$((base + RANDOM % 1000))" ${3:+"$3"} \
    >"$work/address" &
  broker=$!
  trap 'kill -TERM $broker 2>/dev/null; wait $broker 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 1 1200); do
    [ -s "$work/address" ] && break
    kill -0 $broker 2>/dev/null || { echo "$name: the broker did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$work/address" ] || { echo "$name: the broker did not start in 120 s" >&2; exit 1; }
  brokers=$(head -n1 "$work/address")
}
