#!/bin/sh
# Sum the automake test-suite results of the given .log/.trs files (or of
# every test-suite.log found) and print one line:
#   tests: N passed, N failed, N skipped
# PASS and XFAIL count as passed; FAIL, XPASS and ERROR as failed.
pass=0 fail=0 skip=0
if [ $# -eq 0 ]; then
	set -- $(find . -name test-suite.log 2>/dev/null)
fi
for log in "$@"; do
	[ -f "$log" ] || continue
	eval "$(awk '
		/^# PASS:/  { p += $3 } /^# XFAIL:/ { p += $3 }
		/^# FAIL:/  { f += $3 } /^# XPASS:/ { f += $3 } /^# ERROR:/ { f += $3 }
		/^# SKIP:/  { s += $3 }
		END { printf "p=%d f=%d s=%d\n", p, f, s }' "$log")"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
echo "tests: $pass passed, $fail failed, $skip skipped"
