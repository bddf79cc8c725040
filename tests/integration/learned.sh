#!/bin/sh
# The learned metric (issue 18) on the simulated model: a job with no
# labels, only review texts, and a log of people's ratings of answers like
# its own: terse labels rated up, chatty ones down.  With too few ratings
# the run is refused with what to do; with enough, the run's events say
# what the model learned and the terse seed prompt wins on it; a run
# killed and resumed after more feedback came learns from what its start
# saw, and so says the same; promptctl eval learns from the store.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
src=$REVIEWS
cp "$src" "$TMP/truth.jsonl"
# The job's examples: the reviews without their labels.
sed 's/^{"id": [0-9]*, /{/; s/, "label": "[a-z]*"//' "$src" | head -30 \
    >"$TMP/inputs.jsonl"
# A rating a line: odd reviews answered tersely (up), even ones chattily.
awk -F'"' 'NR <= 60 {
	if (NR % 2)
		printf "{\"time\":%d,\"inputs\":{\"text\":\"%s\"}," \
		    "\"response\":\"%s\",\"rating\":\"up\"}\n",
		    1767225600 + NR, $6, $10
	else
		printf "{\"time\":%d,\"inputs\":{\"text\":\"%s\"}," \
		    "\"response\":\"I would say it is %s, because that fits " \
		    "the text best.\",\"rating\":\"down\"}\n",
		    1767225600 + NR, $6, $10
}' "$src" >"$TMP/all.jsonl"

cat >"$TMP/job.json" <<'JOB'
{
  "name": "learn",
  "task": {
    "dataset": "inputs.jsonl",
    "input": "Review: {{text}}\nSentiment:",
    "metric": { "type": "learned" },
    "splits": { "train": 0.2, "dev": 0.6, "test": 0.2, "seed": 7 }
  },
  "feedback": { "path": "log.jsonl", "examples": "off" },
  "seed_prompts": [
    "Classify the sentiment of the review.",
    "Read the review and decide whether it is positive or negative. Answer with only the label."
  ],
  "backends": {
    "sim": { "type": "sim", "model": "sim-1", "seed": 1, "knowledge": "truth.jsonl" }
  },
  "roles": { "target": "sim", "optimizer": "sim" },
  "strategy": { "name": "evo", "variant": "ga", "population": 4, "generations": 2 },
  "budget": { "max_calls": 2000 },
  "seed": 1
}
JOB
printf '{}\n' >"$TMP/promptd.conf"
learned() {
	sqlite3 "$1" "SELECT run_id, message FROM events
	    WHERE message LIKE 'learned metric:%' ORDER BY id"
}

# No target is needed.
expect_status 0 "$PROMPTCTL" -c "$TMP/promptd.conf" validate "$TMP/job.json"
expect_contains "$TMP/out" "metric    learned (no target field)"

# Seven ratings: refused, with what to do, and no run left open.
head -7 "$TMP/all.jsonl" >"$TMP/log.jsonl"
expect_status 1 "$PROMPTD" -d "$TMP/a.db" --once "$TMP/job.json"
expect_contains "$TMP/err" "learned metric: 7 rated interactions, need 20"
[ "$(sqlite3 "$TMP/a.db" "SELECT count(*) FROM runs")" = 0 ] ||
    fail "a refused run was created"

# Forty: it learns, reports, and the terse prompt wins.
head -40 "$TMP/all.jsonl" >"$TMP/log.jsonl"
expect_status 0 "$PROMPTD" -d "$TMP/a.db" --once "$TMP/job.json"
expect_contains "$TMP/out" "Answer with only the label."
learned "$TMP/a.db" >"$TMP/events"
expect_contains "$TMP/events" "1|learned metric: 40 ratings, 0 preferences, 0 implicit signals"
expect_contains "$TMP/events" "; agreement on 16 held-out pairs: 1.00"

# eval learns from the store, and says so out of the way of its table.
expect_status 0 "$PROMPTCTL" -c "$TMP/promptd.conf" -d "$TMP/a.db" eval \
    "$TMP/job.json"
expect_contains "$TMP/err" "job 'learn': learned metric: 40 ratings"

# Killed in its second step; twenty more ratings come; the resumed run
# reads them but learns from the forty its start saw.
head -40 "$TMP/all.jsonl" >"$TMP/log.jsonl"
PROMPTD_KILL_AT=1:5 "$PROMPTD" -d "$TMP/b.db" --once "$TMP/job.json" \
    >/dev/null 2>&1
[ "$(sqlite3 "$TMP/b.db" "SELECT status FROM runs")" = running ] ||
    fail "the run was not cut short"
cp "$TMP/all.jsonl" "$TMP/log.jsonl"
expect_status 0 "$PROMPTD" -d "$TMP/b.db" --once "$TMP/job.json"
learned "$TMP/b.db" >"$TMP/events"
[ "$(wc -l <"$TMP/events")" -eq 2 ] && [ "$(sort -u "$TMP/events" | wc -l)" -eq 1 ] ||
    { fail "the resumed run learned otherwise:"; cat "$TMP/events" >&2; }
[ "$(sqlite3 "$TMP/b.db" "SELECT count(*) FROM interactions")" = 60 ] ||
    fail "the resumed run did not ingest the new ratings"
# A new run learns from all sixty.
expect_status 0 "$PROMPTD" -d "$TMP/b.db" --once "$TMP/job.json"
learned "$TMP/b.db" >"$TMP/events"
expect_contains "$TMP/events" "2|learned metric: 60 ratings"
finish
