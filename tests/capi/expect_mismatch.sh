#!/usr/bin/env bash
# Runs the RTL testbench on a mutant datapath (tools/rtl): passes only when the bench fails
# by reporting mismatches (not by crashing or a missing file).
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E "MISMATCH|MXLAB-BENCH" | head -6
[ "$rc" -ne 0 ] && grep -qE "MXLAB-BENCH: FAIL \([1-9][0-9]* mismatches" <<< "$out"
