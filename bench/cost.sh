#!/bin/sh
# Cost: what one optimization run pays, interactively, through provider
# batches, and with Anthropic's prompt cache, against the mock model
# server speaking each provider's API (its usage fields, its batch APIs).
# Run by hand from a built tree (make check builds the mock):
#
#	sh bench/cost.sh [-g generations] [-K]
#
# The run is the sentiment example's evo GA search (population 6) with
# every role on the backend; the prices are the providers' list prices
# per million tokens (gpt-4o-mini: 0.15 in, 0.075 cached, 0.60 out;
# claude-haiku-4-5: 1 in, 0.10 cache read, 1.25 cache write, 5 out),
# batches at half.  The mock caches prompts of 16 tokens or more here,
# so that the example's short prompts show the effect.  Printed, one row
# per way: paid calls, input and output tokens, input read from the
# prompt cache, dollars, and the champion's dev score (which must not
# depend on the way).
set -u
BENCH=cost
usage="usage: cost.sh [-g generations] [-K]"

gens=4
keep=0
while getopts g:K ch; do
	case $ch in
	g) gens=$OPTARG ;;
	K) keep=1 ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_need "$PROMPTD" "$MOCK" sqlite3
bench_init
export OPENAI_API_KEY=sk-cost ANTHROPIC_API_KEY=sk-ant-cost
bench_mock '{ "cache_min_tokens": 16, "batch": { "delay_ms": 10 } }'
URL="$URL/v1"
oai="\"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL\",
    \"price\": { \"input\": 0.15, \"cached_input\": 0.075, \"output\": 0.6 }"
ant="\"type\": \"anthropic\", \"model\": \"claude-haiku-4-5\", \"base_url\": \"$URL\",
    \"cache_min_tokens\": 16, \"price\": { \"input\": 1, \"cached_input\": 0.1,
    \"cache_write\": 1.25, \"output\": 5 }"

# run NAME BACKEND_JSON: the search, its row of figures.
run() {
	bench_job "$1" "\"m\": { $2 }" '"target": "m", "optimizer": "m"' \
	    "\"name\": \"evo\", \"variant\": \"ga\", \"population\": 6, \"generations\": $gens" \
	    '"max_calls": 100000' 1
	if ! "$PROMPTD" -d "$W/$1.db" --once "$W/$1.json" >"$W/$1.out" \
	    2>"$W/$1.err"; then
		echo "cost: $1 failed:" >&2
		tail -n 5 "$W/$1.err" >&2
		return
	fi
	sqlite3 -batch -noheader -separator ' ' "$W/$1.db" "
	    SELECT printf('%-28s %6d %9d %8d %9d %10.6f', '$1',
	        count(*), sum(prompt_tokens), sum(completion_tokens),
	        sum(cached_tokens), sum(cost)),
	        (SELECT printf('%.3f', score) FROM champions)
	    FROM calls WHERE status = 'ok'"
}

printf '%-28s %6s %9s %8s %9s %10s %s\n' way calls input output cached \
    dollars champion
run openai-interactive "$oai"
run openai-batch "$oai, \"batch\": \"24h\", \"batch_poll\": 0.02"
run anthropic-interactive "$ant, \"cache\": false"
run anthropic-cache "$ant"
run anthropic-batch "$ant, \"cache\": false, \"batch\": \"24h\", \"batch_poll\": 0.02"
run anthropic-cache-batch "$ant, \"batch\": \"24h\", \"batch_poll\": 0.02"
