#!/bin/sh
# tests/fuzz/run.sh SRCDIR BUILDDIR: `make fuzz`.  Builds one libFuzzer
# binary per reader with clang -fsanitize=fuzzer,address,undefined and runs
# it for FUZZ_SECONDS on a work copy of its seed corpus; prints one line per
# reader (executions, seconds, findings).  Exit status 1 when anything was
# found; findings are in BUILDDIR/tests/fuzz/out/<reader>/ until the next
# run.
# Environment (from fuzz.am): FUZZ_CC FUZZ_SECONDS FUZZ_TARGETS FUZZ_ENGINE
# FUZZ_LIBS.
set -u
src=$1 build=$2
cc=${FUZZ_CC:-clang}
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-npy npz safetensors gguf}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "make fuzz: SKIP: $cc not found (install the Debian packages clang and libclang-rt-14-dev)"
	exit 0
fi
bin=$build/tests/fuzz/bin work=$build/tests/fuzz/work out=$build/tests/fuzz/out
mkdir -p "$bin" "$work" "$out"
# libFuzzer's runtime is a separate package on Debian
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}\n' >"$bin/probe.c"
if ! "$cc" -fsanitize=fuzzer "$bin/probe.c" -o "$bin/probe" >/dev/null 2>&1; then
	echo "make fuzz: SKIP: $cc cannot link -fsanitize=fuzzer (install the Debian package libclang-rt-14-dev)"
	exit 0
fi
engine=
for f in $FUZZ_ENGINE; do engine="$engine $src/$f"; done
flags="-g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
found=0
for t in $targets; do
	if ! "$cc" $flags -I"$build" -I"$src/src" -I"$src/src/engine" -I"$src/tests/fuzz" \
		"$src/tests/fuzz/fuzz_$t.c" $engine $FUZZ_LIBS -o "$bin/fuzz_$t" 2>"$bin/build_$t.log"; then
		echo "make fuzz: $t: build failed:"; sed 's/^/  /' "$bin/build_$t.log"; found=1; continue
	fi
	# findings of an earlier run were reported then; start clean
	rm -rf "$out/$t"
	mkdir -p "$work/$t" "$out/$t"
	log=$bin/run_$t.log
	start=$(date +%s)
	# work corpus first (new inputs go there), then the seeds and the kept regressions
	reg=
	[ -d "$src/tests/fuzz/regress/$t" ] && reg=$src/tests/fuzz/regress/$t
	ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
	"$bin/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/$t/" \
		"$work/$t" "$src/tests/fuzz/corpus/$t" $reg >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	n=$(ls "$out/$t" | wc -l)
	echo "make fuzz: $t: ${execs:-?} executions in $((end - start)) s, $cov, $n finding(s), exit $rc"
	if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
		found=1
		grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -n 20 | sed 's/^/  /'
		echo "  inputs: $out/$t/ (keep each in tests/fuzz/regress/$t/ once fixed)"
	fi
done
exit $found
