#!/bin/sh
# TAP: the Lua table ui in the workbench (every key has a Lua
# equivalent), ~/.config/qscope/init.lua, monochrome and ASCII terminals,
# and the plain prompt when there is no terminal.
q=${QSCOPE:-../src/qscope}
src=${top_srcdir:-..}
. "$src/tests/tui/tmuxlib.sh"
a=$src/tests/data/tui/a.npy
b=$src/tests/data/tui/b.npy
echo "1..26"

mkdir -p "$home/.config/qscope"
cat >"$home/.config/qscope/init.lua" <<'LUA'
ui.set{format = "int4"}
print("init" .. " ran")
LUA
start 100 30 "'$q' '$a' '$b'"
wait_for "init ran" && wait_for "int4 sym"; ok $? "init.lua runs at start-up and drives ui.set"
lua 'print("get", ui.get().format, ui.get().bits, ui.get().index, ui.get().count)'
wait_re "^ get +int4 +4 +1 +2"; ok $? "ui.get: format, bits, tensor index and count"
keys 'ui.set{colour = "red"}' Enter; wait_for "unknown key 'colour' (accepted: tensor, format"
ok $? "ui.set with an unknown key raises, listing the keys"
keys 'ui.set{calib = "nope"}' Enter; wait_for "unknown calib 'nope' (accepted: "
ok $? "ui.set with an unknown method raises, listing the methods"
keys 'ui.set{lo = -1, hi = 1} local s = ui.get() print("fixed", s.calib, s.fixed, s.lo, s.hi)' Enter
wait_re "^ fixed +fixed +true +-1\.0 +1\.0"; ok $? "ui.set{lo, hi}: a hand-set range"
wait_for "calib fixed"; ok $? "the stats pane shows the hand-set range"
keys 'ui.reset() print("reset", ui.get().calib)' Enter; wait_re "^ reset +minmax"
ok $? "ui.reset: the calibrated range again"
keys 'ui.action("bits_up") print("action", ui.get().format)' Enter; wait_re "^ action +int5"
ok $? "ui.action runs the action of a key"
keys 'ui.action("fly")' Enter; wait_for "unknown action 'fly' (accepted: calib_next"
ok $? "ui.action with an unknown name raises"
# the cached per-tensor ranges give exactly qs.quantize's result
keys 'local n, same = 0, 0 for _, m in ipairs(qs.calib_methods()) do if m ~= "none" and m ~= "fixed" then for _, sch in ipairs{"symmetric", "asymmetric"} do ui.set{calib = m, scheme = sch, format = "int4"} local q = qs.quantize(t, {calib = m, scheme = sch, format = "int4"}) n = n + 1 if ui.get().mse == q.metrics.mse and ui.get().sqnr_db == q.metrics.sqnr_db then same = same + 1 end end end end print("agree", n == same, n > 0)' Enter
wait_re "^ agree +true +true"; ok $? "every method and scheme: the workbench metrics are qs.quantize's"
keys 'ui.set{calib = "minmax", scheme = "symmetric"} local r = ui.compare() local cur = 0 for _, x in ipairs(r) do if x.current then cur = cur + 1 end end print("compare", #r == #qs.calib_methods() - 2, r[1].mse <= r[#r].mse, cur)' Enter
wait_re "^ compare +true +true +1"; ok $? "ui.compare: every method, best first, one current row"
keys 'ui.set{tensor = 2, granularity = "tensor"} local c = ui.channels() print("channels", #c, c[#c].index, c[1].sqnr_db < c[#c].sqnr_db)' Enter
wait_re "^ channels +8 +5 +true"; ok $? "ui.channels: the outlier channel fares best under one scale, listed last"
keys 'ui.set{granularity = "channel"} local c = ui.channels(3) print("perchan", #c, c[1].sqnr_db <= c[3].sqnr_db)' Enter
wait_re "^ perchan +3 +true"; ok $? "ui.channels(n) per channel: worst first, at most n"
p=$work/saved.npy
keys "assert(ui.save('$p')) local d = qs.load('$p') print('saved', d.dtype, d.shape[1], d.shape[2], math.abs(qs.error(tensors[2], d).sqnr_db - ui.get().sqnr_db) < 1e-6)" Enter
wait_re "^ saved +float32 +8 +32 +true"; ok $? "ui.save writes the dequantized tensor"
keys "assert(ui.save('$p', 'codes')) print('codes', qs.load('$p').dtype)" Enter
wait_re "^ codes +int8"; ok $? "ui.save(path, 'codes') writes the integer codes"
keys "print('nosave', ui.save('$work/no/such/dir/x.npy'))" Enter
wait_re "^ nosave +nil +.*no/such/dir"; ok $? "ui.save to a bad path returns nil, message"
keys "print('open', ui.open('$a'), ui.get().index, ui.get().count)" Enter
wait_re "^ open +3 +3 +3"; ok $? "ui.open loads a file and shows it"
keys 'print("add", ui.add(qs.tensor({1, 2, 3, 4}), "four"), ui.get().tensor)' Enter
wait_re "^ add +4 +four"; ok $? "ui.add shows a tensor made in Lua"
keys 'ui.set{zoom = {-1, 1}} local z = ui.get().zoom print("zoom", z[1], z[2]) ui.action("zoom_out") z = ui.get().zoom print("zoomout", z[2] - z[1])' Enter
wait_re "^ zoom +-1\.0 +1\.0" && wait_re "^ zoomout +4\.0"; ok $? "ui.set{zoom} and ui.action('zoom_out')"
keys 'local k = ui.keys() local found for _, x in ipairs(k) do if x.action == "calib_next" then found = x.keys end end print("keys", #k > 30, found)' Enter
wait_re "^ keys +true +c"; ok $? "ui.keys lists the bindings"
keys 'ui.set{focus = "keys"}' Enter; wait_for "KEYS"; ok $? "ui.set{focus = 'keys'} leaves the prompt"
keys ':' 'ui.quit()' Enter; wait_for "EXITED 0"; ok $? "ui.quit quits"

# monochrome, ASCII-only terminal
rm "$home/.config/qscope/init.lua"
QS_TERM=vt100 QS_LC=C start 80 24 "'$q' '$a'"
wait_for "- Histogram - linear | 256 levels" && wait_re "calib minmax"
ok $? "TERM=vt100 LC_ALL=C: ASCII lines and symbols"
T capture-pane -p -e -t qs | grep -q "$(printf '\033')\[3[0-7]m"; [ $? != 0 ]
ok $? "TERM=vt100: no colours"

# a terminal curses does not know: the plain prompt
QS_TERM=nosuchterm start 80 24 "'$q' '$a'"
wait_for "qs.* is the API" && wait_for "t = tensor float32 (4096,)"
ok $? "an unknown terminal type falls back to the plain prompt"

# no terminal: the plain prompt
out=$(printf 'print(1 + 1)\n' | "$q" "$a" 2>&1); st=$?
[ $st = 0 ] && echo "$out" | grep -qx "2" && echo "$out" | grep -q "^t = tensor float32 (4096,)"
ok $? "without a terminal: the plain prompt"
