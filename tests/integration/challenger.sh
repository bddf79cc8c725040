#!/bin/sh
# Champion and challenger (issue 18 part 3), on the simulated model: a
# job with no labels puts its weak first seed forward; a handful of its
# answers corrected give dev a single example, on which no candidate can
# beat the champion in the paired test, so the run's best is left as the
# challenger (export.challenger, with its share and sidecar).  Simulated
# users then rate the champion on 80% of the traffic and the challenger
# (its lines name its prompt, users -P) on the rest, after it started;
# the next run ingests the log and promotes the challenger on those
# ratings alone (Welch's t), with the evidence in the history.
. "$(dirname "$0")/lib.sh"

need sqlite3
USERS="$top_builddir/tests/mock/users"
PROMPTD="$top_builddir/promptd"
sim_world_files

# alpha: what dev can never show on one example, production can on 500.
cat >"$TMP/job.json" <<'JOB'
{
  "name": "chal",
  "task": {
    "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "whitespace", "punctuation"] },
    "splits": { "train": 0.2, "dev": 0.6, "test": 0.2, "seed": 7 }
  },
  "feedback": { "path": "log.jsonl", "examples": "edits" },
  "export": { "path": "champion.txt", "sidecar": true,
              "challenger": { "path": "challenger.txt", "share": 0.2 } },
  "alpha": 0.000001,
  "seed_prompts": [
    "Classify the sentiment of the review.",
    "You are an expert film critic. Read the whole review carefully and decide whether it is positive or negative. Answer with only the label."
  ],
  "backends": {
    "sim": { "type": "sim", "model": "sim-1", "seed": 1, "knowledge": "truth.jsonl" }
  },
  "roles": { "target": "sim", "optimizer": "sim" },
  "strategy": { "name": "evo", "variant": "ga", "population": 6, "generations": 3 },
  "budget": { "max_calls": 20000 },
  "seed": 1
}
JOB
printf '{}\n' >"$TMP/promptd.conf"
once() {
	expect_status 0 "$PROMPTD" -c "$TMP/promptd.conf" -d "$TMP/d.db" \
	    --once "$TMP/job.json"
}
# users PROMPT N SEED OPTIONS...: N interactions, appended to the log.
users() {
	_p=$1
	_n=$2
	_s=$3
	shift 3
	expect_status 0 "$USERS" -j "$TMP/job.json" -p "$TMP/$_p" \
	    -i "$TMP/inputs.jsonl" -n "$_n" -s "$_s" -o "$TMP/log.jsonl" "$@"
	sed "s/^/users ($_p): /" "$TMP/out"
}
chal_sql() {
	sql "$TMP/d.db" "$1"
}

# Run 1: no examples; the first seed is the champion.
once
expect_contains "$TMP/champion.txt" "Classify the sentiment of the review."
[ -e "$TMP/challenger.txt" ] && fail "a challenger with no search"

# Three corrected answers: one dev example, too few to beat it on.
users champion.txt 3 7 -V 1 --edit-rate 1
once
[ "$(chal_sql "SELECT count(*) FROM examples WHERE split = 'dev'")" = 1 ] ||
    fail "not one dev example"
[ "$(chal_sql "SELECT max(version) FROM champions")" = 1 ] ||
    fail "promoted on one dev example"
expect_contains "$TMP/challenger.txt" "expert film critic"
expect_contains "$TMP/challenger.txt.json" '"share":	0.2'
expect_contains "$TMP/challenger.txt.json" '"champion_version":	1'
[ "$(chal_sql "SELECT count(*) FROM challengers WHERE ended IS NULL")" = 1 ] ||
    fail "no open challenger"

# Production: 400 answers of the champion, 100 of the challenger, rated
# after the challenger started; no edits, so ratings alone decide.
now=$(($(date +%s) + 1))
users champion.txt 400 11 -V 1 -t "$now" --edit-rate 0
users challenger.txt 100 12 -P -t "$now" --edit-rate 0
grep -q '"prompt":"You are an expert film critic' "$TMP/log.jsonl" ||
    fail "the challenger's lines do not name its prompt"
once
reason=$(chal_sql "SELECT reason FROM champions WHERE version = 2")
echo "v2: $reason"
case $reason in
"production: mean rating "*" over 100 against "*" over 400 for champion 1 (Welch p = "*) ;;
*) fail "v2 was not promoted on production ratings: $reason" ;;
esac
[ -z "$(chal_sql "SELECT paired FROM champions WHERE version = 2")" ] ||
    fail "a production promotion with paired examples"
[ "$(chal_sql "SELECT outcome FROM challengers WHERE id = 1")" = promoted ] ||
    fail "the challenger did not end promoted"
expect_contains "$TMP/champion.txt" "expert film critic"
expect_status 0 "$top_builddir/promptctl" -c "$TMP/promptd.conf" \
    -d "$TMP/d.db" history chal
expect_contains "$TMP/out" "production: mean rating"
events=$(chal_sql "SELECT count(*) FROM events
    WHERE message LIKE 'promoted: challenger%'")
[ "$events" = 1 ] || fail "$events promotion events for the challenger"
finish
