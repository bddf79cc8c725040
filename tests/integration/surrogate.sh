#!/bin/sh
# The surrogate filter (PROMST's score predictor) on the simulated model:
# evo and reflect's opro with "surrogate": 0.5 spend fewer target calls
# than without it and still improve on the seed; what it did is told in
# the events, the run's summary and promptctl status; a run killed in the
# middle of a step (as kill -9 would) resumes with the same decisions and
# pays for nothing twice; and the parameters' errors name the field.
. "$(dirname "$0")/lib.sh"

PROMPTD="$top_builddir/promptd"
AUDIT="$top_builddir/tests/unit/check_strategy"
cp "$top_srcdir/examples/arith/problems.csv" "$TMP/"

# job FILE STRATEGY [ROLES]: the arith example with its weak seed alone
# (ROLES: more members of "roles").
job() {
	cat >"$1" <<JOB
{
  "name": "sur",
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
  "backends": { "sim": { "type": "sim", "model": "sim-1", "seed": 2 } },
  "roles": { "target": "sim", "optimizer": "sim"${3:-} },
  "strategy": $2,
  "seed": 2
}
JOB
}

# status_num DB KEY: a number of promptctl status --json (the
# '"KEY":N' of it; "optimizer" gives its replies' total).
status_num() {
	"$PROMPTCTL" -d "$1" status --json sur | tr -d ' \t\n' |
	    sed -n "s/.*\"$2\":{*\"*[a-z]*\"*:*\([0-9][0-9]*\).*/\1/p"
}

# target_calls DB: every paid call that was not the optimizer's (the
# job has no judge).
target_calls() {
	echo $(($(status_num "$1" calls) - $(status_num "$1" optimizer)))
}

# Errors of the parameters, each with its place.
job "$TMP/bad.json" '{ "name": "evo", "surrogate": 0, "surrogate_min": 1,
  "surrogate_audit": 1.5 }'
expect_status 1 "$PROMPTCTL" validate "$TMP/bad.json"
expect_contains "$TMP/err" "bad.json:15:45: strategy.surrogate: 0 is out of range (expected 0.05 to 1)"
expect_contains "$TMP/err" "strategy.surrogate_min: 1 is out of range (expected 2 to 100000)"
expect_contains "$TMP/err" "strategy.surrogate_audit: 1.5 is out of range (expected 0 to 1)"
job "$TMP/bad.json" '{ "name": "reflect", "mode": "opro", "surrogate": "half" }'
expect_status 1 "$PROMPTCTL" validate "$TMP/bad.json"
expect_contains "$TMP/err" "strategy.surrogate: expected a number"
job "$TMP/bad.json" '{ "name": "ape", "surrogate": 0.5 }'
expect_status 1 "$PROMPTCTL" validate "$TMP/bad.json"
expect_contains "$TMP/err" "strategy.surrogate: unknown key"

# compare NAME STRATEGY-MEMBERS: the run without and with the filter.
compare() {
	for s in 1 0.5; do
		job "$TMP/$1.json" "{ $2, \"surrogate\": $s }"
		expect_status 0 "$PROMPTD" -v -d "$TMP/$1-$s.db" --once \
		    "$TMP/$1.json"
		cp "$TMP/out" "$TMP/$1-$s.out"
		cp "$TMP/err" "$TMP/$1-$s.err"
	done
	off=$(target_calls "$TMP/$1-1.db")
	on=$(target_calls "$TMP/$1-0.5.db")
	[ "$on" -lt "$off" ] ||
	    fail "$1: $on target calls with the filter, $off without"
	# The champion beats the seed: "champion: dev X ...; the first
	# seed prompt: dev Y".
	sed -n 's/^champion: dev \([0-9.]*\) .*seed prompt: dev \([0-9.]*\).*/\1 \2/p' \
	    "$TMP/$1-0.5.out" | awk '{ exit !($1 > $2) }' ||
	    { fail "$1: no better than the seed with the filter"
	    sed 's/^/  | /' "$TMP/$1-0.5.out" >&2; }
	expect_contains "$TMP/$1-0.5.err" "surrogate: step 3: of "
	expect_contains "$TMP/$1-0.5.err" "proposals screened out, about"
	grep -q "surrogate" "$TMP/$1-1.err" &&
	    fail "$1: the filter spoke while it was off"
	# Told in the events, the run's summary and promptctl status.
	expect_status 0 "$PROMPTCTL" -d "$TMP/$1-0.5.db" events sur
	expect_contains "$TMP/out" "info  run 1: surrogate: step 3: of"
	expect_contains "$TMP/out" "; surrogate: "
	expect_status 0 "$PROMPTCTL" -d "$TMP/$1-0.5.db" status sur
	expect_contains "$TMP/out" "  surrogate   "
	expect_contains "$TMP/out" "target calls saved"
	expect_status 0 "$PROMPTCTL" -d "$TMP/$1-1.db" status --json sur
	expect_contains "$TMP/out" '"surrogate":	null'
}

