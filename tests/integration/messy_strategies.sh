#!/bin/sh
# Every strategy and mode against the messy model (tests/mock/messy), an
# optimizer and a judge that answer as untidily as real chat models do,
# through bench/messy_strategies.sh (which writes the jobs and prints a
# table).  Each run must finish by itself (done or out of budget, never
# killed), no candidate may carry junk (fences, tags, a markdown label,
# quotes around it, no letter at all), and status must report how many
# replies were usable.  Then an optimizer that never uses tags and a
# judge that never names a winner: every run ends with the reason and
# promotes nothing it did not earn.
. "$(dirname "$0")/lib.sh"

BENCH="$top_srcdir/bench/messy_strategies.sh"
export PROMPTD="$top_builddir/promptd" MESSY="$top_builddir/tests/mock/messy"
export TMPDIR="$TMP"

# bench OUT ARGS...: runs the bench script, keeping its work directory
# in $W; the table goes to OUT.
bench() {
	_out=$1
	shift
	sh "$BENCH" -k -t 300 "$@" >"$_out" 2>"$TMP/bench.err" ||
	    fail "bench/messy_strategies.sh $*: exit $?"
	W=$(sed -n 's/^work directory: //p' "$_out")
	[ -d "$W" ] || fail "no work directory in $_out"
}

# column TABLE NAME FIELD: one field of a strategy's row.
column() {
	awk -v n="$2" -v f="$3" '$1 == n { print $f }' "$1"
}

# sql DB QUERY
NAMES="ape evo-ga evo-de evo-pb reflect-protegi reflect-gepa reflect-opro
reflect-spo mipro mcts duel-prompts duel-responses"

# 1. The messy model at its default rate.
bench "$TMP/table"
for n in $NAMES; do
	db="$W/$n/promptd.db"
	rc=$(column "$TMP/table" "$n" 2)
	run=$(column "$TMP/table" "$n" 4)
	junk=$(column "$TMP/table" "$n" 13)
	case "$rc/$run" in
	0/done|1/exhausted) ;;
	*) fail "$n: exit $rc, run '$run'"; sed 's/^/  | /' "$W/$n/err" >&2 ;;
	esac
	[ "$junk" = 0 ] || {
		fail "$n: $junk junk candidates"
		sql "$db" "SELECT text FROM candidates" | sed 's/^/  | /' >&2
	}
	# Every reply read has its outcome, with its call.
	[ "$(sql "$db" "SELECT count(*) FROM outcomes WHERE call_id IS NULL")" = 0 ] ||
	    fail "$n: outcomes without their call"
	expect_status 0 "$PROMPTCTL" -d "$db" status "messy-$n"
	case $n in
	duel-responses) expect_contains "$TMP/out" "verdicts " ;;
	reflect-spo|duel-prompts)
		expect_contains "$TMP/out" "proposals "
		expect_contains "$TMP/out" "verdicts " ;;
	*) expect_contains "$TMP/out" "proposals " ;;
	esac
	expect_contains "$TMP/out" "replies usable ("
done
# Messy replies were there to be read, and most were read.
total=0
usable=0
for n in $NAMES; do
	t=$(sql "$W/$n/promptd.db" "SELECT count(*) FROM outcomes")
	u=$(sql "$W/$n/promptd.db" "SELECT count(*) FROM outcomes WHERE outcome IN ('usable', 'repaired')")
	total=$((total + t))
	usable=$((usable + u))
done
[ "$total" -gt 100 ] || fail "only $total replies read"
[ $((usable * 10)) -ge $((total * 8)) ] ||
    fail "only $usable of $total replies usable"
echo "messy model: $usable of $total replies usable"
sed 's/^/  /' "$TMP/table"
rm -rf "$W"

# 2. Nothing usable at all.
bench "$TMP/none" -S markdown,none
for n in $NAMES; do
	db="$W/$n/promptd.db"
	reason=$(sql "$db" "SELECT reason FROM jobs")
	state=$(sql "$db" "SELECT state FROM jobs")
	case $n in
	duel-prompts)
		want="failed: strategy 'duel': the pool has 1 prompt; a duel needs two; no usable proposals (" ;;
	duel-responses)
		want="done: no usable verdicts (" ;;
	*)
		want="done: no usable proposals (" ;;
	esac
	case "$state: $reason" in
	"$want"*) ;;
	*) fail "$n: '$state: $reason', wanted '$want...'" ;;
	esac
	# mipro's trials combine the seed with demo sets: no reply in them.
	[ "$(sql "$db" "SELECT count(*) FROM candidates WHERE origin NOT IN ('seed', 'duel-response')
	    AND id NOT IN (SELECT child FROM lineage WHERE operator = 'mipro-combine')")" = 0 ] ||
	    fail "$n: candidates from unusable replies"
	case $n in
	duel-responses) ;;
	*) [ "$(sql "$db" "SELECT count(*) FROM champions")" = 0 ] ||
	    fail "$n: a champion was promoted" ;;
	esac
done
expect_contains "$W/duel-responses/err" "stalled: 20 steps in a row"
expect_contains "$W/evo-ga/err" "optimizer: only 0 of"
finish
