#!/bin/sh
# browsercheck (tests/browser), the checker of promptctl's HTML report,
# checked itself on hand-made pages: a good one passes, and each bad one
# (a console error, a network request, a blank page, a wrong count)
# fails with its own message.  Each run leaves no directory behind.
. "$(dirname "$0")/lib.sh"

BC="$top_builddir/tests/browser/browsercheck"

# Not skipped: a CI without a browser would pass the report's tests
# without ever opening the report.
for _p in "${CHROMIUM:-/usr/bin/chromium}" \
    "${CHROMEDRIVER:-/usr/bin/chromedriver}"; do
	if ! command -v "$_p" >/dev/null 2>&1; then
		echo "FAIL: chromium/chromedriver not installed:" \
		    "apt-get install chromium chromium-driver" >&2
		exit 1
	fi
done
mkdir "$TMP/tmp"
export TMPDIR="$TMP/tmp"

# page FILE [BODY]: a small self-contained report-like page, BODY (read
# from standard input) in place of its sections when given.
page() {
	{
		cat <<'HEAD'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>selftest</title>
<style>
body { font-family: sans-serif; margin: 2em; }
header { background: #234; color: #fff; padding: 2em; }
section { border: 1px solid #ccc; margin: 1em 0; padding: 1em; }
</style></head>
<body><header><h1>Job report</h1></header>
HEAD
		if [ "${2:-}" = body ]; then
			cat
		else
			cat <<'BODY'
<section><h2>Scores</h2>
<svg width="600" height="300" viewBox="0 0 600 300">
<rect width="600" height="300" fill="#eef"/>
<circle class="pt" cx="50" cy="250" r="8" fill="#c33"/>
<circle class="pt" cx="150" cy="200" r="8" fill="#c33"/>
<circle class="pt" cx="250" cy="150" r="8" fill="#c33"/>
<circle class="pt" cx="350" cy="100" r="8" fill="#c33"/>
<circle class="pt" cx="450" cy="50" r="8" fill="#c33"/>
</svg></section>
<section><h2>Prompts</h2><p>Classify the review.</p></section>
BODY
		fi
		echo '</body></html>'
	} >"$TMP/$1"
}

# The good page passes, with a screenshot that is a PNG.
page good.html
expect_status 0 "$BC" -e 'svg circle.pt=5' -e 'section>=2' \
    -s "$TMP/shot.png" "$TMP/good.html"
for _l in 'ok   console: 0 error(s)' 'ok   network: 0 request(s)' \
    'ok   svg circle.pt=5: 5 found' 'ok   section>=2: 2 found' \
    "ok   screenshot $TMP/shot.png" 'browsercheck:' '5 checks passed'; do
	expect_contains "$TMP/out" "$_l"
done
[ "$(od -An -c -N 4 "$TMP/shot.png" 2>/dev/null | tr -d ' ')" = '211PNG' ] ||
    fail "$TMP/shot.png is not a PNG"

# A console error.
page console.html body <<'BODY'
<section><p>Fine so far.</p></section>
<script>console.error("x")</script>
BODY
expect_status 1 "$BC" "$TMP/console.html"
expect_contains "$TMP/out" 'FAIL console: 1 error(s)'
expect_contains "$TMP/out" '"x"'
expect_contains "$TMP/out" 'ok   network: 0 request(s)'

# A request to the network (port 9 is refused, but asked all the same).
page network.html body <<'BODY'
<section><img src="http://127.0.0.1:9/x.png" alt="remote"></section>
BODY
expect_status 1 "$BC" "$TMP/network.html"
expect_contains "$TMP/out" 'FAIL network: 1 request(s)'
expect_contains "$TMP/out" '  request http://127.0.0.1:9/x.png'

# A blank page: every check passes but the screenshot's.
printf '<!doctype html>\n<title>blank</title>\n' >"$TMP/blank.html"
expect_status 1 "$BC" -e 'body=1' -s "$TMP/blank.png" "$TMP/blank.html"
expect_contains "$TMP/out" 'ok   console: 0 error(s)'
expect_contains "$TMP/out" 'ok   body=1: 1 found'
expect_contains "$TMP/out" "FAIL screenshot $TMP/blank.png: 0.00% of pixels"
expect_contains "$TMP/out" ': blank'

# Wrong counts, exact and at least; an invalid selector.
expect_status 1 "$BC" -e 'svg circle.pt=4' -e 'section>=3' -e 'header=1' \
    -e 'p:bad(=1' "$TMP/good.html"
expect_contains "$TMP/out" 'FAIL svg circle.pt=4: 5 found'
expect_contains "$TMP/out" 'FAIL section>=3: 2 found'
expect_contains "$TMP/out" 'ok   header=1: 1 found'
expect_contains "$TMP/out" 'FAIL p:bad(=1:'
expect_contains "$TMP/out" '3 of 6 checks failed'

# No browser: exit 2, saying what to install.  Usage errors: 64.
expect_status 2 env CHROMEDRIVER="$TMP/none" "$BC" "$TMP/good.html"
expect_contains "$TMP/err" 'apt-get install chromium-driver'
expect_status 64 "$BC"
expect_contains "$TMP/err" 'usage: browsercheck'
expect_status 64 "$BC" -e 'section' "$TMP/good.html"
expect_status 1 "$BC" "$TMP/missing.html"
expect_contains "$TMP/out" 'FAIL load'

# Each run removed its profile and chromedriver's log.
[ -z "$(ls -A "$TMP/tmp")" ] ||
    fail "left in TMPDIR: $(ls -A "$TMP/tmp" | tr '\n' ' ')"

finish