compare evo '"name": "evo", "variant": "ga", "population": 8,
  "generations": 5'
compare opro '"name": "reflect", "mode": "opro", "steps": 6'

# resume NAME STRATEGY [ROLES]: killed after 20 answers of its third
# step (the filter at work since the second), resumed: the decisions and
# the calls are those of the uninterrupted run, and none was paid for
# twice.
resume() {
	job "$TMP/$1.json" "$2" "${3:-}"
	expect_status 0 "$PROMPTD" -v -d "$TMP/$1-whole.db" --once \
	    "$TMP/$1.json"
	grep "surrogate: step" "$TMP/err" >"$TMP/$1-whole"
	PROMPTD_KILL_AT=2:20 "$PROMPTD" -v -d "$TMP/$1.db" --once \
	    "$TMP/$1.json" >"$TMP/out1" 2>"$TMP/err1"
	rc=$?
	[ "$rc" -eq 137 ] || fail "$1: the first run was not killed (exit $rc)"
	expect_contains "$TMP/err1" "surrogate: step 3: of "
	expect_status 0 "$PROMPTD" -v -d "$TMP/$1.db" --once "$TMP/$1.json"
	expect_contains "$TMP/err" "resuming run 1 at step 2"
	# The decisions before the kill and after it, as the whole run's.
	cat "$TMP/err1" "$TMP/err" | grep "surrogate: step" |
	    awk '!seen[$0]++' >"$TMP/$1-resumed"
	cmp -s "$TMP/$1-whole" "$TMP/$1-resumed" ||
	    { fail "$1: the resumed run decided otherwise"
	    diff "$TMP/$1-whole" "$TMP/$1-resumed" >&2; }
	[ "$(status_num "$TMP/$1.db" calls)" = \
	    "$(status_num "$TMP/$1-whole.db" calls)" ] ||
	    fail "$1: the resumed run made other calls"
	env STRATEGY_AUDIT_DB="$TMP/$1.db" "$AUDIT" >"$TMP/audit" 2>&1 ||
	    { fail "$1: audit of the resumed run:"
	    sed 's/^/  | /' "$TMP/audit" >&2; }
}

resume evo '{ "name": "evo", "variant": "ga", "population": 6,
  "generations": 4, "surrogate": 0.5, "surrogate_min": 4,
  "surrogate_audit": 0.3 }'
# opro with an embedder role: the prompts' vectors are its, asked for
# again after the kill and answered by the cache.
resume opro '{ "name": "reflect", "mode": "opro", "steps": 5,
  "surrogate": 0.5, "surrogate_min": 4, "surrogate_audit": 0.3 }' \
    ', "embedder": "sim"'
expect_status 0 "$PROMPTCTL" -d "$TMP/opro.db" status sur
expect_contains "$TMP/out" "  surrogate   "

# A reflect mode that scores no new proposal on dev says so.
job "$TMP/gepa.json" '{ "name": "reflect", "mode": "gepa", "steps": 1,
  "surrogate": 0.5 }'
expect_status 0 "$PROMPTD" -d "$TMP/gepa.db" --once "$TMP/gepa.json"
expect_contains "$TMP/err" "reflect mode 'gepa' scores no new proposal on dev as it comes (only opro and pe2 do): \"surrogate\" has no effect"
finish
