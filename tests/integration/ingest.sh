#!/bin/sh
# Production feedback into a job's database (promptd-feedback(5)):
# promptctl ingest reports each bad line as FILE:LINE, exits 1 and stores
# the good ones; ingesting again, or the same lines reordered and
# respaced, stores nothing new.  A job's "feedback" log is read at every
# run (promptd --once) from where the last run stopped: a half-written
# last line is left for later, a truncated or rotated log is read from
# its start.  User ids are hashed by default (the raw id is nowhere in
# the database) and dropped with "drop"; forget removes every trace of a
# user.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
DB="$TMP/fb.db"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"

# job NAME [FEEDBACK]: a quick APE search on sim, with FEEDBACK (JSON) as
# its "feedback" when given.
job() {
	fb=
	[ $# -gt 1 ] && fb="\"feedback\": $2,"
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task)
  "seed_prompts": [ "Classify the sentiment of the review." ],
  "backends": { "sim": { "type": "sim", "model": "sim-1", "seed": 1 } },
  "roles": { "target": "sim", "optimizer": "sim" },
  "budget": { "max_calls": 2000 },
  "strategy": { "name": "ape", "resample": 1 },
  $fb
  "seed": 1
}
JOB
}

ctl() {
	"$PROMPTCTL" -d "$DB" -S "$TMP/no.sock" "$@"
}

# run NAME: one run of the job, which must end done.
run() {
	expect_status 0 "$PROMPTD" -d "$DB" --once "$TMP/$1.json"
}

# in_db TEXT: whether TEXT is anywhere in the database's files.
in_db() {
	cat "$DB"* | grep -aqF -- "$1"
}

# feedback_events NAME: the job's feedback events, in $TMP/events.
feedback_events() {
	ctl events -n 1000 "$1" | grep 'feedback: ' >"$TMP/events"
}

# No job yet: nothing to ingest into.
job plain
run plain
printf '{"response": "x", "rating": 1}\n' >"$TMP/one.jsonl"
expect_status 1 ctl ingest nosuch "$TMP/one.jsonl"
expect_contains "$TMP/err" "no job 'nosuch'"
expect_status 2 ctl ingest plain

# Good and bad lines.  Line 1 has an id, lines 3 and 7 none: their
# content is their key.
cat >"$TMP/log.jsonl" <<'LOG'
{"id": "r-1", "version": 1, "inputs": {"text": "Loved it."}, "response": "positive", "user": "alice-raw-id-7", "rating": "up"}
not json
{"time": 1772442960, "version": 1, "inputs": {"text": "Meh."}, "response": "alice-secret-answer", "user": "alice-raw-id-7", "edit": "neutral"}
{"response": "positive", "ratng": 5}
{"job": "other", "response": "positive", "rating": 5}
{"version": 99, "response": "positive", "rating": 5}
{"prompt": "Classify the sentiment of the review.", "inputs": {"text": "Hm.", "n": 2}, "response": "negative", "user": "bob-raw-id-8", "critique": "too terse", "signals": {"regenerated": true}}
LOG
expect_status 1 ctl ingest plain "$TMP/log.jsonl"
expect_contains "$TMP/out" "job 'plain': 3 interactions ingested from $TMP/log.jsonl (0 already there, 4 bad lines)"
expect_contains "$TMP/err" "$TMP/log.jsonl:2: "
expect_contains "$TMP/err" "$TMP/log.jsonl:4: ratng: unknown field (did you mean 'rating'?)"
expect_contains "$TMP/err" "$TMP/log.jsonl:5: job: the line is for job 'other', not 'plain'"
expect_contains "$TMP/err" "$TMP/log.jsonl:6: version: job 'plain' has no champion version 99"
[ "$(wc -l <"$TMP/err")" -eq 4 ] || fail "not one message per bad line"
[ "$(sql "$DB" "SELECT count(*) FROM interactions")" = 3 ] ||
    fail "not 3 interactions stored"
# Where each came from, and the candidate that answered: the champion's
# for a version, the seed's for its text.
[ "$(sql "$DB" "SELECT group_concat(line) FROM (SELECT line FROM interactions ORDER BY line)")" = "1,3,7" ] ||
    fail "the lines are not recorded"
