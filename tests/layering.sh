#!/bin/sh
# TAP: the engine library depends on libc + libm only (no Lua, curses,
# readline, stdio output, exit/abort, process spawning) and exports only
# qs_ symbols.  Offending symbols are printed as # lines.
lib="${top_builddir:-.}/src/engine/.libs/libqsengine.a"
echo "1..2"
if [ ! -f "$lib" ]; then
	echo "not ok 1 - engine archive $lib exists"
	echo "not ok 2 - engine exports"
	exit 0
fi
bad=$(nm -u "$lib" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' | sort -u |
	grep -E '^(lua_|luaL_|luaopen_|rl_|readline|add_history|initscr|newterm|endwin|w[a-z]*refresh|printf|puts|putchar|fprintf|vfprintf|fputs|perror|exit|_exit|abort|popen|fork|posix_spawn|system|execv|execl)' )
if [ -z "$bad" ]; then
	echo "ok 1 - engine uses no Lua, curses, readline, stdio output, exit or spawn"
else
	echo "not ok 1 - engine uses forbidden symbols"
	echo "$bad" | sed 's/^/# /'
fi
exp=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF==3 && $2 ~ /^[TDBRVWi]$/ {print $3}' |
	grep -v '^qs_' | grep -v '\.resolver$' | sort -u)
if [ -z "$exp" ]; then
	echo "ok 2 - engine exports only qs_ symbols"
else
	echo "not ok 2 - engine exports symbols outside qs_"
	echo "$exp" | sed 's/^/# /'
fi
