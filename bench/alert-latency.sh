#!/usr/bin/env bash
# Time from a honeytoken request at the decoy to the webhook receiving its
# alert, p50/p90/p99, through a real `honeyapi serve` (strict durability:
# the event and its alert are fsynced before the response) and a webhook
# receiver in another process, all on 127.0.0.1.
#   bash bench/alert-latency.sh [uses] [gap]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-300}"
gap="${2:-20ms}"
tmp="$(mktemp -d)"
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/honeyapi" ./cmd/honeyapi
go build -o "$tmp/alertlatency" ./bench/alertlatency
port=$((20000 + RANDOM % 20000))
cat > "$tmp/config.yaml" <<YAML
alerts:
  webhooks:
    - name: bench
      url: http://127.0.0.1:${port}/hook
      secret: alert-latency-bench-secret
  rules: {new_actor: "off", stage: "off", exploitation: "off"}
YAML
export HONEYAPI_SECRET="alert-latency-bench-deployment-secret"
# The alert path is measured, not the tarpit or the rate limit.
export HONEYAPI_TARPIT=off HONEYAPI_RATE_LIMIT=0
"$tmp/honeyapi" serve --config "$tmp/config.yaml" --db "$tmp/h.db" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 2>"$tmp/server.log" &
srv=$!
for _ in $(seq 100); do grep -q '"serving"' "$tmp/server.log" 2>/dev/null && break; sleep 0.1; done
decoy="$(grep -o '"listen":"[^"]*"' "$tmp/server.log" | head -1 | cut -d'"' -f4)"
echo "machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3)"
"$tmp/alertlatency" -decoy "$decoy" -secret "$HONEYAPI_SECRET" -listen "127.0.0.1:${port}" -n "$n" -gap "$gap"
