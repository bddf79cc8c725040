#!/bin/sh
# The mock model server (tests/mock/mockllm) answers in each provider's wire
# format, injects the faults it is asked for, counts what it saw and exits
# by itself.  Set MOCKLLM_WRAPPER (e.g. "valgrind -q --error-exitcode=1")
# to run the server under a tool.
. "$(dirname "$0")/lib.sh"

need curl

# post PATH DATA [CURL-OPTIONS...]: the status in $code, curl's exit in
# $rc, the body in $TMP/body and the headers in $TMP/hdr.
post() {
	path=$1
	data=$2
	shift 2
	rm -f "$TMP/body" "$TMP/hdr"
	code=$(curl -sS -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' \
	    -H 'Content-Type: application/json' --data-binary "$data" "$@" \
	    "$URL$path" 2>"$TMP/curl.err")
	rc=$?
	touch "$TMP/body" "$TMP/hdr"
}

# expect_http CODE WHAT: the last post answered CODE.
expect_http() {
	if [ "$code" != "$1" ] || [ "$rc" -ne 0 ]; then
		fail "$2: HTTP $code, curl exit $rc (wanted $1)"
		sed 's/^/  body| /' "$TMP/body" >&2
		sed 's/^/  curl| /' "$TMP/curl.err" >&2
	fi
}

# expect_rc N WHAT: curl exited N.
expect_rc() {
	[ "$rc" -eq "$1" ] || fail "$2: curl exit $rc (wanted $1)"
}

# stat_num KEY: a number from GET /mock/stats.
stat_num() {
	curl -sS "$URL/mock/stats" | grep -o "\"$1\":[0-9]*" | head -n 1 |
	    cut -d: -f2
}

reset_stats() {
	curl -sSf -X POST "$URL/mock/reset" >/dev/null ||
	    fail "POST /mock/reset failed"
}

# get PATH [CURL-OPTIONS...]: like post, for a request without a body.
get() {
	path=$1
	shift
	rm -f "$TMP/body" "$TMP/hdr"
	code=$(curl -sS -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' \
	    "$@" "$URL$path" 2>"$TMP/curl.err")
	rc=$?
	touch "$TMP/body" "$TMP/hdr"
}

# upload FILE [PURPOSE]: POST /v1/files as multipart/form-data.
upload() {
	rm -f "$TMP/body" "$TMP/hdr"
	code=$(curl -sS -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code}' \
	    -F "purpose=${2:-batch}" -F "file=@$1" "$URL/v1/files" \
	    2>"$TMP/curl.err")
	rc=$?
	touch "$TMP/body" "$TMP/hdr"
}

# field KEY [FILE]: the first string value of KEY in the last body.
field() {
	grep -o "\"$1\":\"[^\"]*\"" "${2:-$TMP/body}" | head -n 1 |
	    sed 's/^"[^"]*":"\(.*\)"$/\1/'
}

# num KEY [FILE]: the first whole-number value of KEY in the last body.
num() {
	grep -o "\"$1\":[0-9]*" "${2:-$TMP/body}" | head -n 1 | cut -d: -f2
}

# header NAME: a header of the last answer, without its name.
header() {
	grep -i "^$1:" "$TMP/hdr" | head -n 1 | sed 's/^[^:]*: *//' |
	    tr -d '\r'
}

# expect_eq GOT WANT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: '$1' (wanted '$2')"
}

# wait_for PATH TEXT: polls PATH until its body holds TEXT (20 s at most).
wait_for() {
	_n=0
	while [ "$_n" -lt 400 ]; do
		get "$1"
		grep -qF -- "$2" "$TMP/body" && return 0
		sleep 0.05
		_n=$((_n + 1))
	done
	fail "$1 never showed $2"
	sed 's/^/  body| /' "$TMP/body" >&2
	return 1
}

# text N CHAR: N bytes of CHAR, for long prompts.
text() {
	head -c "$1" /dev/zero | tr '\0' "$2"
}

OAI='{"model":"gpt-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello"}],"temperature":0}'
ANT='{"model":"claude-test","max_tokens":16,"system":"be brief","messages":[{"role":"user","content":[{"type":"text","text":"hi there"}]}]}'
OLL='{"model":"llama-test","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"yo"}],"stream":false}'

# ---- Usage and bad scripts exit with an error. ----
expect_status 2 "$MOCKLLM" -x
expect_status 2 "$MOCKLLM" -p notaport
cat >"$TMP/bad.json" <<'EOF'
{"rules": [
  {"stauts": 500},
  {"fault": "retry_afte=3"},
  {"reply": "x", "status": 500}
]}
EOF
expect_status 1 "$MOCKLLM" -s "$TMP/bad.json"
expect_contains "$TMP/err" "bad.json:2:4: rules[0].stauts: unknown key (did you mean 'status'?)"
expect_contains "$TMP/err" "rules[1].fault: unknown fault 'retry_afte' (did you mean 'retry_after'?)"
expect_contains "$TMP/err" "\"reply\" and \"status\" cannot both be given"
expect_status 1 "$MOCKLLM" -w "$TMP/no-such-job.json"
[ -s "$TMP/err" ] || fail "no message for a missing job file"
cat >"$TMP/bad2.json" <<'EOF2'
{"ratelimit": {"window_ms": 100},
 "batch": {"expire": true, "fail": true, "error_custom_ids": [""]},
 "reasoning_models": [7], "cache_min_tokens": 0, "max_concurency": 2}
EOF2
expect_status 1 "$MOCKLLM" -s "$TMP/bad2.json"
expect_contains "$TMP/err" "cache_min_tokens: "
expect_contains "$TMP/err" 'ratelimit: expected "requests", "tokens" or both'
expect_contains "$TMP/err" 'batch: "expire" and "fail" cannot both be true'
expect_contains "$TMP/err" "batch.error_custom_ids[0]: expected a non-empty string"
expect_contains "$TMP/err" "reasoning_models[0]: expected a non-empty string"
expect_contains "$TMP/err" "max_concurency: unknown key (did you mean 'max_concurrency'?)"

# ---- A script of rules. ----
cat >"$TMP/script.json" <<'EOF'
// Rules are tried in order; the first that matches answers.
{
  "rules": [
    { "path": "/v1/chat/completions", "match": "flaky", "times": 2,
      "fault": "status=503" },
    { "path": "/v1/chat/completions", "match": "flaky",
      "reply": "recovered" },
    { "match": "teapot", "status": 418, "body": "{\"teapot\":true}",
      "headers": { "X-Custom": "yes" } },
    { "path": "/v1/messages", "match": "scripted",
      "reply": "scripted answer", "delay_ms": 200 },
    { "path": "/api/chat", "match": "cutme", "fault": "truncate",
      "reply": "a reply long enough to be cut in half" },
    { "match": "plaintext", "reply": "plain",
      "headers": { "Content-Type": "text/plain" } },
    { "match": "slowecho", "delay_ms": 200 }
  ]
}
EOF
start_mock main -s "$TMP/script.json" -l "$TMP/mock.log" -i 60 -t 120 ||
    finish

# ---- Success bodies in each provider's format. ----
post /v1/chat/completions "$OAI" -H 'Authorization: Bearer sk-secret-value'
expect_http 200 "openai chat"
for k in '"id":"chatcmpl-' '"object":"chat.completion"' '"created":' \
    '"model":"gpt-test"' \
    '"choices":[{"index":0,"message":{"role":"assistant","content":"mock: hello"' \
    '"finish_reason":"stop"' '"usage":{"prompt_tokens":' \
    '"completion_tokens":' '"total_tokens":'; do
	expect_contains "$TMP/body" "$k"
done
grep -qi '^content-type: application/json' "$TMP/hdr" ||
    fail "openai chat: no JSON content type"

post /v1/messages "$ANT" -H 'x-api-key: sk-ant-secret' \
    -H 'anthropic-version: 2023-06-01'
expect_http 200 "anthropic messages"
for k in '"id":"msg_' '"type":"message"' '"role":"assistant"' \
    '"model":"claude-test"' '"content":[{"type":"text","text":"mock: hi there"}]' \
    '"stop_reason":"end_turn"' '"usage":{"input_tokens":' '"output_tokens":'; do
	expect_contains "$TMP/body" "$k"
done

post /api/chat "$OLL"
expect_http 200 "ollama chat"
for k in '"model":"llama-test"' '"created_at":"' \
    '"message":{"role":"assistant","content":"mock: yo"}' '"done":true' \
    '"done_reason":"stop"' '"prompt_eval_count":' '"eval_count":'; do
	expect_contains "$TMP/body" "$k"
done
# Ollama streams by default; the mock treats a missing "stream" as false.
post /api/chat '{"model":"llama-test","messages":[{"role":"user","content":"x"}]}'
expect_http 200 "ollama chat without stream"

post /v1/embeddings '{"model":"emb","input":["one","two"],"dimensions":8}'
expect_http 200 "openai embeddings"
for k in '"object":"list"' '"data":[{"object":"embedding","index":0,"embedding":[' \
    '{"object":"embedding","index":1,"embedding":[' '"model":"emb"' \
    '"usage":{"prompt_tokens":'; do
	expect_contains "$TMP/body" "$k"
done
post /v1/embeddings '{"model":"emb","input":"one","encoding_format":"base64"}'
expect_http 200 "openai embeddings in base64"
grep -q '"embedding":"[A-Za-z0-9+/=]*"' "$TMP/body" ||
    fail "openai embeddings: no base64 vector"

post /api/embed '{"model":"nomic","input":"one"}'
expect_http 200 "ollama embed"
expect_contains "$TMP/body" '"embeddings":[['
expect_contains "$TMP/body" '"model":"nomic"'

# ---- Requests the real APIs refuse. ----
post /v1/chat/completions '{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}'
expect_http 400 "openai stream"
expect_contains "$TMP/body" '"type":"invalid_request_error"'
expect_contains "$TMP/body" 'streaming is not supported by the mock'
post /v1/messages '{"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"x"}]}'
expect_http 400 "anthropic stream"
expect_contains "$TMP/body" '{"type":"error","error":{"type":"invalid_request_error"'
post /api/chat '{"model":"m","stream":true,"messages":[]}'
expect_http 400 "ollama stream"
expect_contains "$TMP/body" '{"error":"mock: '
post /v1/messages '{"model":"m","messages":[{"role":"user","content":"x"}]}'
expect_http 400 "anthropic without max_tokens"
expect_contains "$TMP/body" 'max_tokens'
post /v1/chat/completions '{"model": "m", "messages": ['
expect_http 400 "invalid JSON"
post /v1/nothing-here '{}'
expect_http 404 "unknown path"
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' "$URL/v1/chat/completions")
[ "$code" = 405 ] || fail "GET on a model endpoint: HTTP $code (wanted 405)"

# ---- Faults. ----
post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: status=429'
expect_http 429 "status=429"
grep -qi '^retry-after: 1' "$TMP/hdr" || fail "status=429: no Retry-After"
expect_contains "$TMP/body" '"code":"rate_limit_exceeded"'
post /v1/messages "$ANT" -H 'X-Mock-Fault: retry_after=7'
expect_http 429 "retry_after=7"
grep -qi '^retry-after: 7' "$TMP/hdr" || fail "retry_after=7: no Retry-After: 7"
expect_contains "$TMP/body" '"type":"rate_limit_error"'
post /api/chat "$OLL" -H 'X-Mock-Fault: retry_after_date=60'
expect_http 429 "retry_after_date=60"
grep -Eqi '^retry-after: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT' \
    "$TMP/hdr" || fail "retry_after_date: no HTTP-date in Retry-After"

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: status=503'
expect_http 503 "openai 503"
expect_contains "$TMP/body" '{"error":{"message":"'
expect_contains "$TMP/body" '"type":"server_error","param":null,"code":null}}'
post /v1/messages "$ANT" -H 'X-Mock-Fault: status=503'
expect_http 503 "anthropic 503"
expect_contains "$TMP/body" '{"type":"error","error":{"type":"overloaded_error","message":"'
grep -qi '^request-id: req_' "$TMP/hdr" || fail "anthropic 503: no request-id"
post /api/chat "$OLL" -H 'X-Mock-Fault: status=503'
expect_http 503 "ollama 503"
expect_contains "$TMP/body" '{"error":"mock: '
post /v1/messages "$ANT" -H 'X-Mock-Fault: status=500'
expect_contains "$TMP/body" '"type":"api_error"'
post /v1/messages "$ANT" -H 'X-Mock-Fault: status=401'
expect_contains "$TMP/body" '"type":"authentication_error"'
post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: status=404'
expect_http 404 "openai 404"
expect_contains "$TMP/body" '"code":"model_not_found"'

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: reset'
expect_rc 56 "reset"
post /v1/chat/completions "$OAI" -m 1 -H 'X-Mock-Fault: timeout'
expect_rc 28 "timeout"
post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: truncate'
expect_rc 18 "truncate"

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: malformed'
expect_http 200 "malformed"
[ "$(head -c 1 "$TMP/body")" = "{" ] || fail "malformed: body does not look like JSON"
[ "$(tail -c 1 "$TMP/body")" != "}" ] || fail "malformed: body is complete"

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: oversize=3'
expect_http 200 "oversize"
size=$(wc -c <"$TMP/body")
[ "$size" -eq 3145728 ] || fail "oversize=3: $size bytes (wanted 3145728)"
grep -qi '^content-length: 3145728' "$TMP/hdr" || fail "oversize: Content-Length"
[ "$(head -c 12 "$TMP/body")" = '{"padding":"' ] || fail "oversize: no padding"
[ "$(tail -c 1 "$TMP/body")" = "}" ] || fail "oversize: body not closed"
grep -q '"object":"chat.completion"' "$TMP/body" ||
    fail "oversize: no completion after the padding"

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: empty'
expect_http 200 "empty openai"
expect_contains "$TMP/body" '"choices":[]'
post /v1/messages "$ANT" -H 'X-Mock-Fault: empty'
expect_contains "$TMP/body" '"content":[]'
post /api/chat "$OLL" -H 'X-Mock-Fault: empty'
expect_contains "$TMP/body" '"content":""'
post /v1/embeddings '{"model":"e","input":"x"}' -H 'X-Mock-Fault: empty'
expect_contains "$TMP/body" '"data":[]'

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: latency=300, jitter=50'
expect_http 200 "latency"
# The log line is written when the answer goes out.
ms=$(grep 'POST /v1/chat/completions 200' "$TMP/mock.log" | tail -n 1 |
    sed 's/.* \([0-9]*\)ms$/\1/')
if ! { [ "${ms:-0}" -ge 300 ] && [ "$ms" -le 1000 ]; }; then
	fail "latency=300, jitter=50: answered after ${ms:-?} ms"
fi

post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: bogus=1'
expect_http 400 "unknown fault"
expect_contains "$TMP/body" "unknown fault 'bogus'"

for want in 503 503 200; do
	post /v1/chat/completions "$OAI" -H 'X-Mock-Fault: fail_first=2:status=503'
	expect_http "$want" "fail_first=2:status=503"
done

# ---- Script rules with "times". ----
reset_stats
FLAKY='{"model":"m","messages":[{"role":"user","content":"flaky one"}]}'
for want in 503 503 200 200; do
	post /v1/chat/completions "$FLAKY"
	expect_http "$want" "rule with times=2"
done
expect_contains "$TMP/body" '"content":"recovered"'
post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"teapot"}]}'
expect_http 418 "raw status rule"
expect_contains "$TMP/body" '{"teapot":true}'
grep -qi '^x-custom: yes' "$TMP/hdr" || fail "raw rule: no X-Custom header"
post /v1/messages '{"model":"m","max_tokens":9,"messages":[{"role":"user","content":"scripted"}]}'
expect_http 200 "anthropic reply rule"
expect_contains "$TMP/body" '"text":"scripted answer"'
post /api/chat '{"model":"m","messages":[{"role":"user","content":"cutme"}]}'
expect_rc 18 "rule with a truncate fault"
post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"plaintext"}]}'
expect_http 200 "rule with its own Content-Type"
if ! { [ "$(grep -ci '^content-type:' "$TMP/hdr")" = 1 ] &&
    grep -qi '^content-type: text/plain' "$TMP/hdr"; }; then
	fail "a rule's Content-Type does not replace the default"
