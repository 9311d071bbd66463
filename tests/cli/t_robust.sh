#!/bin/sh
# TAP: Lua code cannot crash the process (out of memory, deep recursion,
# errors inside callbacks, odd error objects), and engine results do not
# depend on the thread count.
q=${QSCOPE:-../src/qscope}
src=${top_srcdir:-..}
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'; fi; }
# expect_error CHUNK PATTERN NAME: exit status 1, one stderr line matching
expect_error() {
	err=$("$q" -e "$1" 2>&1 >/dev/null); st=$?
	[ $st = 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && printf '%s' "$err" | grep -q -- "$2"
	ok $? "$3" "status $st: $err"
}
echo "1..10"
QSCOPE_LUA_MEMORY=64 expect_error 'local t = {} while true do t[#t + 1] = string.rep("x", 1e6) .. #t end' \
	"not enough memory" "out of memory in Lua is an error, not a crash"
expect_error 'local function f() return 1 + f() end f()' "stack overflow" "deep recursion"
expect_error 'table.sort({3, 2, 1}, function(a, b) error("in comparator") end)' "in comparator" \
	"error inside a callback"
expect_error 'print(setmetatable({}, {__tostring = function() error("bad tostring") end}))' "bad tostring" \
	"error inside __tostring while printing"
expect_error 'error({code = 1})' "error object is a table value" "non-string error object"
expect_error 'error(setmetatable({}, {__tostring = function() return "custom" end}))' "custom" \
	"error object with __tostring"
out=$("$q" -e 'setmetatable({}, {__gc = function() error("in gc") end}) collectgarbage() print("alive")' 2>&1)
printf '%s' "$out" | grep -q "alive"; ok $? "an error in a finalizer is a warning" "$out"
expect_error 'qs.quantize(qs.tensor({1, 2}), {format = "int8", granularity = "channel", axis = 5})' \
	"axis 5 out of range" "engine errors reach Lua as errors"
# identical results for any thread count
chunk='local t = assert(qs.load("'"$src"'/tests/data/cli/w.npy"))
local big = {} for i = 1, 300000 do big[i] = t[(i * 7919) % t.size + 1] * (1 + i % 13) end
local b = qs.tensor(big)
local out = {}
for _, s in ipairs{{format = "int8"}, {format = "int4", scheme = "asymmetric", granularity = "group", group = 100},
                   {format = "int3", rounding = "stochastic", seed = 5}} do
  local m = qs.quantize(b, s).metrics
  out[#out + 1] = string.format("%.17g %.17g %.17g %.17g %d", m.mse, m.sqnr_db, m.cosine, m.bias, m.n_clipped)
end
print(table.concat(out, " | "))'
a=$(QSCOPE_THREADS=1 "$q" -e "$chunk" 2>&1)
b=$(QSCOPE_THREADS=2 "$q" -e "$chunk" 2>&1)
c=$("$q" -e "qs.threads(3) $chunk" 2>&1)
[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" = "$c" ]; ok $? "metrics are identical with 1, 2 and 3 threads" "$a
$b
$c"
out=$(QSCOPE_THREADS=2 "$q" -e 'print(qs.threads()) print(qs.threads(1))' 2>&1)
[ "$out" = "$(printf '2\n1')" ]; ok $? "QSCOPE_THREADS and qs.threads(n)" "$out"
