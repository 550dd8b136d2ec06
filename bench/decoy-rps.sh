#!/usr/bin/env bash
# Decoy requests/s beside a bare Echo handler returning static JSON, in one
# run on this machine: without recording, and recording every request with
# strict (fsync before the response) and async durability. The server and the load generator are separate
# processes; everything stays on 127.0.0.1.
#   bash bench/decoy-rps.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-10}"
conc="${2:-32}"
tmp="$(mktemp -d)"
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$tmp"' EXIT

go build -o "$tmp/benchserver" ./bench/benchserver
go build -o "$tmp/loadgen" ./bench/loadgen
"$tmp/benchserver" > "$tmp/addr" 2>"$tmp/server.log" &
srv=$!
for _ in $(seq 50); do [[ -s "$tmp/addr" ]] && break; sleep 0.1; done
read -r bare decoy strict async < "$tmp/addr"
bare="${bare#bare=}"
decoy="${decoy#decoy=}"
strict="${strict#strict=}"
async="${async#async=}"

echo "machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3)"
echo "load: ${conc} keep-alive connections, ${secs}s per target"
run() { "$tmp/loadgen" -name "$1" -url "$2" -c "$conc" -d "${secs}s" -H "Authorization: Bearer bench"; }
run bare-echo-static-json "http://$bare/api/v1/users/17"
run decoy-item-no-recording "http://$decoy/api/v1/users/17"
run decoy-item-strict-recording "http://$strict/api/v1/users/17"
run decoy-item-async-recording "http://$async/api/v1/users/17"
run decoy-list-20 "http://$decoy/api/v1/users?size=20"
run decoy-unknown-path-404 "http://$decoy/api/v1/wp-admin/setup.php" || true
