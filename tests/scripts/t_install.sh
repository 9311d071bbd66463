#!/bin/sh
# TAP: make install DESTDIR=... from the build directory puts the binary,
# qscope.so, the Lua library, the lessons, the scripts, the samples, the
# docs and the man page in place; the installed binary runs an installed
# script on the installed samples with the installed library (a DESTDIR
# copy is not at its configured place, so QSCOPE_LUA_DIR points into it);
# make uninstall removes every file again.
b=${top_builddir:-..}
q=${QSCOPE:-$b/src/qscope}
[ -f "$b/Makefile" ] || { echo "1..0 # SKIP no Makefile in $b"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/dest
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'; fi; }
echo "1..14"

# the install runs in the build directory; the test-suite's own make
# variables (TESTS, ...) are not passed down
env -u MAKEFLAGS -u MFLAGS ${MAKE:-make} -s -C "$b" install DESTDIR="$d" >"$tmp/log" 2>&1
ok $? "make install DESTDIR=... succeeds" "$(tail -n 20 "$tmp/log")"

bin=$(find "$d" -path '*/bin/qscope' -type f | head -n 1)
[ -n "$bin" ] && [ -x "$bin" ]; ok $? "the binary is in bin/ ($bin)"
so=$(find "$d" -name qscope.so | head -n 1)
[ -n "$so" ]; ok $? "qscope.so is installed ($so)"
pd=$(find "$d" -type d -path '*/share/qscope' | head -n 1)
miss=
for f in lua/qscope/lib.lua lua/qscope/sweep.lua lua/qscope/report.lua lua/qscope/mixed.lua \
	lua/qscope/layer.lua lua/qscope/teach.lua; do
	[ -f "$pd/$f" ] || miss="$miss $f"
done
[ -n "$pd" ] && [ -z "$miss" ]; ok $? "the Lua library is under share/qscope/lua" "missing:$miss"
[ "$(ls "$pd/lua/lessons/"*.lua 2>/dev/null | wc -l)" -ge 6 ]; ok $? "the lessons are under share/qscope/lua/lessons"
miss=
for f in sweep-bits which-calib compare-toolkits mixed-precision; do
	[ -f "$pd/scripts/$f.lua" ] || miss="$miss $f"
done
[ -z "$miss" ]; ok $? "the scripts are under share/qscope/scripts" "missing:$miss"
[ "$(ls "$pd/samples/"*.npy 2>/dev/null | wc -l)" -ge 5 ] && [ -f "$pd/samples/README.md" ]
ok $? "the samples are under share/qscope/samples"
man=$(find "$d" -path '*/man1/qscope.1' | head -n 1)
[ -n "$man" ] && grep -q '^\.TH QSCOPE 1' "$man"; ok $? "the man page is in man1 ($man)"
doc=$(find "$d" -path '*/doc/qscope/tutorial.md' | head -n 1)
[ -n "$doc" ] && [ -f "$(dirname "$doc")/lua-api.md" ]; ok $? "the tutorial and the API reference are in doc/qscope"

# the installed binary with the installed library
export QSCOPE_LUA_DIR="$pd/lua"
out=$("$bin" -e 'print(qs.lua_dir, qs.samples_dir, type(qs.sweep), type(qs.lesson))' 2>&1)
[ "$out" = "$(printf '%s\t%s\tfunction\tfunction' "$pd/lua" "$pd/samples")" ]
ok $? "the installed binary loads the installed library" "$out"
out=$(cd "$tmp" && "$bin" "$pd/scripts/mixed-precision.lua" 2>&1)
echo "$out" | grep -q 'achieved .* bits/weight .*(exact)$'
ok $? "it runs an installed script on the installed samples" "$out"
out=$("$bin" -e 'print(qs.lesson(2))' 2>&1)
echo "$out" | grep -q '^Bit width: about 6 dB per bit$'; ok $? "and an installed lesson" "$out"

# require "qscope" from stock lua5.4 with the installed module
lua=${LUA_INTERP:-lua5.4}
if command -v "$lua" >/dev/null 2>&1; then
	asan=$(ldd "$so" 2>/dev/null | awk '/libasan/ { print $3 }')
	ubsan=$(ldd "$so" 2>/dev/null | awk '/libubsan/ { print $3 }')
	[ -n "$asan$ubsan" ] && export LD_PRELOAD="$asan $ubsan" ASAN_OPTIONS=detect_leaks=0
	out=$(LUA_CPATH="$(dirname "$so")/?.so" "$lua" -e 'local qs = require "qscope" print(type(qs.sweep), qs.lua_dir)' 2>&1)
	[ "$out" = "$(printf 'function\t%s' "$pd/lua")" ]; ok $? "$lua requires the installed qscope.so" "$out"
	unset LD_PRELOAD
else
	n=$((n + 1)); echo "ok $n # SKIP $lua not installed"
fi

env -u MAKEFLAGS -u MFLAGS ${MAKE:-make} -s -C "$b" uninstall DESTDIR="$d" >"$tmp/log" 2>&1
left=$(find "$d" -type f | head -n 5)
[ -z "$left" ]; ok $? "make uninstall removes every installed file" "$left"
