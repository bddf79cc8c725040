#!/bin/sh
# A search killed with SIGKILL in the middle of a generation resumes from
# its checkpoint and finishes, and no paid call is made twice: every cache
# key has exactly one successful call row (checked by check_strategy's
# audit case, since neither sqlite3 nor python can be assumed here).
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || { echo "curl not found: skipped"; exit 77; }
PROMPTD="$top_builddir/promptd"
AUDIT="$top_builddir/tests/unit/check_strategy"
export OPENAI_API_KEY="sk-test-resume"
cp "$top_srcdir/examples/arith/problems.csv" "$TMP/"

stat() {
	curl -s "$URL/mock/stats" | sed -n "s/.*\"$1\":[[:space:]]*\([0-9]*\).*/\1/p" | head -n 1
}

# Every answer takes 20 ms, so that a generation lasts long enough to be
# interrupted.
cat >"$TMP/slow.json" <<'S'
{"rules": [{"path": "/v1/chat/completions", "delay_ms": 20}]}
S
start_mock world -w "$top_srcdir/examples/arith/job.json" -s "$TMP/slow.json" -i 120 || finish

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
  "strategy": { "name": "evo", "variant": "ga", "population": 6,
                "generations": 4 },
  "seed": 2
}
JOB

# The first run: killed once step 2 is checkpointed and step 3 has sent
# 20 more requests.
"$PROMPTD" -v -d "$TMP/r.db" --once "$TMP/job.json" >"$TMP/out1" 2>"$TMP/err1" &
pid=$!
n=0
while ! grep -q "step 2:" "$TMP/err1"; do
	kill -0 "$pid" 2>/dev/null || break
	n=$((n + 1))
	[ "$n" -gt 1200 ] && break
	sleep 0.05
done
grep -q "step 2:" "$TMP/err1" || {
	fail "the first run never reached step 2"
	sed 's/^/  err| /' "$TMP/err1" >&2
	kill -9 "$pid" 2>/dev/null
	finish
}
base=$(stat requests)
n=0
while [ "$(stat requests)" -lt $((base + 20)) ]; do
	kill -0 "$pid" 2>/dev/null || break
	n=$((n + 1))
	[ "$n" -gt 600 ] && break
	sleep 0.05
done
kill -0 "$pid" 2>/dev/null || fail "the first run ended before it was killed"
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
grep -q "step 3:" "$TMP/err1" && fail "step 3 was finished before the kill"

# The second run resumes and finishes.
expect_status 0 "$PROMPTD" -v -d "$TMP/r.db" --once "$TMP/job.json"
expect_contains "$TMP/err" "resuming run 1 at step 2"
expect_contains "$TMP/out" "done after 5 steps"

# No paid call twice, one run, lineage back to the seed.
STRATEGY_AUDIT_DB="$TMP/r.db" "$AUDIT" >"$TMP/audit" 2>&1 ||
    { fail "audit of the resumed run:"; sed 's/^/  | /' "$TMP/audit" >&2; }
finish
