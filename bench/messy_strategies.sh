#!/bin/sh
# Every strategy against the messy model (tests/mock/messy): how each one
# copes when the optimizer and the judge answer as untidily as real models
# do.  Run by hand from a built tree (make check builds messy):
#
#	sh bench/messy_strategies.sh [-k] [-c max_calls] [-p rate] [-s seed]
#	    [-S styles] [-t limit] [name...]
#
# -c is each job's max_calls (default 300); -p and -s are messy's rate
# and seed (default 0.7 and 1); -S forces messy's styles (e.g.
# "markdown,none": an optimizer that never uses tags and a judge that
# never names a winner, on every reply, -p aside); -t kills a run after that many seconds
# (default 150; the jobs' own deadline is 120 s); -k keeps the work
# directory (jobs, databases, promptd's output and messy's logs) and
# prints where it is; names pick strategies from the list below.
#
# Each job is examples/sentiment with small budgets (max_calls 300,
# deadline 120 s), a dev split of 24 examples (splits 0.5, 0.2, 0.3) so
# that the budget lasts a few steps, and only its weak first seed prompt
# (the second already scores 1.0 on dev), so that a champion other than
# the seed shows that the search got somewhere.  Its optimizer and judge
# are an exec backend running messy on a world job (the same task with a
# sim backend in every role); the target is that sim backend itself,
# since messy passes target replies through unchanged and a process per
# target call would only be slower.  Every job gets a database of its
# own, so each run starts fresh.
#
# Printed per strategy: promptd's exit status (124: killed by -t), wall
# seconds, the run's status (runs.status), the job's state and reason
# (jobs), the optimizer calls (calls rows of role optimizer) and how many
# of the replies messy rewrote (o-mess, from its log) and how many replies
# promptd could use (o-ok, usable or repaired over all, from the outcomes
# table), the same for the judge (j-mess, j-ok), the new candidates (origin not seed or resume), the junk
# among them (text containing ``` or a tag such as <prompt or </, a
# markdown label at its start (**, #, "Prompt:"), quotes around the whole
# text, or no letter at all), and the champion: "no" when none was
# promoted, else the origin of the promoted candidate.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
PROMPTD=${PROMPTD:-$top/promptd}
MESSY=${MESSY:-$top/tests/mock/messy}
usage="usage: messy_strategies.sh [-k] [-c max_calls] [-p rate] [-s seed] [-S styles] [-t limit] [name...]"

keep=0
calls=300
rate=0.7
seed=1
styles=
limit=150
while getopts c:kp:s:S:t: ch; do
	case $ch in
	S) styles=$OPTARG ;;
	c) calls=$OPTARG ;;
	k) keep=1 ;;
	p) rate=$OPTARG ;;
	s) seed=$OPTARG ;;
	t) limit=$OPTARG ;;
	*) echo "$usage" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

for f in "$PROMPTD" "$MESSY"; do
	[ -x "$f" ] || { echo "messy_strategies: $f: not built (make check)" >&2; exit 1; }
