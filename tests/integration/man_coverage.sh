#!/bin/sh
# Every promptctl command's usage line appears, word for word, in the
# rendered promptctl(1), every global option has its entry, and every man
# page is free of mandoc warnings and renders with its quotes whole under
# groff.
# (Job keys are checked against promptd-job(5) by check_job.)
. "$(dirname "$0")/lib.sh"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc is not installed" >&2
	exit 77
fi
for m in "$top_srcdir"/man/*.[1-8]; do
	mandoc -T lint -W warning "$m" >"$TMP/lint" 2>&1 || true
	[ -s "$TMP/lint" ] && { fail "mandoc warnings in $m:"; cat "$TMP/lint" >&2; }
done
# man(1) on most systems is groff, which nests quoting macros its own way:
# a quote opened twice before it closes is a garbled rendering.
if command -v groff >/dev/null 2>&1; then
	for m in "$top_srcdir"/man/*.[1-8]; do
		groff -mandoc -Tutf8 "$m" 2>/dev/null | col -b |
		    grep -n "’’\|‘[^’]*‘\|“[^”]*“" >"$TMP/quotes" &&
		    { fail "groff garbles quotes in $m:"; cat "$TMP/quotes" >&2; }
	done
fi

mandoc -T ascii -O width=200 "$top_srcdir/man/promptctl.1" | col -b >"$TMP/promptctl.txt"
"$PROMPTCTL" -h >"$TMP/usage"
sed -n 's/^  //p' "$TMP/usage" >"$TMP/commands"
[ -s "$TMP/commands" ] || fail "promptctl -h listed no commands"
while IFS= read -r line; do
	grep -qF -- "$line" "$TMP/promptctl.txt" ||
	    fail "promptctl(1) has no entry for: $line"
done <"$TMP/commands"

# The global usage matches the SYNOPSIS.
synopsis=$(sed -n '1s/^usage: //p' "$TMP/usage")
grep -qF -- "$synopsis" "$TMP/promptctl.txt" ||
    fail "promptctl(1) SYNOPSIS does not match: $synopsis"
# Every global option has its entry.
for opt in -c -d -h --help -S -v --version; do
	grep -qE -- "^ +(-[a-zA-Z], )?$opt([[:space:],]|$)" "$TMP/promptctl.txt" ||
	    fail "promptctl(1) does not describe $opt"
done

finish
