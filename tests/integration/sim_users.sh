#!/bin/sh
# Simulated users (tests/mock/users) of a job with no labels of its own,
# whose sim backend knows the truth (its "knowledge" file): a good prompt
# earns more "up" ratings than the weak seed prompt from the same people
# on the same inputs, which is what a refresh can learn from; a seed
# gives the same log byte for byte; every line of it ingests cleanly.
. "$(dirname "$0")/lib.sh"

USERS="$top_builddir/tests/mock/users"
PROMPTD="$top_builddir/promptd"
DB="$TMP/users.db"

# The reviews in three files: the truth the world knows, the inputs
# people bring (with the truth hidden under "label", as users expects)
# and the job's own data, whose labels are all null.
sim_world_files
sed 's/"label": "[a-z]*"/"label": null/' "$REVIEWS" >"$TMP/unlabelled.jsonl"
grep -q '"label": "' "$TMP/unlabelled.jsonl" && fail "labels left in the job's data"

cat >"$TMP/job.json" <<'JOB'
{
  "name": "users",
  "task": {
    "dataset": "unlabelled.jsonl",
    "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "whitespace", "punctuation"] }
  },
  "seed_prompts": [ "Classify the sentiment of the review." ],
  "backends": {
    "sim": { "type": "sim", "model": "sim-1", "seed": 1, "knowledge": "truth.jsonl" }
  },
  "roles": { "target": "sim", "optimizer": "sim" },
  "strategy": { "name": "ape", "resample": 1 },
  "budget": { "max_calls": 2000 },
  "seed": 1
}
JOB
printf 'Classify the sentiment of the review.\n' >"$TMP/weak.txt"
printf '%s\n' "You are an expert film critic. Read the whole review carefully and decide whether it is positive or negative. Answer with only the label." >"$TMP/good.txt"

# users PROMPT LOG [OPTIONS...]: 200 interactions with seed 7.
users() {
	_p=$1
	_l=$2
	shift 2
	expect_status 0 "$USERS" -j "$TMP/job.json" -p "$TMP/$_p.txt" \
	    -i "$TMP/inputs.jsonl" -n 200 -s 7 -o "$TMP/$_l" "$@"
}

ups() {
	grep -c '"rating":"up"' "$TMP/$1"
}

users weak weak.jsonl
expect_contains "$TMP/out" "200 interactions: "
users good good.jsonl
expect_contains "$TMP/out" "200 interactions: "
weak=$(ups weak.jsonl)
good=$(ups good.jsonl)
echo "up ratings over 200 interactions: weak prompt $weak, good prompt $good"
[ "$good" -gt $((weak + 60)) ] ||
    fail "the good prompt got $good up ratings, the weak one $weak"
[ "$(wc -l <"$TMP/good.jsonl")" -eq 200 ] || fail "not 200 lines in good.jsonl"
# The same people on the same inputs: only the answers differ.
sed 's/"response".*//' "$TMP/weak.jsonl" >"$TMP/weak.who"
sed 's/"response".*//' "$TMP/good.jsonl" >"$TMP/good.who"
cmp -s "$TMP/weak.who" "$TMP/good.who" ||
    fail "the two prompts were not given the same inputs and users"
# A wrong answer is edited into the truth, a right one is not edited.
grep '"rating":"down"' "$TMP/weak.jsonl" | grep -q '"edit":"' ||
    fail "no wrong answer was edited"
grep '"rating":"up"' "$TMP/good.jsonl" | grep -q '"edit"' &&
    fail "a right answer was edited"
# The truth never leaks into the inputs.
grep -q '"inputs":{[^}]*"label"' "$TMP/good.jsonl" &&
    fail "the hidden label is among the inputs"

# The same seed, the same log; another seed, another one.
users good again.jsonl
cmp -s "$TMP/good.jsonl" "$TMP/again.jsonl" || fail "seed 7 gave two logs"
expect_status 0 "$USERS" -j "$TMP/job.json" -p "$TMP/good.txt" \
    -i "$TMP/inputs.jsonl" -n 200 -s 8 -o "$TMP/other.jsonl"
cmp -s "$TMP/good.jsonl" "$TMP/other.jsonl" && fail "seeds 7 and 8 gave one log"

# Stars, every wrong answer edited, champion version 1 and 3 users.
users good stars.jsonl --rated --edit-rate 1 -V 1 -u 3
grep -v '"rating":[1-5][,}]' "$TMP/stars.jsonl" | head -n 3 >"$TMP/bad"
[ -s "$TMP/bad" ] && { fail "ratings that are not stars:"; cat "$TMP/bad" >&2; }
grep -v '"version":1,' "$TMP/stars.jsonl" | head -n 3 >"$TMP/bad"
[ -s "$TMP/bad" ] && { fail "lines without version 1:"; cat "$TMP/bad" >&2; }
grep -v '"user":"u[123]"' "$TMP/stars.jsonl" | head -n 3 >"$TMP/bad"
[ -s "$TMP/bad" ] && { fail "users beyond u3:"; cat "$TMP/bad" >&2; }
grep -v '"edit"' "$TMP/stars.jsonl" | grep -q '"rating":[12][,}]' &&
    fail "a wrong answer left unedited at --edit-rate 1"

# Bad uses.
expect_status 2 "$USERS" -j "$TMP/job.json" -p "$TMP/good.txt"
expect_status 2 "$USERS" -j "$TMP/job.json" -p "$TMP/good.txt" \
    -i "$TMP/inputs.jsonl" -n 5 -s 1 -o "$TMP/x.jsonl" --edit-rate 2
sed 's/, "label": "[a-z]*"//' "$TMP/inputs.jsonl" >"$TMP/nolabel.jsonl"
expect_status 1 "$USERS" -j "$TMP/job.json" -p "$TMP/good.txt" \
    -i "$TMP/nolabel.jsonl" -n 5 -s 1 -o "$TMP/x.jsonl"
expect_contains "$TMP/err" "no field 'label'"

# Every line ingests into the job, once it exists.  A line of the weak
# prompt's log that says all a line of the good one's says (a right,
# bare answer) is the same interaction, already there.
expect_status 0 "$PROMPTD" -d "$DB" --once "$TMP/job.json"
ingest() {
	expect_status 0 "$PROMPTCTL" -d "$DB" -S "$TMP/no.sock" ingest users \
	    "$TMP/$1"
	expect_contains "$TMP/out" "job 'users': $2 interactions ingested from $TMP/$1 ($3 already there, 0 bad lines)"
}
ingest good.jsonl 200 0
ingest stars.jsonl 200 0
same=$(grep -cFxf "$TMP/good.jsonl" "$TMP/weak.jsonl")
ingest weak.jsonl $((200 - same)) "$same"

finish
