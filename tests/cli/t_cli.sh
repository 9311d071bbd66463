#!/bin/sh
# TAP: the command line (modes, errors, exit status) and require "qscope"
# from stock lua5.4.
q=${QSCOPE:-../src/qscope}
src=${top_srcdir:-..}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'; fi; }
echo "1..20"

out=$("$q" --version); ok $? "--version exits 0"
case $out in "qscope "[0-9]*) r=0 ;; *) r=1 ;; esac; ok $r "--version prints the version" "$out"
"$q" --help | grep -q -- "-e CHUNK"; ok $? "--help lists -e"

out=$("$q" -e 'print(1 + 1)'); [ "$out" = 2 ]; ok $? "-e runs a chunk" "$out"
"$q" -e 'error("boom")' >"$tmp/o" 2>"$tmp/e"; st=$?
[ $st = 1 ]; ok $? "a Lua error exits 1"
[ "$(wc -l <"$tmp/e")" = 1 ] && grep -q '^qscope: .*boom' "$tmp/e"; ok $? "error is one line 'qscope: ...'" "$(cat "$tmp/e")"
"$q" --bogus 2>"$tmp/e"; [ $? = 1 ] && grep -q "unknown option '--bogus'" "$tmp/e"; ok $? "unknown option"

printf 'print(select("#", ...), arg[0] ~= nil, arg[1], ...)\n' >"$tmp/s.lua"
out=$("$q" "$tmp/s.lua" a b); [ "$out" = "$(printf '2\ttrue\ta\ta\tb')" ]; ok $? "script gets arg and ..." "$out"
"$q" "$tmp/missing.lua" 2>"$tmp/e"; [ $? = 1 ] && grep -q "^qscope: cannot open .*missing.lua" "$tmp/e"; ok $? "missing script" "$(cat "$tmp/e")"

out=$("$q" -e 'local t = assert(qs.load(arg and arg[1] or "'"$src"'/tests/data/cli/w.npy")) print(t.dtype, #t.shape)' 2>&1)
[ "$out" = "$(printf 'float32\t2')" ]; ok $? "-e loads a tensor" "$out"
out=$("$q" -e 'print(qs.load("'"$tmp"'/nope.npy"))' 2>&1)
case $out in "nil	$tmp/nope.npy: No such file or directory") r=0 ;; *) r=1 ;; esac; ok $r "qs.load returns nil, message" "$out"
out=$("$q" -e 'local t=assert(qs.load("'"$src"'/tests/data/cli/w.npy")) print(qs.error(t, qs.quantize(t,{format="int4",granularity="channel"})).sqnr_db)' 2>&1)
case $out in [0-9]*.[0-9]*) r=0 ;; *) r=1 ;; esac; ok $r "the issue's int4 per-channel example prints a number" "$out"
out=$("$q" -e 'qs.quantize(qs.tensor({1,2}), {format="int99"})' 2>&1)
echo "$out" | grep -q "unknown format 'int99' (accepted: int8, uint8, intN, uintN"; ok $? "bad format lists the accepted ones" "$out"
out=$("$q" -e 'qs.quantize(qs.tensor({1,2}), {colour="red"})' 2>&1)
echo "$out" | grep -q "unknown spec key 'colour' (accepted: format, scheme"; ok $? "unknown spec key" "$out"

out=$("$q" --shard 2/3 -e 'print(table.concat(qs.shard_select{1, 2, 3, 4, 5, 6, 7}, ","))' 2>&1)
[ "$out" = "2,5" ]; ok $? "--shard 2/3 keeps items 2, 5" "$out"
out=$("$q" -e 'print(table.concat(qs.shard_select{1, 2, 3}, ","))' 2>&1)
[ "$out" = "1,2,3" ]; ok $? "no --shard keeps every item" "$out"
"$q" --shard 4/3 -e '' 2>"$tmp/e"; [ $? = 1 ] && grep -q "shard needs I/N" "$tmp/e"; ok $? "bad --shard is an error"
mkdir "$tmp/d" && : >"$tmp/d/b.npy" && : >"$tmp/d/a.npy"
out=$("$q" -e 'print(table.concat(qs.listdir("'"$tmp"'/d"), " ")) print(qs.listdir("'"$tmp"'/none"))' 2>&1)
[ "$out" = "$(printf 'a.npy b.npy\nnil\t%s/none: No such file or directory' "$tmp")" ]; ok $? "qs.listdir sorts, and fails with nil, message" "$out"

# the same engine from stock lua5.4
lua=${LUA_INTERP:-lua5.4}
if command -v "$lua" >/dev/null 2>&1; then
	so=$(dirname "$q")/.libs
	# a sanitizer build's module needs the runtime loaded first
	asan=$(ldd "$so/qscope.so" 2>/dev/null | awk '/libasan/ { print $3 }')
	ubsan=$(ldd "$so/qscope.so" 2>/dev/null | awk '/libubsan/ { print $3 }')
	[ -n "$asan$ubsan" ] && export LD_PRELOAD="$asan $ubsan" ASAN_OPTIONS=detect_leaks=0
	out=$(LUA_CPATH="$so/?.so" "$lua" -e 'qs=require"qscope" local t=assert(qs.load("'"$src"'/tests/data/cli/w.npy")) print(qs.error(t, qs.quantize(t,{format="int4",granularity="channel"})).sqnr_db)' 2>&1)
	ref=$("$q" -e 'local t=assert(qs.load("'"$src"'/tests/data/cli/w.npy")) print(qs.error(t, qs.quantize(t,{format="int4",granularity="channel"})).sqnr_db)')
	[ -n "$out" ] && [ "$out" = "$ref" ]; ok $? "require \"qscope\" from $lua gives the same number" "$out vs $ref"
	out=$(LUA_CPATH="$so/?.so" "$lua" -e 'local q=require"qscope" print(type(q.quantize), q.version)' 2>&1)
	case $out in "function	"[0-9]*) r=0 ;; *) r=1 ;; esac; ok $r "module table" "$out"
else
	echo "ok 15 # SKIP $lua not installed"
	echo "ok 16 # SKIP $lua not installed"
fi
