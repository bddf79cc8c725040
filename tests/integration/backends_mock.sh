#!/bin/sh
# The HTTP backends against the mock model server: each provider's wire
# format gives the same scores as the in-process simulated model, a second
# run sends nothing, limits hold at the server, faults end in a success
# after retries or a clear recorded error, and the API key stays out of
# the database and the output.
. "$(dirname "$0")/lib.sh"

need curl
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
SECRET="sk-test-SECRET-0123456789"
export OPENAI_API_KEY="$SECRET" ANTHROPIC_API_KEY="$SECRET"

# job NAME TYPE BASE_URL [EXTRA_BACKEND_KEYS]: writes $TMP/NAME.json, the
# sentiment task with its target on a backend of TYPE at BASE_URL.
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task)
  "seed_prompts": [
    "Classify the sentiment of the review.",
    "You are an expert film critic. Read the whole review carefully and decide whether it is positive or negative. Answer with only the label."
  ],
  "backends": { "m": { "type": "$2", "model": "mock-1", "base_url": "$3",
                       "retry_base": 0.05, "retry_cap": 0.2 ${4:-} } },
  "roles": { "target": "m" }
}
JOB
}

means() {
	grep '"mean"' "$1" | tr -d ' \t,'
}

# The eval scores 2 prompts on 60 dev examples: 120 items, but only 116
# distinct requests, as the dev split holds two reviews twice and an
# identical request is sent once (coalesced, or answered by the cache).
ITEMS=120 DISTINCT=116

# The in-process simulated model's scores, for comparison.
expect_status 0 "$PROMPTCTL" -d "$TMP/sim.db" eval --json "$EX/job.json"
means "$TMP/out" >"$TMP/sim.means"

start_mock world -w "$EX/job.json" || finish
for t in openai anthropic ollama; do
	case $t in
	openai|anthropic) base="$URL/v1" ;;
	ollama) base="$URL" ;;
	esac
	job "$t" "$t" "$base"
	curl -s -X POST "$URL/mock/reset" >/dev/null
	expect_status 0 "$PROMPTCTL" -d "$TMP/$t.db" eval --json "$TMP/$t.json"
	means "$TMP/out" >"$TMP/$t.means"
	cmp -s "$TMP/sim.means" "$TMP/$t.means" ||
	    fail "$t: scores differ from the simulated model's: $(cat "$TMP/$t.means")"
	first=$(mock_stat requests)
	[ "${first:-0}" -eq $DISTINCT ] ||
	    fail "$t: ${first:-0} requests reached the server, not $DISTINCT"
	# A second run is answered from the cache: nothing reaches the server.
	expect_status 0 "$PROMPTCTL" -d "$TMP/$t.db" eval --json "$TMP/$t.json"
	[ "$(mock_stat requests)" = "$first" ] ||
	    fail "$t: the second run sent $(($(mock_stat requests) - first)) requests"
	grep -q "$SECRET" "$TMP/out" "$TMP/err" && fail "$t: the API key was printed"
done
# The keys were sent (openai and anthropic) but never stored.
curl -s "$URL/mock/stats" >"$TMP/stats"
grep -q '"present":[[:space:]]*false' "$TMP/stats" || fail "ollama sent an API key"
for db in "$TMP"/*.db*; do
	grep -q "$SECRET" "$db" && fail "the API key is in $db"
done
kill "$MOCK_PID"

# Limits: never more in flight than allowed, measured at the server.
cat >"$TMP/slow.script" <<'S'
{ "rules": [ { "path": "/v1/chat/completions", "delay_ms": 40 } ] }
S
start_mock slow -s "$TMP/slow.script" || finish
job limit openai "$URL/v1" ', "max_in_flight": 5'
expect_status 0 "$PROMPTCTL" -d "$TMP/limit.db" eval "$TMP/limit.json"
m=$(mock_stat max_in_flight)
[ "${m:-0}" -eq 5 ] || fail "max_in_flight 5 but the server saw ${m:-0} at once"
c=$(mock_stat connections_accepted)
[ "${c:-99}" -le 5 ] || fail "connections were not reused: $c accepted"
kill "$MOCK_PID"

# Replicas: several base URLs behind one name are used in turn.
start_mock replica1 || finish
url1=$URL
start_mock replica2 || finish
url2=$URL
job replicas openai "$url1/v1" ''
sed -i "s|\"base_url\": \"$url1/v1\"|\"base_url\": [\"$url1/v1\", \"$url2/v1\"]|" "$TMP/replicas.json"
expect_status 0 "$PROMPTCTL" -d "$TMP/replicas.db" eval "$TMP/replicas.json"
for u in "$url1" "$url2"; do
	n=$(curl -s "$u/mock/stats" | sed -n 's/.*"requests":[[:space:]]*\([0-9]*\).*/\1/p')
	[ "${n:-0}" -eq $((DISTINCT / 2)) ] ||
	    fail "replica $u answered ${n:-0} of $DISTINCT requests"