done
command -v sqlite3 >/dev/null 2>&1 || { echo "messy_strategies: sqlite3 not found" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/messy-bench.XXXXXX")
if [ "$keep" -eq 0 ]; then
	trap 'rm -rf "$W"' EXIT
fi
cp "$top/examples/sentiment/reviews.jsonl" "$W/"
# The world: the sentiment job as it is, every role its sim backend.
cp "$top/examples/sentiment/job.json" "$W/world.json"

# The strategies: a name and its strategy object.
STRATEGIES='
ape		{"name": "ape", "pool": 10, "per_ask": 5, "resample": 1}
evo-ga		{"name": "evo", "variant": "ga", "population": 6, "generations": 3}
evo-de		{"name": "evo", "variant": "de", "population": 6, "generations": 3}
evo-pb		{"name": "evo", "variant": "ga", "population": 6, "generations": 3, "zero_order": true, "first_order": true, "lineage": true, "operator_rate": 1.0}
reflect-protegi	{"name": "reflect", "mode": "protegi", "steps": 2, "beam": 2, "gradients": 2, "minibatch": 8, "bandit_rounds": 2, "bandit_arms": 4, "bandit_samples": 4}
reflect-gepa	{"name": "reflect", "mode": "gepa", "steps": 4}
reflect-opro	{"name": "reflect", "mode": "opro", "steps": 4, "proposals": 4}
reflect-spo	{"name": "reflect", "mode": "spo", "steps": 4}
mipro		{"name": "mipro", "instructions": 5, "demo_sets": 4, "trials": 6, "minibatch": 10}
mcts		{"name": "mcts", "iterations": 3, "depth": 4, "minibatch": 8}
duel-prompts	{"name": "duel", "arms": "prompts", "feedback": "judge", "pool": 10, "per_ask": 5, "rounds": 20, "init": 5}
duel-responses	{"name": "duel", "arms": "responses", "feedback": "judge", "pool": 10, "rounds": 20, "init": 5}
'

# job NAME STRATEGY: writes $W/NAME/job.json.
job() {
	mkdir -p "$W/$1"
	# Forced styles apply to every reply they fit, without a rate.
	draw="\"-p\", \"$rate\", "
	forced=
	[ -z "$styles" ] || { draw=; forced=", \"-S\", \"$styles\""; }
	cat >"$W/$1/job.json" <<EOF
{
  "name": "messy-$1",
  "description": "Classify the sentiment of a movie review as positive or negative.",
  "task": {
    "dataset": "../reviews.jsonl",
    "input": "Review: {{text}}\nSentiment:",
    "target": "label",
    "metric": { "type": "exact", "normalize": ["case", "whitespace", "punctuation"] },
    "splits": { "train": 0.5, "dev": 0.2, "test": 0.3, "seed": 7 }
  },
  "seed_prompts": [ "Classify the sentiment of the review." ],
  "backends": {
    "sim": { "type": "sim", "model": "sim-1", "seed": 1 },
    "messy": { "type": "exec", "model": "messy", "max_in_flight": 8,
               "command": ["$MESSY", "-w", "$W/world.json", $draw
                           "-s", "$seed", "-l", "$W/$1/messy.log"$forced] }
  },
  "roles": { "target": "sim", "optimizer": "messy", "judge": "messy" },
  "strategy": $2,
  "budget": { "max_calls": $calls, "deadline": 120 },
  "seed": 1
}
EOF
}

# sql DB QUERY: one value.
sql() {
	sqlite3 -batch -noheader "$1" "$2" 2>/dev/null
}

JUNK="instr(text, '\`\`\`') > 0 OR instr(lower(text), '<prompt') > 0 OR
    instr(text, '</') > 0 OR text LIKE '**%' OR text LIKE '#%' OR
    text LIKE 'prompt:%' OR (text LIKE '\"%\"' AND length(text) > 1) OR
    text NOT GLOB '*[A-Za-z]*'"

printf '%-16s %4s %6s %-9s %-9s %4s %6s %7s %5s %6s %7s %4s %4s %-14s %s\n' \
    strategy exit wall run job opt o-mess o-ok judge j-mess j-ok new junk \
    champion reason
printf '%s\n' "$STRATEGIES" | while IFS='	' read -r name strat; do
	[ -n "$name" ] || continue
	if [ $# -gt 0 ]; then
		want=0
		for n in "$@"; do
			[ "$n" = "$name" ] && want=1
		done
		[ "$want" -eq 1 ] || continue
	fi
	# Several tabs may separate the name from the object.
	strat=$(printf '%s' "$strat" | sed 's/^[	 ]*//')
	job "$name" "$strat"
	db="$W/$name/promptd.db"
	t0=$(date +%s.%N)
	timeout -k 5 "$limit" "$PROMPTD" -d "$db" --once "$W/$name/job.json" \
	    >"$W/$name/out" 2>"$W/$name/err" </dev/null
	rc=$?
	t1=$(date +%s.%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	run=$(sql "$db" "SELECT status FROM runs ORDER BY id DESC LIMIT 1")
	state=$(sql "$db" "SELECT state FROM jobs WHERE name = 'messy-$name'")
	reason=$(sql "$db" "SELECT coalesce(reason, '') FROM jobs WHERE name = 'messy-$name'" |
	    tr '\n\t' '  ' | sed 's/ *$//')
	opt=$(sql "$db" "SELECT count(*) FROM calls WHERE role = 'optimizer'")
	judge=$(sql "$db" "SELECT count(*) FROM calls WHERE role = 'judge'")
	ostyled=$(awk -F '\t' '$1 == "optimizer" && $2 != "tidy"' \
	    "$W/$name/messy.log" 2>/dev/null | wc -l)
	jstyled=$(awk -F '\t' '$1 == "judge" && $2 != "tidy"' \
	    "$W/$name/messy.log" 2>/dev/null | wc -l)
	ook=$(sql "$db" "SELECT sum(outcome IN ('usable', 'repaired')) || '/' || count(*) FROM outcomes WHERE role = 'optimizer'")
	jok=$(sql "$db" "SELECT sum(outcome IN ('usable', 'repaired')) || '/' || count(*) FROM outcomes WHERE role = 'judge'")
	new=$(sql "$db" "SELECT count(*) FROM candidates WHERE origin NOT IN ('seed', 'resume')")
	junk=$(sql "$db" "SELECT count(*) FROM candidates WHERE origin NOT IN ('seed', 'resume') AND ($JUNK)")
	champ=$(sql "$db" "SELECT c.origin FROM champions h JOIN candidates c ON c.id = h.candidate_id ORDER BY h.version DESC LIMIT 1")
	[ -n "$champ" ] || champ=no
	printf '%-16s %4s %6s %-9s %-9s %4s %6s %7s %5s %6s %7s %4s %4s %-14s %s\n' \
	    "$name" "$rc" "$wall" "${run:--}" "${state:--}" "${opt:--}" \
	    "$ostyled" "${ook:--}" "${judge:--}" "$jstyled" "${jok:--}" \
	    "${new:--}" "${junk:--}" "$champ" "${reason:--}"
done
if [ "$keep" -eq 1 ]; then
	echo "work directory: $W"
fi
