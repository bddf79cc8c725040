#!/bin/sh
# A search killed in the middle of a step, over HTTP, resumes from its
# checkpoint and finishes (evo, reflect's pe2, mcts, mipro, and random and
# prune, which need no optimizer), and no paid call is made twice: every cache
# key has exactly one successful call row (checked by check_strategy's
# audit case, since neither sqlite3 nor python can be assumed here).
. "$(dirname "$0")/lib.sh"

PROMPTD="$top_builddir/promptd"
AUDIT="$top_builddir/tests/unit/check_strategy"
export OPENAI_API_KEY="sk-test-resume"
cp "$top_srcdir/examples/arith/problems.csv" "$TMP/"

start_mock world -w "$top_srcdir/examples/arith/job.json" -i 120 || finish

# resume_case NAME STRATEGY [AUDIT_ENV]: the job with that strategy
# object, killed and resumed on database NAME.db, then audited.
resume_case() {
	db="$TMP/$1.db"
	cat >"$TMP/job.json" <<JOB
{
  "name": "resume",
  "description": "Solve short arithmetic word problems.",
  "task": {
    "dataset": "problems.csv",
    "input": "{{prompt}}\n\nQuestion: {{question}}\nAnswer:",
    "target": "answer",
    "metric": { "type": "number", "abs_tol": 0.001,
      "extract": "(?s)(?<answer>-?\\\\\$?[0-9][0-9,]*(?:\\\\.[0-9]+)?)(?!.*[0-9])" },
    "splits": { "train": 0.3, "dev": 0.4, "test": 0.3, "seed": 11 }
  },
  "seed_prompts": ["Answer the question."],
  "backends": { "m": { "type": "openai", "model": "mock-1",
                       "base_url": "$URL/v1", "retry_base": 0.05,
                       "retry_cap": 0.2 } },
  "roles": { "target": "m", "optimizer": "m" },
  "strategy": $2,
  "seed": 2
}
JOB

	# The first run is killed (as kill -9 would) after 20 answers of its
	# third step, once two are checkpointed: PROMPTD_KILL_AT makes the
	# place the same every time, however loaded the machine is.
	PROMPTD_KILL_AT=2:20 "$PROMPTD" -v -d "$db" --once "$TMP/job.json" \
	    >"$TMP/out1" 2>"$TMP/err1"
	rc=$?
	[ "$rc" -eq 137 ] || fail "$1: the first run was not killed (exit $rc)"
	expect_contains "$TMP/err1" "step 2:"
	grep -q "step 3:" "$TMP/err1" &&
	    fail "$1: step 3 was finished before the kill"

	# The second run resumes and finishes.
	expect_status 0 "$PROMPTD" -v -d "$db" --once "$TMP/job.json"
	expect_contains "$TMP/err" "resuming run 1 at step 2"
	expect_contains "$TMP/out" "done after 5 steps"

	# No paid call twice, one run, lineage back to the seed.
	env STRATEGY_AUDIT_DB="$db" ${3:-} "$AUDIT" >"$TMP/audit" 2>&1 ||
	    { fail "$1: audit of the resumed run:"
	    sed 's/^/  | /' "$TMP/audit" >&2; }
}

resume_case evo '{ "name": "evo", "variant": "ga", "population": 6,
                "generations": 4 }'
# pe2, a reflect mode: its edited prompt and scores are in the checkpoint.
resume_case pe2 '{ "name": "reflect", "mode": "pe2", "steps": 5 }'
# mcts: its tree (nodes, rewards, visits, backed-up rewards, paths) and
# its reward minibatch are in the checkpoint.  A large c makes each
# iteration select a node not expanded yet, so that step 3 has calls to
# kill it in (with the paper's 2.5 it may go down a path to its depth
# limit, which costs nothing).
resume_case mcts '{ "name": "mcts", "iterations": 5, "depth": 3,
                "c": 50 }'
# mipro, killed among its proposals (the third step: bootstrap, summary,
# proposals), then two trials; its demo sets are in the checkpoint.
resume_case mipro '{ "name": "mipro", "instructions": 25, "demo_sets": 4,
                  "trials": 2, "minibatch": 10, "bootstrap": 10 }'
# random, which asks no optimizer: its draws are replayed from the cache.
resume_case random '{ "name": "random" }' STRATEGY_AUDIT_NO_OPTIMIZER=1
# prune, the same, with demos to prune (five generations: five steps).
resume_case prune '{ "name": "prune", "generations": 5, "demos": 2 }' \
    STRATEGY_AUDIT_NO_OPTIMIZER=1
finish
