#!/bin/sh
# mipro, instructions and demos searched together, on every example job
# (sim; intent's as it is, the others with a small mipro search): the
# run finishes, its demo sets are bootstrapped from answers the target
# got right (with its own answers) or labeled from the
# dataset, its proposals carry their grounding (tip, demo set, dataset
# summary) in the lineage, and the commands show the demos.  Then a
# daemon killed in a trial resumes the run; and bad parameters are
# refused with their names.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
AUDIT="$top_builddir/tests/unit/check_strategy"
MIPRO='{ "name": "mipro", "instructions": 4, "demo_sets": 5, "demos": 3, "trials": 8, "minibatch": 10, "full_every": 4, "full_top": 2, "bootstrap": 20, "threshold": 0.5, "rounds": 2 }'

# example NAME: the example's job with a small mipro search, in $TMP/NAME.
example() {
	cp -r "$top_srcdir/examples/$1" "$TMP/$1"
	sed "s/\"strategy\": {[^}]*}/\"strategy\": $MIPRO/" \
	    "$top_srcdir/examples/$1/job.json" >"$TMP/$1/job.json"
	grep -q '"mipro"' "$TMP/$1/job.json" || fail "$1: no strategy to set"
}

for ex in sentiment arith rewrite intent feedback; do
	example "$ex"
	db="$TMP/$ex.db"
	expect_status 0 "$PROMPTD" -d "$db" --once "$TMP/$ex/job.json"
	# Three phases and two rounds of trials, the second after its own
	# proposals (intent's own job: one round of 24).
	steps=20
	[ "$ex" = intent ] && steps=27
	expect_contains "$TMP/out" "done after $steps steps"
	# The proposals: stored with their grounding.
	n=$(sql "$db" "SELECT count(*) FROM lineage WHERE operator =
	    'mipro-propose' AND note LIKE 'tip: %; demo set %; dataset summary: %'")
	[ "$n" -ge 1 ] || fail "$ex: no proposal with its grounding"
	sql "$db" "SELECT note FROM lineage WHERE operator = 'mipro-propose'" |
	    grep -q 'dataset summary: none' &&
	    fail "$ex: a proposal without the dataset summary"
	# Trials: combinations of an instruction and a demo set.
	n=$(sql "$db" "SELECT count(DISTINCT child) FROM lineage WHERE
	    operator = 'mipro-combine'")
	[ "$n" -ge 2 ] || fail "$ex: $n combinations tried"
	# A bootstrapped demo is an answer of the first seed that scored 0.5
	# on that example, its own words; any other demo is labeled, the
	# dataset's expected answer (and a task without one has none).
	bad=$(sql "$db" "SELECT count(*) FROM candidate_demos d
	    JOIN examples x ON x.id = d.example_id
	    WHERE x.split != 'train' OR NOT (EXISTS (SELECT 1
	    FROM evaluations e WHERE e.candidate_id = 1
	    AND e.example_id = d.example_id AND e.score >= 0.5
	    AND e.output = d.output) OR d.output = CAST(coalesce(
	    json_extract(x.fields, '\$.label'),
	    json_extract(x.fields, '\$.answer'),
	    json_extract(x.fields, '\$.intent')) AS TEXT))")
	[ "$bad" -eq 0 ] || fail "$ex: $bad demos neither bootstrapped" \
	    "from a right answer nor labeled, or not from train"
	sql "$db" "SELECT count(*) FROM candidate_demos WHERE example_id
	    IS NULL" | grep -qx 0 || fail "$ex: a demo of no example"
	# The run says what bootstrap found.
	sql "$db" "SELECT message FROM events" | grep -q "answers of the first seed right, kept as demos; [0-9]* demo sets" ||
	    fail "$ex: no event of the bootstrap"
done
# The classification and arithmetic tasks have demos of both kinds.
for ex in sentiment arith; do
	n=$(sql "$TMP/$ex.db" "SELECT count(*) FROM candidate_demos")
	[ "$n" -ge 3 ] || fail "$ex: only $n demos stored"
done

# The commands show a candidate's demos.
db="$TMP/sentiment.db"
id=$(sql "$db" "SELECT min(candidate_id) FROM candidate_demos")
k=$(sql "$db" "SELECT count(*) FROM candidate_demos WHERE candidate_id = $id")
expect_status 0 "$PROMPTCTL" -d "$db" lineage "$id"
expect_contains "$TMP/out" "[$k demo"
expect_status 0 "$PROMPTCTL" -d "$db" lineage --json "$id"
expect_contains "$TMP/out" '"demos"'
expect_status 0 "$PROMPTCTL" -d "$db" leaderboard -n 50 -l sentiment
expect_contains "$TMP/out" "demo 1: "
# The champion's export: the demos and their placement (intent's
# champion shows demos, which teach its labels).
expect_status 0 "$PROMPTCTL" -d "$TMP/intent.db" export --json intent
expect_contains "$TMP/out" '"demo_placement":'
expect_contains "$TMP/out" '"turns"'
expect_status 0 "$PROMPTCTL" -d "$TMP/intent.db" export intent
expect_contains "$TMP/err" "demos shown as turns before the input"
# And the report, under each prompt of the leaderboard.
expect_status 0 "$PROMPTCTL" -d "$db" report -o "$TMP/s.html" sentiment
expect_contains "$TMP/s.html" 'shown before the input</summary>'
if command -v tidy >/dev/null 2>&1; then
	tidy -errors -q "$TMP/s.html" >"$TMP/tidy" 2>&1
	[ $? -lt 2 ] || { fail "the report: tidy finds errors:"
	    sed 's/^/  | /' "$TMP/tidy" >&2; }
fi

# A daemon dies in a trial (its fourth step, the first trial) and resumes it: nothing paid
# twice.
cat >"$TMP/promptd.conf" <<CONF
{ "backends": {} }
CONF
export PROMPTD_KILL_AT=3:3
start_daemon d "$TMP/promptd.conf" || finish
unset PROMPTD_KILL_AT
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" submit "$TMP/arith/job.json"
wait "$DPID" 2>/dev/null
rc=$?
[ "$rc" -eq 137 ] || fail "the daemon did not die in the run (exit $rc)"
start_daemon d "$TMP/promptd.conf" || finish
wait_status "$TMP/d.sock" arith done
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" events -n 300 arith
expect_contains "$TMP/out" "resuming run 1 at step 3"
kill "$DPID"
wait "$DPID" 2>/dev/null
env STRATEGY_AUDIT_DB="$TMP/d.db" "$AUDIT" >"$TMP/audit" 2>&1 ||
    { fail "audit of the resumed run:"; sed 's/^/  | /' "$TMP/audit" >&2; }

# Bad parameters are named.
while IFS='|' read -r bad name; do
	sed "s/\"strategy\": {[^}]*}/\"strategy\": { \"name\": \"mipro\", $bad }/" \
	    "$top_srcdir/examples/sentiment/job.json" >"$TMP/sentiment/bad.json"
	expect_status 1 "$PROMPTCTL" validate "$TMP/sentiment/bad.json"
	expect_contains "$TMP/err" "$name"
done <<BAD
"trials": 0|strategy.trials
"minibatch": "ten"|strategy.minibatch
"demos": 33|strategy.demos
"trial": 3|strategy.trial
BAD
finish