fi
# A rule without an answer only delays the usual one.
post /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"slowecho"}]}'
expect_http 200 "delay-only rule"
expect_contains "$TMP/body" '"content":"mock: slowecho"'
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"rules_used":[2,2,1,1,1,1,1]'
# A reset starts the rules' counts again.
reset_stats
post /v1/chat/completions "$FLAKY"
expect_http 503 "rule after a reset"

# ---- Keep-alive, Connection: close, Expect: 100-continue. ----
reset_stats
curl -sS -o /dev/null -o /dev/null -d "$OAI" "$URL/v1/chat/completions" \
    "$URL/v1/chat/completions" || fail "two requests on one connection"
[ "$(stat_num connections_accepted)" = 1 ] ||
    fail "keep-alive: $(stat_num connections_accepted) connections (wanted 1)"
[ "$(stat_num requests)" = 2 ] || fail "keep-alive: $(stat_num requests) requests"
reset_stats
curl -sS -D "$TMP/hdr" -o /dev/null -o /dev/null -H 'Connection: close' \
    -d "$OAI" "$URL/v1/chat/completions" "$URL/v1/chat/completions" ||
    fail "Connection: close"
[ "$(stat_num connections_accepted)" = 2 ] ||
    fail "Connection: close: $(stat_num connections_accepted) connections (wanted 2)"
