#!/bin/sh
# The systemd unit is hardened: "systemd-analyze security" rates its
# exposure at 3.0 or less (9.6, UNSAFE, is what a bare unit running as
# root gets), and it runs as its own user, is started with Type=notify
# and reads API keys from an environment file.
. "$(dirname "$0")/lib.sh"

need systemd-analyze
unit="$top_builddir/promptd.service"
[ -f "$unit" ] || { fail "$unit: not built"; finish; }
if ! systemd-analyze security --offline=true "$unit" >"$TMP/sec" 2>&1; then
	if grep -q "unrecognized option\|Unknown option" "$TMP/sec"; then
		echo "systemd-analyze has no --offline: skipped"
		exit 77
	fi
	fail "systemd-analyze security failed:"
	sed 's/^/  | /' "$TMP/sec" >&2
	finish
fi
score=$(sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p' "$TMP/sec")
if [ -z "$score" ]; then
	fail "no exposure level in systemd-analyze's report"
	sed 's/^/  | /' "$TMP/sec" >&2
elif ! awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }'; then
	fail "exposure $score is above 3.0:"
	grep '^✗' "$TMP/sec" | sed 's/^/  | /' >&2
fi
for line in "User=promptd" "Type=notify" "EnvironmentFile=-/etc/default/promptd" \
    "StateDirectory=promptd" "RuntimeDirectory=promptd"; do
	grep -qx "$line" "$unit" || fail "$unit: no '$line'"
done
# Nothing of the build tree in the unit.
grep -q "@[a-z]*@" "$unit" && fail "$unit: a placeholder is left"
finish
