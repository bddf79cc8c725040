#!/bin/sh
# promptctl and promptd as people type them: every promptctl command takes
# its options after its operands too ("--" ends them), -h/--help and
# --version answer on stdout with exit 0, a mistyped command or job name
# gets the nearest one suggested, a socket given with -S that does not
# exist is an error naming it, never a read of another database; with
# --json errors are JSON objects on stdout; eval leaves no job "queued".
. "$(dirname "$0")/lib.sh"

need curl
PROMPTD="$top_builddir/promptd"
SOCK="$TMP/cli.sock"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"
export OPENAI_API_KEY=sk-test-cli

# job NAME TARGET: a quick APE search on the sentiment task, its target
# the backend TARGET ("sim", or "held": the mock, which never answers).
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task)
  "seed_prompts": [ "Classify the sentiment of the review.",
    "Decide whether the review is positive or negative. Answer with only the label." ],
  "backends": { "sim": { "type": "sim", "model": "sim-1", "seed": 1 },
                "held": { "type": "openai", "model": "mock-1",
                          "base_url": "${URL:-http://127.0.0.1:9}/v1" } },
  "roles": { "target": "$2", "optimizer": "sim" },
  "budget": { "max_calls": 2000 },
  "strategy": { "name": "ape", "resample": 1 },
  "seed": 1
}
JOB
}

# json_ok FILE: the file holds valid JSON (when a checker is installed).
json_ok() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -m json.tool "$1" >/dev/null 2>&1 ||
		    { fail "not JSON: $1"; sed 's/^/  | /' "$1" >&2; }
	fi
}

ctl() {
	"$PROMPTCTL" -S "$SOCK" "$@"
}

# Help and version, for both programs: stdout, exit 0.
for h in -h --help; do
	expect_status 0 "$PROMPTCTL" $h
	expect_contains "$TMP/out" "usage: promptctl [-hv] [--version]"
	expect_contains "$TMP/out" "  leaderboard [--json] [-l] [-n count] [--sort score | tokens] job"
	[ -s "$TMP/err" ] && fail "promptctl $h wrote to stderr"
	expect_status 0 "$PROMPTD" $h
	expect_contains "$TMP/out" "usage: promptd [-fhnv] [--version]"
	expect_status 0 "$PROMPTCTL" leaderboard $h
	expect_contains "$TMP/out" "usage: promptctl leaderboard [--json] [-l] [-n count] [--sort score | tokens] job"
	expect_status 0 "$PROMPTCTL" eval $h
	expect_contains "$TMP/out" "usage: promptctl eval [--json]"
	# Help after operands too, and before a bad one.
	expect_status 0 "$PROMPTCTL" validate nosuchfile.json $h
	expect_contains "$TMP/out" "usage: promptctl validate"