grep -qi '^connection: close' "$TMP/hdr" || fail "Connection: close not echoed"
curl -sS -v -o "$TMP/body" -H 'Expect: 100-continue' -d "$OAI" \
    "$URL/v1/chat/completions" 2>"$TMP/curl.err" || fail "Expect: 100-continue"
grep -q '100 Continue' "$TMP/curl.err" || fail "no 100 Continue"
expect_contains "$TMP/body" '"object":"chat.completion"'

# ---- Concurrency: delayed answers overlap and are counted. ----
reset_stats
cpids=""
for i in 1 2 3 4 5; do
	curl -sS -o "$TMP/c$i" -H 'X-Mock-Fault: latency=1000' -d "$OAI" \
	    "$URL/v1/chat/completions" &
	cpids="$cpids $!"
done
sleep 0.5
[ "$(stat_num in_flight)" = 5 ] || fail "in_flight: $(stat_num in_flight) (wanted 5)"
for p in $cpids; do
	wait "$p" || fail "a delayed request failed"
done
[ "$(stat_num max_in_flight)" = 5 ] ||
    fail "max_in_flight: $(stat_num max_in_flight) (wanted 5)"
[ "$(stat_num in_flight)" = 0 ] || fail "in_flight after: $(stat_num in_flight)"
for i in 1 2 3 4 5; do
	expect_contains "$TMP/c$i" '"finish_reason":"stop"'
done

# ---- Garbage never hurts it. ----
printf 'GARBAGE IN\r\n\r\n' | curl -sS -m 5 telnet://127.0.0.1:"$PORT" \
    >"$TMP/raw" 2>/dev/null
expect_contains "$TMP/raw" "HTTP/1.1 400"
printf 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n' |
    curl -sS -m 5 telnet://127.0.0.1:"$PORT" >"$TMP/raw" 2>/dev/null
expect_contains "$TMP/raw" "HTTP/1.1 400"
expect_contains "$TMP/raw" "Content-Length is required"
printf '\001\002\003\004binary\r\n' | curl -sS -m 5 telnet://127.0.0.1:"$PORT" \
    >"$TMP/raw" 2>/dev/null
expect_contains "$TMP/raw" "HTTP/1.1 400"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Big: $big" -d '{}' \
    "$URL/v1/chat/completions" 2>/dev/null)
[ "$code" = 431 ] || fail "huge headers: HTTP $code (wanted 431)"
head -c 17000000 /dev/zero >"$TMP/big.bin"
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' --data-binary @"$TMP/big.bin" \
    "$URL/v1/chat/completions" 2>/dev/null)
[ "$code" = 413 ] || fail "17 MB body: HTTP $code (wanted 413)"
post /v1/chat/completions "$OAI"
expect_http 200 "a request after the garbage"

# ---- Prompt caching at the providers' own thresholds. ----
reset_stats
# 1150 tokens, sent twice: OpenAI reads 1024 of them from its cache (from
# 1024 tokens on, in blocks of 128).
big=$(text 4600 d)
for q in one two; do
	post /v1/chat/completions "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"$big\"},{\"role\":\"user\",\"content\":\"$q\"}]}"
	expect_http 200 "openai: a long prompt"
