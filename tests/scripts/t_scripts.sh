#!/bin/sh
# TAP: each example script in scripts/ runs headless on samples/ and prints
# and writes what it should; their numbers agree with direct qs calls; the
# CSV a sweep writes loads in Python's csv module and numpy (when there).
q=${QSCOPE:-../src/qscope}
src=${top_srcdir:-..}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/# /'; fi; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
echo "1..27"
S=$src/samples
# one value computed directly, printed as qs.cell prints it
direct() { "$q" -e "$1"; }

# sweep-bits ------------------------------------------------------------------
"$q" "$src/scripts/sweep-bits.lua" "$S/gaussian.npy" "$tmp" >"$tmp/o" 2>"$tmp/e"
ok $? "sweep-bits.lua exits 0" "$(cat "$tmp/e")"
head -n 3 "$tmp/o" | tail -n 1 | grep -q '^---------------  -------' &&
	sed -n 2p "$tmp/o" | grep -q '^calib  *2  *3  *4  *5  *6  *7  *8$'
ok $? "a table of method x bits 2..8" "$(head -n 4 "$tmp/o")"
want=$(direct 'print(qs.cell(qs.quantize(assert(qs.load("'"$S"'/gaussian.npy")), {format = "int8"}).metrics.sqnr_db))')
got=$(awk '$1 == "minmax" { print $NF; exit }' "$tmp/o")
[ -n "$got" ] && [ "$got" = "$want" ]; ok $? "minmax at 8 bits is qs.quantize's SQNR ($want)" "got '$got'"
methods=$(direct 'local n = 0 for _, m in ipairs(qs.calib_methods()) do if m ~= "none" and m ~= "fixed" then n = n + 1 end end print(n)')
lines=$(wc -l <"$tmp/gaussian-bits.csv")
[ "$lines" -eq $((1 + 7 * methods)) ]; ok $? "the CSV has a header and 7 x $methods rows" "$lines lines"
grep -q '^best method per bit width' "$tmp/o" && grep -q "^wrote $tmp/gaussian-bits.csv" "$tmp/o"
ok $? "best per bit width and the CSV path are printed"
grep -q 'sweep-bits: \(no plot\|wrote\)' "$tmp/e" || grep -q "wrote $tmp/gaussian-bits.png" "$tmp/o"
ok $? "the plot is made or its absence is said on stderr" "$(cat "$tmp/e")"
"$q" "$src/scripts/sweep-bits.lua" "$tmp/none.npy" "$tmp" >"$tmp/o" 2>"$tmp/e"
[ $? = 1 ] && grep -q "none.npy: No such file" "$tmp/e"
ok $? "a missing tensor: exit 1 and the reason" "$(cat "$tmp/e")"

# the CSV in other readers
py=/usr/bin/python3
if [ -x "$py" ]; then
	out=$("$py" - "$tmp/gaussian-bits.csv" <<'EOF' 2>&1
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) > 0, "no rows"
for r in rows:
    for k in ("sqnr_db", "mse", "storage_bits", "bits", "numel"):
        v = float(r[k])
        assert math.isfinite(v), (k, r[k])
    assert r["error"] == "", r["error"]
print(len(rows), rows[0]["format"], rows[0]["calib"])
EOF
)
	ok $? "Python's csv module reads the CSV ($out)" "$out"
	if "$py" -c 'import numpy' 2>/dev/null; then
		out=$("$py" -c 'import numpy as np, sys
a = np.genfromtxt(sys.argv[1], delimiter=",", names=True, dtype=None, encoding="utf-8")
print(a.shape[0], a["sqnr_db"].dtype, float(a["mse"].min()) > 0)' "$tmp/gaussian-bits.csv" 2>&1)
		case $out in *" float64 True") r=0 ;; *) r=1 ;; esac
		ok $r "numpy.genfromtxt reads the CSV with float columns ($out)" "$out"
	else
		skip "numpy not installed for $py"
	fi
else
	skip "no $py"
	skip "no $py"
fi

# which-calib -------------------------------------------------------------------
"$q" "$src/scripts/which-calib.lua" "$S" int4 tensor "$tmp/which.csv" >"$tmp/o" 2>"$tmp/e"
ok $? "which-calib.lua exits 0" "$(cat "$tmp/e")"
for t in conv_weight gaussian laplace linear_weight relu_activation; do
	grep -q "^$t " "$tmp/o" || { echo "# missing $t"; false; } || break
