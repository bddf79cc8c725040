#!/bin/sh
# promptctl report on every example and on a duel job, each optimized on
# sim: the page is valid HTML (tidy), and in headless Chromium it loads
# with no console error and no network request, holds every section with
# the expected number of marks (points, nodes, cells), and its screenshot
# is not blank.  Also: the daemon's "report" file on promotion, and the
# command's errors.  Chromium that cannot start is a failure, not a skip.
. "$(dirname "$0")/lib.sh"

need sqlite3
PROMPTD="$top_builddir/promptd"
BROWSERCHECK="$top_builddir/tests/browser/browsercheck"
if ! command -v tidy >/dev/null 2>&1; then
	fail "tidy not installed: apt-get install tidy"
	finish
fi

# valid FILE: tidy finds no error in the page (warnings are printed).
valid() {
	tidy -errors -q "$1" >"$TMP/tidy" 2>&1
	[ $? -lt 2 ] || { fail "$1: tidy finds errors:"; sed 's/^/  | /' \
	    "$TMP/tidy" >&2; }
}

# count DB SQL: one number from the database.
count() {
	sql "$1" "$2"
}

# report NAME DB: writes $TMP/NAME.html and checks it in the browser
# with the expectations that follow (browsercheck's -e arguments).
report() {
	_name=$1
	_db=$2
	shift 2
	expect_status 0 "$PROMPTCTL" -d "$_db" report -o "$TMP/$_name.html" \
	    "$_name"
	expect_contains "$TMP/out" "report written to $TMP/$_name.html"
	valid "$TMP/$_name.html"
	"$BROWSERCHECK" -t 90 -s "$TMP/$_name.png" \
	    -e 'section#summary=1' -e 'section#progress=1' \
	    -e 'section#leaderboard=1' -e 'section#lineage=1' \
	    -e 'section#failures=1' -e 'section#duels=1' \
	    -e 'section#calls=1' -e 'section#history=1' \
	    "$@" "$TMP/$_name.html" >"$TMP/browser" 2>&1 ||
	    { fail "$_name: the browser check failed:"; sed 's/^/  | /' \
	    "$TMP/browser" >&2; }
}