done
expect_contains "$TMP/body" '"prompt_tokens":1151,'
expect_contains "$TMP/body" '"prompt_tokens_details":{"cached_tokens":1024,'
# 1000 tokens are below OpenAI's minimum.
small=$(text 4000 e)
for q in one two; do
	post /v1/chat/completions "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"$small\"},{\"role\":\"user\",\"content\":\"$q\"}]}"
done
expect_contains "$TMP/body" '"cached_tokens":0,'
# A marked 1500-token system prompt: Sonnet caches it (1024 at least),
# Haiku 3.5 does not (2048 at least).
mid=$(text 6000 f)
for model in claude-sonnet-4-5 claude-3-5-haiku-latest; do
	for q in one two; do
		post /v1/messages "{\"model\":\"$model\",\"max_tokens\":8,\"system\":[{\"type\":\"text\",\"text\":\"$mid\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}]}"
		expect_http 200 "anthropic $model: a marked system prompt"
		cp "$TMP/body" "$TMP/$model.$q"
	done
done
expect_contains "$TMP/claude-sonnet-4-5.one" '"usage":{"input_tokens":1,"cache_creation_input_tokens":1500,"cache_read_input_tokens":0,'
expect_contains "$TMP/claude-sonnet-4-5.two" '"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":1500,'
expect_contains "$TMP/claude-3-5-haiku-latest.two" '"usage":{"input_tokens":1501,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"prompt_cache":{"cached_tokens":1024,"cache_read_input_tokens":1500,"cache_creation_input_tokens":1500}'

# ---- Stats and the log never hold credentials. ----
curl -sS "$URL/mock/stats" >"$TMP/stats"
grep -q 'secret' "$TMP/stats" && fail "a credential leaked into /mock/stats"
grep -q 'secret' "$TMP/mock.log" && fail "a credential leaked into the log"
reset_stats
post /v1/chat/completions "$OAI" -H 'Authorization: Bearer sk-secret-value'
post /v1/messages "$ANT"
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"auth":{"present":true,"header":"authorization","length":22}'
expect_contains "$TMP/stats" '"auth":{"present":false}'
expect_contains "$TMP/stats" '"model":"gpt-test","status":200'
expect_contains "$TMP/stats" '"paths":{"/v1/chat/completions":1,"/v1/messages":1}'
expect_contains "$TMP/mock.log" "POST /v1/messages 503"
expect_contains "$TMP/mock.log" "POST /v1/chat/completions reset"

# ---- It listens on 127.0.0.1 only. ----
if [ -r /proc/net/tcp ]; then
	hex=$(printf '%04X' "$PORT")
	awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A" { print $2 }' /proc/net/tcp \
	    >"$TMP/listen"
	[ "$(cat "$TMP/listen")" = "0100007F:$hex" ] ||
	    fail "listening on $(cat "$TMP/listen") (wanted 127.0.0.1 only)"
	if [ -r /proc/net/tcp6 ] &&
	    awk -v p=":$hex" '$2 ~ p"$" && $4 == "0A"' /proc/net/tcp6 | grep -q .; then
		fail "listening on IPv6 too"
	fi
fi
curl -sS -m 2 -o /dev/null "http://[::1]:$PORT/mock/stats" 2>/dev/null &&
    fail "answered on ::1"

# ---- SIGTERM ends it cleanly and removes the port file. ----
kill -TERM "$MOCK_PID"
wait "$MOCK_PID"
st=$?
[ "$st" -eq 0 ] || fail "exit status $st after SIGTERM"
[ -e "$TMP/main.port" ] && fail "port file left behind"
sed 's/^/  err| /' "$TMP/main.err" >&2

# ---- World mode: answers come from the job's sim backend. ----
printf '{"id": 1, "text": "great film", "label": "positive"}\n{"id": 2, "text": "dull film", "label": "negative"}\n' \
    >"$TMP/data.jsonl"
cat >"$TMP/job.json" <<'EOF'
{
  "name": "world",
  "task": { "dataset": "data.jsonl", "input": "Review: {{text}}",
            "target": "label", "metric": { "type": "exact" } },
  "seed_prompts": [ "Classify the review." ],
  "backends": { "sim": { "type": "sim", "model": "sim-1" } },
  "roles": { "target": "sim" }
}
EOF
if start_mock world -w "$TMP/job.json" -i 30; then
	post /v1/chat/completions '{"model":"m","messages":[{"role":"system","content":"Classify the review."},{"role":"user","content":"Review: great film"}]}'
	case $code in
	200)
		expect_contains "$TMP/body" '"object":"chat.completion"'
		expect_contains "$TMP/body" '"usage":{"prompt_tokens":'
		;;
	500)
		# The sim backend cannot answer yet: the failure is polite.
		expect_contains "$TMP/body" '"type":"server_error"'
		expect_contains "$TMP/body" "backend 'sim'"
		;;
	*)
		fail "world mode: HTTP $code"
		;;
	esac
	post /v1/messages "$ANT"
	case $code in
	200) expect_contains "$TMP/body" '"type":"message"' ;;
	500) expect_contains "$TMP/body" '"type":"api_error"' ;;
	*) fail "world mode (anthropic): HTTP $code" ;;
	esac
	kill -TERM "$MOCK_PID"
	wait "$MOCK_PID" || fail "world mode: bad exit"
fi

# ---- OpenAI reasoning models, prompt caching with a low threshold. ----
cat >"$TMP/ext.json" <<'EOF2'
{
  "reasoning_models": ["house-reasoner", "think-*"],
  "cache_min_tokens": 32,
  "cache_block_tokens": 16,
  "batch": { "delay_ms": 3000, "error_custom_ids": ["req-err"] },
  "rules": [
    { "path": "/v1/chat/completions", "match": "teapot", "status": 418 },
    { "path": "/v1/files", "match": "flaky-upload", "fault": "status=503" }
  ]
}
EOF2
start_mock ext -s "$TMP/ext.json" -i 60 -t 120 || finish

q='"messages":[{"role":"user","content":"think"}]'
post /v1/chat/completions "{\"model\":\"o3-mini\",$q,\"max_tokens\":5}"
expect_http 400 "reasoning model with max_tokens"
expect_contains "$TMP/body" '{"error":{"message":"Unsupported parameter: '"'max_tokens'"' is not supported with this model. Use '"'max_completion_tokens'"' instead.","type":"invalid_request_error","param":"max_tokens","code":"unsupported_parameter"}}'
post /v1/chat/completions "{\"model\":\"gpt-5-mini\",$q,\"temperature\":0.2}"
expect_http 400 "reasoning model with temperature 0.2"
expect_contains "$TMP/body" '{"error":{"message":"Unsupported value: '"'temperature'"' does not support 0.2 with this model. Only the default (1) value is supported.","type":"invalid_request_error","param":"temperature","code":"unsupported_value"}}'
post /v1/chat/completions "{\"model\":\"o4-mini\",$q,\"reasoning_effort\":\"extreme\"}"
expect_http 400 "a reasoning_effort that does not exist"
expect_contains "$TMP/body" '"message":"Invalid value: '"'extreme'"'. Supported values are: '"'minimal', 'low', 'medium', and 'high'"'.","type":"invalid_request_error","param":"reasoning_effort","code":"invalid_value"}'
post /v1/chat/completions "{\"model\":\"gpt-4o\",$q,\"reasoning_effort\":\"low\"}"
expect_http 400 "reasoning_effort for a model that does not reason"
expect_contains "$TMP/body" '"param":"reasoning_effort","code":"unsupported_parameter"'
for model in house-reasoner think-fast; do
	post /v1/chat/completions "{\"model\":\"$model\",$q,\"max_tokens\":5}"
	expect_http 400 "reasoning model $model (from the script)"
