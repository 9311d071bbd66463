#!/bin/sh
# make bench: run the engine benchmark (one thread, then all threads) and
# the same computations in numpy, and print GB/s and ratios.
build=$1 src=$2
bench="$build/tests/bench/bench"
n=${QS_BENCH_N:-16777216}
py=${PYTHON3:-/usr/bin/python3}
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
one=$(OMP_NUM_THREADS=1 "$bench" "$n") || exit 1
all=$("$bench" "$n" --no-load) || exit 1
echo "== qscope engine, one thread"; echo "$one"
echo "== qscope engine, all threads"; echo "$all"
get() { echo "$1" | awk -v k="$2" '$1 == k { for (i = 2; i <= NF; i++) if ($i == "s") print $(i-1) }'; }
getbw() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
bw=$(getbw "$one" read_bandwidth)
f1=$(getbw "$one" int8_fused_pass)
echo "== sweep: 50 x 1M float32, 4 methods x 6 bit widths, one thread"
OMP_NUM_THREADS=1 QSCOPE_THREADS=1 QSCOPE_LUA_DIR="$src/lua" "$build/src/qscope" "$src/tests/bench/sweep_bench.lua" 1
echo "== ratios"
echo "fused int8 pass, one thread: $f1 GB/s = $(awk -v a="$f1" -v b="$bw" 'BEGIN{printf "%.2f", a/b}') x the measured read bandwidth ($bw GB/s)"
if "$py" -c 'import numpy' 2>/dev/null; then
	np=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$py" "$src/tests/bench/numpy_ref.py" "$n") || np=
	echo "== numpy (same computations, one thread)"; echo "$np"
	for k in int8_minmax_quantize_error int8_fused_pass; do
		q=$(get "$one" $k); p=$(echo "$np" | awk -v k="numpy_$k" '$1 == k { print $2 }')
		[ -n "$q" ] && [ -n "$p" ] &&
			echo "$k: qscope $q s, numpy $p s: $(awk -v a="$p" -v b="$q" 'BEGIN{printf "%.1f", a/b}')x faster"
	done
else
	echo "== numpy comparison skipped: $py has no numpy (install python3-numpy)"
fi
