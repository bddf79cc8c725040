#!/bin/sh
# promptd and promptctl together against the mock model server: submit,
# watch to the end, read the results, refresh, export; kill -9 in the
# middle of a run, restart, and check that the run resumed and no paid
# call was made twice; a second daemon is refused; promptctl exits 3
# when no daemon runs.
. "$(dirname "$0")/lib.sh"

need curl
PROMPTD="$top_builddir/promptd"
AUDIT="$top_builddir/tests/unit/check_strategy"
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"

# daemon NAME: starts promptd with $TMP/promptd.conf (see start_daemon);
# a stale socket left by a killed daemon does not count.
daemon() {
	start_daemon "$1" "$TMP/promptd.conf"
}

ctl() {
	"$PROMPTCTL" -c "$TMP/promptd.conf" "$@"
}

# job NAME GENERATIONS: a GA search on the sentiment task.
job() {
	sed -e "s/\"name\": \"sentiment\"/\"name\": \"$1\"/" \
	    -e '/"backends": {/,/^  },/d' \
	    -e 's/"roles": {[^}]*}/"roles": { "target": "m", "optimizer": "m" }/' \
	    -e "s/\"strategy\": {[^}]*}/\"strategy\": { \"name\": \"evo\", \"variant\": \"ga\", \"population\": 6, \"generations\": $2 }/" \
	    -e "s|\"budget\":|\"export\": { \"path\": \"$1.txt\", \"sidecar\": true },\\n  \"budget\":|" \
	    "$EX/job.json" >"$TMP/$1.json"
}

start_mock world -w "$EX/job.json" || finish
cat >"$TMP/promptd.conf" <<CONF
{ "backends": { "m": { "type": "openai", "base_url": "$URL/v1",
                       "model": "mock-1", "max_in_flight": 8,
                       "retry_base": 0.05, "api_key_env": "NO_SUCH_KEY" } } }
CONF

# No daemon yet: commands that need one exit 3.
job j1 3
expect_status 3 ctl -S "$TMP/a.sock" submit "$TMP/j1.json"
expect_contains "$TMP/err" "daemon not running"

daemon a
apid=$DPID
expect_status 0 ctl -S "$TMP/a.sock" submit "$TMP/j1.json"
expect_status 0 ctl -S "$TMP/a.sock" watch j1
expect_contains "$TMP/out" "done"
expect_status 0 ctl -S "$TMP/a.sock" list
expect_contains "$TMP/out" "j1"
expect_status 0 ctl -S "$TMP/a.sock" best j1
cp "$TMP/out" "$TMP/best"
cmp -s "$TMP/best" "$TMP/j1.txt" || fail "the exported champion is not 'best'"
expect_contains "$TMP/j1.txt.json" '"version":'
expect_status 0 ctl -S "$TMP/a.sock" history j1
expect_contains "$TMP/out" "1"
expect_status 0 ctl -S "$TMP/a.sock" leaderboard j1
expect_status 0 ctl -S "$TMP/a.sock" status
# A refresh runs and ends; the champion stays unless beaten significantly.
expect_status 0 ctl -S "$TMP/a.sock" refresh j1
# Stored events (the first run's, replayed, and the refresh's) say what
# they said then; only progress events carry the job's calls.
expect_status 0 ctl -S "$TMP/a.sock" watch --json j1
grep -q '"level":"info"' "$TMP/out" || fail "watch --json sent no event"
grep '"level":"info"' "$TMP/out" | grep -q '"calls"' &&
    fail "a stored event carries the job's calls"
expect_status 0 ctl -S "$TMP/a.sock" events j1
expect_contains "$TMP/out" "refresh: the dataset is unchanged"

# A second daemon on the same socket or database is refused.
expect_status 1 "$PROMPTD" -f -c "$TMP/promptd.conf" -S "$TMP/a.sock" -d "$TMP/other.db"
expect_status 1 "$PROMPTD" -f -c "$TMP/promptd.conf" -S "$TMP/other.sock" -d "$TMP/a.db"
kill "$apid"
wait "$apid" 2>/dev/null

# The daemon dies in the middle of a run, as kill -9 would end it (after
# 20 answers of the run's third step: PROMPTD_KILL_AT makes the place
# the same however loaded the machine is), then a restart resumes it.
job j2 4
curl -s -X POST "$URL/mock/reset" >/dev/null
export PROMPTD_KILL_AT=2:20
daemon b
unset PROMPTD_KILL_AT
expect_status 0 ctl -S "$TMP/b.sock" submit "$TMP/j2.json"
wait "$DPID" 2>/dev/null
rc=$?
[ "$rc" -eq 137 ] || fail "the daemon did not die in the run (exit $rc)"
daemon b
expect_status 0 ctl -S "$TMP/b.sock" watch j2
expect_contains "$TMP/out" "done"
expect_status 0 ctl -S "$TMP/b.sock" events -n 200 j2
expect_contains "$TMP/out" "resuming run"
kill "$DPID"
wait "$DPID" 2>/dev/null
# Every request was paid once: one run, one 'ok' call per cache key.
STRATEGY_AUDIT_DB="$TMP/b.db" "$AUDIT" >"$TMP/audit" 2>&1 ||
    { fail "audit of the resumed run:"; sed 's/^/  | /' "$TMP/audit" >&2; }

finish
