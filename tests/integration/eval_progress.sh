#!/bin/sh
# promptctl eval submits every prompt on every example at once, charges
# each prompt's calls to its own row, and its progress line counts
# answers, not submissions: while the mock holds every answer, all the
# requests are in flight at the server and the line says none is
# answered; on a backend limited to 3 requests a minute it never claims
# more answers than calls were made, nor an ETA of 0s before the end.
# --progress draws the line, one line per update, when standard error is
# not a terminal; without it only a terminal gets one.  Each row is
# charged its own prompt's calls, judge calls included.
. "$(dirname "$0")/lib.sh"

need curl
export OPENAI_API_KEY=sk-test-progress

i=0
while [ "$i" -lt 16 ]; do
	echo "{\"text\": \"review $i\", \"label\": \"positive\"}"
	i=$((i + 1))
done >"$TMP/data.jsonl"

# job NAME [EXTRA_BACKEND_KEYS]: $TMP/NAME.json, two prompts on the mock.
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
  "task": { "dataset": "data.jsonl", "input": "{{text}}", "target": "label",
            "metric": "exact",
            "splits": { "train": 0.25, "dev": 0.5, "test": 0.25 } },
  "seed_prompts": [ "Say whether the review is positive.",
                    "Answer positive or negative." ],
  "backends": { "m": { "type": "openai", "model": "mock-1",
                       "base_url": "$URL/v1", "max_in_flight": 64,
                       "price": { "input": 1, "output": 2 } ${2:-} } },
  "roles": { "target": "m" }
}
JOB
}

# wait_for FILE PATTERN: polls (up to 60 s) until a line of FILE matches
# the extended regular expression PATTERN.
wait_for() {
	_n=0
	until grep -Eq -- "$2" "$1"; do
		_n=$((_n + 1))
		if [ "$_n" -gt 600 ]; then
			fail "no line matched '$2' in $1:"
			sed 's/^/  | /' "$1" >&2
			return 1
		fi
		sleep 0.1
	done
}

# honest FILE: every progress line claims no more answers than calls made
# and, before the last answer, a time left other than 0s.
honest() {
	awk -v total="$TOTAL" '/ answered / {
		split($1, a, "/")
		if (a[1] + 0 > $3 + 0)
			{ print "more answered than calls: " $0; bad = 1 }
		if (a[1] + 0 < total && /ETA 0s/)
			{ print "ETA 0s before the end: " $0; bad = 1 }
	} END { exit bad }' "$1" >&2 || fail "dishonest progress in $1"
}

# The held answers: the mock never answers.
cat >"$TMP/hold.script" <<'S'
{ "rules": [ { "path": "/v1/chat/completions", "fault": "timeout" } ] }
S
start_mock hold -s "$TMP/hold.script" || finish
job held
expect_status 0 "$PROMPTCTL" validate --json "$TMP/held.json"
DEV=$(sed -n 's/.*"dev":[[:space:]]*\([0-9]*\).*/\1/p' "$TMP/out")
TOTAL=$((2 * DEV))
[ "$DEV" -gt 2 ] || fail "the dev split has $DEV examples"
"$PROMPTCTL" -d "$TMP/held.db" eval --progress "$TMP/held.json" \
    >"$TMP/held.out" 2>"$TMP/held.err" &
EPID=$!
pids="$pids $EPID"
# Every prompt's requests are out at once (the first line is drawn before
# any is sent).
_n=0
until [ "$(mock_stat in_flight)" = "$TOTAL" ]; do
	_n=$((_n + 1))
	[ "$_n" -gt 600 ] && { fail "never $TOTAL in flight at the server (last $(mock_stat in_flight))"; break; }
	sleep 0.1
done
expect_contains "$TMP/held.err" "  0/$TOTAL answered  0 calls"
wait_for "$TMP/held.err" "^  0/$TOTAL answered  $TOTAL calls"
grep -Eq "^  [1-9][0-9]*/$TOTAL answered" "$TMP/held.err" &&
    fail "answers counted that never came: $(cat "$TMP/held.err")"
kill "$EPID"
wait "$EPID" 2>/dev/null
kill "$MOCK_PID"

# Three requests a minute: three answers, then a wait of 20 s for each.
start_mock slow || finish
job limited ', "requests_per_minute": 3'
"$PROMPTCTL" -d "$TMP/limited.db" eval --progress "$TMP/limited.json" \
    >"$TMP/limited.out" 2>"$TMP/limited.err" &
EPID=$!
pids="$pids $EPID"
wait_for "$TMP/limited.err" "^  3/$TOTAL answered  3 calls"
kill "$EPID"
wait "$EPID" 2>/dev/null
honest "$TMP/limited.err"

# Unlimited: the last line counts every answer, and each row shows the
# calls of its own prompt, which add up to the run's.
job free
expect_status 0 "$PROMPTCTL" -d "$TMP/free.db" eval --progress --json \
    "$TMP/free.json"
honest "$TMP/err"
tail -n 1 "$TMP/err" | grep -q "^  $TOTAL/$TOTAL answered  $TOTAL calls .* ETA 0s" ||
    fail "the last progress line: $(tail -n 1 "$TMP/err")"
calls=$(grep '"calls":' "$TMP/out" | tr -dc '0-9\n' | tr '\n' ' ')
[ "$calls" = "$DEV $DEV " ] || fail "calls by prompt: $calls (wanted $DEV each)"
[ "$(sql "$TMP/free.db" "SELECT calls FROM runs")" = "$TOTAL" ] ||
    fail "the run's calls: $(sql "$TMP/free.db" "SELECT calls FROM runs")"
# A judge metric: each row is charged its judge calls too (one for each
# example with a target call), and the rows add up to the run.
expect_status 0 "$PROMPTCTL" -d "$TMP/judge.db" eval --json \
    "$top_srcdir/examples/rewrite/job.json"
awk '/"n":/ { n += $2; rows++ } /"calls":/ { c += $2 } /"hits":/ { h += $2 }
    END { print rows, n, c, h }' "$TMP/out" | tr -d ',' >"$TMP/sums"
read -r rows n c h <"$TMP/sums"
[ "$rows" -ge 2 ] && [ $((c + h)) -eq $((2 * n)) ] ||
    fail "judge metric: $rows rows, $n scored, $c calls, $h hits"
[ "$(sql "$TMP/judge.db" "SELECT calls || ' ' || hits FROM runs")" = "$c $h" ] ||
    fail "the rows' calls and hits ($c $h) are not the run's: $(sql "$TMP/judge.db" "SELECT calls, hits FROM runs")"
# Without --progress and not on a terminal: no progress line.
expect_status 0 "$PROMPTCTL" -d "$TMP/free.db" eval "$TMP/free.json"
grep -q "answered" "$TMP/err" && fail "a progress line off a terminal"
# On a terminal (script(1) gives one), the line is drawn by itself.
if command -v script >/dev/null 2>&1; then
	script -qec "'$PROMPTCTL' -d '$TMP/tty.db' eval '$TMP/free.json'" \
	    /dev/null >"$TMP/tty" 2>&1 </dev/null
	expect_contains "$TMP/tty" "/$TOTAL answered"
	expect_contains "$TMP/tty" "winning prompt:"
fi

finish
