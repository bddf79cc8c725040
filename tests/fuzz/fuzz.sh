#!/bin/sh
# make fuzz: runs each libFuzzer harness named on the command line for
# FUZZ_SECONDS seconds (FUZZ_JOBS at a time) on a copy of its corpus
# under fuzz-out/NAME/, so the corpus in the tree only grows by hand.
# A harness that finds a crash, a leak or undefined behaviour leaves the
# input in fuzz-out/NAME/ (crash-*, leak-*, timeout-*, oom-*) and the
# run fails; its whole output is fuzz-out/NAME/log.  Each harness gets
# the dictionary tests/fuzz/NAME.dict, or json.dict when it has none.
# FUZZ_FLAGS adds libFuzzer options (-runs=N, -seed=N, ...).
#
# usage: fuzz.sh SRCDIR BUILDDIR NAME...
set -u
srcdir=$1
builddir=$2
shift 2
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
out="$builddir/fuzz-out"

for name in "$@"; do
	if [ ! -x "$builddir/tests/fuzz/fuzz_$name" ]; then
		echo "fuzz: tests/fuzz/fuzz_$name is not built: run" \
		    "./configure --enable-fuzz (it needs clang) and make" >&2
		exit 1
	fi
done

# run NAME: one harness, in the background; its status goes to a file.
run() {
	dir="$out/$1"
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	cp "$srcdir/tests/fuzz/corpus/$1"/* "$dir/corpus/" 2>/dev/null
	dict="-dict=$srcdir/tests/fuzz/json.dict"
	[ -f "$srcdir/tests/fuzz/$1.dict" ] &&
	    dict="-dict=$srcdir/tests/fuzz/$1.dict"
	# shellcheck disable=SC2086
	"$builddir/tests/fuzz/fuzz_$1" -max_total_time="$seconds" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$dir/" $dict $FUZZ_FLAGS "$dir/corpus" \
	    >"$dir/log" 2>&1
	echo $? >"$dir/status"
}

FUZZ_FLAGS=${FUZZ_FLAGS:-}
# running: how many harnesses started have not written their status.
running() {
	n=0
	for started in $names_started; do
		[ -f "$out/$started/status" ] || n=$((n + 1))
	done
	echo "$n"
}

mkdir -p "$out"
names_started=""
for name in "$@"; do
	while [ "$(running)" -ge "$jobs" ]; do
		sleep 1
	done
	rm -f "$out/$name/status"
	echo "fuzz: $name for ${seconds}s"
	names_started="$names_started $name"
	run "$name" &
done
wait

failed=0
for name in "$@"; do
	dir="$out/$name"
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	secs=$(sed -n 's/^stat::.*//;s/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$dir/log")
	if [ "$(cat "$dir/status")" -ne 0 ]; then
		failed=$((failed + 1))
		echo "fuzz: $name FAILED: see $dir/log;" \
		    "reproducer: $(ls "$dir"/crash-* "$dir"/leak-* \
		    "$dir"/timeout-* "$dir"/oom-* 2>/dev/null | tr '\n' ' ')"
		grep -m 3 'ERROR\|SUMMARY\|fuzz:' "$dir/log" | sed 's/^/  /'
	else
		echo "fuzz: $name ok: ${runs:-?} runs in ${secs:-?}s"
	fi
done
[ "$failed" -eq 0 ]
