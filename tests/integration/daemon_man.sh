#!/bin/sh
# promptd's usage lines appear, word for word, in the SYNOPSIS of the
# rendered promptd(8), and every option letter has its entry.
. "$(dirname "$0")/lib.sh"

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc is not installed" >&2
	exit 77
fi
mandoc -T ascii -O width=200 "$top_srcdir/man/promptd.8" | col -b >"$TMP/promptd.txt"
"$top_builddir/promptd" -h >"$TMP/usage"
[ -s "$TMP/usage" ] || fail "promptd -h printed no usage"
sed -n -e 's/^usage: //p' -e 's/^       //p' "$TMP/usage" >"$TMP/lines"
[ "$(wc -l <"$TMP/lines")" -eq 2 ] || fail "promptd -h: expected two usage lines"
while IFS= read -r line; do
	grep -qF -- "$line" "$TMP/promptd.txt" ||
	    fail "promptd(8) SYNOPSIS does not match: $line"
done <"$TMP/lines"
for opt in -c -d -f -h --help -n -S -v --once --version; do
	grep -qE -- "^ +(-[a-zA-Z], )?$opt([[:space:],]|$)" "$TMP/promptd.txt" ||
	    fail "promptd(8) does not describe $opt"
done
for var in PROMPTD_TIME_OFFSET PROMPTD_HANDSHAKE_TIMEOUT; do
	grep -qF "$var" "$TMP/promptd.txt" ||
	    fail "promptd(8) does not document $var"
done

finish
