#!/usr/bin/env bash
# What holding N tarpitted scanner connections costs, and whether a real
# API route beside the decoys notices, in one run on this machine:
# for the tarpit's scheduler and for a naive tarpit (a handler that sleeps,
# a goroutine per connection): the server's RSS and CPU idle and while
# holding N connections opened by a separate client process, and the p50/p99
# latency of a real route (static JSON) without and with them held.
# Everything stays on 127.0.0.1.
#   bash bench/tarpit-hold.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-10000}"
secs="${2:-10}"
tmp="$(mktemp -d)"
cleanup() { kill "${cli:-0}" "${srv:-0}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
ulimit -n "$(( n * 2 + 1024 ))" 2>/dev/null || ulimit -n "$(ulimit -Hn)"

go build -o "$tmp/tarpitserver" ./bench/tarpitserver
go build -o "$tmp/tarpitload" ./bench/tarpitload
go build -o "$tmp/loadgen" ./bench/loadgen

tck="$(getconf CLK_TCK)"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_pct PID SECONDS: the process's CPU use over an interval.
cpu_pct() { local a b; a="$(cpu_ticks "$1")"; sleep "$2"; b="$(cpu_ticks "$1")"; echo "scale=2; ($b - $a) * 100 / $tck / $2" | bc; }
# stat KEY: one figure from the server, after a full GC with freed memory returned to the OS.
stat() { curl -s "http://$addr/bench/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
gomem() { curl -s "http://$addr/bench/stats" | python3 -c "import json,sys; d=json.load(sys.stdin); print((d['heap_inuse']+d['stack_inuse'])//1024)"; }

echo "machine: $(nproc) cores, $(uname -srm), $(go version | cut -d' ' -f3)"
echo "held connections: $n from a separate process; real route load: 16 keep-alive connections, ${secs}s"
echo "memory: Go heap+stacks in use and RSS after a full GC (FreeOSMemory), holding vs after the same connections were released"
for mode in scheduler naive; do
	"$tmp/tarpitserver" -mode "$mode" > "$tmp/addr" 2>"$tmp/server.log" &
	srv=$!
	for _ in $(seq 100); do [[ -s "$tmp/addr" ]] && break; sleep 0.1; done
	read -r addr _ < "$tmp/addr"
	addr="${addr#addr=}"
	sleep 1
	idle_cpu="$(cpu_pct "$srv" 5)"
	base="$("$tmp/loadgen" -name "real-route-idle" -url "http://$addr/internal/orders/17" -c 16 -d "${secs}s")"
	"$tmp/tarpitload" -addr "$addr" -n "$n" > "$tmp/cli.out" &
	cli=$!
	for _ in $(seq 600); do grep -q '^held' "$tmp/cli.out" 2>/dev/null && break; sleep 0.1; done
	# Wait until the server holds them all (each request is recorded first).
	for _ in $(seq 300); do
		if [[ "$mode" == scheduler ]]; then [[ "$(stat held)" -ge "$n" ]] && break
		else [[ "$(stat goroutines)" -ge "$n" ]] && break; fi
		sleep 0.2
	done
	sleep 2
	held_go="$(gomem)"; held_rss="$(rss_kb "$srv")"; held_g="$(stat goroutines)"; held_n="$(stat held)"
	held_cpu="$(cpu_pct "$srv" 10)"
	loaded="$("$tmp/loadgen" -name "real-route-with-$n-held" -url "http://$addr/internal/orders/17" -c 16 -d "${secs}s")"
	kill "$cli" 2>/dev/null || true; wait "$cli" 2>/dev/null || true; cli=0
	for _ in $(seq 300); do
		if [[ "$mode" == scheduler ]]; then [[ "$(stat held)" -eq 0 ]] && break
		else [[ "$(stat goroutines)" -lt 100 ]] && break; fi
		sleep 0.2
	done
	sleep 1
	rel_go="$(gomem)"; rel_rss="$(rss_kb "$srv")"; rel_g="$(stat goroutines)"
	echo "== $mode: $(cat "$tmp/cli.out"); server holds $held_n in the scheduler, $held_g goroutines (after release: $rel_g)"
	echo "   Go heap+stacks: holding ${held_go} KiB, released ${rel_go} KiB: $(( (held_go - rel_go) * 1024 / n )) bytes per held connection"
	echo "   RSS: holding ${held_rss} KiB, released ${rel_rss} KiB: $(( (held_rss - rel_rss) * 1024 / n )) bytes per held connection"
	echo "   cpu: idle ${idle_cpu}%, holding ${held_cpu}% of one core (10s)"
	echo "   $base"
	echo "   $loaded"
	kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; srv=0
	: > "$tmp/addr"
done
