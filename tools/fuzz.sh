#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang++ with -fsanitize=fuzzer,address,undefined,
# build folder build/fuzz) and runs each one for a bounded time, starting from its committed
# seed corpus. Fails on any finding (crash, sanitizer report, leak, timeout, out of memory)
# and prints the reproducer's path; prints the executions per target.
#   FUZZ_SECONDS=30 (per target)  FUZZ_JOBS=$(nproc) (build)  FUZZ_BUILD=build/fuzz
# Usage: bash tools/fuzz.sh [target ...]   (default: every target)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
build=${FUZZ_BUILD:-build/fuzz}
jobs=${FUZZ_JOBS:-$(nproc)}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(npy_header safetensors grammars sweep_toml h5_readers); fi

start=$(date +%s)
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build" -DMX_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMX_WERROR=ON \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" >/dev/null
if ! cmake --build "$build" -j"$jobs" --target "${targets[@]/#/fuzz_}" >"$build/build.log" 2>&1; then
  grep -B2 -A12 'error' "$build/build.log" | head -60
  echo "fuzz: build FAILED ($build/build.log)"
  exit 1
fi
built=$(date +%s)
echo "fuzz: built ${#targets[@]} targets in $((built - start)) s"

work=$(mktemp -d /tmp/mxlab_fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
total_execs=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp -r tests/fuzz/corpus/$t/. "$work/$t/corpus/"
  cp -r tests/fuzz/regressions/$t/. "$work/$t/corpus/" 2>/dev/null || true
  rm -f "$work/$t/corpus/.gitkeep"
  log="$work/$t/log.txt"
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$t" "$work/$t/corpus" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  total_execs=$((total_execs + ${execs:-0}))
  if [ $rc -ne 0 ] || ls "$work/$t/artifacts/"* >/dev/null 2>&1; then
    failed=1
    echo "fuzz: $t: FINDING (exit $rc) after ${execs:-0} executions; reproducer(s):"
    mkdir -p build/fuzz-findings/$t
    cp "$work/$t/artifacts/"* build/fuzz-findings/$t/ 2>/dev/null || true
    ls build/fuzz-findings/$t/ | sed 's/^/  build\/fuzz-findings\/'$t'\//'
    grep -m1 -A12 'ERROR:\|runtime error\|deadly signal\|uncaught' "$log" | sed 's/^/  /' || tail -20 "$log"
  else
    echo "fuzz: $t: ${execs:-0} executions in ${seconds} s, no finding"
  fi
done
end=$(date +%s)
echo "fuzz: ${total_execs} executions in total; $((end - start)) s including the build"
if [ $failed -ne 0 ]; then
  echo "fuzz: FAILED (fix the bug, then commit the reproducer to tests/fuzz/regressions/<target>/)"
  exit 1
fi
