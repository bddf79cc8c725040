#!/bin/sh
# promptctl validate on broken job files: each file in bad/ starts with a
# line "// expect: TEXT"; validation must fail with status 1 and print TEXT.
. "$(dirname "$0")/lib.sh"

cd "$top_srcdir/tests/integration/bad" || exit 1
n=0
for f in *.json; do
	want=$(sed -n '1s|^// expect: ||p' "$f")
	[ -n "$want" ] || { fail "$f has no expect line"; continue; }
	expect_status 1 "$PROMPTCTL" validate "$f"
	expect_contains "$TMP/err" "$want"
	n=$((n + 1))
done
[ "$n" -ge 15 ] || fail "only $n bad job files"

# Several problems are all reported, one per line.
cat >"$TMP/multi.json" <<'JOB'
{
  "name": "x", "nmae": 1,
  "task": { "dataset": 3, "input": "{{text}}", "metric": "exact" },
  "seed_prompts": [],
  "roles": { "target": "none" }
}
JOB
expect_status 1 "$PROMPTCTL" validate "$TMP/multi.json"
expect_contains "$TMP/err" "nmae: unknown key (did you mean 'name'?)"
expect_contains "$TMP/err" "task.dataset: expected a string"
expect_contains "$TMP/err" "seed_prompts: expected at least one prompt"
expect_contains "$TMP/err" "roles.target: no backend named 'none'"
[ "$(wc -l <"$TMP/err")" -ge 4 ] || fail "expected one line per problem"

# A missing file, and --json output for scripts.
expect_status 1 "$PROMPTCTL" validate "$TMP/nope.json"
expect_contains "$TMP/err" "cannot open '$TMP/nope.json'"
expect_status 1 "$PROMPTCTL" validate --json syntax.json
expect_contains "$TMP/out" '"valid":	false'
# In JSON each error is an object: where it is, the field, the message.
expect_status 1 "$PROMPTCTL" validate "$TMP/multi.json" "$TMP/nope.json" --json
tr -d ' \t\n' <"$TMP/out" >"$TMP/flat"
expect_contains "$TMP/flat" '"line":3,"column":24,"path":"task.dataset","message":"expectedastring"'
expect_contains "$TMP/flat" '"line":4,"column":19,"path":"seed_prompts","message":"expectedatleastoneprompt"'
expect_contains "$TMP/flat" '"line":null,"column":null,"path":null,"message":"cannotopen'
expect_contains "$TMP/out" "\"file\":	\"$TMP/multi.json\""
[ -s "$TMP/err" ] && fail "validate --json wrote to stderr: $(cat "$TMP/err")"
expect_status 0 "$PROMPTCTL" validate --json "$top_srcdir/examples/arith/job.json"
expect_contains "$TMP/out" '"valid":	true'

# A broken configuration file is reported with its position too.
printf '{ "backends": { "a": { "type": "sim", "sed": 1 } } }\n' >"$TMP/bad.conf"
expect_status 1 "$PROMPTCTL" -c "$TMP/bad.conf" validate "$top_srcdir/examples/arith/job.json"
expect_contains "$TMP/err" "bad.conf:1:39: backends.a.sed: unknown key (did you mean 'seed'?)"

finish
