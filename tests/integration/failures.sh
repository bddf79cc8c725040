#!/bin/sh
# Servers that fail as real ones do: a backend that refuses connections
# is taken as down (nothing is spent on it, the run says why), a server
# that answers 400 or garbage to one input costs that input a failed
# evaluation tried twice (the search goes on and promotes), and a run
# most of whose evaluations fail ends failed with the cause.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
export OPENAI_API_KEY="sk-test-failures"

# job NAME BASE_URL BUDGET: the sentiment task with its target on an
# OpenAI-compatible server and its optimizer simulated.
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
  "description": "Classify the sentiment of a movie review as positive or negative.",
$(sentiment_task)
  "seed_prompts": [ "Say something about the text.",
                    "Classify the sentiment of the review." ],
  "backends": {
    "m": { "type": "openai", "model": "mock-1", "base_url": "$2/v1",
           "max_retries": 1, "retry_base": 0.01, "retry_cap": 0.05 },
    "sim": { "type": "sim", "model": "sim-1" }
  },
  "roles": { "target": "m", "optimizer": "sim" },
  "strategy": { "name": "ape", "pool": 4, "per_ask": 4, "resample": 1 },
  "budget": $3
}
JOB
}

# 1. Nothing listens.  In the foreground the backend is down after 5
# connection failures, and every request left fails at once with that
# cause: the run ends failed, having spent nothing.
job refused "http://127.0.0.1:1" '{ "max_calls": 50 }'
expect_status 1 "$PROMPTD" -d "$TMP/refused.db" --once "$TMP/refused.json"
expect_contains "$TMP/err" "backend 'm' is down after 5 connection failures in a row"
db="$TMP/refused.db"
[ "$(sql "$db" "SELECT state FROM jobs")" = failed ] || fail "refused: not failed"
case "$(sql "$db" "SELECT reason FROM jobs")" in
*"evaluations failed (each tried 2 times): backend 'm' is down after "*" connection failures in a row: openai: Failed to connect to 127.0.0.1 port 1: "*) ;;
*) fail "refused: reason '$(sql "$db" "SELECT reason FROM jobs")'" ;;
esac
[ "$(sql "$db" "SELECT calls FROM runs")" = 0 ] || fail "refused: attempts counted as calls"
n=$(sql "$db" "SELECT count(*) FROM calls WHERE status = 'error'")
[ "$n" -ge 5 ] && [ "$n" -le 8 ] || fail "refused: $n attempts (8 in flight at most)"
[ "$(sql "$db" "SELECT count(*) FROM events WHERE message LIKE '% failed attempts: % x m: openai: Failed to connect%'")" -ge 1 ] ||
    fail "refused: no event counts the failed attempts"
expect_status 0 "$PROMPTCTL" -d "$db" status refused
expect_contains "$TMP/out" "failures    $n failed attempts: $n x m: openai: Failed to connect to 127.0.0.1 port 1"

# 1b. In the daemon the job waits for its backend, spending nothing, and
# goes on by itself once the backend answers.
start_mock gone -i 60 || finish
port=$PORT
kill "$MOCK_PID"
wait "$MOCK_PID" 2>/dev/null
job later "http://127.0.0.1:$port" '{ "max_calls": 2000 }'
echo '{}' >"$TMP/promptd.conf"
start_daemon d "$TMP/promptd.conf" || finish
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" submit "$TMP/later.json"
wait_status "$TMP/d.sock" later "^job 'later': waiting (backend 'm' down for "
expect_contains "$TMP/st" "Failed to connect to 127.0.0.1 port $port"
start_mock back -p "$port" -w "$EX/job.json" || finish
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" watch later
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" status later
expect_contains "$TMP/out" "job 'later': done"
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" events later
expect_contains "$TMP/out" "backend 'm' is down"
expect_contains "$TMP/out" "backend 'm' answers again: going on"
# While it waited, no request went out but the probes.
n=$(sql "$TMP/d.db" "SELECT count(*) FROM calls WHERE status = 'error'")
[ "$n" -le 16 ] || fail "later: $n failed attempts while down"
kill "$DPID"

# 2. A server that answers 400 to one input, and garbage to another.
cat >"$TMP/rules.json" <<'R'
{"rules": [
  {"path": "/v1/chat/completions", "match": "The sequel wasted a talented cast.", "status": 400},
  {"path": "/v1/chat/completions", "match": "this drama made me want to watch", "fault": "malformed"}
]}
R
start_mock world -w "$EX/job.json" -s "$TMP/rules.json" || finish
job one "$URL" '{ "max_calls": 2000 }'
expect_status 0 "$PROMPTD" -d "$TMP/one.db" --once "$TMP/one.json"
db="$TMP/one.db"
[ "$(sql "$db" "SELECT state FROM jobs")" = done ] || fail "one: not done"
[ "$(sql "$db" "SELECT count(*) FROM champions")" = 1 ] || fail "one: no champion"
case "$(sql "$db" "SELECT reason FROM jobs")" in
*" evaluations failed (each tried 2 times): "*) ;;
*) fail "one: reason '$(sql "$db" "SELECT reason FROM jobs")'" ;;
esac
cands=$(sql "$db" "SELECT count(*) FROM candidates")
bad=$(sql "$db" "SELECT count(*) FROM evaluations WHERE score IS NULL AND error LIKE '%HTTP 400%'")
[ "$bad" -ge 1 ] || fail "one: no failed evaluation stored with its 400"
# Each candidate asks the failing input at most twice (a 400 is not
# retried), the garbage one at most twice with one retry each.
used=$(curl -s "$URL/mock/stats" | sed -n 's/.*"rules_used":[[:space:]]*\[\([0-9]*\),[[:space:]]*\([0-9]*\)\].*/\1 \2/p')
set -- $used
[ "${1:-999}" -le $((2 * cands)) ] || fail "one: the 400 was asked $1 times for $cands candidates"
[ "${2:-999}" -le $((4 * cands)) ] || fail "one: the garbage was asked $2 times for $cands candidates"
expect_status 0 "$PROMPTCTL" -d "$db" status one
expect_contains "$TMP/out" "evaluations failed"

# 3. Every answer a 400: the run cannot choose, and fails with the cause.
cat >"$TMP/all.json.rules" <<'R'
{"rules": [{"path": "/v1/chat/completions", "status": 400}]}
R
start_mock all -w "$EX/job.json" -s "$TMP/all.json.rules" || finish
job all "$URL" '{ "max_calls": 2000 }'
expect_status 1 "$PROMPTD" -d "$TMP/all.db" --once "$TMP/all.json"
db="$TMP/all.db"
[ "$(sql "$db" "SELECT state FROM jobs")" = failed ] || fail "all: not failed"
case "$(sql "$db" "SELECT reason FROM jobs")" in
*" evaluations failed (each tried 2 times): "*"HTTP 400"*"; more than 20% failed"*) ;;
*) fail "all: reason '$(sql "$db" "SELECT reason FROM jobs")'" ;;
esac
expect_contains "$TMP/err" "more than 20% failed"
finish