done

# Requests per minute: the bucket holds a minute's worth (106 requests),
# then refills at 106/60 a second, so the last 10 of 116 take over 5 s.
start_mock rpm || finish
job rpm openai "$URL/v1" ', "requests_per_minute": 106'
t0=$(date +%s)
expect_status 0 "$PROMPTCTL" -d "$TMP/rpm.db" eval "$TMP/rpm.json"
t1=$(date +%s)
[ $((t1 - t0)) -ge 4 ] ||
    fail "requests_per_minute 106: $DISTINCT requests took only $((t1 - t0)) s"
kill "$MOCK_PID"

# Retries.  429 with Retry-After: the wait is honoured.
cat >"$TMP/retry.script" <<'S'
{ "rules": [
  { "path": "/v1/chat/completions", "times": 2, "fault": "retry_after=1" },
  { "path": "/v1/chat/completions", "match": "whole review", "times": 3, "fault": "status=503" },
  { "path": "/v1/chat/completions", "match": "wasted", "times": 1, "fault": "reset" },
  { "path": "/v1/chat/completions", "match": "smiling", "times": 1, "fault": "truncate" },
  { "path": "/v1/chat/completions", "match": "tedious", "times": 1, "fault": "malformed" },
  { "path": "/v1/chat/completions", "match": "cheering", "times": 1, "fault": "timeout" },
  { "path": "/v1/chat/completions", "match": "tender", "times": 1, "fault": "oversize=1" },
  { "path": "/v1/chat/completions", "match": "cash grab", "times": 1, "fault": "empty" }
] }
S
start_mock retry -s "$TMP/retry.script" -w "$EX/job.json" || finish
job retry openai "$URL/v1" ', "max_in_flight": 2, "timeout": 2, "max_response_bytes": 65536'
t0=$(date +%s)
expect_status 0 "$PROMPTCTL" -d "$TMP/retry.db" eval --json "$TMP/retry.json"
t1=$(date +%s)
[ $((t1 - t0)) -ge 1 ] || fail "Retry-After: 1 was not waited for"
means "$TMP/out" >"$TMP/retry.means"
cmp -s "$TMP/sim.means" "$TMP/retry.means" ||
    fail "faults changed the scores: $(cat "$TMP/retry.means")"
grep -q '"failed":[[:space:]]*[1-9]' "$TMP/out" && fail "faults lost scores"
kill "$MOCK_PID"

# Errors that are not worth retrying fail at once, with the server's words.
cat >"$TMP/deny.script" <<'S'
{ "rules": [ { "path": "/v1/messages", "status": 400 } ] }
S
start_mock deny -s "$TMP/deny.script" || finish
job deny anthropic "$URL/v1"
expect_status 1 "$PROMPTCTL" -d "$TMP/deny.db" eval "$TMP/deny.json"
expect_contains "$TMP/out" "not scored: anthropic: HTTP 400: invalid_request_error"
[ "$(mock_stat requests)" = "$DISTINCT" ] ||
    fail "a 400 was retried: $(mock_stat requests) requests for $ITEMS items"
kill "$MOCK_PID"

# A server that keeps failing: the retries run out and the error is kept.
cat >"$TMP/down.script" <<'S'
{ "rules": [ { "path": "/api/chat", "status": 503 } ] }
S
start_mock down -s "$TMP/down.script" || finish
job down ollama "$URL" ', "max_retries": 2'
expect_status 1 "$PROMPTCTL" -d "$TMP/down.db" eval "$TMP/down.json"
expect_contains "$TMP/out" "not scored: ollama: HTTP 503"
[ "$(mock_stat requests)" = "$((3 * DISTINCT))" ] ||
    fail "expected 3 attempts per request, the server saw $(mock_stat requests)"
kill "$MOCK_PID"

# Nothing listening: connection refused is retried, then reported.
job refused openai "http://127.0.0.1:9/v1" ', "max_retries": 1'
expect_status 1 "$PROMPTCTL" -d "$TMP/refused.db" eval "$TMP/refused.json"
expect_contains "$TMP/out" "not scored: backend 'm' is down after"

finish