done
post /v1/chat/completions "{\"model\":\"house-reasoner-2\",$q,\"max_tokens\":5}"
expect_http 200 "a model the script does not list"

# Reasoning tokens are part of completion_tokens, drawn from the request:
# the same for the same request, none at minimal, four times low at high.
for effort in low low high minimal; do
	post /v1/chat/completions "{\"model\":\"o1\",$q,\"reasoning_effort\":\"$effort\",\"temperature\":1,\"max_completion_tokens\":100000}"
	expect_http 200 "reasoning effort $effort"
	cp "$TMP/body" "$TMP/effort.$effort"
done
expect_contains "$TMP/effort.low" '"content":"mock: think"'
low=$(num reasoning_tokens "$TMP/effort.low")
high=$(num reasoning_tokens "$TMP/effort.high")
[ "${low:-0}" -gt 0 ] || fail "no reasoning tokens at low effort"
expect_eq "$high" "$((low * 4))" "reasoning tokens at high effort"
expect_eq "$(num reasoning_tokens "$TMP/effort.minimal")" 0 \
    "reasoning tokens at minimal effort"
expect_eq "$(num completion_tokens "$TMP/effort.low")" "$((low + 3))" \
    "completion_tokens with reasoning (3 visible)"
post /v1/chat/completions "{\"model\":\"o1\",$q}"
expect_eq "$(num reasoning_tokens)" "$((low * 2))" \
    "reasoning tokens at the default (medium) effort"
# Reasoning that takes every token allowed leaves an empty, cut answer.
post /v1/chat/completions "{\"model\":\"o1\",$q,\"max_completion_tokens\":8}"
expect_http 200 "reasoning beyond max_completion_tokens"
expect_contains "$TMP/body" '"content":"","refusal":null},"logprobs":null,"finish_reason":"length"'
expect_contains "$TMP/body" '"completion_tokens":8,'
expect_contains "$TMP/body" '"completion_tokens_details":{"reasoning_tokens":8,'
post /v1/chat/completions "{\"model\":\"gpt-4o\",$q}"
expect_contains "$TMP/body" '"completion_tokens_details":{"reasoning_tokens":0,'

# OpenAI: a 100-token system prompt shared by two requests is cached from
# 32 tokens on, in blocks of 16: 96 tokens.
sys=$(text 400 g)
reset_stats
for q in one two; do
	post /v1/chat/completions "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"$sys\"},{\"role\":\"user\",\"content\":\"$q\"}]}"
	cp "$TMP/body" "$TMP/oc.$q"
done
expect_contains "$TMP/oc.one" '"cached_tokens":0,'
expect_contains "$TMP/oc.two" '"prompt_tokens":101,'
expect_contains "$TMP/oc.two" '"cached_tokens":96,'
# The cache belongs to the model.
post /v1/chat/completions "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"$sys\"},{\"role\":\"user\",\"content\":\"three\"}]}"
expect_contains "$TMP/body" '"cached_tokens":0,'

# Anthropic caches only what cache_control marks, and input_tokens leave
# out what was written to the cache or read from it.
asys="[{\"type\":\"text\",\"text\":\"$(text 400 h)\",\"cache_control\":{\"type\":\"ephemeral\"}}]"
for q in one two; do
	post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"system\":$asys,\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}]}"
	expect_http 200 "anthropic cache_control"
	cp "$TMP/body" "$TMP/ac.$q"
done
expect_contains "$TMP/ac.one" '"usage":{"input_tokens":1,"cache_creation_input_tokens":100,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":0},"output_tokens":'
expect_contains "$TMP/ac.two" '"usage":{"input_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,'
expect_contains "$TMP/ac.two" '"service_tier":"standard"'
# Unmarked, the same prompt is not cached.
post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"system\":\"$(text 400 i)\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}"
post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"system\":\"$(text 400 i)\",\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}"
expect_contains "$TMP/body" '"usage":{"input_tokens":101,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
# A marked block below the minimum is not cached.
post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"system\":[{\"type\":\"text\",\"text\":\"$(text 40 j)\",\"cache_control\":{\"type\":\"ephemeral\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}"
expect_contains "$TMP/body" '"usage":{"input_tokens":11,"cache_creation_input_tokens":0,'
# A second breakpoint: the system prompt is read, the marked demo written
# (50 tokens), with the one-hour cache.
post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"system\":$asys,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"$(text 200 k)\",\"cache_control\":{\"type\":\"ephemeral\",\"ttl\":\"1h\"}},{\"type\":\"text\",\"text\":\"q\"}]}]}"
expect_http 200 "two breakpoints"
expect_contains "$TMP/body" '"usage":{"input_tokens":1,"cache_creation_input_tokens":50,"cache_read_input_tokens":100,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":50},'
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"prompt_cache":{"cached_tokens":96,"cache_read_input_tokens":200,"cache_creation_input_tokens":150}'
blk='{"type":"text","text":"x","cache_control":{"type":"ephemeral"}}'
post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"system\":[$blk,$blk,$blk],\"messages\":[{\"role\":\"user\",\"content\":[$blk,$blk]}]}"
expect_http 400 "five breakpoints"
expect_contains "$TMP/body" '"message":"A maximum of 4 blocks with cache_control may be provided. Found 5."'
post /v1/messages "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":9,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"x\",\"cache_control\":{\"type\":\"forever\"}}]}]}"
expect_http 400 "a cache_control of another type"
expect_contains "$TMP/body" '"message":"messages.0.content.0.cache_control.type: Input should be '"'ephemeral'"'"'

# ---- OpenAI Files and Batches. ----
reset_stats
b1='{"model":"gpt-4o","messages":[{"role":"user","content":"one"}]}'
{
	echo "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":$b1}"
	echo '{"custom_id":"req-err","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"two"}]}}'
	echo '{"custom_id":"r3","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[{"role":"user","content":"teapot"}]}}'
	echo '{"custom_id":"r4","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[]}}'
} >"$TMP/in.jsonl"
post /v1/files '{"purpose":"batch"}'
expect_http 400 "a JSON upload"
expect_contains "$TMP/body" 'Invalid Content-Type header (application/json), expected multipart/form-data.'
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' -F "file=@$TMP/in.jsonl" \
    "$URL/v1/files")
