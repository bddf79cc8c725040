#!/bin/sh
# Eval concurrency: how busy promptctl eval keeps a backend's slots.
# Run by hand from a built tree (make check builds the mock):
#
#	sh bench/eval_inflight.sh [-K] [-p prompts] [-n examples] [-l ms] [-c max]
#
# promptctl eval scores p prompts (50) on n dev examples (100) of an
# OpenAI backend with max_in_flight c (64), on the mock model server
# answering every request l ms (50) after it arrives.  Printed: the
# wall time of the eval; its calls; the average number in flight, from
# the calls table (the sum of the calls' latencies over the time from
# the first start to the last answer); the most in flight the server
# saw; and the wall time over the ideal calls x l / c.  -K keeps the work
# directory (its database has every call).
set -u
BENCH=eval_inflight
usage="usage: eval_inflight.sh [-K] [-p prompts] [-n examples] [-l ms] [-c max]"

np=50
nex=100
lat=50
max=64
keep=0
while getopts Kp:n:l:c: ch; do
	case $ch in
	K) keep=1 ;;
	p) np=$OPTARG ;;
	n) nex=$OPTARG ;;
	l) lat=$OPTARG ;;
	c) max=$OPTARG ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_need "$PROMPTCTL" "$MOCK" sqlite3 curl
bench_init
export OPENAI_API_KEY=sk-bench
bench_mock "{ \"rules\": [ { \"path\": \"/v1/chat/completions\",
    \"reply\": \"positive\", \"delay_ms\": $lat } ] }"

# n dev examples: a dataset of 2n, half of it dev.
i=0
while [ "$i" -lt $((2 * nex)) ]; do
	echo "{\"text\": \"review number $i\", \"label\": \"positive\"}"
	i=$((i + 1))
done >"$W/data.jsonl"
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
    bench_fail "the eval failed: $(cat "$W/err" "$W/out")"
t1=$(date +%s.%N)
bench_sql "$W/eval.db" "SELECT count(*),
    sum(latency) / (max(created) - min(created - latency))
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
