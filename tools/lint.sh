#!/usr/bin/env bash
# clang-tidy (checks in .clang-tidy) over the C++ sources of the repository, using the
# compile database of a build folder (configured here with CMAKE_EXPORT_COMPILE_COMMANDS).
# Usage: bash tools/lint.sh [FILE...]     (default: every tracked .cpp; exit 1 on a finding)
#        LINT_BUILD=build/lint LINT_JOBS=2 bash tools/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LINT_BUILD:-build/lint}
jobs=${LINT_JOBS:-$(nproc)}
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMX_BUILD_BENCHMARKS=OFF \
        -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_EXPORT_COMPILE_COMMANDS=ON > /dev/null
fi
if [ $# -gt 0 ]; then
  files=("$@")
else
  # Sources that are in the compile database (CUDA probes and the like are not).
  mapfile -t files < <(git ls-files '*.cpp' | while read -r f; do
    grep -q "\"file\": \"$PWD/$f\"" "$build/compile_commands.json" && echo "$f"; done)
fi
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 4 "$tidy" -p "$build" --quiet
echo "lint: ${#files[@]} files clean"
