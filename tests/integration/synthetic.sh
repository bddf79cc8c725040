#!/bin/sh
# Synthetic boundary cases (promptd-job(5) "synthetic") on the sim
# backend.  A job with four examples gets new inputs written by the
# simulated optimizer and labeled by the simulated judge with the world's
# truth: they are stored with origin 'synthetic', in train or dev and
# none in test, the run searches on them, and its champion is at least
# as good as the seed on the run's dev examples.  A refresh makes a
# second round against the champion.  A run killed during its round is
# resumed without paying a call twice.  With the "people" labeler, a run
# outside the daemon fails with a clear message, and in the daemon the
# run waits, making no call, until promptctl feedback labels the inputs
# (a label spelled another way is stored as the task spells it, a skip
# is dropped with who skipped it).
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
head -n 4 "$REVIEWS" >"$TMP/tiny.jsonl"
echo '{}' >"$TMP/promptd.conf"
ME=$(id -un)

# job NAME LABELER EXAMPLES: a job on the four reviews.
job() {
	cat <<JOB
{ "name": "$1",
  "description": "Classify the sentiment of a movie review as positive or negative.",
  "task": { "dataset": "tiny.jsonl", "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "whitespace", "punctuation"] },
    "splits": { "train": 0.25, "dev": 0.5, "test": 0.25, "seed": 7 } },
  "seed_prompts": ["Say something about the text."],
  "backends": { "sim": { "type": "sim", "model": "sim-1" } },
  "roles": { "target": "sim", "optimizer": "sim", "judge": "sim" },
  "strategy": { "name": "evo", "variant": "ga", "population": 6, "generations": 3 },
  "synthetic": { "examples": $3, "labeler": "$2", "until": 24 } }
JOB
}
job s judge 10 >"$TMP/s.json"
ctl() {
	"$PROMPTCTL" -c "$TMP/promptd.conf" "$@"
}
once() {
	"$PROMPTD" -c "$TMP/promptd.conf" -d "$1" --once "$2"
}
# dev_mean DB RUN ORIGIN: the mean score, on the run's dev examples, of
# the champion ("champion") or of the seed ("seed").
dev_mean() {
	if [ "$3" = champion ]; then
		cand="(SELECT candidate_id FROM champions ORDER BY version DESC LIMIT 1)"
	else
		cand="(SELECT id FROM candidates WHERE origin = 'seed')"
	fi
	sql "$1" "SELECT avg(e.score) FROM evaluations e JOIN examples x
	    ON x.id = e.example_id JOIN runs r ON r.dataset_id = x.dataset_id
	    WHERE r.id = $2 AND x.split = 'dev' AND e.score IS NOT NULL
	    AND e.candidate_id = $cand"
}

expect_status 0 ctl validate "$TMP/s.json"
expect_contains "$TMP/out" "synthetic 10 inputs a round, labeled by the judge, until 24 train and dev examples"

# The judge labels: a round, stored and searched on.
DB="$TMP/s.db"
expect_status 0 once "$DB" "$TMP/s.json"
[ "$(sql "$DB" "SELECT count(*) FROM synthetic WHERE status = 'labeled'
    AND who = 'sim' AND run_id = 1")" = 10 ] ||
    fail "not 10 synthetic examples labeled by the judge"
[ "$(sql "$DB" "SELECT count(*) FROM runs r JOIN examples x
    ON x.dataset_id = r.dataset_id WHERE r.id = 1
    AND x.origin = 'synthetic'")" = 10 ] ||
    fail "the run's snapshot does not hold the 10 synthetic examples"
[ "$(sql "$DB" "SELECT count(*) FROM examples WHERE origin = 'synthetic'
    AND split NOT IN ('train', 'dev')")" = 0 ] ||
    fail "a synthetic example is in test"
[ "$(sql "$DB" "SELECT count(*) FROM examples x JOIN runs r
    ON r.dataset_id = x.dataset_id WHERE r.id = 1 AND x.split = 'test'")" = 1 ] ||
    fail "the test split is not the file's one example"
# Labeled with the world's truth: the label of the review it varies.
[ "$(sql "$DB" "SELECT count(*) FROM synthetic s WHERE s.label =
    CASE WHEN s.inputs LIKE '%remake rewards%' OR s.inputs LIKE
    '%slow start%' THEN 'positive' ELSE 'negative' END")" = 10 ] ||
    fail "a synthetic example is not labeled with its truth"
sql "$DB" "SELECT message FROM events WHERE run_id = 1" >"$TMP/ev1"
expect_contains "$TMP/ev1" "synthetic: round 1 against the first seed prompt: 10 inputs asked for, 10 written, 10 kept"
expect_contains "$TMP/ev1" "synthetic: 10 labeled by the judge, 0 not;"
champ=$(dev_mean "$DB" 1 champion)
seed=$(dev_mean "$DB" 1 seed)
[ -n "$champ" ] && [ -n "$seed" ] || fail "no dev scores (champion '$champ', seed '$seed')"
awk -v c="$champ" -v s="$seed" 'BEGIN { exit !(c >= s) }' ||
    fail "the champion ($champ) is worse than the seed ($seed) on dev"
grep -q "synthetic.*dev" "$TMP/ev1" || fail "no dev count in the events"

# Killed during its round (after the generation and two labels), then
# resumed: the same calls as a run that was never killed, none twice.
PROMPTD_KILL_AT=0:3 "$PROMPTD" -c "$TMP/promptd.conf" -d "$TMP/k.db" \
    --once "$TMP/s.json" >/dev/null 2>&1
