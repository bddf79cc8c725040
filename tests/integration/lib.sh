# Shared by the integration tests: where things are, a private temporary
# directory removed on exit, and small assertions.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PROMPTCTL="$top_builddir/promptctl"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/promptd-it.XXXXXX")

export XDG_CONFIG_HOME="$TMP/config" XDG_STATE_HOME="$TMP/state"
unset PROMPTD_CONF
failures=0

# sql DB QUERY: the rows, no header.
sql() {
	sqlite3 -batch -noheader "$1" "$2"
}

# mock_stat NAME: the first counter of that name in the mock's stats.
mock_stat() {
	curl -s "$URL/mock/stats" | tr -d ' \n' |
	    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1
}

# sentiment_task [TRAIN DEV TEST]: the "task" member of a job on the
# sentiment example's reviews.jsonl (splits 0.2/0.5/0.3 by default).
sentiment_task() {
	cat <<TASK
  "task": {
    "dataset": "reviews.jsonl",
    "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "whitespace", "punctuation"] },
    "splits": { "train": ${1:-0.2}, "dev": ${2:-0.5}, "test": ${3:-0.3}, "seed": 7 }
  },
TASK
}

# sim_world_files: the sentiment example's reviews as the truth a sim
# backend's "knowledge" holds ($TMP/truth.jsonl) and as what simulated
# people bring to a deployed prompt ($TMP/inputs.jsonl: each review, its
# truth under "label" for tests/mock/users alone, no id).
REVIEWS="$top_srcdir/examples/sentiment/reviews.jsonl"
sim_world_files() {
	cp "$REVIEWS" "$TMP/truth.jsonl"
	sed 's/^{"id": [0-9]*, /{/' "$REVIEWS" >"$TMP/inputs.jsonl"
}

# need COMMAND...: skips the test (exit 77) unless each is on PATH.
need() {
	for _c in "$@"; do
		command -v "$_c" >/dev/null 2>&1 ||
		    { echo "$_c not found: skipped"; exit 77; }
	done
}

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect_contains FILE TEXT: the file contains TEXT literally.
expect_contains() {
	grep -qF -- "$2" "$1" || { fail "'$2' not found in $1:"; sed 's/^/  | /' "$1" >&2; }
}

# expect_status N COMMAND...: runs the command, output in $TMP/out and
# $TMP/err, and checks its exit status.
expect_status() {
	_want=$1
	shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		fail "exit $_got (wanted $_want): $*"
		sed 's/^/  err| /' "$TMP/err" >&2
	fi
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures failure(s)" >&2
		exit 1
	fi
	exit 0
}

# The mock model server.  start_mock NAME [OPTIONS...] starts one in the
# background and sets MOCK_PID, PORT and URL; every server started is
# stopped on exit.  MOCKLLM_WRAPPER runs it under a tool (valgrind).
MOCKLLM="$top_builddir/tests/mock/mockllm"
WRAP=${MOCKLLM_WRAPPER:-}
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

# start_mock NAME [OPTIONS...]: starts a server, sets MOCK_PID, PORT, URL.
start_mock() {
	pf="$TMP/$1.port"
	name=$1
	shift
	rm -f "$pf"
	# shellcheck disable=SC2086
	$WRAP "$MOCKLLM" -P "$pf" "$@" 2>"$TMP/$name.err" &
	MOCK_PID=$!
	pids="$pids $MOCK_PID"
	n=0
	while [ ! -s "$pf" ]; do
		if ! kill -0 "$MOCK_PID" 2>/dev/null; then
			fail "$name: mockllm did not start"
			sed 's/^/  err| /' "$TMP/$name.err" >&2
			return 1
		fi
		n=$((n + 1))
		if [ "$n" -gt 600 ]; then
			fail "$name: no port file after 60 s"
			return 1
		fi
		sleep 0.1
	done
	PORT=$(cat "$pf")
	URL="http://127.0.0.1:$PORT"
}

# wait_status SOCK JOB PATTERN: polls "promptctl status JOB" (up to 30 s)
# until a line matches the grep PATTERN; the last answer is in $TMP/st.
wait_status() {
	_n=0
	until "$PROMPTCTL" -S "$1" status "$2" >"$TMP/st" 2>&1 &&
	    grep -q "$3" "$TMP/st"; do
		_n=$((_n + 1))
		if [ "$_n" -gt 300 ]; then
			fail "$2: status never matched '$3'"
			cat "$TMP/st" >&2
			return 1
		fi
		sleep 0.1
	done
}

# start_daemon NAME CONF: starts promptd in the foreground with the
# configuration CONF on $TMP/NAME.sock and $TMP/NAME.db, its log in
# $TMP/NAME.log, and waits (up to 30 s) until it answers; sets DPID.
start_daemon() {
	"$top_builddir/promptd" -f -c "$2" -S "$TMP/$1.sock" -d "$TMP/$1.db" \
	    2>"$TMP/$1.log" &
	DPID=$!
	pids="$pids $DPID"
	_n=0
	until "$PROMPTCTL" -S "$TMP/$1.sock" status >/dev/null 2>&1; do
		_n=$((_n + 1))
		[ "$_n" -gt 300 ] && { fail "promptd $1 did not start"; return 1; }
		sleep 0.1
	done
}
