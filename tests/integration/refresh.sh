#!/bin/sh
# Refreshes as cron asks for them: a refresh while a run is under way
# says so and exits 0 (cron has no error to mail); a cancelled job stays
# cancelled (refresh is an error, its schedule is over); a schedule that
# can never fire is refused; status shows the next refresh.
. "$(dirname "$0")/lib.sh"

need curl
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
export OPENAI_API_KEY=sk-test-refresh

# Every model request hangs: the run stays under way as long as needed.
cat >"$TMP/hang.json" <<'S'
{ "rules": [ { "path": "/v1/chat/completions", "fault": "timeout" } ] }
S
start_mock hang -s "$TMP/hang.json" || finish
cat >"$TMP/promptd.conf" <<CONF
{ "backends": { "m": { "type": "openai", "base_url": "$URL/v1",
                       "model": "mock-1", "timeout": 3600 } } }
CONF

# job NAME SCHEDULE
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task)
  "seed_prompts": [ "Classify the sentiment of the review." ],
  "roles": { "target": "m", "optimizer": "m" },
  "strategy": { "name": "evo", "population": 2, "generations": 1 },
  "schedule": "$2"
}
JOB
}

ctl() {
	"$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/r.sock" "$@"
}

# A schedule that never fires is an error, with its field.
job never "0 3 31 2 *"
expect_status 1 "$PROMPTCTL" validate "$TMP/never.json"
expect_contains "$TMP/err" "schedule: it never fires: no month it names has day 31"

job nightly "15 3 * * *"
start_daemon r "$TMP/promptd.conf" || finish
expect_status 0 ctl submit "$TMP/nightly.json"
wait_status "$TMP/r.sock" nightly "running"

# Under way: no refresh started, and no error.
expect_status 0 ctl refresh nightly
expect_contains "$TMP/out" "job 'nightly' is running (optimize run 1): no refresh started"
expect_status 0 ctl refresh --json nightly
tr -d ' \t\n' <"$TMP/out" | grep -q '"started":false' ||
    fail "refresh --json: no \"started\": false"

# The status names the next refresh.
expect_status 0 ctl status nightly
expect_contains "$TMP/out" "15 3 * * *, next refresh "
expect_status 0 ctl status --json nightly
expect_contains "$TMP/out" '"next_refresh":'

# Cancelled for good: refresh is an error and the schedule is over.
expect_status 0 ctl cancel nightly
expect_status 1 ctl refresh nightly
expect_contains "$TMP/err" "job 'nightly' was cancelled, for good: submit its file again to start it anew"
expect_status 0 ctl status --json nightly
grep -q '"next_refresh"' "$TMP/out" && fail "a cancelled job has a next refresh"
expect_status 0 ctl list
expect_contains "$TMP/out" "cancelled"
finish
