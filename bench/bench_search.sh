#!/bin/sh
# End-to-end speed of a whole search: how close `promptd --once` keeps a
# backend's slots busy, for each strategy.  Run by hand from a built tree
# (make check builds the mock):
#
#	sh bench/bench_search.sh [-l latency_ms] [-c "16 64 4096"] [-s strategies] [-K]
#
# Every role (target, optimizer, judge) is one OpenAI-compatible backend:
# the mock answering from the sentiment example's simulated world after
# latency_ms (50 by default), with max_in_flight C.  For each strategy and
# each C, one row:
#
#	paid		paid calls, and of them the optimizer's and judge's
#	wall		seconds from start to exit of promptd --once
#	ideal		paid x latency / C: every slot busy all the time
#	ratio		wall / ideal (1.0 is the limit; the target is 1.3)
#	busy		the mean number of calls in flight (sum of the calls'
#			latencies / wall), against C
#	serial		seconds in which an optimizer or judge call was in
#			flight and no target call was
#
# The same search at each C must pay the same calls: the paid column is
# the check that speed did not cost calls.
#
# A search cannot be faster than its chain of dependent calls (a step's
# asks need the last step's scores, a racing decision its block), however
# many slots it has.  The largest C measures that chain (4096 by default:
# no slot limit); a last table gives, for each strategy and C, wall ÷
# max(ideal, chain): 1.0 means nothing but the slots or the chain held it.
set -u
BENCH=bench_search
keep=0
latency=50
conc="16 64 4096"
strategies="ape evo-ga evo-de protegi gepa opro spo pe2 mcts duel prune random"
usage="usage: bench_search.sh [-l latency_ms] [-c \"C ...\"] [-s \"strategy ...\"] [-K]"
while getopts l:c:s:K ch; do
	case $ch in
	l) latency=$OPTARG ;;
	c) conc=$OPTARG ;;
	s) strategies=$OPTARG ;;
	K) keep=1 ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_need "$PROMPTD" "$MOCK" sqlite3 awk
bench_init
export OPENAI_API_KEY=sk-bench XDG_STATE_HOME="$W/state" \
    XDG_CONFIG_HOME="$W/config"
bench_mock "{\"rules\": [{\"path\": \"/v1/chat/completions\", \"delay_ms\": $latency}]}"

strategy_json() {
	case $1 in
	ape) echo '"name": "ape", "pool": 20' ;;
	evo-ga) echo '"name": "evo", "variant": "ga", "population": 8, "generations": 6' ;;
	evo-de) echo '"name": "evo", "variant": "de", "population": 8, "generations": 6' ;;
	protegi|gepa|opro|spo|pe2)
		echo "\"name\": \"reflect\", \"mode\": \"$1\", \"steps\": 6" ;;
	mcts) echo '"name": "mcts", "iterations": 6' ;;
	prune) echo '"name": "prune", "population": 8, "generations": 6' ;;
	random) echo '"name": "random", "per_step": 8, "steps": 6' ;;
	duel) echo '"name": "duel", "pool": 20, "rounds": 30' ;;
	*) bench_fail "unknown strategy '$1'" ;;
	esac
}

now() {
	date +%s.%N
}

printf '%-8s %4s %6s %5s %5s %7s %7s %6s %9s %7s\n' strategy C paid opt \
    judge wall ideal ratio busy serial | tee "$W/rows"
for st in $strategies; do
	for c in $conc; do
		name="$st-$c"
		bench_job "$name" "\"m\": { \"type\": \"openai\",
		    \"base_url\": \"$URL/v1\", \"model\": \"mock-1\",
		    \"max_in_flight\": $c }" \
		    '"target": "m", "optimizer": "m", "judge": "m"' \
		    "$(strategy_json "$st")" '"max_calls": 100000' 1
		t0=$(now)
		if ! "$PROMPTD" -d "$W/$name.db" --once "$W/$name.json" \
		    >"$W/$name.out" 2>"$W/$name.err"; then
			echo "$BENCH: $name failed:" >&2
			tail -n 5 "$W/$name.err" >&2
			continue
		fi
		t1=$(now)
		# The paid calls, each in flight from created - latency to
		# created.
		bench_sql "$W/$name.db" "
		    SELECT count(*),
		        sum(role = 'optimizer'), sum(role = 'judge'),
		        sum(latency)
		    FROM calls WHERE status = 'ok';
		    SELECT printf('%.6f %d %d', t, d, tgt) FROM (
		        SELECT created - latency AS t, 1 AS d,
		            role = 'target' AS tgt
		        FROM calls WHERE status = 'ok'
		        UNION ALL
		        SELECT created, -1, role = 'target'
		        FROM calls WHERE status = 'ok')
		    ORDER BY t, d" |
		awk -v st="$st" -v c="$c" -v l="$latency" -v t0="$t0" \
		    -v t1="$t1" '
		NR == 1 { paid = $1; opt = $2; judge = $3; lat = $4; next }
		{
			# The ends of the calls in time order: a sweep.
			if (prev != "" && other > 0 && tgt == 0)
				serial += $1 - prev
			if ($3 == 1)
				tgt += $2
			else
				other += $2
			prev = $1
		}
		END {
			wall = t1 - t0
			ideal = paid * l / 1000 / c
			printf "%-8s %4d %6d %5d %5d %7.2f %7.2f %6.2f %5.1f/%-3d %7.2f\n",
			    st, c, paid, opt, judge, wall, ideal,
			    (ideal > 0 ? wall / ideal : 0),
			    (wall > 0 ? lat / wall : 0), c, serial
		}' | tee -a "$W/rows"
	done
done

# Against the chain: the wall at the largest C of each strategy.
awk 'NR > 1 { n++; st[n] = $1; c[n] = $2; wall[n] = $6; ideal[n] = $7
	if ($2 >= maxc[$1]) { maxc[$1] = $2; chain[$1] = $6 } }
END {
	printf "\n%-8s %4s %7s %7s %12s\n", "strategy", "C", "chain", "bound",
	    "wall/bound"
	for (i = 1; i <= n; i++) {
		b = ideal[i] > chain[st[i]] ? ideal[i] : chain[st[i]]
		printf "%-8s %4d %7.2f %7.2f %12.2f\n", st[i], c[i],
		    chain[st[i]], b, (b > 0 ? wall[i] / b : 0)
	}
}' "$W/rows"
