#!/bin/sh
# promptctl without a daemon: after promptd --once has run a job, every
# read-only command answers from the database (-d) while -S names a socket
# that does not exist; the commands that need the daemon exit 3, and so
# does a read-only command given -S without -d (never a read of the
# default database).  The database is created mode 0600.
. "$(dirname "$0")/lib.sh"

PROMPTD="$top_builddir/promptd"
DB="$TMP/ctl.db"
JOB="$TMP/job.json"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"
cat >"$JOB" <<'EOF'
{
  "name": "sentiment",
  "task": {
    "dataset": "reviews.jsonl",
    "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "whitespace", "punctuation"] },
    "splits": { "train": 0.2, "dev": 0.5, "test": 0.3, "seed": 7 }
  },
  "seed_prompts": [
    "Classify the sentiment of the review.",
    "You are an expert film critic. Read the whole review carefully and decide whether it is positive or negative. Answer with only the label."
  ],
  "backends": { "sim": { "type": "sim", "model": "sim-1", "seed": 1,
                "price": { "input": 0.15, "output": 0.60 } } },
  "roles": { "target": "sim", "optimizer": "sim" },
  "budget": { "max_calls": 2000 },
  "strategy": { "name": "ape", "resample": 1 },
  "seed": 1
}
EOF

umask 022
expect_status 0 "$PROMPTD" -d "$DB" --once "$JOB"
mode=$(stat -c %a "$DB")
[ "$mode" = 600 ] || fail "the database was created mode $mode, not 600"
# The champion's text is the line after "champion: dev ...".
sed -n '/^champion: dev /{n;p;}' "$TMP/out" >"$TMP/champion"
[ -s "$TMP/champion" ] || { fail "promptd --once printed no champion"; cat "$TMP/out" >&2; }

ctl() {
	"$PROMPTCTL" -d "$DB" -S "$TMP/no.sock" "$@"
}

# json_ok FILE: the file holds valid JSON (when a checker is installed).
json_ok() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool "$1" >/dev/null 2>&1 ||
		    { fail "not JSON: $1"; sed 's/^/  | /' "$1" >&2; }
	elif command -v jq >/dev/null 2>&1; then
		jq . "$1" >/dev/null 2>&1 || fail "not JSON: $1"
	fi
}

# list
expect_status 0 ctl list
expect_contains "$TMP/out" "sentiment"
expect_contains "$TMP/out" "done"
expect_status 0 ctl list --json
json_ok "$TMP/out"
for k in jobs name state reason runs step best calls dollars champion; do
	expect_contains "$TMP/out" "\"$k\":"
done

# status with a job
expect_status 0 ctl status sentiment
expect_contains "$TMP/out" "job 'sentiment': done"
expect_contains "$TMP/out" "ape"
expect_contains "$TMP/out" "v1, candidate "
expect_status 0 ctl status --json sentiment
json_ok "$TMP/out"
for k in strategy run started budget run_state; do
	expect_contains "$TMP/out" "\"$k\":"
done

# leaderboard: a header, three candidates, best first, and the legend;
# the champion (the best on dev here) is marked
expect_status 0 ctl leaderboard -n 3 sentiment
[ "$(wc -l <"$TMP/out")" -eq 5 ] || { fail "leaderboard -n 3: not 5 lines"; cat "$TMP/out" >&2; }
sed -e '1d' -e '$d' -e 's/^\*/ /' "$TMP/out" |
    awk '{ if (NR > 1 && $3 > prev) bad = 1; prev = $3 } END { exit bad }' ||
    fail "leaderboard is not sorted by mean"
grep -q '^\*  1 ' "$TMP/out" || { fail "the champion is not marked first"; cat "$TMP/out" >&2; }
# -l: each prompt whole under its row
expect_status 0 ctl leaderboard -n 1 sentiment -l
tr -d '\n ' <"$TMP/out" | grep -qF "$(tr -d '\n ' <"$TMP/champion")" ||
    { fail "leaderboard -l does not show the whole champion"; cat "$TMP/out" >&2; }
expect_status 0 ctl leaderboard --json -n 1000 sentiment
json_ok "$TMP/out"
for k in candidates id text mean lo hi n origin champion; do
	expect_contains "$TMP/out" "\"$k\":"
done
child=$(awk '/"id":/ { id = $2 } /"origin":[[:space:]]*"ape-resample"/ { print id; exit }' \
    "$TMP/out" | tr -d ,)

# best prints the champion's text and nothing else
expect_status 0 ctl best sentiment
cmp -s "$TMP/out" "$TMP/champion" || { fail "best is not the champion:"; cat "$TMP/out" >&2; }
expect_status 0 ctl best --json sentiment
json_ok "$TMP/out"
for k in candidate text version score lo hi; do
	expect_contains "$TMP/out" "\"$k\":"
done

# lineage: a candidate made from a seed shows its parent with the operator
if [ -n "$child" ]; then
	expect_status 0 ctl lineage "$child"
	grep -q "^#$child [01]\.[0-9]* \[[01]\.[0-9]*, [01]\.[0-9]*\], [0-9]* tokens (ape-resample)" \
	    "$TMP/out" || { fail "lineage: no score for #$child"; cat "$TMP/out" >&2; }
	expect_contains "$TMP/out" "<- #"
	expect_contains "$TMP/out" "by ape-resample"
	expect_contains "$TMP/out" "note:"
	expect_status 0 ctl lineage --json "$child"
	json_ok "$TMP/out"
	for k in id text origin parents operator note mean lo hi; do
		expect_contains "$TMP/out" "\"$k\":"
	done
