#!/bin/sh
# The messy model (tests/mock/messy), a model for the exec backend that
# answers as untidily as real ones do: the same request always gets the
# same bytes, each style it is told to use (-S) shows in the reply, a
# repair turn gets what the first request should have had, mostly tidy,
# and bad usage or a bad request fails with a message.  Set
# MOCKLLM_WRAPPER (e.g. "valgrind -q --leak-check=full
# --error-exitcode=1") to run it under a tool.
. "$(dirname "$0")/lib.sh"

MESSY="$top_builddir/tests/mock/messy"
JOB="$top_srcdir/examples/sentiment/job.json"

# messy ARGS... <REQUEST: runs the model (under the wrapper, if any).
messy() {
	# shellcheck disable=SC2086
	$WRAP "$MESSY" "$@"
}

# expect_grep WHAT PATTERN FILE: an extended regular expression matches.
expect_grep() {
	grep -Eq -- "$2" "$3" || { fail "$1: /$2/ not found:"; sed 's/^/  | /' "$3" >&2; }
}

# The reply's text, still JSON-escaped: usage differs between requests.
text_of() {
	sed 's/,"usage":{.*//' "$1"
}

META='Please follow the instructions step by step to write a better prompt for this task: Classify the sentiment of a movie review.\n\n1. Cross over the following two prompts to make a new prompt.\nPrompt 1: <prompt>Classify the sentiment of the review.</prompt>\nPrompt 2: <prompt>Answer with only the label: positive or negative.</prompt>\n2. Mutate the prompt you made in step 1 to make the final prompt.\n\nWrap only the final prompt of step 2 in an XML element named \"prompt\": the last such element of your reply is the one that will be used.'
cat >"$TMP/opt.json" <<EOF
{"kind": "chat", "model": "m", "messages": [{"role": "user", "content": "$META"}], "temperature": 0.7, "max_tokens": 500, "sample": 3}
EOF
cat >"$TMP/repair.json" <<EOF
{"kind": "chat", "model": "m", "messages": [{"role": "user", "content": "$META"}, {"role": "assistant", "content": "### Better prompt\n\nClassify it."}, {"role": "user", "content": "Your reply had no <prompt> element. Answer again with the new prompt in <prompt></prompt>."}], "temperature": 0.7, "sample": 3}
EOF
cat >"$TMP/judge.json" <<'EOF'
{"kind": "chat", "model": "m", "messages": [{"role": "user", "content": "Compare two responses to the input below.\n\n<input>\nReview: The remake rewards every minute you give it.\n</input>\n<response_a>\npositive\n</response_a>\n<response_b>\nThe sentiment is negative.\n</response_b>\nThen end your reply with a final line that is exactly one of \"Winner: A\", \"Winner: B\" or \"Winner: tie\"."}], "temperature": 0, "sample": 0}
EOF
cat >"$TMP/grade.json" <<'EOF'
{"kind": "chat", "model": "m", "messages": [{"role": "system", "content": "You are a careful judge."}, {"role": "user", "content": "Grade the response to the input below.\n\n<input>\nReview: The remake rewards every minute you give it.\n</input>\n<response>\npositive\n</response>\nThen end your reply with a final line of the form \"Score: N\"."}], "temperature": 0, "sample": 0}
EOF
cat >"$TMP/target.json" <<'EOF'
{"kind": "chat", "model": "m", "messages": [{"role": "system", "content": "Classify the sentiment of the review."}, {"role": "user", "content": "Review: The remake rewards every minute you give it.\nSentiment:"}], "temperature": 0, "sample": 0}
EOF
cat >"$TMP/embed.json" <<'EOF'
{"kind": "embed", "model": "m", "input": "Classify the sentiment of the review."}
EOF

# ---- Every kind of request is answered. ----
for f in opt repair judge grade target; do
	expect_status 0 messy -w "$JOB" <"$TMP/$f.json"
	expect_grep "$f" '^\{"text":".*","usage":\{"prompt_tokens":[0-9]+,"completion_tokens":[0-9]+\}\}$' "$TMP/out"