# expectations DB: the marks the page must hold, from the database, as
# browsercheck arguments one a line (the caller splits them at newlines).
expectations() {
	_run=$(count "$1" "SELECT max(id) FROM runs WHERE kind = 'optimize'")
	_scored=$(count "$1" "SELECT count(DISTINCT e.candidate_id)
	    FROM evaluations e JOIN examples x ON x.id = e.example_id
	    WHERE e.run_id = $_run AND x.split = 'dev' AND e.score IS NOT NULL")
	_versions=$(count "$1" "SELECT count(*) FROM champions")
	printf -- '-e\n%s\n' "#progress svg:first-of-type circle.pt=$_scored" \
	    "#history circle.pt=$_versions" \
	    "#history>table>tbody>tr=$_versions"
}

for ex in sentiment arith rewrite feedback; do
	cp -r "$top_srcdir/examples/$ex" "$TMP/$ex"
	name=$(sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p' "$TMP/$ex/job.json" |
	    head -n 1)
	expect_status 0 "$PROMPTD" -d "$TMP/$ex.db" --once "$TMP/$ex/job.json"
	IFS='
'
	# shellcheck disable=SC2046
	report "$name" "$TMP/$ex.db" $(expectations "$TMP/$ex.db") \
	    -e '#leaderboard tbody tr>=2' -e '#lineage g.node>=2' \
	    -e '#failures rect.cell>=20' -e '#calls rect.bar>=1'
	IFS=' 	
'
done

# A duel job: the preference graph and the win matrix.
sed -e 's/"name": "sentiment"/"name": "duel"/' \
    -e 's/"strategy": {[^}]*}/"strategy": { "name": "duel", "pool": 6, "rounds": 4, "steps": 50, "ensemble": 2 }/' \
    "$TMP/sentiment/job.json" >"$TMP/sentiment/duel.json"
expect_status 0 "$PROMPTD" -d "$TMP/duel.db" --once "$TMP/sentiment/duel.json"
pool=$(count "$TMP/duel.db" "SELECT min(12, count(*)) FROM (SELECT a
    FROM comparisons WHERE winner IN ('a', 'b', 'tie') UNION SELECT b
    FROM comparisons WHERE winner IN ('a', 'b', 'tie'))")
[ "$pool" -ge 2 ] || fail "the duel job dueled $pool prompts"
report duel "$TMP/duel.db" -e "#duels g.duel-node=$pool" \
    -e '#duels table>=1'

# The daemon writes the report on a promotion when the job says where.
sed -e 's|"alpha": 0.05,|"alpha": 0.05, "report": "out/sentiment.html",|' \
    "$TMP/sentiment/job.json" >"$TMP/sentiment/with-report.json"
mkdir "$TMP/sentiment/out"
expect_status 0 "$PROMPTD" -d "$TMP/r.db" --once \
    "$TMP/sentiment/with-report.json"
[ -s "$TMP/sentiment/out/sentiment.html" ] ||
    fail "no report written on promotion"
valid "$TMP/sentiment/out/sentiment.html"
# One it cannot write: a warning event, and the run stands.
sed -e 's|"alpha": 0.05,|"alpha": 0.05, "report": "missing/dir/x.html",|' \
    "$TMP/sentiment/job.json" >"$TMP/sentiment/bad-report.json"
expect_status 0 "$PROMPTD" -d "$TMP/b.db" --once \
    "$TMP/sentiment/bad-report.json"
expect_contains "$TMP/err" "report not written: cannot create"
[ "$(count "$TMP/b.db" "SELECT count(*) FROM events WHERE level = 'warn'
    AND message LIKE 'report not written%'")" = 1 ] ||
    fail "no warning event for the report not written"

# With a daemon: promptctl reads the daemon's database (named nowhere
# else), and a job still running gets a snapshot that says so.  Every
# request to this mock hangs, so the run stays under way.
need curl
cat >"$TMP/hang.json" <<'S'
{ "rules": [ { "path": "/v1/chat/completions", "fault": "timeout" } ] }
S
export OPENAI_API_KEY=sk-test-report
start_mock hang -s "$TMP/hang.json" || finish
cat >"$TMP/promptd.conf" <<CONF
{ "backends": { "m": { "type": "openai", "base_url": "$URL/v1",
                       "model": "mock-1", "timeout": 3600 } } }
CONF
cp "$TMP/sentiment/reviews.jsonl" "$TMP/"
cat >"$TMP/hung.json" <<JOB
{
  "name": "hung",
$(sentiment_task)
  "seed_prompts": [ "Classify the sentiment of the review." ],
  "roles": { "target": "m", "optimizer": "m" },
  "strategy": { "name": "evo", "population": 2, "generations": 1 }
}
JOB
start_daemon d "$TMP/promptd.conf" || finish
expect_status 0 "$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/d.sock" \
    submit "$TMP/hung.json"
wait_status "$TMP/d.sock" hung running
expect_status 0 "$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/d.sock" \
    report -o "$TMP/hung.html" hung
expect_contains "$TMP/hung.html" "while the run was under way: a snapshot"
valid "$TMP/hung.html"
expect_status 0 "$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/d.sock" \
    cancel hung
# The daemon writes a job's report when its run promotes a champion.
rm -rf "$TMP/sentiment/out" && mkdir "$TMP/sentiment/out"
expect_status 0 "$PROMPTCTL" -c "$TMP/promptd.conf" -S "$TMP/d.sock" \
    submit "$TMP/sentiment/with-report.json"
wait_status "$TMP/d.sock" sentiment done
[ -s "$TMP/sentiment/out/sentiment.html" ] ||
    fail "the daemon wrote no report on promotion"
valid "$TMP/sentiment/out/sentiment.html"

# Errors: a job or run that is not there, --json without -o.
expect_status 1 "$PROMPTCTL" -d "$TMP/sentiment.db" report sentimant
expect_contains "$TMP/err" "no job 'sentimant'"
expect_status 1 "$PROMPTCTL" -d "$TMP/sentiment.db" report -r 99 sentiment
expect_contains "$TMP/err" "job 'sentiment' has no run 99"
expect_status 2 "$PROMPTCTL" -d "$TMP/sentiment.db" report --json sentiment
expect_contains "$TMP/out" "--json needs -o"
# To the standard output: the same page.
expect_status 0 "$PROMPTCTL" -d "$TMP/sentiment.db" report sentiment
expect_contains "$TMP/out" '<section id="history">'
finish
