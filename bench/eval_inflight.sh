#!/bin/sh
# Eval concurrency: how busy promptctl eval keeps a backend's slots.
# Run by hand from a built tree (make check builds the mock):
#
#	sh bench/eval_inflight.sh [-p prompts] [-n examples] [-l ms] [-c max]
#
# promptctl eval scores p prompts (50) on n dev examples (100) of an
# OpenAI backend with max_in_flight c (64), on the mock model server
# answering every request l ms (50) after it arrives.  Printed: the
# wall time of the eval; its calls; the average number in flight, from
# the calls table (the sum of the calls' latencies over the time from
# the first start to the last answer); the most in flight the server
# saw; and the wall time over the ideal calls x l / c.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PROMPTCTL=${PROMPTCTL:-$top/promptctl}
MOCK=${MOCK:-$top/tests/mock/mockllm}
usage="usage: eval_inflight.sh [-p prompts] [-n examples] [-l ms] [-c max]"

np=50
nex=100
lat=50
max=64
while getopts p:n:l:c: ch; do
	case $ch in
	p) np=$OPTARG ;;
	n) nex=$OPTARG ;;
	l) lat=$OPTARG ;;
	c) max=$OPTARG ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
for f in "$PROMPTCTL" "$MOCK"; do
	[ -x "$f" ] || { echo "eval_inflight: $f: not built (make check)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null 2>&1 ||
    { echo "eval_inflight: sqlite3 not found" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/eval_inflight.XXXXXX")
MPID=
trap '[ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$W"' EXIT
export OPENAI_API_KEY=sk-bench

# n dev examples: a dataset of 2n, half of it dev.
i=0
while [ "$i" -lt $((2 * nex)) ]; do
	echo "{\"text\": \"review number $i\", \"label\": \"positive\"}"
	i=$((i + 1))
done >"$W/data.jsonl"
cat >"$W/script.json" <<S
{ "rules": [ { "path": "/v1/chat/completions", "reply": "positive",
               "delay_ms": $lat } ] }
S
"$MOCK" -P "$W/port" -s "$W/script.json" -i 0 2>"$W/mock.err" &
MPID=$!
n=0
while [ ! -s "$W/port" ]; do
	n=$((n + 1))
	[ "$n" -gt 100 ] && { echo "eval_inflight: the mock did not start" >&2; exit 1; }
	sleep 0.1
done
URL="http://127.0.0.1:$(cat "$W/port")"
{
	printf '{ "name": "inflight",\n'
	printf '  "task": { "dataset": "data.jsonl", "input": "{{text}}",\n'
	printf '    "target": "label", "metric": "exact",\n'
	printf '    "splits": { "train": 0.25, "dev": 0.5, "test": 0.25 } },\n'
	printf '  "seed_prompts": ['
	i=1
	while [ "$i" -le "$np" ]; do
		[ "$i" -gt 1 ] && printf ','
		printf '\n    "Prompt %d: say whether the review is positive."' "$i"
		i=$((i + 1))
	done
	printf ' ],\n'
	printf '  "backends": { "m": { "type": "openai", "model": "mock-1",\n'
	printf '    "base_url": "%s/v1", "max_in_flight": %d } },\n' "$URL" "$max"
	printf '  "roles": { "target": "m" } }\n'
} >"$W/job.json"

t0=$(date +%s.%N)
"$PROMPTCTL" -d "$W/eval.db" eval --json "$W/job.json" >"$W/out" 2>"$W/err" ||
    { echo "eval_inflight: the eval failed:" >&2; cat "$W/err" >&2; exit 1; }
t1=$(date +%s.%N)
sqlite3 -batch -noheader -separator ' ' "$W/eval.db" \
    "SELECT count(*), sum(latency) / (max(created) - min(created - latency))
     FROM calls WHERE status = 'ok'" >"$W/calls"
read -r calls avg <"$W/calls"
peak=$(curl -s "$URL/mock/stats" | tr -d ' \n' |
    sed -n 's/.*"max_in_flight":\([0-9]*\).*/\1/p')
awk -v t0="$t0" -v t1="$t1" -v c="$calls" -v a="$avg" \
    -v p="$peak" -v l="$lat" -v m="$max" 'BEGIN {
	w = t1 - t0
	printf "eval: %d calls in %.2f s; in flight: average %.1f of %d, ", \
	    c, w, a, m
	printf "peak %d at the server; wall / (calls x %d ms / %d) = %.2f\n", \
	    p, l, m, w / (c * l / 1000 / m)
}'