done
expect_status 0 messy -w "$JOB" <"$TMP/embed.json"
expect_grep embed '^\{"embedding":\[[-0-9.e,]+\]' "$TMP/out"

# ---- The same request gets the same bytes, with or without a log. ----
for f in opt repair judge grade; do
	for i in 0 1 2 3 4 5; do
		sed "s/\"sample\": [0-9]*/\"sample\": $i/" "$TMP/$f.json" >"$TMP/req.json"
		messy -w "$JOB" <"$TMP/req.json" >"$TMP/a" 2>&1
		messy -w "$JOB" -l "$TMP/det.log" <"$TMP/req.json" >"$TMP/b" 2>&1
		cmp -s "$TMP/a" "$TMP/b" || fail "$f sample $i: two replies differ"
	done
done
# Another seed draws other styles for some of them.
n=0
for i in 0 1 2 3 4 5 6 7; do
	sed "s/\"sample\": [0-9]*/\"sample\": $i/" "$TMP/opt.json" >"$TMP/req.json"
	messy -w "$JOB" -s 1 <"$TMP/req.json" >"$TMP/a"
	messy -w "$JOB" -s 99 <"$TMP/req.json" >"$TMP/b"
	cmp -s "$TMP/a" "$TMP/b" || n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "-s 99 gave the same eight replies as -s 1"

# ---- Each optimizer style does what it says. ----
# style PATTERN: the reply to the optimizer request in that style.
opt_style() {
	expect_status 0 messy -w "$JOB" -S "$1" <"$TMP/opt.json"
	expect_grep "-S $1" "$2" "$TMP/out"
}
opt_style preamble '^\{"text":"[A-Z][^<]*\\n\\n.*</prompt>.*Let me know if you.d like any changes!"'
opt_style fence-inside '<prompt>\\n```\\n[A-Z][^`]*\\n```\\n</prompt>'
opt_style fence-around '^\{"text":"```xml\\n.*<prompt>[A-Z].*</prompt>\\n```"'
opt_style label '<prompt>(\*\*Improved prompt:\*\* |Prompt: |### New Prompt\\n)[A-Z]'
opt_style quotes '<prompt>\\"[A-Z][^<]*\\"</prompt>'
opt_style case '<(Prompt|PROMPT)>[A-Z][^<]*</(Prompt|PROMPT)>'
opt_style attrs '<prompt( id=\\"1\\"|\\n)>[A-Z][^<]*</prompt>'
opt_style unclosed '<prompt>[A-Z][^<]*"'
grep -q '</prompt>' "$TMP/out" && fail "-S unclosed: the element was closed"
opt_style mention '(`<prompt>\.\.\.</prompt>` tags|<prompt>\.\.\.</prompt>:).*<prompt>[A-Z]'
opt_style echo '^\{"text":"Please follow the instructions step by step.*will be used\.\\n\\n.*<prompt>[A-Z]'
opt_style parent '^\{"text":"[^<]*<prompt>Classify the sentiment of the review\.</prompt>\\n"'
opt_style refusal '^\{"text":"I.m sorry, but I can.t help with that request\."'
opt_style markdown '### Improved Prompt\\n\\n[A-Z]'
grep -q '<prompt' "$TMP/out" && fail "-S markdown: the reply has a tag"
opt_style think '^\{"text":"<think>\\n.*<prompt>.*</prompt>.*</think>\\n\\n.*<prompt>[A-Z]'
opt_style two '</prompt>\\n\\nAlternatively:\\n<prompt>[A-Z][^<]*</prompt>'
opt_style long '<prompt>[A-Z]'
[ "$(text_of "$TMP/out" | wc -c)" -gt 9000 ] || fail "-S long: the reply is not over 9000 bytes"

