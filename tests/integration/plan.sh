#!/bin/sh
# promptctl plan: a dry run on the sim model estimates what a run spends.
# On a job whose backends are sim already, the estimate is the run (paid
# calls within 10% of a real --once run; here they are the same search);
# on a job whose backends are real servers, not one request reaches them,
# their prices price the calls and their limits time them; the throwaway
# database is removed.
. "$(dirname "$0")/lib.sh"

need sqlite3 curl
PROMPTD="$top_builddir/promptd"
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
mkdir "$TMP/tmp"
export TMPDIR="$TMP/tmp" OPENAI_API_KEY=sk-test-plan

# num KEY FILE: the first number at "KEY": in a JSON file.
num() {
	tr -d ' \t\n' <"$2" | sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p" |
	    head -n 1
}

# The example, on its own sim backend: plan, then the real thing.
sed -e 's/"generations": 6/"generations": 2/' "$EX/job.json" >"$TMP/sim.json"
expect_status 0 "$PROMPTCTL" plan --json "$TMP/sim.json"
cp "$TMP/out" "$TMP/plan.json"
planned=$(tr -d ' \t\n' <"$TMP/plan.json" |
    sed 's/},{/}\n{/g' | sed -n 's/.*"calls":\([0-9]*\).*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }')
expect_status 0 "$PROMPTD" -d "$TMP/sim.db" --once "$TMP/sim.json"
paid=$(sql "$TMP/sim.db" "SELECT count(*) FROM calls WHERE status = 'ok'")
awk -v a="$planned" -v b="$paid" 'BEGIN { d = a - b; if (d < 0) d = -d;
    exit !(b > 0 && d <= 0.1 * b) }' ||
    fail "plan said $planned paid calls, the run paid $paid"
expect_status 0 "$PROMPTCTL" plan "$TMP/sim.json"
expect_contains "$TMP/out" "plan for job 'sentiment': a dry run on the sim model"
expect_contains "$TMP/out" "  optimizer  sim"
expect_contains "$TMP/out" "  stops      nothing: the search ends by itself"

# Real backends: nothing is sent to them.
start_mock server || finish
cat >"$TMP/real.json" <<JOB
{
  "name": "real",
$(sentiment_task)
  "seed_prompts": [ "Classify the sentiment of the review." ],
  "backends": {
    "gpt": { "type": "openai", "base_url": "$URL/v1", "model": "gpt-4o-mini",
             "max_in_flight": 4, "requests_per_minute": 60,
             "price": { "input": 0.15, "output": 0.6 } } },
  "roles": { "target": "gpt", "optimizer": "gpt" },
  "strategy": { "name": "evo", "population": 4, "generations": 2 },
  "budget": { "max_calls": 100000, "deadline": "1m" }
}
JOB
expect_status 0 "$PROMPTCTL" plan --json "$TMP/real.json"
cp "$TMP/out" "$TMP/real.plan"
[ "$(mock_stat requests)" = 0 ] || fail "plan sent $(mock_stat requests) requests to the server"
expect_contains "$TMP/real.plan" '"backend":	"gpt"'
calls=$(num calls "$TMP/real.plan")
secs=$(num seconds "$TMP/real.plan")
dollars=$(num dollars "$TMP/real.plan")
awk -v d="$dollars" 'BEGIN { exit !(d > 0) }' || fail "no dollars: $dollars"
# 60 requests a minute: a second a call at least.
awk -v c="$calls" -v s="$secs" 'BEGIN { exit !(c > 0 && s >= c) }' ||
    fail "$calls calls in $secs s at 60 a minute"
expect_contains "$TMP/real.plan" "the deadline (60 s) comes first"

# Bad input is a usage error; nothing is left behind.
expect_status 2 "$PROMPTCTL" plan -t 0 "$TMP/real.json"
expect_contains "$TMP/err" "-t 0: expected seconds a call takes"
expect_status 1 "$PROMPTCTL" plan "$TMP/no-such.json"
[ -z "$(ls "$TMP/tmp")" ] || fail "plan left $(ls "$TMP/tmp") behind"
finish