expect_eq "$code" 400 "an upload without purpose"
expect_contains "$TMP/body" '"message":"Missing required parameter: '"'purpose'"'.","type":"invalid_request_error","param":"purpose","code":"missing_required_parameter"'
cp "$TMP/in.jsonl" "$TMP/in.txt"
upload "$TMP/in.txt"
expect_http 400 "a batch file that is not .jsonl"
expect_contains "$TMP/body" 'Invalid file format for Batch API. Must be .jsonl'
upload "$TMP/in.jsonl"
expect_http 200 "upload"
for k in '"object":"file"' '"purpose":"batch"' '"filename":"in.jsonl"' \
    "\"bytes\":$(wc -c <"$TMP/in.jsonl" | tr -d ' ')," '"status":"processed"'; do
	expect_contains "$TMP/body" "$k"
done
fid=$(field id)
get "/v1/files/$fid/content"
expect_http 200 "file content"
cmp -s "$TMP/body" "$TMP/in.jsonl" || fail "the file content differs"
get /v1/files/file-nope
expect_http 404 "an unknown file"
expect_contains "$TMP/body" '"message":"No such File object: file-nope"'

post /v1/batches "{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/responses\",\"completion_window\":\"24h\"}"
expect_http 400 "a batch for another endpoint"
expect_contains "$TMP/body" '"param":"endpoint","code":"invalid_value"'
post /v1/batches "{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"1h\"}"
expect_http 400 "a batch with a 1h window"
expect_contains "$TMP/body" '"param":"completion_window","code":"invalid_value"'
post /v1/batches '{"endpoint":"/v1/chat/completions","completion_window":"24h"}'
expect_http 400 "a batch without input_file_id"
expect_contains "$TMP/body" '"param":"input_file_id","code":"missing_required_parameter"'

post /v1/batches "{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\",\"metadata\":{\"job\":\"t\"}}"
expect_http 200 "batch create"
for k in '"object":"batch"' '"endpoint":"/v1/chat/completions"' \
    '"errors":null' "\"input_file_id\":\"$fid\"" '"completion_window":"24h"' \
    '"status":"validating"' '"output_file_id":null' \
    '"request_counts":{"total":0,"completed":0,"failed":0}' \
    '"metadata":{"job":"t"}'; do
	expect_contains "$TMP/body" "$k"
done
bid=$(field id)
case $bid in batch_*) ;; *) fail "batch id '$bid'" ;; esac
wait_for "/v1/batches/$bid" '"status":"completed"'
done=$bid
for k in '"request_counts":{"total":4,"completed":1,"failed":3}' \
    '"completed_at":1' '"finalizing_at":1' '"in_progress_at":1'; do
	expect_contains "$TMP/body" "$k"
done
out=$(field output_file_id)
err=$(field error_file_id)
get "/v1/files/$out/content"
cp "$TMP/body" "$TMP/out.jsonl"
expect_eq "$(wc -l <"$TMP/out.jsonl" | tr -d ' ')" 1 "output lines"
expect_contains "$TMP/out.jsonl" '"custom_id":"r1","response":{"status_code":200,"request_id":"req_'
expect_contains "$TMP/out.jsonl" '"body":{"id":"chatcmpl-'
expect_contains "$TMP/out.jsonl" '"content":"mock: one"'
expect_contains "$TMP/out.jsonl" '"error":null}'
grep -q '^{"id":"batch_req_' "$TMP/out.jsonl" || fail "no batch_req_ id"
get "/v1/files/$err/content"
cp "$TMP/body" "$TMP/err.jsonl"
expect_contains "$TMP/err.jsonl" '"custom_id":"req-err","response":{"status_code":500,'
expect_contains "$TMP/err.jsonl" '"type":"server_error"'
expect_contains "$TMP/err.jsonl" '"custom_id":"r3","response":{"status_code":418,'
expect_contains "$TMP/err.jsonl" '"custom_id":"r4","response":{"status_code":400,'
# A batched request is priced as the same request alone.
grep -o '"usage":{[^}]*}' "$TMP/out.jsonl" >"$TMP/u.batch"
post /v1/chat/completions "$b1"
grep -o '"usage":{[^}]*}' "$TMP/body" >"$TMP/u.alone"
cmp -s "$TMP/u.batch" "$TMP/u.alone" || fail "batched usage differs"
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"interactive_requests":1,"batched_requests":4,'
expect_contains "$TMP/stats" '"batches":{"files":1,"created":1,"succeeded":1,"errored":3,"expired":0,"canceled":0}'
expect_contains "$TMP/stats" '"/v1/batches/{id}":'
# A rule that names a batch API path applies to its calls.
printf 'flaky-upload\n' >"$TMP/flaky.jsonl"
upload "$TMP/flaky.jsonl"
expect_http 503 "a rule on /v1/files"

# A cancelled batch: cancelling, then cancelled; nothing more to cancel.
post /v1/batches "{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"
bid=$(field id)
code=$(curl -sS -o "$TMP/body" -w '%{http_code}' -X POST \
    "$URL/v1/batches/$bid/cancel")
expect_eq "$code" 200 "cancel (no body)"
expect_contains "$TMP/body" '"status":"cancelling"'
expect_contains "$TMP/body" '"cancelling_at":1'
wait_for "/v1/batches/$bid" '"status":"cancelled"'
expect_contains "$TMP/body" '"cancelled_at":1'
post "/v1/batches/$bid/cancel" ''
expect_http 200 "cancel a cancelled batch"
expect_contains "$TMP/body" '"status":"cancelled"'
post "/v1/batches/$done/cancel" ''
expect_http 400 "cancel a completed batch"
expect_contains "$TMP/body" "Cannot cancel a batch with status 'completed'."
get /v1/batches/batch_nope
expect_http 404 "an unknown batch"

# A file the validation refuses: the batch fails, line by line.
{
	echo 'not json'
	echo '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[]}}'
	echo '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[]}}'
	echo '{"custom_id":"b","method":"POST","url":"/v1/embeddings","body":{"model":"gpt-4o","input":"x"}}'
	echo '{"custom_id":"c","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4.1","messages":[]}}'
	echo '{"custom_id":"d","url":"/v1/chat/completions","body":{"model":"gpt-4o","messages":[]}}'
} >"$TMP/bad.jsonl"
upload "$TMP/bad.jsonl"
post /v1/batches "{\"input_file_id\":\"$(field id)\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"
bid=$(field id)
wait_for "/v1/batches/$bid" '"status":"failed"'
for k in '"errors":{"object":"list","data":[' \
    '{"code":"invalid_json_line","message":"This line is not parseable as valid JSON.","param":null,"line":1}' \
    '"code":"duplicate_custom_id","message":"The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.","param":"custom_id","line":3}' \
    '"code":"url_mismatch"' '"param":"url","line":4}' \
    '"code":"model_mismatch"' '"line":5}' \
    '"code":"missing_required_parameter","message":"Missing required parameter: '"'method'"'.","param":"method","line":6}' \
    '"failed_at":1' '"request_counts":{"total":0,'; do
	expect_contains "$TMP/body" "$k"
done
: >"$TMP/empty.jsonl"
upload "$TMP/empty.jsonl"
post /v1/batches "{\"input_file_id\":\"$(field id)\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"
wait_for "/v1/batches/$(field id)" '"status":"failed"'
expect_contains "$TMP/body" '"code":"empty_file"'

