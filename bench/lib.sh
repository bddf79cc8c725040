# Shared by the shell benchmarks (sourced, not run): the programs, a work
# directory removed at exit unless kept, the mock model server, and the
# sentiment example rewritten as the job a benchmark runs.
#
# A benchmark sets BENCH (its name, for messages) and keep (1: keep the
# work directory) before bench_init.

top=$(cd "$(dirname "$0")/.." && pwd)
PROMPTD=${PROMPTD:-$top/promptd}
PROMPTCTL=${PROMPTCTL:-$top/promptctl}
MOCK=${MOCK:-$top/tests/mock/mockllm}
EX="$top/examples/sentiment"
W=
MPID=
DPID=

bench_fail() {
	echo "$BENCH: $*" >&2
	exit 1
}

# bench_need PROGRAM...: built programs and commands on PATH.
bench_need() {
	for f in "$@"; do
		case $f in
		/*) [ -x "$f" ] || bench_fail "$f: not built (make check)" ;;
		*) command -v "$f" >/dev/null 2>&1 || bench_fail "$f not found" ;;
		esac
	done
}

bench_cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null
	if [ "$keep" -eq 1 ]; then
		echo "work directory: $W"
	else
		rm -rf "$W"
	fi
}

# bench_init: the work directory ($W), with the example's dataset in it.
bench_init() {
	W=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH.XXXXXX")
	trap bench_cleanup EXIT
	cp "$EX/reviews.jsonl" "$W/"
}

# bench_mock SCRIPT_JSON: starts the mock answering from the example's
# simulated world with the script's rules; sets URL (no path).
bench_mock() {
	printf '%s\n' "$1" >"$W/mock.json"
	"$MOCK" -P "$W/port" -w "$EX/job.json" -s "$W/mock.json" -i 0 \
	    -t 86400 2>"$W/mock.err" &
	MPID=$!
	n=0
	while [ ! -s "$W/port" ]; do
		n=$((n + 1))
		[ "$n" -gt 100 ] && bench_fail "the mock did not start"
		sleep 0.1
	done
	URL="http://127.0.0.1:$(cat "$W/port")"
}

# bench_job NAME BACKENDS ROLES STRATEGY BUDGET SEED: the sentiment example
# as $W/NAME.json with those objects' contents (JSON members, no braces;
# no backends at all when BACKENDS is empty: the configuration's).
bench_job() {
	b=
	[ -n "$2" ] && b="\"backends\": { $(bench_sed "$2") }, "
	sed -e "s/\"name\": \"sentiment\"/\"name\": \"$1\"/" \
	    -e '/"backends": {/,/^  },/d' \
	    -e "s/\"roles\": {[^}]*}/$b\"roles\": { $(bench_sed "$3") }/" \
	    -e "s/\"strategy\": {[^}]*}/\"strategy\": { $(bench_sed "$4") }/" \
	    -e "s/\"budget\": {[^}]*}/\"budget\": { $(bench_sed "$5") }/" \
	    -e "s/\"seed\": [0-9]*\$/\"seed\": $6/" \
	    "$EX/job.json" >"$W/$1.json"
}

# A text as a sed replacement: one line, & and / escaped.
bench_sed() {
	printf '%s' "$1" | tr '\n' ' ' | sed 's/[&/]/\\&/g'
}

# bench_sql DB SQL
bench_sql() {
	sqlite3 -batch -noheader -separator ' ' "$1" "$2"
}
