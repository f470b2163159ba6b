#!/usr/bin/env bash
# Webhook throughput with and without notifications to a slow receiver (one
# that answers after 2 s): the notification outbox must not slow ingestion.
# Not part of `make test`; run after `make plugins` and a release build:
#   bench/notify-throughput.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
python=$(command -v /usr/bin/python3 || command -v python3)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
key=bench-key-0123456789abcdefghij
wasm=$PWD/target/wasm32-wasip2/release

"$python" docs/examples/receiver.py 0 bench-secret-0123456789abcdef --delay 2 \
  --log "$work/requests.jsonl" --port-file "$work/port" 2>/dev/null &
while [ ! -f "$work/port" ]; do sleep 0.05; done
receiver=http://127.0.0.1:$(cat "$work/port")/hook

run() { # name, extra config
  local dir=$work/$1
  mkdir -p "$dir"
  cat > "$dir/config.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[storage]
path = "data/inbound.redb"
[integrations.zendesk]
plugin = "$wasm/inbound_zendesk.wasm"
[[sources]]
name = "bench"
integration = "zendesk"
escalation_policy = "oncall"
key = "$key"
rate_limit_per_second = 0
$2
TOML
  : > "$dir/log"
  target/release/inbound serve --config "$dir/config.toml" 2> "$dir/log" &
  local pid=$!
  until grep -q "listening on" "$dir/log"; do sleep 0.05; done
  local base
  base=$(grep -o 'listening on http://[0-9.:]*' "$dir/log" | head -1 | cut -d' ' -f3)
  wrk -t2 -c"$connections" -d2s -s bench/wrk/zendesk-mix.lua "$base" "/api/v1/events/zendesk/$key" > /dev/null
  local rate
  rate=$(wrk -t2 -c"$connections" -d"${seconds}s" -s bench/wrk/zendesk-mix.lua "$base" "/api/v1/events/zendesk/$key" \
    | awk '/Requests\/sec/ { print $2 }')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$1: $rate requests/s"
}

run "without notifications" '[[escalation_policies]]
name = "oncall"
levels = []'
run "every incident notifies a 2 s receiver" "[[channels]]
name = \"hook\"
plugin = \"$wasm/inbound_notify_webhook.wasm\"
url = \"$receiver\"
signing_secret = \"bench-secret-0123456789abcdef\"
[[escalation_policies]]
name = \"oncall\"
  [[escalation_policies.levels]]
  notify = [\"channel:hook\"]"
echo "the receiver got $(wc -l < "$work/requests.jsonl") notifications"
