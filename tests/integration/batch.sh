#!/bin/sh
# Batch mode against the mock's OpenAI Batch and Anthropic Message Batches
# APIs: an optimization run whose every model request goes through
# provider batches asks exactly what an interactive run asks, ends with
# the same champion, sends nothing interactively and pays half; a run
# killed (PROMPTD_KILL_AT=batch:STEP, right after the provider answered
# the step and before it was stored) and resumed submits no batch twice;
# requests a batch could not answer (expired, failed, errored) are sent
# the ordinary way and paid once.
. "$(dirname "$0")/lib.sh"

need sqlite3 curl
PROMPTD="$top_builddir/promptd"
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
export OPENAI_API_KEY="sk-test-batch" ANTHROPIC_API_KEY="sk-ant-batch"

# job NAME BACKEND_JSON: a short search with every role on the backend.
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task 0.5 0.3 0.2)
  "seed_prompts": [ "Classify the sentiment of the review.",
                    "Say something about the text." ],
  "backends": { "m": $2 },
  "roles": { "target": "m", "optimizer": "m" },
  "strategy": { "name": "evo", "variant": "ga", "population": 4,
                "generations": 2 },
  "budget": { "max_calls": 5000 },
  "seed": 3
}
JOB
}

# facts DB: what must not depend on how the answers came. The cache
# keys name the server, so only runs against the same mock compare them.
facts() {
	sql "$1" "SELECT DISTINCT cache_key FROM calls ORDER BY 1" >"$1.keys"
	sql "$1" "SELECT count(DISTINCT cache_key) FROM calls;
	    SELECT count(*) FROM evaluations;
	    SELECT c.text FROM champions h JOIN candidates c
	    ON c.id = h.candidate_id" >"$1.facts"
}

# same DB BASE [keys]: the run asked as much as the base run, chose alike
# and, with "keys", asked exactly the same requests.
same() {
	if [ "${3-}" = keys ] && ! cmp -s "$1.keys" "$2.keys"; then
		fail "$1: other requests than $2"
	fi
	cmp -s "$1.facts" "$2.facts" || {
		fail "$1: other results than $2"
		diff "$2.facts" "$1.facts" | sed 's/^/  | /' >&2
	}
}

price='"price": { "input": 2, "output": 8 }'

# 1. OpenAI: interactive, then batched.
cat >"$TMP/o.script" <<'S'
{ "batch": { "delay_ms": 50 } }
S
start_mock openai -w "$EX/job.json" -s "$TMP/o.script" || finish
oai="\"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL/v1\", $price"
job inter "{ $oai }"
expect_status 0 "$PROMPTD" -d "$TMP/inter.db" --once "$TMP/inter.json"
facts "$TMP/inter.db"
[ "$(wc -l <"$TMP/inter.db.keys")" -gt 50 ] || fail "the interactive run asked little"
curl -s -X POST "$URL/mock/reset" >/dev/null
job obatch "{ $oai, \"batch\": \"24h\", \"batch_poll\": 0.05 }"
expect_status 0 "$PROMPTD" -d "$TMP/ob.db" --once "$TMP/obatch.json"
facts "$TMP/ob.db"
same "$TMP/ob.db" "$TMP/inter.db" keys
[ "$(mock_stat interactive_requests)" = 0 ] || fail "openai: $(mock_stat interactive_requests) requests sent interactively"
n=$(sql "$TMP/ob.db" "SELECT count(*) FROM calls WHERE status = 'ok'")
[ "$(mock_stat batched_requests)" = "$n" ] ||
    fail "openai: $(mock_stat batched_requests) requests batched for $n calls"
created=$(mock_stat created)
[ "$created" -ge 3 ] || fail "openai: $created batches for a run of three steps"
[ "$(sql "$TMP/ob.db" "SELECT count(*) FROM batches WHERE step = 'done'")" = "$created" ] ||
    fail "openai: not every stored batch is done"
# Half the price of the same calls made interactively.
[ "$(sql "$TMP/ob.db" "SELECT count(*) FROM calls
    WHERE status = 'ok' AND abs(cost - (prompt_tokens * 2 + completion_tokens * 8) / 2e6) > 1e-12")" = 0 ] ||
    fail "openai: batched calls not at half price"
[ "$(sql "$TMP/inter.db" "SELECT printf('%.9f', dollars / 2) FROM runs")" = \
    "$(sql "$TMP/ob.db" "SELECT printf('%.9f', dollars) FROM runs")" ] ||
    fail "openai: the batched run did not cost half the interactive one"

# 2. Killed right after the provider answered a step, before it was
# stored: the run resumes the batch (found again by its token after a
# crash in create) and submits nothing twice.
for at in upload create poll results; do
	curl -s -X POST "$URL/mock/reset" >/dev/null
	db="$TMP/k-$at.db"
	PROMPTD_KILL_AT=batch:$at "$PROMPTD" -d "$db" --once \
	    "$TMP/obatch.json" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" -eq 137 ] || { fail "batch:$at: exit $rc, not killed"; continue; }
	expect_contains "$TMP/err" "killed after the batch step $at"
	expect_status 0 "$PROMPTD" -v -d "$db" --once "$TMP/obatch.json"
	expect_contains "$TMP/err" "picked up again"
	facts "$db"
	same "$db" "$TMP/inter.db" keys
	[ "$(mock_stat created)" = "$created" ] ||
	    fail "batch:$at: $(mock_stat created) batches created, not $created"
	[ "$(mock_stat interactive_requests)" = 0 ] ||
	    fail "batch:$at: $(mock_stat interactive_requests) sent interactively"
