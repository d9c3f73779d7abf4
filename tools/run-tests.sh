#!/usr/bin/env bash
# The test command of README: installs what is missing, builds with warnings as errors,
# runs the full suite in Release (quick, golden and exhaustive labels), then the quick tests
# again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Usage: bash tools/run-tests.sh [--quick]   (--quick: skip the exhaustive label)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
jobs=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DMX_WERROR=ON
cmake --build build/release -j"$jobs"
if [ "${1:-}" = "--quick" ]; then
  ctest --test-dir build/release -j"$jobs" --output-on-failure -LE exhaustive
else
  ctest --test-dir build/release -j"$jobs" --output-on-failure --timeout 3000
fi

# The Python package (tools/python): built by pip in a fresh virtual environment (Debian's
# python3 with its numpy, torch and pandas visible; nanobind, scikit-build-core, ml_dtypes and
# pytest from PyPI, numpy kept at Debian's 1.x for torch), then its pytest suite, compared
# bit for bit with the CLI built above. Compiler cache: ccache when installed.
bash tools/python/ci.sh build/release/tools/mxlab

cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DMX_WERROR=ON -DMX_SANITIZE=ON \
      -DMX_BUILD_BENCHMARKS=OFF -DCMAKE_CXX_FLAGS="-O1"
cmake --build build/asan -j"$jobs"
# Under the sanitizers (-O1) the few end-to-end tests that take over 8 s in Release (hwfit on
# the whole capture, model PTQ over all layers, a model sweep point against mxlab eval, the
# quantized-model sanity check) would cost most of the CI budget; they run in the Release
# pass above, and smaller tests drive the same code under the sanitizers here.
heavy='HwFitCapture\.|ModelPtq\.MixedPrecisionMeetsTheBudget|ModelSweep\.PointEqualsMxlabEval|Bytellama\.QuantizedSanity'
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build/asan -j"$jobs" --output-on-failure -L quick -E "$heavy" --timeout 900
echo "run-tests: all passed"