[ "$(sql "$DB" "SELECT count(*) FROM interactions i JOIN candidates c ON c.id = i.candidate_id WHERE c.text = 'Classify the sentiment of the review.' AND i.line = 7")" = 1 ] ||
    fail "the prompt's candidate is not recorded"
[ "$(sql "$DB" "SELECT count(*) FROM interactions i JOIN champions h ON h.candidate_id = i.candidate_id AND h.version = 1 WHERE i.version = 1")" = 2 ] ||
    fail "the champion's candidate is not recorded"

# Again: all there already, the bad lines still bad.
expect_status 1 ctl ingest plain "$TMP/log.jsonl"
expect_contains "$TMP/out" "job 'plain': 0 interactions ingested from $TMP/log.jsonl (3 already there, 4 bad lines)"
# The good lines reordered, their fields too, respaced: the same.
cat >"$TMP/again.jsonl" <<'LOG'
{ "critique" : "too terse", "signals": {"regenerated": true}, "user": "bob-raw-id-8", "response": "negative", "inputs": {"n": 2.0, "text": "Hm."}, "prompt": "Classify the sentiment of the review." }

{"edit":"neutral","user":"alice-raw-id-7","response":"alice-secret-answer","inputs":{"text":"Meh."},"version":1,"time":1772442960}
{"id": "r-1", "response": "changed", "rating": "down"}
LOG
expect_status 0 ctl ingest plain "$TMP/again.jsonl"
expect_contains "$TMP/out" "job 'plain': 0 interactions ingested from $TMP/again.jsonl (3 already there, 0 bad lines)"
[ -s "$TMP/err" ] && fail "ingest wrote to stderr: $(cat "$TMP/err")"
[ "$(sql "$DB" "SELECT response FROM interactions WHERE key = 'r-1'")" = positive ] ||
    fail "a later line with the same id replaced the first"

# --json: one object, the bad lines in it; a missing file is an error of
# its own, and the others are read all the same.
expect_status 1 ctl ingest --json plain "$TMP/log.jsonl" "$TMP/nope.jsonl"
tr -d ' \t\n' <"$TMP/out" >"$TMP/flat"
expect_contains "$TMP/flat" '"job":"plain","files":[{"file":"'"$TMP"'/log.jsonl","ingested":0,"duplicate":3,"bad":4,"errors":[{"line":2,'
expect_contains "$TMP/flat" '{"line":6,"message":"version:job'"'plain'"'hasnochampionversion99"}'
expect_contains "$TMP/flat" '"file":"'"$TMP"'/nope.jsonl","error":"cannotopen'
[ -s "$TMP/err" ] && fail "ingest --json wrote to stderr: $(cat "$TMP/err")"
if command -v python3 >/dev/null 2>&1; then
	python3 -m json.tool "$TMP/out" >/dev/null 2>&1 || fail "ingest --json: not JSON"
fi

# Users are hashed by default: the same person is one user, and the raw
# ids are nowhere in the database.
[ "$(sql "$DB" "SELECT count(DISTINCT user) || '/' || min(length(user)) FROM interactions")" = "2/64" ] ||
    fail "user ids are not hashed: $(sql "$DB" "SELECT user FROM interactions")"
in_db alice-raw-id-7 && fail "the raw user id is in the database"
in_db alice-secret-answer || fail "the response is not in the database"

# forget: every interaction of alice, her responses gone from the file.
expect_status 0 ctl forget plain --user alice-raw-id-7
expect_contains "$TMP/out" "job 'plain': 2 interactions of that user forgotten"
[ "$(sql "$DB" "SELECT count(*) FROM interactions")" = 1 ] ||
    fail "forget did not delete alice's interactions"
in_db alice-secret-answer && fail "a forgotten response is still in the database file"
expect_status 0 ctl forget --json plain --user alice-raw-id-7
tr -d ' \t\n' <"$TMP/out" | grep -qF '"job":"plain","forgotten":0,"examples":0,"users":"hash"' ||
    { fail "forget --json"; cat "$TMP/out" >&2; }
expect_status 2 ctl forget plain

