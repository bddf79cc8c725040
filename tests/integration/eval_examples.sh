#!/bin/sh
# promptctl eval on every bundled example: it completes, stores its run in
# the database given with -d, and a second run is answered from the cache.
. "$(dirname "$0")/lib.sh"

for job in "$top_srcdir"/examples/*/job.json; do
	name=$(basename "$(dirname "$job")")
	db="$TMP/$name.db"
	expect_status 0 "$PROMPTCTL" validate "$job"
	expect_contains "$TMP/out" "is valid"

	expect_status 0 "$PROMPTCTL" -d "$db" eval "$job"
	expect_contains "$TMP/out" "winning prompt:"
	expect_contains "$TMP/out" "database: $db"
	[ -s "$db" ] || fail "$name: no database at $db"

	# The second run pays for nothing: every call is a cache hit.
	expect_status 0 "$PROMPTCTL" -d "$db" eval --json "$job"
	expect_contains "$TMP/out" '"stopped":	null'
	grep -E '"calls":[[:space:]]+[1-9]' "$TMP/out" >/dev/null &&
	    fail "$name: the second run paid for calls"
	grep -E '"hits":[[:space:]]+[1-9]' "$TMP/out" >/dev/null ||
	    fail "$name: the second run had no cache hits"

	# The test split works too.
	expect_status 0 "$PROMPTCTL" -d "$db" eval --split test "$job"
	expect_contains "$TMP/out" "test examples"
done

# Each example optimizes end to end: a champion better than the first seed.
for job in "$top_srcdir"/examples/*/job.json; do
	name=$(basename "$(dirname "$job")")
	expect_status 0 "$top_builddir/promptd" -d "$TMP/once-$name.db" --once "$job"
	expect_contains "$TMP/out" "champion: dev"
	expect_contains "$TMP/out" "database: $TMP/once-$name.db"
	champ=$(sed -n 's/^champion: dev \([0-9.]*\).*/\1/p' "$TMP/out")
	seed=$(sed -n 's/.*the first seed prompt: dev \([0-9.]*\).*/\1/p' "$TMP/out")
	awk -v c="$champ" -v s="$seed" 'BEGIN { exit !(c > s) }' ||
	    fail "$name: champion $champ is not better than the first seed $seed"
done

# The seed prompt with cues beats the plain one on the sentiment example.
expect_status 0 "$PROMPTCTL" -d "$TMP/s.db" eval "$top_srcdir/examples/sentiment/job.json"
expect_contains "$TMP/out" "best: #2"

# Prompts given on the command line replace the seeds.
expect_status 0 "$PROMPTCTL" -d "$TMP/s.db" eval -p "Say something." -p "Answer with only the label: positive or negative." "$top_srcdir/examples/sentiment/job.json"
expect_contains "$TMP/out" "Say something."

# Usage errors exit 2.
expect_status 2 "$PROMPTCTL" eval
expect_status 2 "$PROMPTCTL" eval --split train "$top_srcdir/examples/sentiment/job.json"
expect_status 2 "$PROMPTCTL" nosuchcommand

# A budget that runs out stops the run cleanly with status 1.
sed 's/"max_calls": [0-9]*/"max_calls": 10/' "$top_srcdir/examples/sentiment/job.json" >"$TMP/small.json"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"
expect_status 1 "$PROMPTCTL" -d "$TMP/small.db" eval "$TMP/small.json"
expect_contains "$TMP/err" "max_calls reached"
expect_contains "$TMP/out" "not scored"

finish
