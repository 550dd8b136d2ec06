#!/usr/bin/env bash
# Requests/s of a stand-in real API (static JSON) with and without the
# honeytoken guard (tokens.GuardWithConfig on Echo, tokens.GuardHandler on
# net/http; observe mode, with a Reporter), in one run on this machine: no
# credential, an ordinary bearer token, and a honeytoken. The server
# (bench/guardserver) and the load generator (bench/loadgen) are separate
# processes; everything stays on 127.0.0.1. With rounds > 1 every target is
# run again in each round (bare and guarded side by side), so that noise
# from other work on the machine shows as spread rather than as a ratio.
#   bash bench/guard-rps.sh [seconds] [connections] [rounds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-10}"
conc="${2:-32}"
rounds="${3:-1}"
tmp="$(mktemp -d)"
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/guardserver" ./bench/guardserver
go build -o "$tmp/loadgen" ./bench/loadgen
"$tmp/guardserver" > "$tmp/addr" 2>"$tmp/server.log" &
srv=$!
for _ in $(seq 50); do [[ -s "$tmp/addr" ]] && break; sleep 0.1; done
read -r bare guard barehttp guardhttp token < "$tmp/addr"
bare="${bare#bare=}"
guard="${guard#guard=}"
barehttp="${barehttp#barehttp=}"
guardhttp="${guardhttp#guardhttp=}"
token="${token#token=}"
jwt="Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxNyJ9.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"

echo "machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3)"
echo "load: ${conc} keep-alive connections, ${secs}s per target, ${rounds} round(s)"
run() { "$tmp/loadgen" -name "$1" -url "$2" -c "$conc" -d "${secs}s" -H "${3:-}"; }
path=/api/v1/users/17
for round in $(seq "$rounds"); do
  [[ "$rounds" -gt 1 ]] && echo "round $round"
  run echo-bare-no-credential "http://$bare$path"
  run echo-guard-no-credential "http://$guard$path"
  run echo-bare-ordinary-bearer "http://$bare$path" "$jwt"
  run echo-guard-ordinary-bearer "http://$guard$path" "$jwt"
  run echo-bare-honeytoken "http://$bare$path" "Authorization: Bearer $token"
  run echo-guard-honeytoken-reported "http://$guard$path" "Authorization: Bearer $token"
  run nethttp-bare-no-credential "http://$barehttp$path"
  run nethttp-guard-no-credential "http://$guardhttp$path"
  run nethttp-bare-honeytoken "http://$barehttp$path" "Authorization: Bearer $token"
  run nethttp-guard-honeytoken-reported "http://$guardhttp$path" "Authorization: Bearer $token"
done

kill -TERM "$srv"
wait "$srv" || true
cat "$tmp/server.log"
