#!/usr/bin/env bash
# The test command of README: installs what is missing, checks formatting, builds with
# warnings as errors (presets of CMakePresets.json), runs the full suite in Release (quick,
# golden, slow and exhaustive labels), builds and tests the Python package in a fresh venv,
# runs the quick tests again under AddressSanitizer + UndefinedBehaviorSanitizer, then builds
# the fuzz targets with Clang and runs each for a bounded time.
# Usage: bash tools/run-tests.sh [--quick]   (--quick: skip the exhaustive label)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
stage() { echo "run-tests: $1 ($(date -u +%H:%M:%S))"; }

# 1. Formatting: every tracked C/C++/CUDA file as .clang-format has it (seconds).
stage "clang-format check"
git ls-files -z '*.c' '*.h' '*.cc' '*.cpp' '*.hpp' '*.cu' '*.cuh' |
  xargs -0 clang-format --dry-run -Werror

# 2. GCC Release, -Werror, the whole suite (preset ci).
stage "ci: GCC Release build"
cmake --preset ci
cmake --build --preset ci -j"$jobs"
stage "ci: tests"
if [ "${1:-}" = "--quick" ]; then
  ctest --preset ci -j"$jobs" -LE exhaustive
else
  ctest --preset ci -j"$jobs"
fi

# 3. The Python package (tools/python): built by pip in a fresh virtual environment (Debian's
# python3 with its numpy, torch and pandas visible; nanobind, scikit-build-core, ml_dtypes and
# pytest from PyPI, numpy kept at Debian's 1.x for torch), then its pytest suite, compared
# bit for bit with the CLI built above. Compiler cache: ccache when installed.
stage "python package"
bash tools/python/ci.sh build/release/tools/mxlab

# 4. Sanitizers (preset asan-ubsan). Under the sanitizers (-O1) the few end-to-end tests that
# take over 8 s in Release (hwfit on the whole capture, model PTQ over all layers, a model
# sweep point against mxlab eval, the quantized-model sanity check) would cost most of the CI
# budget; they run in the Release pass above, and smaller tests drive the same code here.
stage "asan-ubsan: build"
cmake --preset asan-ubsan
cmake --build --preset asan-ubsan -j"$jobs"
heavy='HwFitCapture\.|ModelPtq\.MixedPrecisionMeetsTheBudget|ModelSweep\.PointEqualsMxlabEval|Bytellama\.QuantizedSanity'
stage "asan-ubsan: quick tests"
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --preset asan-ubsan -j"$jobs" -E "$heavy"

# 5. libFuzzer targets for every parser of untrusted input (tools/fuzz.sh: Clang 14, -Werror,
#    -fsanitize=fuzzer,address,undefined over formats, emulator, io, algorithms and the parsers
#    of experiments/: this is also CI's Clang build), FUZZ_SECONDS each (10 here, for the CI budget; 30 by default).
stage "fuzz (clang)"
FUZZ_SECONDS=${FUZZ_SECONDS:-10} bash tools/fuzz.sh
stage "all passed"
echo "run-tests: all passed"