[ "$(sql "$TMP/k.db" "SELECT count(*) FROM synthetic WHERE status = 'pending'")" -gt 0 ] ||
    fail "the kill did not come during the round"
expect_status 0 once "$TMP/k.db" "$TMP/s.json"
expect_status 0 once "$TMP/f.db" "$TMP/s.json"
paid() {
	sql "$1" "SELECT role || ' ' || count(*) FROM calls WHERE status = 'ok'
	    GROUP BY role ORDER BY role"
}
[ "$(paid "$TMP/k.db")" = "$(paid "$TMP/f.db")" ] ||
    fail "the resumed run paid $(paid "$TMP/k.db" | tr '\n' ' ')against $(paid "$TMP/f.db" | tr '\n' ' ')"
[ "$(sql "$TMP/k.db" "SELECT count(*) FROM (SELECT cache_key FROM calls
    WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > 1)")" = 0 ] ||
    fail "a call was paid twice"

# People label: not outside the daemon.
job p people 4 >"$TMP/p.json"
expect_status 1 once "$TMP/once.db" "$TMP/p.json"
expect_contains "$TMP/err" "synthetic.labeler 'people' needs the daemon"
[ "$(sql "$TMP/once.db" "SELECT count(*) FROM calls")" = 0 ] ||
    fail "the run that could not wait paid for calls"

start_daemon d "$TMP/promptd.conf" || finish
dctl() {
	"$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/d.sock" "$@"
}
# wait_for SQL VALUE: polls the daemon's database (up to 30 s) until SQL
# gives VALUE.
wait_for() {
	n=0
	until [ "$(sql "$TMP/d.db" "$1" 2>/dev/null)" = "$2" ]; do
		n=$((n + 1))
		[ "$n" -gt 300 ] && { fail "'$1' is not $2 after 30 s"; return 1; }
		sleep 0.1
	done
}

# A refresh makes a new round against the champion, the first kept.
expect_status 0 dctl submit "$TMP/s.json"
wait_for "SELECT state FROM jobs WHERE name = 's'" done || finish
expect_status 0 dctl refresh s
wait_for "SELECT count(*) FROM runs WHERE kind = 'refresh'
    AND status = 'done'" 1 || finish
sql "$TMP/d.db" "SELECT message FROM events WHERE run_id = 2" >"$TMP/ev2"
expect_contains "$TMP/ev2" "synthetic: 10 labeled examples of earlier rounds"
expect_contains "$TMP/ev2" "synthetic: round 2 against champion version 1: 10 inputs asked for"
[ "$(sql "$TMP/d.db" "SELECT count(*) FROM runs r JOIN examples x
    ON x.dataset_id = r.dataset_id WHERE r.id = 2
    AND x.origin = 'synthetic'")" -gt 10 ] ||
    fail "the refresh does not add its round to the first"

expect_status 0 dctl submit "$TMP/p.json"
wait_status "$TMP/d.sock" p "wait for labels" || finish
expect_contains "$TMP/st" "4 synthetic examples wait for labels: promptctl feedback p"
c0=$(sql "$TMP/d.db" "SELECT max(id) FROM calls")
# One label as the task spells it, one in capitals, an empty line asked
# again, a skip, and one more; the script has more lines than needed.
printf 'positive\nNEGATIVE\n\n:skip\npositive\nnegative\nnegative\n' |
    dctl feedback p >"$TMP/fb" 2>&1 || fail "promptctl feedback p exited $?"
expect_contains "$TMP/fb" "synthetic example"
expect_contains "$TMP/fb" "Input:"
expect_contains "$TMP/fb" "The task's answers:"
expect_contains "$TMP/fb" "label (or :skip, :quit): "
expect_contains "$TMP/fb" "job 'p': done; 4 answers given"
P="(SELECT id FROM jobs WHERE name = 'p')"
[ "$(sql "$TMP/d.db" "SELECT group_concat(coalesce(label, reason), ' ')
    FROM (SELECT * FROM synthetic WHERE job_id = $P ORDER BY id)")" = "positive negative skipped positive" ] ||
    fail "labels stored as $(sql "$TMP/d.db" "SELECT group_concat(coalesce(label, reason), ' ') FROM synthetic WHERE job_id = $P")"
[ "$(sql "$TMP/d.db" "SELECT count(*) FROM synthetic WHERE who = '$ME'
    AND answered >= created AND labeler = 'people'")" = 4 ] ||
    fail "the answers lack who gave them or when"
# While it waited, the run had paid for its generation alone.
[ "$(sql "$TMP/d.db" "SELECT count(*) FROM calls c JOIN runs r
    ON r.id = c.run_id WHERE r.job_id = $P AND c.id <= $c0")" = 1 ] ||
    fail "calls other than the generation were made before the labels"
[ "$(sql "$TMP/d.db" "SELECT count(*) FROM runs r JOIN examples x
    ON x.dataset_id = r.dataset_id WHERE r.job_id = $P
    AND x.origin = 'synthetic'")" = 3 ] ||
    fail "the run does not search on the 3 labeled examples"
sql "$TMP/d.db" "SELECT message FROM events WHERE job_id = $P" >"$TMP/evp"
expect_contains "$TMP/evp" "synthetic: 4 inputs wait for people's labels (promptctl feedback p)"
expect_contains "$TMP/evp" "synthetic: 3 labeled by people, 1 not: 1 skipped;"

kill "$DPID"
wait "$DPID" 2>/dev/null
finish
