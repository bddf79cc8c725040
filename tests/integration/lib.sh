# Shared by the integration tests: where things are, a private temporary
# directory removed on exit, and small assertions.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
PROMPTCTL="$top_builddir/promptctl"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/promptd-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export XDG_CONFIG_HOME="$TMP/config" XDG_STATE_HOME="$TMP/state"
unset PROMPTD_CONF
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# expect_contains FILE TEXT: the file contains TEXT literally.
expect_contains() {
	grep -qF -- "$2" "$1" || { fail "'$2' not found in $1:"; sed 's/^/  | /' "$1" >&2; }
}

# expect_status N COMMAND...: runs the command, output in $TMP/out and
# $TMP/err, and checks its exit status.
expect_status() {
	_want=$1
	shift
	"$@" >"$TMP/out" 2>"$TMP/err"
	_got=$?
	if [ "$_got" -ne "$_want" ]; then
		fail "exit $_got (wanted $_want): $*"
		sed 's/^/  err| /' "$TMP/err" >&2
	fi
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures failure(s)" >&2
		exit 1
	fi
	exit 0
}