done
kill "$MOCK_PID"

# 3. Anthropic: batched, then killed while polling and resumed.
start_mock anthropic -w "$EX/job.json" -s "$TMP/o.script" || finish
ant="\"type\": \"anthropic\", \"model\": \"claude-haiku-4-5\", \"base_url\": \"$URL/v1\", $price"
job ainter "{ $ant }"
expect_status 0 "$PROMPTD" -d "$TMP/ai.db" --once "$TMP/ainter.json"
facts "$TMP/ai.db"
curl -s -X POST "$URL/mock/reset" >/dev/null
job abatch "{ $ant, \"batch\": \"24h\", \"batch_poll\": 0.05 }"
expect_status 0 "$PROMPTD" -d "$TMP/ab.db" --once "$TMP/abatch.json"
facts "$TMP/ab.db"
same "$TMP/ab.db" "$TMP/ai.db" keys
[ "$(mock_stat interactive_requests)" = 0 ] || fail "anthropic: $(mock_stat interactive_requests) sent interactively"
created=$(mock_stat created)
curl -s -X POST "$URL/mock/reset" >/dev/null
PROMPTD_KILL_AT=batch:poll "$PROMPTD" -d "$TMP/ak.db" --once \
    "$TMP/abatch.json" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 137 ] || fail "anthropic: not killed"
expect_status 0 "$PROMPTD" -d "$TMP/ak.db" --once "$TMP/abatch.json"
facts "$TMP/ak.db"
same "$TMP/ak.db" "$TMP/ai.db" keys
[ "$(mock_stat created)" = "$created" ] ||
    fail "anthropic: $(mock_stat created) batches created after a crash, not $created"
kill "$MOCK_PID"

# 4. Batches that cannot answer: the requests go the ordinary way, are
# paid once (at the interactive price), and the run ends as before.
for how in expire fail; do
	cat >"$TMP/$how.script" <<S
{ "batch": { "delay_ms": 20, "$how": true } }
S
	start_mock "$how" -w "$EX/job.json" -s "$TMP/$how.script" || finish
	oai="\"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL/v1\", $price"
	job "$how" "{ $oai, \"batch\": \"24h\", \"batch_poll\": 0.05 }"
	db="$TMP/$how.db"
	expect_status 0 "$PROMPTD" -v -d "$db" --once "$TMP/$how.json"
	cp "$TMP/err" "$TMP/$how.log"
	facts "$db"
	same "$db" "$TMP/inter.db"
	n=$(sql "$db" "SELECT count(*) FROM calls WHERE status = 'ok'")
	i=$(mock_stat interactive_requests)
	b=$(mock_stat batched_requests)
	[ "$i" -gt 0 ] || fail "$how: nothing sent the ordinary way"
	# Each call paid once: in full when sent the ordinary way.
	full=$(sql "$db" "SELECT count(*) FROM calls WHERE status = 'ok' AND
	    abs(cost - (prompt_tokens * 2 + completion_tokens * 8) / 1e6) < 1e-12")
	[ "$full" = "$i" ] || fail "$how: $full calls paid in full for $i sent the ordinary way"
	[ "$(sql "$db" "SELECT count(*) FROM batches WHERE step = 'failed' OR cause IS NOT NULL")" -gt 0 ] ||
	    fail "$how: no batch stored as failed"
	if [ "$how" = fail ]; then
		[ "$i" = "$n" ] || fail "fail: $i interactive for $n calls"
		[ "$(mock_stat succeeded)" = 0 ] || fail "fail: a failed batch answered"
		expect_contains "$TMP/$how.log" "failed"
	else
		# Half of each batch was answered in it, the rest interactively.
		[ $((i + $(mock_stat succeeded))) = "$n" ] ||
		    fail "expire: $i interactive + $(mock_stat succeeded) batched for $n calls"
		[ "$b" -ge "$i" ] || fail "expire: more sent interactively than batched"
	fi
	expect_contains "$TMP/$how.log" "sending the request the ordinary way"
	kill "$MOCK_PID"
done

# 5. In the daemon a job whose requests wait in a provider batch says so.
cat >"$TMP/slow.script" <<'S'
{ "batch": { "delay_ms": 600000 } }
S
start_mock slow -w "$EX/job.json" -s "$TMP/slow.script" || finish
oai="\"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL/v1\", $price"
job slow "{ $oai, \"batch\": \"24h\", \"batch_poll\": 0.05 }"
echo '{}' >"$TMP/promptd.conf"
start_daemon d "$TMP/promptd.conf" || finish
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" submit "$TMP/slow.json"
wait_status "$TMP/d.sock" slow \
    "^job 'slow': waiting (.* requests in provider batches (batch_"
expect_contains "$TMP/st" ": 0 of "
# watch says so too: its first progress event, at once.
"$PROMPTCTL" -S "$TMP/d.sock" watch --json slow >"$TMP/w" 2>&1 &
wpid=$!
pids="$pids $wpid"
n=0
until grep -q '"waiting":"[0-9]* requests in provider batches' "$TMP/w"; do
	n=$((n + 1))
	[ "$n" -gt 300 ] && { fail "slow: watch never said waiting"; cat "$TMP/w" >&2; break; }
	sleep 0.1
done
grep -q '"message":"waiting, step ' "$TMP/w" || fail "slow: no waiting progress message"
expect_status 0 "$PROMPTCTL" -S "$TMP/d.sock" cancel slow
wait "$wpid"
kill "$DPID"
kill "$MOCK_PID"
finish