# ---- Each judge style does what it says, for verdicts and grades. ----
judge_style() {
	expect_status 0 messy -w "$JOB" -S "$1" <"$TMP/$2.json"
	expect_grep "-S $1 ($2)" "$3" "$TMP/out"
}
judge_style bracket judge '\\n\[\[[ABC]\]\]"'
judge_style bold judge '\\n\*\*Winner:\*\* (A|B|tie)"'
judge_style lower judge '\\nwinner: (a|b|tie)"'
judge_style response judge '\\nWinner: (Response A|Response B|tie)"'
judge_style sentence judge '\\n(Response [AB] is better\.|The winner is [AB]\.|Both responses are equally good\.)"'
judge_style letter judge '\\n(A|B|tie)"'
judge_style quote-format judge '^\{"text":"I must end with \\"Winner: A\\", \\"Winner: B\\" or \\"Winner: tie\\"\.\\n.*\\nWinner: (A|B|tie)"'
judge_style none judge '^\{"text":"[^\\]*"'
grep -Eiq 'winner|\[\[' "$TMP/out" && fail "-S none: the judge gave a verdict"
judge_style bold grade '\\n\*\*Score:\*\* ([1-9]|10)/10"'
judge_style bracket grade '\\nRating: \[\[([1-9]|10)\]\]"'
judge_style fraction grade '\\n([1-9]|10)/10"'
judge_style none grade '^\{"text":"[^\\]*"'
grep -q 'Score' "$TMP/out" && fail "-S none: the grade is still there"

# A style for another role leaves a reply alone: the target's always, the
# judge's under an optimizer style, and "tidy" everyone's.
messy -w "$JOB" -S tidy <"$TMP/target.json" >"$TMP/a"
messy -w "$JOB" -S markdown,none,refusal <"$TMP/target.json" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || fail "a target reply was changed"
messy -w "$JOB" -S tidy <"$TMP/judge.json" >"$TMP/a"
messy -w "$JOB" -S markdown <"$TMP/judge.json" >"$TMP/b"
cmp -s "$TMP/a" "$TMP/b" || fail "-S markdown changed a judge reply"
expect_grep "-S tidy (judge)" '\\nWinner: (A|B|tie)"' "$TMP/a"

# ---- The log: role, style and sample index, one line a request. ----
rm -f "$TMP/log"
messy -w "$JOB" -S think -l "$TMP/log" <"$TMP/opt.json" >/dev/null
messy -w "$JOB" -S letter -l "$TMP/log" <"$TMP/judge.json" >/dev/null
messy -w "$JOB" -l "$TMP/log" <"$TMP/target.json" >/dev/null
messy -w "$JOB" -S tidy -l "$TMP/log" <"$TMP/repair.json" >/dev/null
messy -w "$JOB" -l "$TMP/log" <"$TMP/embed.json" >/dev/null
printf 'optimizer\tthink\t3\njudge\tletter\t0\ntarget\ttidy\t0\noptimizer\ttidy\t3\trepair\nembedder\ttidy\t0\n' >"$TMP/log.want"
cmp -s "$TMP/log" "$TMP/log.want" || { fail "the log is not as expected:"; diff "$TMP/log.want" "$TMP/log" >&2; }

# ---- A repair turn answers the first request, mostly tidily. ----
# With no mess at all, the reply is the one the first request gets.
messy -w "$JOB" -p 0 <"$TMP/opt.json" >"$TMP/a"
messy -w "$JOB" -p 0 <"$TMP/repair.json" >"$TMP/b"
[ "$(text_of "$TMP/a")" = "$(text_of "$TMP/b")" ] ||
    fail "a repair turn did not get the first request's tidy reply"
expect_grep "repair turn" '<prompt>[A-Z][^<]*</prompt>' "$TMP/b"
# At the default rate 0.7, 40 first requests are mostly messy, and their
# repair turns (at 0.7 / 4) mostly tidy.
rm -f "$TMP/rate.log"
i=0
while [ "$i" -lt 40 ]; do
	sed "s/\"sample\": [0-9]*/\"sample\": $i/" "$TMP/opt.json" >"$TMP/req.json"
	messy -w "$JOB" -l "$TMP/rate.log" <"$TMP/req.json" >/dev/null
	sed "s/\"sample\": [0-9]*/\"sample\": $i/" "$TMP/repair.json" >"$TMP/req.json"
	messy -w "$JOB" -l "$TMP/rate.log" <"$TMP/req.json" >"$TMP/b"
	grep -q '\\nWinner\|Score: ' "$TMP/b" && fail "repair turn $i was answered as a judge"
	i=$((i + 1))
