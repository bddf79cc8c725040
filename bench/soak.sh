#!/bin/sh
# Soak: kill -9 the daemon at random moments, again and again, while it
# runs several jobs against the mock model server, then let it finish and
# audit the database.  Run by hand from a built tree (make check builds
# the mock):
#
#	sh bench/soak.sh [-k kills] [-j jobs] [-l latency_ms] [-s seed] [-K]
#
# Each job is the sentiment example on an OpenAI-compatible backend (the
# mock, answering from the example's simulated world after latency_ms),
# an EvoPrompt GA search with its own max_calls.  Between kills the daemon
# lives 0.2 to 2 seconds (drawn from seed).  Printed at the end:
#
#	jobs finished		how many ended done or exhausted, of all
#	integrity		PRAGMA integrity_check and foreign_key_check
#	repeated		requests the server answered more than once
#				(paid again), against the allowance
#				promptd(8) states: what each kill caught
#				(requests of that life that left no paid
#				row: in flight, or answered but not yet
#				committed), with the most one kill caught
#	overshoot		paid calls beyond a run's max_calls
#	spend			runs whose recorded spend differs from their
#				paid call rows
#
# -K keeps the work directory.
set -u
BENCH=soak
usage="usage: soak.sh [-k kills] [-j jobs] [-l latency_ms] [-s seed] [-K]"

kills=50
jobs=4
latency=100
seed=1
keep=0
while getopts k:j:l:s:K ch; do
	case $ch in
	k) kills=$OPTARG ;;
	j) jobs=$OPTARG ;;
	l) latency=$OPTARG ;;
	s) seed=$OPTARG ;;
	K) keep=1 ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
. "$(dirname "$0")/lib.sh"
bench_need "$PROMPTD" "$PROMPTCTL" "$MOCK" sqlite3 curl
bench_init
export OPENAI_API_KEY=sk-soak XDG_STATE_HOME="$W/state" XDG_CONFIG_HOME="$W/config"
bench_mock "{\"rules\": [{\"path\": \"/v1/chat/completions\", \"delay_ms\": $latency}]}"
inflight=8
cat >"$W/promptd.conf" <<C
{ "backends": { "m": { "type": "openai", "base_url": "$URL/v1",
    "model": "mock-1", "max_in_flight": $inflight } } }
C

# The jobs: max_calls 600, 800, ...
i=1
while [ "$i" -le "$jobs" ]; do
	bench_job "soak$i" "" '"target": "m", "optimizer": "m"' \
	    '"name": "evo", "variant": "ga", "population": 6, "generations": 8' \
	    "\"max_calls\": $((400 + 200 * i))" "$i"
	i=$((i + 1))
done

start() {
	"$PROMPTD" -f -c "$W/promptd.conf" -S "$W/d.sock" -d "$W/d.db" \
	    2>>"$W/daemon.log" &
	DPID=$!
	n=0
	until "$PROMPTCTL" -S "$W/d.sock" status >/dev/null 2>&1; do
		n=$((n + 1))
		if [ "$n" -gt 600 ] || ! kill -0 "$DPID" 2>/dev/null; then
			echo "soak: the daemon did not start:" >&2
			tail -n 5 "$W/daemon.log" >&2
			exit 1
		fi
		sleep 0.1
	done
}

requests() {
	curl -s "$URL/mock/stats" |
	    sed -n 's/.*"requests":[[:space:]]*\([0-9]*\).*/\1/p'
}

paid() {
	sqlite3 -batch -noheader "$W/d.db" \
	    "SELECT count(*) FROM calls WHERE status = 'ok'" 2>/dev/null || echo 0
}

start
i=1
while [ "$i" -le "$jobs" ]; do
	"$PROMPTCTL" -S "$W/d.sock" submit "$W/soak$i.json" >/dev/null ||
	    { echo "soak: submit failed" >&2; exit 1; }
	i=$((i + 1))
done

# Kill, restart, kill ... (draws from an LCG seeded with seed).  What a
# kill caught: the requests of that life that left no paid row.
r=$seed
k=0
caught=0
most=0
s0=0
p0=$(paid)
t0=$(date +%s)
while [ "$k" -lt "$kills" ]; do
	r=$(( (r * 1103515245 + 12345) % 2147483648 ))
	ms=$(( 200 + r % 1800 ))
	sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
	s1=$(requests)
	p1=$(paid)
	c=$(( (s1 - s0) - (p1 - p0) ))
	caught=$((caught + c))
	[ "$c" -gt "$most" ] && most=$c
	s0=$s1
	p0=$p1
	k=$((k + 1))
	start
done
# The last life: to the end of every job.
i=1
while [ "$i" -le "$jobs" ]; do
	"$PROMPTCTL" -S "$W/d.sock" watch "soak$i" >/dev/null 2>&1
	i=$((i + 1))
done
t1=$(date +%s)
kill "$DPID"
wait "$DPID" 2>/dev/null
DPID=

db="$W/d.db"
sql() {
	sqlite3 -batch -noheader "$db" "$1"
}
finished=$(sql "SELECT count(*) FROM jobs WHERE state IN ('done', 'exhausted')")
integrity=$(sql "PRAGMA integrity_check")
fk=$(sql "PRAGMA foreign_key_check" | wc -l)
server=$(requests)
distinct=$(sql "SELECT count(DISTINCT cache_key) FROM calls WHERE status = 'ok'")
repeated=$((server - distinct))
overshoot=$(sql "SELECT coalesce(sum(max(0, n - b)), 0) FROM (SELECT r.id,
    (SELECT count(*) FROM calls c WHERE c.run_id = r.id AND c.status = 'ok') AS n,
    json_extract(j.spec, '$.budget.max_calls') AS b
    FROM runs r JOIN jobs j ON j.id = r.job_id WHERE b IS NOT NULL)")
spend=$(sql "SELECT count(*) FROM runs r WHERE r.calls != (SELECT count(*)
    FROM calls c WHERE c.run_id = r.id AND c.status = 'ok')")
printf 'kills %s, jobs %s, latency %s ms, %s s\n' "$kills" "$jobs" \
    "$latency" "$((t1 - t0))"
printf 'jobs finished   %s of %s\n' "$finished" "$jobs"
printf 'integrity       %s, %s foreign key problems\n' "$integrity" "$fk"
printf 'repeated        %s paid requests answered twice; the kills caught %s (at most %s at once; %s in flight at most)\n' \
    "$repeated" "$caught" "$most" "$inflight"
printf 'overshoot       %s paid calls beyond max_calls\n' "$overshoot"
printf 'spend           %s runs whose recorded calls differ from their paid rows\n' "$spend"
[ "$finished" = "$jobs" ] && [ "$integrity" = ok ] && [ "$fk" = 0 ] &&
    [ "$repeated" -le "$caught" ] && [ "$overshoot" = 0 ] && [ "$spend" = 0 ]
