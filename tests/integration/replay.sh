#!/bin/sh
# Exact replay: a run killed (as kill -9 would, at a chosen answer:
# PROMPTD_KILL_AT=STEP:N) in its first step, in a later one, or in both,
# and resumed, asks for exactly the requests an uninterrupted run asks
# for, pays for none of them twice, stores no evaluation twice, counts
# its budget from its calls, and ends with the same champion.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"
cat >"$TMP/job.json" <<'JOB'
{
  "name": "replay",
  "description": "Classify the sentiment of a movie review as positive or negative.",
  "task": {
    "dataset": "reviews.jsonl",
    "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "punctuation"] },
    "splits": { "train": 0.3, "dev": 0.4, "test": 0.3, "seed": 5 }
  },
  "seed_prompts": ["Say something about the text.", "Classify the review."],
  "backends": { "sim": { "type": "sim", "model": "s" } },
  "roles": { "target": "sim", "optimizer": "sim" },
  "strategy": { "name": "evo", "variant": "ga", "population": 4,
                "generations": 3 },
  "budget": { "max_calls": 5000 },
  "seed": 3
}
JOB

# facts DB: what must not depend on where the run was killed.
facts() {
	sql "$1" "SELECT DISTINCT cache_key FROM calls ORDER BY 1" >"$1.keys"
	sql "$1" "SELECT count(*) FROM evaluations;
	    SELECT calls, tokens FROM runs;
	    SELECT c.text FROM champions h JOIN candidates c
	    ON c.id = h.candidate_id;
	    SELECT count(*) FROM lineage" >"$1.facts"
}

expect_status 0 "$PROMPTD" -d "$TMP/base.db" --once "$TMP/job.json"
facts "$TMP/base.db"
[ "$(wc -l <"$TMP/base.db.keys")" -gt 100 ] || fail "the base run asked little"

# kills NAME AT...: kills a run at each place in turn, then finishes it.
kills() {
	db="$TMP/$1.db"
	shift
	for at in "$@"; do
		PROMPTD_KILL_AT=$at "$PROMPTD" -d "$db" --once "$TMP/job.json" \
		    >"$TMP/out" 2>"$TMP/err"
		rc=$?
		[ "$rc" -eq 137 ] || { fail "$at: exit $rc, not killed"; return; }
		expect_contains "$TMP/err" "killed at answer"
	done
	expect_status 0 "$PROMPTD" -v -d "$db" --once "$TMP/job.json"
	expect_contains "$TMP/err" "resuming run 1 at step"
	facts "$db"
	cmp -s "$TMP/base.db.keys" "$db.keys" || {
		fail "$*: the requests differ from an uninterrupted run's"
		diff "$TMP/base.db.keys" "$db.keys" | head -n 10 >&2
	}
	cmp -s "$TMP/base.db.facts" "$db.facts" || {
		fail "$*: evaluations, spend, champion or lineage differ"
		diff "$TMP/base.db.facts" "$db.facts" >&2
	}
	[ "$(sql "$db" "SELECT count(*) FROM (SELECT cache_key FROM calls
	    WHERE status = 'ok' GROUP BY cache_key HAVING count(*) > 1)")" = 0 ] ||
	    fail "$*: a request was paid for twice"
	[ "$(sql "$db" "SELECT count(*) FROM runs")" = 1 ] ||
	    fail "$*: more than one run"
}

kills step0 0:7
kills step0late 0:60
kills step2 2:15
kills twice 0:30 2:5
kills thrice 0:1 1:40 3:3
finish