# ---- Anthropic Message Batches. ----
reset_stats
post /v1/messages/batches '{}'
expect_http 400 "a batch without requests"
expect_contains "$TMP/body" '{"type":"error","error":{"type":"invalid_request_error","message":"requests: Field required"}'
p='{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}'
post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"a\",\"params\":$p},{\"custom_id\":\"a\",\"params\":$p}]}"
expect_http 400 "duplicate custom_ids"
expect_contains "$TMP/body" 'requests.1.custom_id: Duplicate custom_id'
post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"$(text 65 x)\",\"params\":$p}]}"
expect_contains "$TMP/body" 'requests.0.custom_id: String should have at most 64 characters'
post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"a b\",\"params\":$p}]}"
expect_contains "$TMP/body" "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}\$'"
post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"a\"}]}"
expect_contains "$TMP/body" 'requests.0.params: Field required'

post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"ok-1\",\"params\":$p},{\"custom_id\":\"no-max\",\"params\":{\"model\":\"claude-sonnet-4-5\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}},{\"custom_id\":\"req-err\",\"params\":$p}]}"
expect_http 200 "message batch create"
for k in '"type":"message_batch"' '"processing_status":"in_progress"' \
    '"request_counts":{"processing":3,"succeeded":0,"errored":0,"canceled":0,"expired":0}' \
    '"ended_at":null' '"archived_at":null' '"cancel_initiated_at":null' \
    '"results_url":null'; do
	expect_contains "$TMP/body" "$k"
done
grep -Eq '"created_at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z"' \
    "$TMP/body" || fail "message batch: created_at is not RFC 3339"
mid=$(field id)
case $mid in msgbatch_*) ;; *) fail "message batch id '$mid'" ;; esac
get "/v1/messages/batches/$mid/results"
expect_http 400 "results before the end"
wait_for "/v1/messages/batches/$mid" '"processing_status":"ended"'
expect_contains "$TMP/body" '"request_counts":{"processing":0,"succeeded":1,"errored":2,"canceled":0,"expired":0}'
rurl=$(field results_url)
expect_eq "$rurl" "$URL/v1/messages/batches/$mid/results" "results_url"
rm -f "$TMP/hdr"
curl -sS -D "$TMP/hdr" -o "$TMP/res.jsonl" "$rurl" || fail "GET results_url"
expect_eq "$(header content-type)" application/x-jsonl "results Content-Type"
expect_contains "$TMP/res.jsonl" '{"custom_id":"ok-1","result":{"type":"succeeded","message":{"id":"msg_'
expect_contains "$TMP/res.jsonl" '"service_tier":"batch"'
expect_contains "$TMP/res.jsonl" '{"custom_id":"no-max","result":{"type":"errored","error":{"type":"error","error":{"type":"invalid_request_error","message":"mock: max_tokens: field required"}'
expect_contains "$TMP/res.jsonl" '{"custom_id":"req-err","result":{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":"Internal server error"}'
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"interactive_requests":0,"batched_requests":3,'
post "/v1/messages/batches/$mid/cancel" ''
expect_http 400 "cancel an ended batch"

post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"a\",\"params\":$p},{\"custom_id\":\"b\",\"params\":$p}]}"
mid=$(field id)
post "/v1/messages/batches/$mid/cancel" ''
expect_http 200 "cancel a message batch"
expect_contains "$TMP/body" '"processing_status":"canceling"'
grep -q '"cancel_initiated_at":"2' "$TMP/body" || fail "no cancel_initiated_at"
wait_for "/v1/messages/batches/$mid" '"processing_status":"ended"'
expect_contains "$TMP/body" '"canceled":2,'
get "/v1/messages/batches/$mid/results"
expect_contains "$TMP/body" '{"custom_id":"a","result":{"type":"canceled"}}'
get /v1/messages/batches/msgbatch_nope
expect_http 404 "an unknown message batch"
expect_contains "$TMP/body" '"type":"not_found_error"'
kill -TERM "$MOCK_PID"
wait "$MOCK_PID" || fail "ext: bad exit"

# ---- Rate limits announced in headers, counted in windows. ----
cat >"$TMP/rl.json" <<'EOF2'
{ "ratelimit": { "requests": 5, "tokens": 1000, "window_ms": 6000 } }
EOF2
start_mock rl -s "$TMP/rl.json" -i 60 -t 120 || finish
small='{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}'
cost=$(( ($(printf '%s' "$small" | wc -c) + 3) / 4 + 10 ))
post /v1/chat/completions "$small"
expect_http 200 "first request in a window"
expect_eq "$(header x-ratelimit-limit-requests)" 5 "x-ratelimit-limit-requests"
expect_eq "$(header x-ratelimit-remaining-requests)" 4 \
    "x-ratelimit-remaining-requests"
expect_eq "$(header x-ratelimit-limit-tokens)" 1000 "x-ratelimit-limit-tokens"
expect_eq "$(header x-ratelimit-remaining-tokens)" "$((1000 - cost))" \
    "x-ratelimit-remaining-tokens"
header x-ratelimit-reset-requests | grep -Eq '^([0-9]+ms|[0-9]+(\.[0-9]+)?s)$' ||
    fail "x-ratelimit-reset-requests '$(header x-ratelimit-reset-requests)'"
header x-ratelimit-reset-tokens | grep -Eq '^([0-9]+ms|[0-9]+(\.[0-9]+)?s)$' ||
    fail "x-ratelimit-reset-tokens '$(header x-ratelimit-reset-tokens)'"
post /v1/chat/completions '{"model":"gpt-4o","max_tokens":5000,"messages":[{"role":"user","content":"hi"}]}'
expect_http 429 "a request larger than the window"
expect_contains "$TMP/body" '"message":"Request too large for gpt-4o in organization org-mock on tokens per min (TPM): Limit 1000, Requested'
expect_contains "$TMP/body" '"type":"tokens","param":null,"code":"rate_limit_exceeded"'
[ -z "$(header retry-after)" ] || fail "retry-after on a request too large"
post /v1/chat/completions '{"model":"gpt-4o","max_tokens":980,"messages":[{"role":"user","content":"hi"}]}'
expect_http 429 "tokens beyond the window"
expect_contains "$TMP/body" "on tokens per min (TPM): Limit 1000, Used $cost, Requested"
[ -n "$(header retry-after)" ] || fail "no retry-after on a 429"
for left in 3 2 1 0; do
	post /v1/chat/completions "$small"
	expect_http 200 "request with $left left"
	expect_eq "$(header x-ratelimit-remaining-requests)" "$left" \
	    "x-ratelimit-remaining-requests"
