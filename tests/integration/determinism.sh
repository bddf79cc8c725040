#!/bin/sh
# A search does not depend on the order its answers arrive in: each
# strategy run once against a mock that answers one request at a time, in
# the order asked, and once with 16 in flight against a mock that delays
# each answer by a random 0-40 ms (seeded, so the shuffle is the same each
# time), must add the same candidates in the same order, with the same
# lineage, scores and comparisons, pay the same calls per role and choose
# the same champion.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
export OPENAI_API_KEY="sk-test-order"

start_mock ordered -w "$EX/job.json" || finish
ORDERED=$URL
cat >"$TMP/shuffle.json" <<'S'
{ "seed": 11,
  "rules": [ { "path": "/v1/chat/completions", "jitter_ms": 40 } ] }
S
start_mock shuffled -w "$EX/job.json" -s "$TMP/shuffle.json" || finish
SHUFFLED=$URL

# job NAME URL MAX_IN_FLIGHT STRATEGY: a short search, every role on one
# backend.
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task 0.3 0.4 0.3)
  "seed_prompts": [ "Classify the sentiment of the review.",
                    "Say something about the text.",
                    "Is this review positive or negative?" ],
  "backends": { "m": { "type": "openai", "base_url": "$2/v1",
                       "model": "mock-1", "max_in_flight": $3 } },
  "roles": { "target": "m", "optimizer": "m", "judge": "m" },
  "strategy": { $4, "block": 6 },
  "budget": { "max_calls": 20000 },
  "seed": 5
}
JOB
}

# facts DB: what the search did, without times or the server's address.
facts() {
	sqlite3 -batch -noheader -bail "$1" "SELECT id, origin, text FROM candidates ORDER BY id;
	    SELECT child, parent, operator, note FROM lineage
	    ORDER BY child, parent;
	    SELECT role, count(*) FROM calls WHERE status = 'ok'
	    GROUP BY role ORDER BY role;
	    SELECT candidate_id, example_id, score FROM evaluations
	    ORDER BY candidate_id, example_id, id;
	    SELECT a, b, example_id, winner FROM comparisons ORDER BY 1, 2, 3, 4;
	    SELECT c.text FROM champions h JOIN candidates c
	    ON c.id = h.candidate_id" >"$1.facts" 2>"$1.sqlerr" ||
	    fail "$1: $(cat "$1.sqlerr")"
}

# compare NAME STRATEGY: the strategy run both ways.
compare() {
	job "$1-ordered" "$ORDERED" 1 "$2"
	job "$1-shuffled" "$SHUFFLED" 16 "$2"
	for way in ordered shuffled; do
		expect_status 0 "$PROMPTD" -d "$TMP/$1-$way.db" --once \
		    "$TMP/$1-$way.json"
		facts "$TMP/$1-$way.db"
	done
	if ! grep -q . "$TMP/$1-ordered.db.facts"; then
		fail "$1: the ordered run stored nothing"
	elif ! cmp -s "$TMP/$1-ordered.db.facts" "$TMP/$1-shuffled.db.facts"
	then
		fail "$1: answers in another order gave another search"
		diff "$TMP/$1-ordered.db.facts" "$TMP/$1-shuffled.db.facts" |
		    head -n 20 | sed 's/^/  | /' >&2
	fi
}

compare ape '"name": "ape", "pool": 8, "per_ask": 4'
compare ga '"name": "evo", "variant": "ga", "population": 4, "generations": 2'
compare de '"name": "evo", "variant": "de", "population": 4, "generations": 2'
compare protegi '"name": "reflect", "mode": "protegi", "steps": 2, "beam": 2'
compare gepa '"name": "reflect", "mode": "gepa", "steps": 3'
compare opro '"name": "reflect", "mode": "opro", "steps": 2'
compare spo '"name": "reflect", "mode": "spo", "steps": 2'
compare pe2 '"name": "reflect", "mode": "pe2", "steps": 3'
compare mcts '"name": "mcts", "iterations": 3, "depth": 4'
compare duel '"name": "duel", "pool": 6, "rounds": 4, "steps": 50, "ensemble": 2'
compare random '"name": "random", "per_step": 6, "steps": 3'
compare prune '"name": "prune", "population": 4, "generations": 3, "demos": 1'
finish
