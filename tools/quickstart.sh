#!/usr/bin/env bash
# README command 1: installs what is missing, builds mxlab (Release), runs the default sweep
# (embedded config: every concrete MX format x block sizes 8..256 x rounding modes on
# LLM-like data), which writes results/default.h5 and prints a table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target mxlab
mkdir -p results
./build/release/tools/mxlab sweep --output results/default.h5 --overwrite "$@"
