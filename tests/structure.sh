#!/bin/sh
# The shape of the code, checked by make check (by hand: sh
# tests/structure.sh [top_srcdir]).
#
# Its layers, top to bottom, written once here: a file may include the
# headers of its own layer and of the layers below it, never above.
# Every file under src/ and strategies/ is in a layer, so a new file is
# placed on purpose.  The README's Architecture picture draws the same
# layers.  And no file is over 1200 lines, no function over 100.
set -u
top=${1:-${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}}
cd "$top" || exit 1

# Each line: a layer's name and the paths (shell patterns) in it.
layers='
programs	src/promptd.c src/promptctl.c
control		src/cmd.[ch] src/cmd_*.c src/client.[ch] src/query.[ch]
		src/report.[ch] src/report_*.[ch]
		src/daemon.[ch] src/daemon_*.[ch] src/control.[ch]
jobs		src/job.[ch] src/conf.[ch] src/jobrun.[ch] src/ingest.[ch]
		src/jobrun_*.c src/ingest_*.c
strategies	strategies/*.[ch]
evaluation	src/eval.[ch]
engine		src/engine.[ch] src/engine_*.[ch] src/judge.[ch] src/fiber.[ch]
		src/bandit.[ch] src/nn.[ch] src/surrogate.[ch]
services	src/backend.[ch] src/backend_*.[ch] src/batch.[ch]
		src/sim.[ch] src/sim/*.[ch]
		src/model.[ch] src/task.[ch] src/dataset.[ch] src/feedback.[ch]
		src/demo.[ch]
		src/template.[ch]
		src/metric.[ch] src/metric_*.[ch] src/cron.[ch] src/stats.[ch]
		src/tpe.[ch]
		src/store.[ch] src/store_*.[ch]
transport	src/http.[ch] src/proc.[ch]
util		src/util.[ch] src/log.[ch] src/xmalloc.[ch] src/strbuf.[ch]
		src/hash.[ch] src/rng.[ch] src/jsonc.[ch] src/reply.[ch]
		src/reply_*.[ch] src/textfeat.[ch] src/svg.[ch]
'

# "path depth" for every file the layers name, depth 1 at the top.
map=$(printf '%s\n' "$layers" | awk 'NF == 0 { next }
	/^[^\t ]/ { depth++; $1 = "" } { print depth, $0 }' |
    while read -r depth pats; do
	for p in $pats; do
		for f in $p; do
			[ -f "$f" ] && printf '%s %s\n' "$f" "$depth"
		done
	done
done)

files=$(find src strategies -name '*.[ch]' | sort)
rc=0
# shellcheck disable=SC2086
grep -n '^#[[:space:]]*include[[:space:]]*"' $files /dev/null |
    awk -v map="$map" -v files="$files" '
	BEGIN {
		n = split(map, m, "\n")
		for (i = 1; i <= n; i++) {
			split(m[i], kv, " ")
			depth[kv[1]] = kv[2]
		}
		n = split(files, fl, "\n")
		for (i = 1; i <= n; i++)
			if (!(fl[i] in depth)) {
				print fl[i] ": in no layer: add it to tests/structure.sh"
				bad++
			}
	}
	{
		split($0, a, ":")
		f = a[1]
		line = a[2]
		inc = $0
		sub(/^[^"]*"/, "", inc)
		sub(/".*/, "", inc)
		dir = f
		sub(/\/[^\/]*$/, "", dir)
		# Found as the compiler finds it: beside the file, then in
		# src/ and strategies/ (AM_CPPFLAGS).
		h = ""
		c[1] = dir "/" inc
		c[2] = "src/" inc
		c[3] = "strategies/" inc
		for (i = 1; i <= 3; i++) {
			while (c[i] ~ /[^\/]+\/\.\.\//)
				sub(/[^\/]+\/\.\.\//, "", c[i])
			if (c[i] in depth) {
				h = c[i]
				break
			}
		}
		if (h != "" && (f in depth) && depth[h] < depth[f]) {
			print f ":" line ": includes " h ", a layer above it"
			bad++
		}
	}
	END {
		if (bad > 0) {
			print bad " problem(s) with the layers"
			exit 1
		}
	}' >&2 || rc=1

# No file over 1200 lines, no function over 100 (style(9): a function's
# body runs from a "{" to a "}" at the start of a line).
# shellcheck disable=SC2086
awk 'FNR == 1 { start = 0 }
	FNR == 1201 { print FILENAME ": over 1200 lines"; bad++ }
	/^[A-Za-z_][A-Za-z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name) }
	/^\{/ { start = FNR }
	/^\}/ && start > 0 {
		if (FNR - start - 1 > 100) {
			print FILENAME ": " name "() is " FNR - start - 1 \
			    " lines long, over 100"
			bad++
		}
		start = 0
	}
	END { exit bad > 0 }' $files >&2 || rc=1
exit $rc
