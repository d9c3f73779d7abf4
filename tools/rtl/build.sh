#!/usr/bin/env bash
# Builds the DPI-C testbench (tb_mx_dot) with Verilator against an installed or built libmxlab.
# Usage: tools/rtl/build.sh OUT_DIR INCLUDE_DIR LIB_DIR [verilator arguments...]
#   INCLUDE_DIR holds mxlab/mxlab.h (P/include), LIB_DIR libmxlab.so (P/lib). Extra arguments
#   go to verilator: your RTL files and +define+MXLAB_DUT=your_module (README.md), or
#   +define+MXLAB_MUTANTS for the example's mutation test. The simulator is OUT_DIR/tb_mx_dot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd) inc=$(cd "$2" && pwd) lib=$(cd "$3" && pwd)
shift 3
# -O1 for the generated C++: the build, not the run, dominates a CI pass.
nice verilator --binary --timing -j 2 -Wall -Wno-fatal -Wno-DECLFILENAME -Wno-UNUSEDSIGNAL \
  --top-module tb_mx_dot -Mdir "$out" -o tb_mx_dot -MAKEFLAGS "OPT_FAST=-O1 OPT_SLOW=-O1 OPT_GLOBAL=-O1" \
  -CFLAGS "-I$inc" -LDFLAGS "-L$lib -lmxlab -Wl,-rpath,$lib" \
  "$here/mxlab_dpi.sv" "$here/mx_dot_unit.sv" "$@" "$here/tb_mx_dot.sv" "$here/mxlab_dpi.c" \
  > "$out/verilator.log" 2>&1 || { tail -40 "$out/verilator.log"; exit 1; }
grep -E "%Warning|%Error" "$out/verilator.log" | head -20 || true
echo "build.sh: $out/tb_mx_dot"