done
post /v1/chat/completions "$small"
expect_http 429 "a sixth request in the window"
expect_contains "$TMP/body" '"message":"Rate limit reached for gpt-4o in organization org-mock on requests per min (RPM): Limit 5, Used 5, Requested 1. Please try again in'
expect_contains "$TMP/body" '"type":"requests","param":null,"code":"rate_limit_exceeded"'
expect_eq "$(header x-ratelimit-remaining-requests)" 0 "remaining on a 429"
ra=$(header retry-after)
if ! { [ "${ra:-0}" -ge 1 ] && [ "$ra" -le 6 ]; }; then
	fail "retry-after '$ra' (wanted 1 to 6)"
fi
ANTS='{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}'
post /v1/messages "$ANTS"
expect_http 429 "anthropic in the same window"
expect_contains "$TMP/body" '{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 5 requests per minute.'
[ -n "$(header retry-after)" ] || fail "anthropic 429: no retry-after"
post /api/chat "$OLL"
expect_http 200 "ollama is not limited"
grep -qi 'ratelimit' "$TMP/hdr" && fail "rate-limit headers on an Ollama answer"
sleep "${ra:-6}"
post /v1/messages "$ANTS"
expect_http 200 "anthropic in a new window"
expect_eq "$(header anthropic-ratelimit-requests-limit)" 5 \
    "anthropic-ratelimit-requests-limit"
expect_eq "$(header anthropic-ratelimit-requests-remaining)" 4 \
    "anthropic-ratelimit-requests-remaining"
expect_eq "$(header anthropic-ratelimit-tokens-limit)" 1000 \
    "anthropic-ratelimit-tokens-limit"
for h in anthropic-ratelimit-requests-reset anthropic-ratelimit-tokens-reset; do
	header "$h" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
	    fail "$h '$(header "$h")' is not RFC 3339"
done
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"status_429":4,"throttled":{"request_limit":2,"token_limit":2,"concurrency_limit":0}'
kill -TERM "$MOCK_PID"
wait "$MOCK_PID" || fail "rl: bad exit"

# ---- A hidden concurrency limit: 429 without rate-limit headers. ----
printf '{ "max_concurrency": 2 }\n' >"$TMP/conc.json"
start_mock conc -s "$TMP/conc.json" -i 60 -t 120 || finish
cpids=""
for i in 1 2 3 4; do
	curl -sS -o "$TMP/cc$i" -D "$TMP/ch$i" -w '%{http_code}\n' \
	    -H 'X-Mock-Fault: latency=2500' -d "$OAI" \
	    "$URL/v1/chat/completions" >"$TMP/code$i" &
	cpids="$cpids $!"
done
for p in $cpids; do
	wait "$p" || fail "a request under the concurrency limit failed"
done
expect_eq "$(cat "$TMP"/code? | grep -c 200)" 2 "answers within the limit"
expect_eq "$(cat "$TMP"/code? | grep -c 429)" 2 "429s beyond the limit"
for i in 1 2 3 4; do
	if grep -q 429 "$TMP/code$i"; then
		expect_contains "$TMP/cc$i" '"code":"rate_limit_exceeded"'
		grep -qi 'ratelimit\|retry-after' "$TMP/ch$i" &&
		    fail "a concurrency 429 announced its limit"
	fi
done
[ "$(stat_num max_in_flight)" = 2 ] ||
    fail "max_in_flight $(stat_num max_in_flight) under a limit of 2"
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"status_429":2,"throttled":{"request_limit":0,"token_limit":0,"concurrency_limit":2}'
expect_contains "$TMP/stats" '"fault":"concurrency"'
kill -TERM "$MOCK_PID"
wait "$MOCK_PID" || fail "conc: bad exit"

# ---- Batches that expire or fail. ----
printf '{ "batch": { "delay_ms": 300, "expire": true } }\n' >"$TMP/exp.json"
start_mock exp -s "$TMP/exp.json" -i 60 -t 120 || finish
for i in 1 2 3 4; do
	echo "{\"custom_id\":\"e$i\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"n$i\"}]}}"
done >"$TMP/exp.jsonl"
upload "$TMP/exp.jsonl"
post /v1/batches "{\"input_file_id\":\"$(field id)\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"
bid=$(field id)
wait_for "/v1/batches/$bid" '"status":"expired"'
expect_contains "$TMP/body" '"request_counts":{"total":4,"completed":2,"failed":2}'
expect_contains "$TMP/body" '"expired_at":1'
get "/v1/files/$(field error_file_id)/content"
expect_contains "$TMP/body" '"custom_id":"e3","response":null,"error":{"code":"batch_expired","message":"This request could not be executed before the completion window expired."}}'
p='{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}'
post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"a\",\"params\":$p},{\"custom_id\":\"b\",\"params\":$p}]}"
mid=$(field id)
wait_for "/v1/messages/batches/$mid" '"processing_status":"ended"'
expect_contains "$TMP/body" '"request_counts":{"processing":0,"succeeded":1,"errored":0,"canceled":0,"expired":1}'
get "/v1/messages/batches/$mid/results"
expect_contains "$TMP/body" '{"custom_id":"b","result":{"type":"expired"}}'
curl -sS "$URL/mock/stats" >"$TMP/stats"
expect_contains "$TMP/stats" '"succeeded":3,"errored":0,"expired":3,"canceled":0}'
kill -TERM "$MOCK_PID"
wait "$MOCK_PID" || fail "exp: bad exit"

printf '{ "batch": { "delay_ms": 100, "fail": true } }\n' >"$TMP/bf.json"
start_mock bfail -s "$TMP/bf.json" -i 60 -t 120 || finish
upload "$TMP/exp.jsonl"
post /v1/batches "{\"input_file_id\":\"$(field id)\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}"
wait_for "/v1/batches/$(field id)" '"status":"failed"'
expect_contains "$TMP/body" '"code":"token_limit_exceeded","message":"Enqueued token limit reached for gpt-4o in organization org-mock.'
post /v1/messages/batches "{\"requests\":[{\"custom_id\":\"a\",\"params\":$p}]}"
mid=$(field id)
wait_for "/v1/messages/batches/$mid" '"processing_status":"ended"'
expect_contains "$TMP/body" '"errored":1,'
get "/v1/messages/batches/$mid/results"
expect_contains "$TMP/body" '"type":"errored","error":{"type":"error","error":{"type":"api_error"'
kill -TERM "$MOCK_PID"
wait "$MOCK_PID" || fail "bfail: bad exit"

# ---- Idle exit: -i 1 ends the process by itself. ----
if start_mock idle -i 1; then
	n=0
	while kill -0 "$MOCK_PID" 2>/dev/null && [ "$n" -lt 30 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	kill -0 "$MOCK_PID" 2>/dev/null && fail "still running after -i 1 and 3 s"
	wait "$MOCK_PID" || fail "idle exit: bad exit status"
fi

# ---- Lifetime: -t 1 ends it even while a request hangs. ----
if start_mock life -t 1 -i 0; then
	post /v1/chat/completions "$OAI" -m 5 -H 'X-Mock-Fault: timeout'
	[ "$rc" -eq 52 ] || [ "$rc" -eq 56 ] ||
	    fail "lifetime end during a hung request: curl exit $rc"
	wait "$MOCK_PID" || fail "lifetime exit: bad exit status"
fi

finish
