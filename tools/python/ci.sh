#!/usr/bin/env bash
# CI step of the Python package: a fresh venv, `pip install ./tools/python`, its pytest suite.
# Usage: bash tools/python/ci.sh [path/to/mxlab]   (from the repository root; the CLI the
# tests compare with, default build/release/tools/mxlab). Needs network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/../.."
cli=$(realpath "${1:-build/release/tools/mxlab}")
venv=build/python-venv
start=$(date +%s)
rm -rf "$venv" tools/python/build/ci
/usr/bin/python3 -m venv --system-site-packages "$venv"
# ml_dtypes' newest releases want numpy 2, which Debian's python3-torch 1.13 cannot load.
export PIP_CONSTRAINT=$PWD/tools/python/constraints-debian.txt PIP_DISABLE_PIP_VERSION_CHECK=1
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
fi
export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
"$venv/bin/python" -m pip install -q "./tools/python[test]" \
  --config-settings=cmake.define.MX_WERROR=ON --config-settings=build-dir=build/ci
built=$(date +%s)
set +e
MXLAB_BIN=$cli "$venv/bin/python" -m pytest -q -p no:cacheprovider tools/python/tests 2>&1 |
  tail -n 25
rc=${PIPESTATUS[0]}
set -e
echo "python: install $((built - start)) s, tests $(($(date +%s) - built)) s"
exit "$rc"