done
version=$(sed -n 's/^AC_INIT(\[promptd\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
expect_status 0 "$PROMPTCTL" --version
[ "$(cat "$TMP/out")" = "promptctl $version" ] || fail "promptctl --version: $(cat "$TMP/out")"
expect_status 0 "$PROMPTD" --version
[ "$(cat "$TMP/out")" = "promptd $version" ] || fail "promptd --version: $(cat "$TMP/out")"
# Global options go before the command, as the usage says.
expect_status 2 "$PROMPTCTL" list --version
expect_status 2 "$PROMPTD" operand

# Did you mean: a command.
expect_status 2 "$PROMPTCTL" leaderbord sentiment
expect_contains "$TMP/err" "unknown command 'leaderbord' (did you mean 'leaderboard'?)"
expect_status 2 "$PROMPTCTL" frobnicate
expect_contains "$TMP/err" "unknown command 'frobnicate'"

# An explicit socket that does not exist: an error naming it, for a
# read-only command (a default database would have answered) as well as
# for one that needs the daemon; with --json, a JSON error on stdout.
expect_status 3 "$PROMPTCTL" -S "$TMP/no-such.sock" list
expect_contains "$TMP/err" "$TMP/no-such.sock"
expect_status 3 "$PROMPTCTL" -S "$TMP/no-such.sock" status
expect_contains "$TMP/err" "$TMP/no-such.sock"
expect_status 3 "$PROMPTCTL" -S "$TMP/no-such.sock" list --json
json_ok "$TMP/out"
expect_contains "$TMP/out" '"code":	"no_daemon"'
expect_contains "$TMP/out" "no socket at $TMP/no-such.sock"
[ -s "$TMP/err" ] && fail "list --json wrote its error to stderr too"

# The files: options after the operands.
job sentiment sim
expect_status 0 "$PROMPTCTL" validate "$TMP/sentiment.json" --json
json_ok "$TMP/out"
expect_contains "$TMP/out" '"valid":	true'
expect_status 0 "$PROMPTCTL" plan "$TMP/sentiment.json" --json -t 1
json_ok "$TMP/out"
expect_contains "$TMP/out" '"latency":	1'
expect_status 0 "$PROMPTCTL" -d "$TMP/eval.db" eval "$TMP/sentiment.json" --json -p "Say positive." --split test
json_ok "$TMP/out"
expect_contains "$TMP/out" '"split":	"test"'
expect_contains "$TMP/out" '"prompt":	"Say positive."'
# "--" ends the options: what follows is an operand, a dash or not.
expect_status 1 "$PROMPTCTL" validate -- --json
expect_contains "$TMP/err" "'--json'"
# An eval's job, never submitted, is not left "queued" for a run that no
# daemon would start: it takes the eval's outcome.
expect_status 0 "$PROMPTCTL" -d "$TMP/eval.db" list
expect_contains "$TMP/out" "sentiment done"
grep -q queued "$TMP/out" && fail "eval left a queued job: $(cat "$TMP/out")"
# eval --json: its errors in JSON too, and a prompt with no score has a
# null mean, not 0.
expect_status 1 "$PROMPTCTL" -d "$TMP/eval.db" eval "$TMP/nope.json" --json
json_ok "$TMP/out"
expect_contains "$TMP/out" '"code":	"invalid"'
expect_contains "$TMP/out" "cannot open '$TMP/nope.json'"
sed 's/"max_calls": 2000/"max_calls": 3/' "$TMP/sentiment.json" >"$TMP/small.json"
expect_status 1 "$PROMPTCTL" -d "$TMP/small.db" eval "$TMP/small.json" --json
json_ok "$TMP/out"
expect_contains "$TMP/out" '"mean":	null'
expect_contains "$TMP/out" '"stopped":	"budget exhausted: max_calls reached"'
expect_status 0 "$PROMPTCTL" -d "$TMP/small.db" list
expect_contains "$TMP/out" "sentiment exhausted"

# The daemon's commands.
cat >"$TMP/held.script" <<'S'
{ "rules": [ { "path": "/v1/chat/completions", "fault": "timeout" } ] }
S
start_mock held -s "$TMP/held.script" || finish
echo '{}' >"$TMP/promptd.conf"
start_daemon cli "$TMP/promptd.conf" || finish
expect_status 0 ctl submit "$TMP/sentiment.json" --json
json_ok "$TMP/out"
expect_status 0 ctl watch sentiment --json
expect_contains "$TMP/out" '"state":"done"'
expect_status 0 ctl status sentiment --json
json_ok "$TMP/out"
expect_status 0 ctl list --json
expect_contains "$TMP/out" '"name":	"sentiment"'
expect_status 0 ctl leaderboard sentiment -n 1 --json
json_ok "$TMP/out"
[ "$(grep -c '"id":' "$TMP/out")" -eq 1 ] || fail "leaderboard -n 1 after the job gave $(grep -c '"id":' "$TMP/out") rows"
id=$(sed -n 's/.*"id":[[:space:]]*\([0-9]*\).*/\1/p' "$TMP/out" | head -n 1)
expect_status 0 ctl best sentiment --json
json_ok "$TMP/out"
expect_status 0 ctl lineage "$id" --json
json_ok "$TMP/out"
expect_status 0 ctl history sentiment --json
json_ok "$TMP/out"
expect_status 0 ctl export sentiment -o "$TMP/champion.txt" --json
expect_contains "$TMP/out" "\"file\":	\"$TMP/champion.txt\""
[ -s "$TMP/champion.txt" ] || fail "export -o after the job wrote nothing"
expect_status 0 ctl events sentiment -n 2 --json
json_ok "$TMP/out"
expect_status 0 ctl refresh sentiment --json
expect_status 0 ctl watch sentiment --json
# A job whose target never answers stays running: pause, resume, cancel.
job held held
expect_status 0 ctl submit "$TMP/held.json" --json
wait_status "$SOCK" held "running"
expect_status 0 ctl pause held --json
expect_contains "$TMP/out" '"paused"'
# A second pause is refused: in JSON, on stdout.
expect_status 1 ctl pause held --json
json_ok "$TMP/out"
expect_contains "$TMP/out" '"error":'
expect_status 0 ctl resume held --json
expect_status 0 ctl cancel held --json
expect_contains "$TMP/out" '"cancelled"'
# feedback on a job that has ended: nothing to answer, its state in JSON.
expect_status 0 ctl feedback sentiment --json
expect_contains "$TMP/out" '"state":"done"'

# Did you mean: a job, from the daemon and from the database.
expect_status 1 ctl leaderboard sentimnt -n 3
expect_contains "$TMP/err" "no job 'sentimnt' (did you mean 'sentiment'?)"
expect_status 1 ctl leaderboard sentimnt --json
expect_contains "$TMP/out" '"code":	"not_found"'
expect_contains "$TMP/out" "(did you mean 'sentiment'?)"
expect_status 1 ctl pause sentimnt
expect_contains "$TMP/err" "(did you mean 'sentiment'?)"
kill "$DPID"
wait "$DPID" 2>/dev/null
expect_status 1 "$PROMPTCTL" -d "$TMP/cli.db" status sentimnt
expect_contains "$TMP/err" "no job 'sentimnt' (did you mean 'sentiment'?)"
expect_status 1 "$PROMPTCTL" -d "$TMP/cli.db" best zzz
expect_contains "$TMP/err" "no job 'zzz'"
grep -q "did you mean" "$TMP/err" && fail "a suggestion for 'zzz': $(cat "$TMP/err")"

finish
