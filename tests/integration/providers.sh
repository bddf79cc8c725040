#!/bin/sh
# Real providers' APIs against the mock: a reasoning model (OpenAI's
# o-series) works end to end and its reasoning tokens are recorded; one
# configured with a temperature is refused at validate; a model the mock
# takes for a reasoning one and promptd does not gets a hint; cached
# input (Anthropic's marked system prompt, OpenAI's prefix cache) is
# recorded and priced apart; announced rate limits are kept without a
# 429; a hidden limit on requests in flight is found by halving the
# window after 429s.
. "$(dirname "$0")/lib.sh"

need sqlite3 curl
EX="$top_srcdir/examples/sentiment"
cp "$EX/reviews.jsonl" "$TMP/"
export OPENAI_API_KEY="sk-test-providers" ANTHROPIC_API_KEY="sk-ant-test"

# job NAME BACKEND_JSON PROMPT: the sentiment task with its target on
# the backend, evaluated with one prompt.
job() {
	cat >"$TMP/$1.json" <<JOB
{
  "name": "$1",
$(sentiment_task)
  "seed_prompts": [ "$3" ],
  "backends": { "m": $2 },
  "roles": { "target": "m" }
}
JOB
}

LONG="You are an expert film critic. Read the whole review carefully, weigh every opinion the reviewer states against the others, and decide whether the review as a whole is positive or negative. Answer with only the label."

# 1. Reasoning models.
cat >"$TMP/r.script" <<'S'
{ "reasoning_models": ["thinker-*"] }
S
start_mock reasoning -w "$EX/job.json" -s "$TMP/r.script" || finish
job reason "{ \"type\": \"openai\", \"model\": \"o3-mini\", \"base_url\": \"$URL/v1\", \"max_tokens\": 2000, \"reasoning_effort\": \"low\" }" "$LONG"
expect_status 0 "$PROMPTCTL" -d "$TMP/r.db" eval "$TMP/reason.json"
[ "$(sql "$TMP/r.db" "SELECT count(*) FROM calls WHERE status = 'ok' AND reasoning_tokens > 0")" -ge 50 ] ||
    fail "reasoning: no reasoning tokens recorded"
[ "$(sql "$TMP/r.db" "SELECT count(*) FROM calls WHERE status = 'error'")" = 0 ] ||
    fail "reasoning: the server refused requests"
job hot "{ \"type\": \"openai\", \"model\": \"o3-mini\", \"base_url\": \"$URL/v1\", \"temperature\": 0.2 }" "$LONG"
expect_status 1 "$PROMPTCTL" validate "$TMP/hot.json"
expect_contains "$TMP/err" "backends.m.temperature: model 'o3-mini' is a reasoning model, which samples at temperature 1 only"
job thinker "{ \"type\": \"openai\", \"model\": \"thinker-1\", \"base_url\": \"$URL/v1\", \"max_tokens\": 100 }" "$LONG"
expect_status 1 "$PROMPTCTL" -d "$TMP/t.db" eval "$TMP/thinker.json"
expect_contains "$TMP/out" "if 'thinker-1' is a reasoning model, set \"reasoning\": true on backend 'm'"
kill "$MOCK_PID"

# 2. Prompt caching, priced apart.
cat >"$TMP/c.script" <<'S'
{ "cache_min_tokens": 16, "cache_block_tokens": 16 }
S
start_mock cache -w "$EX/job.json" -s "$TMP/c.script" || finish
job anth "{ \"type\": \"anthropic\", \"model\": \"claude-sonnet-4-5\", \"base_url\": \"$URL/v1\", \"cache_min_tokens\": 16, \"price\": { \"input\": 3, \"output\": 15, \"cached_input\": 0.3, \"cache_write\": 3.75 } }" "$LONG"
expect_status 0 "$PROMPTCTL" -d "$TMP/a.db" eval "$TMP/anth.json"
db="$TMP/a.db"
[ "$(sql "$db" "SELECT count(*) FROM calls WHERE cache_write_tokens > 0")" -ge 1 ] ||
    fail "anthropic: nothing written to the prompt cache"
[ "$(sql "$db" "SELECT count(*) FROM calls WHERE cached_tokens > 0")" -ge 50 ] ||
    fail "anthropic: the prompt cache was not read"
# Each call's cost is its tokens at their own prices.
[ "$(sql "$db" "SELECT count(*) FROM calls WHERE status = 'ok' AND abs(cost -
    ((prompt_tokens - cached_tokens - cache_write_tokens) * 3 +
    cached_tokens * 0.3 + cache_write_tokens * 3.75 +
    completion_tokens * 15) / 1e6) > 1e-12")" = 0 ] ||
    fail "anthropic: cost not priced by cached and written input"
[ "$(mock_stat cache_read_input_tokens)" -gt 0 ] || fail "anthropic: the mock read no cache"
expect_status 0 "$PROMPTCTL" -d "$db" eval "$TMP/anth.json"
job oai "{ \"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL/v1\", \"price\": { \"input\": 0.15, \"output\": 0.6, \"cached_input\": 0.075 } }" "$LONG"
expect_status 0 "$PROMPTCTL" -d "$TMP/o.db" eval "$TMP/oai.json"
[ "$(sql "$TMP/o.db" "SELECT count(*) FROM calls WHERE cached_tokens > 0")" -ge 50 ] ||
    fail "openai: cached input not recorded"
expect_contains "$TMP/out" "of the input tokens read from the provider's prompt cache"
kill "$MOCK_PID"

# 3. Announced limits: 10 requests a window of 2 s, 8 allowed in flight.
cat >"$TMP/l.script" <<'S'
{ "ratelimit": { "requests": 10, "window_ms": 2000 } }
S
start_mock limits -w "$EX/job.json" -s "$TMP/l.script" || finish
job lim "{ \"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL/v1\", \"max_in_flight\": 8 }" "Classify the review."
expect_status 0 "$PROMPTCTL" -d "$TMP/l.db" eval --split test "$TMP/lim.json"
[ "$(mock_stat status_429)" -le 1 ] || fail "limits: $(mock_stat status_429) answers were 429 although the headers said what was left"
[ "$(sql "$TMP/l.db" "SELECT count(*) FROM evaluations WHERE score IS NOT NULL")" = 36 ] ||
    fail "limits: not every example scored"
kill "$MOCK_PID"

# 4. A hidden limit of 3 in flight, 16 allowed: 429s halve the window.
cat >"$TMP/h.script" <<'S'
{ "max_concurrency": 3, "rules": [{"path": "/v1/chat/completions", "delay_ms": 100}] }
S
start_mock hidden -w "$EX/job.json" -s "$TMP/h.script" || finish
job hid "{ \"type\": \"openai\", \"model\": \"gpt-4o-mini\", \"base_url\": \"$URL/v1\", \"max_in_flight\": 16, \"max_retries\": 20, \"retry_base\": 0.05, \"retry_cap\": 0.2 }" "Classify the review."
expect_status 0 "$PROMPTCTL" -v -d "$TMP/h.db" eval "$TMP/hid.json"
expect_contains "$TMP/err" "429 without rate-limit headers"
n429=$(mock_stat status_429)
[ "$(sql "$TMP/h.db" "SELECT count(*) FROM evaluations WHERE score IS NOT NULL")" = 60 ] ||
    fail "hidden: not every example scored"
[ "$n429" -le 40 ] || fail "hidden: $n429 answers were 429 for 60 requests"
echo "hidden limit: $n429 429s for 60 requests"
finish