else
	fail "no ape-resample candidate on the leaderboard"
fi

# history and export
expect_status 0 ctl history sentiment
expect_contains "$TMP/out" "v1 "
expect_contains "$TMP/out" "  test "
expect_status 0 ctl history --json sentiment
json_ok "$TMP/out"
for k in champions version candidate text score reason time run test n; do
	expect_contains "$TMP/out" "\"$k\":"
done
expect_status 0 ctl export sentiment
cmp -s "$TMP/out" "$TMP/champion" || fail "export printed another text"
expect_status 0 ctl export -o "$TMP/exported.txt" sentiment
cmp -s "$TMP/exported.txt" "$TMP/champion" || fail "export -o wrote another text"
ls "$TMP" | grep -q 'exported.txt.tmp' && fail "export -o left a temporary file"
expect_status 0 ctl export --json sentiment
json_ok "$TMP/out"
expect_contains "$TMP/out" '"time":'
expect_status 1 ctl export -o "$TMP/no/such/dir/x.txt" sentiment
expect_contains "$TMP/err" "cannot create"

# events: the last n, and those after an id
expect_status 0 ctl events sentiment
expect_contains "$TMP/out" "promoted"
expect_status 0 ctl events -n 2 sentiment
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "events -n 2: not 2 lines"
last=$(awk 'END { print $1 }' "$TMP/out")
expect_status 0 ctl events -a "$last" sentiment
[ -s "$TMP/out" ] && fail "events -a LAST printed events"
expect_status 0 ctl events --json -a 0 -n 1 sentiment
json_ok "$TMP/out"
for k in events id time level message run; do
	expect_contains "$TMP/out" "\"$k\":"
done

# -d alone reads the database even if a daemon were running elsewhere.
expect_status 0 "$PROMPTCTL" -d "$DB" list
expect_contains "$TMP/out" "sentiment"

# -S alone names the daemon to ask: when none answers there, a read-only
# command is an error that names the socket, even with a default
# database at hand; without -S, the default database is read.
mkdir -p "$XDG_STATE_HOME/promptd"
cp "$DB" "$XDG_STATE_HOME/promptd/promptd.db"
for c in list "status sentiment" "best sentiment" "events sentiment"; do
	# shellcheck disable=SC2086
	expect_status 3 "$PROMPTCTL" -S "$TMP/no.sock" $c
	expect_contains "$TMP/err" "promptctl: daemon not running (no socket at $TMP/no.sock)"
	[ -s "$TMP/out" ] && fail "-S with no daemon printed: $(cat "$TMP/out")"
done
expect_status 0 env XDG_RUNTIME_DIR="$TMP" "$PROMPTCTL" list
expect_contains "$TMP/out" "sentiment"

# Errors: unknown job or candidate, no database.
for c in status leaderboard best history export events; do
	expect_status 1 ctl "$c" nope
	expect_contains "$TMP/err" "no job 'nope'"
done
expect_status 1 ctl lineage 999999
expect_contains "$TMP/err" "no candidate 999999"
expect_status 1 "$PROMPTCTL" -d "$TMP/missing.db" -S "$TMP/no.sock" list
expect_contains "$TMP/err" "no database at"
[ -e "$TMP/missing.db" ] && fail "a read-only command created a database"

# The commands that need the daemon exit 3.
expect_status 3 ctl submit "$JOB"
expect_contains "$TMP/err" "promptctl: daemon not running (no socket at $TMP/no.sock)"
for c in watch pause resume cancel refresh; do
	expect_status 3 ctl "$c" sentiment
	expect_contains "$TMP/err" "daemon not running"
done
expect_status 3 ctl status
expect_status 3 ctl status --json
# A socket that nothing listens on (a daemon that died) is "not running".
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$TMP/dead.sock"
	expect_status 3 "$PROMPTCTL" -S "$TMP/dead.sock" pause sentiment
	expect_contains "$TMP/err" "daemon not running"
	expect_status 3 "$PROMPTCTL" -S "$TMP/dead.sock" list
	expect_contains "$TMP/err" "daemon not running (nothing listens on $TMP/dead.sock)"
	# A read-only command falls back to the database.
	expect_status 0 "$PROMPTCTL" -d "$DB" -S "$TMP/dead.sock" best sentiment
	cmp -s "$TMP/out" "$TMP/champion" || fail "best via a dead socket"
fi
expect_status 3 ctl feedback sentiment
expect_contains "$TMP/err" "daemon not running"
expect_status 1 ctl submit "$TMP/no-such-job.json"

# Usage errors exit 2.
expect_status 2 ctl list extra
expect_status 2 ctl status a b
expect_status 2 ctl leaderboard
expect_status 2 ctl leaderboard -n 0 sentiment
expect_status 2 ctl leaderboard -n x sentiment
expect_status 2 ctl best
expect_status 2 ctl best a b
expect_status 2 ctl lineage
expect_status 2 ctl lineage abc
expect_status 2 ctl lineage 0
expect_status 2 ctl history
expect_status 2 ctl export
expect_status 2 ctl export -o
expect_status 2 ctl events -a -1 sentiment
expect_status 2 ctl events -n 0 sentiment
expect_status 2 ctl events --bogus sentiment
expect_status 2 ctl submit
expect_status 2 ctl watch
expect_status 2 ctl pause
expect_status 2 ctl feedback
expect_contains "$TMP/err" "usage: promptctl feedback"

finish