done
ok $? "one line per sample tensor" "$(cat "$tmp/o")"
best=$(awk '$1 == "laplace" { print $3; exit }' "$tmp/o")
want=$(direct 'local r = qs.compare(assert(qs.load("'"$S"'/laplace.npy")), {format = "int4"}) print(r[1].calib)')
[ -n "$best" ] && [ "$best" = "$want" ]; ok $? "laplace's best method is qs.compare's first ($want)" "got '$best'"
lines=$(wc -l <"$tmp/which.csv")
[ "$lines" -eq $((1 + 5 * methods)) ]; ok $? "the CSV has every measurement ($lines lines)"
grep -q '^wins:' "$tmp/o"; ok $? "the methods that win are counted"
mkdir "$tmp/empty"
"$q" "$src/scripts/which-calib.lua" "$tmp/empty" >"$tmp/o" 2>"$tmp/e"
[ $? = 1 ] && grep -q "no .npy files" "$tmp/e"; ok $? "an empty directory: exit 1 and a message" "$(cat "$tmp/e")"

# compare-toolkits ----------------------------------------------------------------
"$q" "$src/scripts/compare-toolkits.lua" "$S/linear_weight.npy" 8 "$tmp/tk.json" >"$tmp/o" 2>"$tmp/e"
ok $? "compare-toolkits.lua exits 0" "$(cat "$tmp/e")"
c=0
for l in "PyTorch W" "PyTorch A" "ONNX Runtime W" "ONNX Runtime A" "TensorRT W" "TensorRT A" "ggml Q8_0" "AIMET TF-enhanced"; do
	grep -q "^$l " "$tmp/o" && c=$((c + 1))
done
[ $c = 8 ]; ok $? "eight recipes side by side ($c)" "$(cat "$tmp/o")"
grep -q '^lowest MSE: ' "$tmp/o" && grep -q '"label": "PyTorch W"' "$tmp/tk.json"
ok $? "the winner is named and the JSON is written"
want=$(direct 'print(qs.cell(qs.quantize(assert(qs.load("'"$S"'/linear_weight.npy")), {preset = "torch", format = "int8", scheme = "symmetric", granularity = "channel", calib = "minmax"}).metrics.sqnr_db))')
got=$(awk '/^PyTorch W / { for (i = 1; i <= NF; i++) if ($i == "minmax") { print $(i + 2); exit } }' "$tmp/o")
[ -n "$got" ] && [ "$got" = "$want" ]; ok $? "PyTorch W is qs.quantize with its spec ($want)" "got '$got'"
"$q" "$src/scripts/compare-toolkits.lua" "$S/linear_weight.npy" 4 >"$tmp/o" 2>"$tmp/e"
[ $? = 0 ] && grep -q 'int4 ' "$tmp/o" && grep -q 'uint4 ' "$tmp/o" && ! grep -q 'int8 ' "$tmp/o"
ok $? "the bit width argument renames the formats" "$(cat "$tmp/o" "$tmp/e")"

# mixed-precision -------------------------------------------------------------------
"$q" "$src/scripts/mixed-precision.lua" "$S" 4.5 >"$tmp/o" 2>"$tmp/e"
ok $? "mixed-precision.lua exits 0" "$(cat "$tmp/e")"
ach=$(sed -n 's/.*achieved \([0-9.]*\) bits\/weight.*(exact)$/\1/p' "$tmp/o")
[ -n "$ach" ] && awk -v a="$ach" 'BEGIN { exit !(a <= 4.5 && a > 4) }'
ok $? "the exact allocation fits 4.5 bits/weight ($ach)" "$(cat "$tmp/o")"
grep -q '(greedy)$' "$tmp/o" && grep -q '^one bit width for all' "$tmp/o" &&
	grep -q 'times less total nmse than int4 everywhere' "$tmp/o"
ok $? "greedy, uniform baselines and the gain are printed"
"$q" "$src/scripts/mixed-precision.lua" "$S" 1 >"$tmp/o" 2>"$tmp/e"
[ $? = 0 ] && grep -q 'cannot be met' "$tmp/o"
ok $? "an impossible budget is reported" "$(cat "$tmp/o" "$tmp/e")"

# the sweep's progress bar (stderr) -------------------------------------------------
"$q" -e 'qs.sweep{tensors = "'"$S"'/gaussian.npy", bits = {2, 3}, progress = true}' >"$tmp/o" 2>"$tmp/e"
tr '\r' '\n' <"$tmp/e" | grep -q '^sweep \[#*\] 2/2 100%' && grep -q 'sweep: 2 of 2 runs in' "$tmp/e" && [ ! -s "$tmp/o" ]
ok $? "progress = true draws the bar on stderr and ends with a summary line" "$(cat "$tmp/e")"
"$q" -e 'qs.sweep{tensors = "'"$S"'/gaussian.npy", bits = {2, 3}, progress = false}' 2>"$tmp/e"
[ ! -s "$tmp/e" ]; ok $? "progress = false draws nothing" "$(cat "$tmp/e")"
QSCOPE_PROGRESS=0 "$q" -e 'qs.sweep{tensors = "'"$S"'/gaussian.npy", bits = {2, 3}, progress = true}' 2>"$tmp/e"
[ ! -s "$tmp/e" ]; ok $? "QSCOPE_PROGRESS=0 turns it off" "$(cat "$tmp/e")"
