#!/bin/sh
# Replays every seed and reproducer of tests/fuzz/corpus/NAME through the
# harness tests/fuzz/fuzz_NAME.c, built with the plain driver as
# tests/fuzz/replay_NAME, so that an input that once broke a parser is
# tried by every make check.  A crash, a sanitizer report or a failed
# check of the harness fails the test and names the input.
. "$(dirname "$0")/lib.sh"

n=0
for dir in "$top_srcdir"/tests/fuzz/corpus/*/; do
	name=$(basename "$dir")
	prog="$top_builddir/tests/fuzz/replay_$name"
	if [ ! -x "$prog" ]; then
		fail "no replay program for the corpus '$name' ($prog)"
		continue
	fi
	if ! "$prog" "$dir" >"$TMP/$name.log" 2>&1; then
		fail "replay_$name failed on $(sed -n 's/^replay: \([^ ]*\) (.*/\1/p' "$TMP/$name.log" | tail -n 1):"
		tail -n 40 "$TMP/$name.log" >&2
		continue
	fi
	echo "$name: $(tail -n 1 "$TMP/$name.log")"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no corpus replayed"
finish
