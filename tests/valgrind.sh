#!/bin/sh
# TAP: every engine unit test (tests/unit/t_*) runs clean under valgrind
# memcheck: no invalid access, no use of uninitialized values, no leak.
# Skipped without valgrind and in sanitizer builds (the two do not mix).
b=${top_builddir:-..}
command -v valgrind >/dev/null 2>&1 || { echo "1..0 # SKIP valgrind not installed"; exit 0; }
[ "${QS_SANITIZERS:-no}" = yes ] && { echo "1..0 # SKIP sanitizer build"; exit 0; }
set -- $(ls "$b"/tests/unit/t_* 2>/dev/null | grep -v '\.[a-z]*$')
[ $# -gt 0 ] || { echo "1..0 # SKIP no unit tests built"; exit 0; }
echo "1..$#"
n=0
for t in "$@"; do
	n=$((n + 1))
	log=$(mktemp)
	if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		"$t" >"$log" 2>&1 && ! grep -q '^not ok' "$log"; then
		echo "ok $n - $(basename "$t") under valgrind"
	else
		echo "not ok $n - $(basename "$t") under valgrind"
		tail -n 30 "$log" | sed 's/^/# /'
	fi
	rm -f "$log"
done