# A job's own log, read at every run from where the last one stopped.
job follow '"follow.jsonl"'
run follow
feedback_events follow
expect_contains "$TMP/events" "feedback: $TMP/follow.jsonl does not exist yet"
printf '%s\n%s\n%s' '{"id": "f-1", "response": "a", "rating": 1}' \
    '{"id": "f-2", "response": "b", "rating": 2}' \
    '{"id": "f-3", "response": "c", "rat' >"$TMP/follow.jsonl"
run follow
feedback_events follow
expect_contains "$TMP/events" "feedback: 2 interactions ingested from $TMP/follow.jsonl (0 already there, 0 bad lines)"
# The writer finishes its line, then a bad one and a good one.
printf '%s\n%s\n%s\n' 'ing": 3}' 'oops' '{"id": "f-4", "response": "d", "rating": 4}' \
    >>"$TMP/follow.jsonl"
run follow
feedback_events follow
expect_contains "$TMP/events" "feedback: 2 interactions ingested from $TMP/follow.jsonl (0 already there, 1 bad line: first $TMP/follow.jsonl:4: "
[ "$(sql "$DB" "SELECT line FROM interactions WHERE key = 'f-3'")" = 3 ] ||
    fail "the finished line is not line 3"
run follow
feedback_events follow
expect_contains "$TMP/events" "feedback: 0 interactions ingested from $TMP/follow.jsonl (0 already there, 0 bad lines)"
# Truncated and written again: read from the start.
printf '%s\n%s\n' '{"id": "f-1", "response": "a", "rating": 1}' \
    '{"id": "f-5", "response": "e", "rating": 5}' >"$TMP/follow.jsonl"
run follow
feedback_events follow
expect_contains "$TMP/events" "feedback: $TMP/follow.jsonl was rotated or truncated since the last run: read from its start"
expect_contains "$TMP/events" "feedback: 1 interaction ingested from $TMP/follow.jsonl (1 already there, 0 bad lines)"
# Rotated: another file by that name.
mv "$TMP/follow.jsonl" "$TMP/follow.jsonl.1"
printf '%s\n' '{"id": "f-6", "response": "f", "rating": 5}' >"$TMP/follow.jsonl"
run follow
feedback_events follow
[ "$(grep -c 'was rotated or truncated' "$TMP/events")" -eq 2 ] ||
    fail "the rotation is not told"
[ "$(sql "$DB" "SELECT count(*) FROM interactions i JOIN jobs j ON j.id = i.job_id WHERE j.name = 'follow'")" = 6 ] ||
    fail "not 6 interactions in job follow"

# "drop": no user at all, and nothing for forget to find.
printf '%s\n' '{"id": "d-1", "response": "a", "rating": 1, "user": "carol-raw-id-9"}' \
    >"$TMP/drop.jsonl"
job dropped '{ "path": "drop.jsonl", "users": "drop" }'
run dropped
[ "$(sql "$DB" "SELECT count(*) FROM interactions WHERE key = 'd-1' AND user IS NULL")" = 1 ] ||
    fail "a dropped user id was stored"
in_db carol-raw-id-9 && fail "a dropped user id is in the database"
expect_status 0 ctl forget dropped --user carol-raw-id-9
expect_contains "$TMP/out" "the job drops user ids"

# "keep", then forget: no trace of the user left in the table.
job kept '{ "path": "keep.jsonl", "users": "keep" }'
printf '%s\n' '{"id": "k-1", "response": "a", "rating": 1, "user": "dave-raw-id-10"}' \
    >"$TMP/keep.jsonl"
run kept
[ "$(sql "$DB" "SELECT count(*) FROM interactions WHERE user = 'dave-raw-id-10'")" = 1 ] ||
    fail "a kept user id was not stored"
expect_status 0 ctl forget kept --user dave-raw-id-10
expect_contains "$TMP/out" "job 'kept': 1 interaction of that user forgotten"
[ "$(sql "$DB" "SELECT count(*) FROM interactions WHERE user = 'dave-raw-id-10'")" = 0 ] ||
    fail "forget left a kept user's interaction"
in_db dave-raw-id-10 && fail "a forgotten user id is still in the database file"
finish