done
first=$(awk -F '\t' '$4 != "repair" && $2 != "tidy"' "$TMP/rate.log" | wc -l)
repair=$(awk -F '\t' '$4 == "repair" && $2 != "tidy"' "$TMP/rate.log" | wc -l)
[ "$first" -ge 20 ] && [ "$first" -le 36 ] ||
    fail "$first of 40 first requests were messy (about 28 expected)"
[ "$repair" -ge 1 ] && [ "$repair" -le 14 ] ||
    fail "$repair of 40 repair turns were messy (about 7 expected)"
# A forced style holds on a repair turn too, unless a rate is given.
expect_status 0 messy -w "$JOB" -S markdown <"$TMP/repair.json"
expect_contains "$TMP/out" "### Improved Prompt"
expect_status 0 messy -w "$JOB" -S markdown -p 0 <"$TMP/repair.json"
expect_grep "-S markdown -p 0" '<prompt>[A-Z]' "$TMP/out"

# ---- Bad usage exits 2 with the usage line. ----
for args in "" "-x" "-w $JOB extra" "-w $JOB -p 1.5" "-w $JOB -p x" \
    "-w $JOB -s 1x" "-w $JOB -S markdwn" "-w $JOB -S bold,"; do
	# shellcheck disable=SC2086
	expect_status 2 messy $args </dev/null
	expect_contains "$TMP/err" "usage: messy -w job.json"
done
expect_status 2 messy -w "$JOB" -S markdwn </dev/null
expect_contains "$TMP/err" "unknown style 'markdwn' (did you mean 'markdown'?)"

# ---- A bad request exits 1 and says what was wrong. ----
bad() {
	printf '%s\n' "$1" >"$TMP/bad.json"
	expect_status 1 messy -w "$JOB" <"$TMP/bad.json"
	expect_contains "$TMP/err" "$2"
}
bad 'not json' 'request: not valid JSON'
bad '[1, 2]' 'request: expected a JSON object'
bad '{"kind": "complete"}' 'request: "kind": expected "chat" or "embed"'
bad '{"kind": "chat"}' 'request: "messages": expected a non-empty array'
bad '{"kind": "chat", "messages": []}' 'request: "messages": expected a non-empty array'
bad '{"kind": "chat", "messages": [{"role": "robot", "content": "x"}]}' "messages[0].role: 'robot' is not"
bad '{"kind": "chat", "messages": [{"role": "user", "content": 3}]}' 'messages[0].content: expected a string'
bad '{"kind": "chat", "messages": [{"role": "system", "content": "x"}]}' 'no message with role "user"'
bad '{"kind": "chat", "messages": [{"role": "user", "content": "x"}], "sample": -1}' '"sample": expected a whole number'
bad '{"kind": "chat", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}' '"temperature": expected a number'
bad '{"kind": "embed"}' '"input": expected a string'
# A job that cannot be a world.
expect_status 1 messy -w "$TMP/no-such-job.json" <"$TMP/opt.json"
expect_contains "$TMP/err" "no-such-job.json"
cp "$top_srcdir/examples/sentiment/reviews.jsonl" "$TMP/"
cat >"$TMP/exec-job.json" <<'EOF'
{"name": "no-world", "seed_prompts": ["Classify the review."],
 "task": {"dataset": "reviews.jsonl", "input": "Review: {{text}}",
          "target": "label", "metric": {"type": "exact"}},
 "backends": {"x": {"type": "exec", "model": "x", "command": ["true"]},
              "s": {"type": "sim", "model": "s"}},
 "roles": {"target": "x", "optimizer": "x"},
 "strategy": {"name": "ape"}}
EOF
expect_status 1 messy -w "$TMP/exec-job.json" <"$TMP/opt.json"
expect_contains "$TMP/err" "no role is played by a backend of type sim"
expect_status 1 messy -w "$JOB" -l "$TMP/no/such/dir/log" <"$TMP/opt.json"
expect_contains "$TMP/err" "log file"

finish
