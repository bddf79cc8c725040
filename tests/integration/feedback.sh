#!/bin/sh
# Human feedback through the daemon: a duel job with feedback "human" on
# the sim backend waits for a person without making model calls (and
# without spinning), promptctl feedback driven by a script on stdin
# answers it (a bad answer is asked again, a skip draws another duel),
# the job finishes, and every answer is stored with the user who gave
# it, when, and the order the responses were shown in; a job cancelled
# while a duel is on the screen ends the stream.  Outside the daemon the
# job fails with a clear message.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"
echo '{}' >"$TMP/promptd.conf"
ME=$(id -un)

cat >"$TMP/h.json" <<'JOB'
{ "name": "h", "description": "Classify the sentiment of a movie review.",
  "task": { "dataset": "reviews.jsonl",
    "input": "Review: {{text}}\nSentiment:", "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "punctuation"] },
    "splits": { "train": 0.2, "dev": 0.5, "test": 0.3, "seed": 7 } },
  "seed_prompts": ["Say something about the text."],
  "backends": { "sim": { "type": "sim", "model": "sim-1" } },
  "roles": { "target": "sim", "optimizer": "sim" },
  "strategy": { "name": "duel", "feedback": "human", "pool": 4,
    "per_ask": 4, "rounds": 3, "init": 2, "steps": 50 } }
JOB

ctl() {
	"$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/d.sock" "$@"
}
q() {
	sqlite3 "$TMP/d.db" "$1"
}
# The job's calls so far, from promptctl status --json.
calls() {
	ctl status --json h | sed -n 's/^[[:space:]]*"calls":[[:space:]]*\([0-9]*\).*/\1/p' |
	    head -n 1
}
# wait_for SQL VALUE: polls the database (up to 30 s) until SQL gives VALUE.
wait_for() {
	n=0
	until [ "$(q "$1" 2>/dev/null)" = "$2" ]; do
		n=$((n + 1))
		[ "$n" -gt 300 ] && { fail "'$1' is not $2 after 30 s"; return 1; }
		sleep 0.1
	done
}
# CPU ticks (user + system) the process has used.
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Outside the daemon human feedback cannot be had.
expect_status 1 "$PROMPTD" -c "$TMP/promptd.conf" -d "$TMP/once.db" \
    --once "$TMP/h.json"
expect_contains "$TMP/err" "feedback 'human' needs the daemon"

"$PROMPTD" -f -c "$TMP/promptd.conf" -S "$TMP/d.sock" -d "$TMP/d.db" \
    2>"$TMP/d.log" &
DPID=$!
pids="$pids $DPID"
n=0
until ctl status >/dev/null 2>&1; do
	n=$((n + 1))
	[ "$n" -gt 300 ] && { fail "promptd did not start"; finish; }
	sleep 0.1
done

expect_status 0 ctl submit "$TMP/h.json"
# The first duel is queued; while nobody answers, no call is made.
wait_for "SELECT count(*) FROM comparisons WHERE winner IS NULL" 1 || finish
c0=$(calls)
[ -n "$c0" ] || fail "no calls count in promptctl status --json"
t0=""
[ -r "/proc/$DPID/stat" ] && t0=$(ticks "$DPID")
sleep 1
c1=$(calls)
[ "$c0" = "$c1" ] || fail "calls went from $c0 to $c1 while the duel waited"
if [ -n "$t0" ]; then
	t1=$(ticks "$DPID")
	# A waiting daemon sleeps in poll: well under half a second of CPU.
	[ $((t1 - t0)) -lt 50 ] || fail "promptd used $((t1 - t0)) ticks while waiting"
fi

# A job that takes no feedback is refused; so is a bad answer.
expect_status 1 ctl feedback nosuchjob
expect_contains "$TMP/err" "no job 'nosuchjob'"

# One bad line (asked again), a skip (another duel is drawn), then
# answers; the script has more lines than the job needs.
printf 'a\nmaybe\ns\nb\nt\na\nb\na\nb\na\n' >"$TMP/answers"
expect_status 0 ctl feedback h <"$TMP/answers"
expect_contains "$TMP/out" "Response A:"
expect_contains "$TMP/out" "Response B:"
expect_contains "$TMP/out" "[a]/[b]/[t]ie/[s]kip/[q]uit: "
expect_contains "$TMP/out" "job 'h': done; 4 answers given"
expect_contains "$TMP/err" "'maybe': answer a, b, t, s or q"
[ "$(q "SELECT state FROM jobs WHERE name = 'h'")" = done ] ||
    fail "job h is not done"

# Three preferences and one skip, each with who, when and the order.
[ "$(q "SELECT count(*) FROM comparisons WHERE winner IN ('a', 'b', 'tie')")" = 3 ] ||
    fail "not 3 preferences stored"
[ "$(q "SELECT count(*) FROM comparisons WHERE winner = 'skip'")" = 1 ] ||
    fail "the skip is not stored"
[ "$(q "SELECT count(*) FROM comparisons WHERE winner IS NULL")" = 0 ] ||
    fail "duels left pending"
[ "$(q "SELECT count(*) FROM comparisons WHERE source = 'human'
    AND who = '$ME' AND answered >= created AND order_shown IN ('ab', 'ba')
    AND input LIKE 'Review: %' AND output_a IS NOT NULL
    AND output_b IS NOT NULL AND example_id IS NOT NULL")" = 4 ] ||
    fail "answers lack who, time, order, input or outputs"
# The first answer was "a" for the response shown first.
first=$(q "SELECT winner || order_shown FROM comparisons ORDER BY id LIMIT 1")
case $first in
aab|bba) ;;
*) fail "the first answer, a, was stored as $first" ;;
esac
[ "$(q "SELECT winner FROM comparisons WHERE id = 4")" = tie ] ||
    fail "the tie is not stored as tie"

# A job that is over: the stream ends at once.
expect_status 0 ctl feedback h </dev/null
expect_contains "$TMP/out" "job 'h': done; 0 answers given"

# A job cancelled while its duel is on the screen ends the stream,
# though no answer comes from the input (a pipe kept open).
sed 's/"name": "h"/"name": "h2"/' "$TMP/h.json" >"$TMP/h2.json"
expect_status 0 ctl submit "$TMP/h2.json"
wait_for "SELECT count(*) FROM comparisons c JOIN jobs j ON j.id = c.job_id
    WHERE j.name = 'h2' AND c.winner IS NULL" 1 || finish
mkfifo "$TMP/in"
exec 3<>"$TMP/in"
ctl feedback h2 <"$TMP/in" >"$TMP/fb2.out" 2>&1 &
FPID=$!
n=0
until grep -qF "[q]uit: " "$TMP/fb2.out"; do
	n=$((n + 1))
	[ "$n" -gt 300 ] && { fail "no duel shown for h2"; break; }
	sleep 0.1
done
expect_status 0 ctl cancel h2
n=0
while kill -0 "$FPID" 2>/dev/null; do
	n=$((n + 1))
	[ "$n" -gt 100 ] && { fail "promptctl feedback did not end"; kill "$FPID"; break; }
	sleep 0.1
done
wait "$FPID" || fail "promptctl feedback h2 exited $?"
exec 3>&-
expect_contains "$TMP/fb2.out" "job 'h2': cancelled; 0 answers given"

kill "$DPID"
wait "$DPID" 2>/dev/null
finish
