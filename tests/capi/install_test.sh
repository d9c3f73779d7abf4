#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then builds and runs two consumer
# projects from that prefix only: C++ through find_package(mxlab) (tests/capi/consumer:
# a naive MX GEMM kernel test and a C program on libmxlab.a) and C through pkg-config.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mxlab_install_test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
P=$tmp/prefix
cmake --install "$build" --prefix "$P" > "$tmp/install.log"
for f in bin/mxlab lib/libmxlab.so lib/libmxlab.a include/mxlab/mxlab.h \
         include/mxlab/emulator/gemm.hpp include/mxlab/formats/codec.hpp \
         lib/cmake/mxlab/mxlab-config.cmake lib/cmake/mxlab/mxlab-config-version.cmake \
         lib/pkgconfig/mxlab.pc; do
  [ -e "$P/$f" ] || { echo "install_test: $P/$f is missing"; exit 1; }
done
"$P/bin/mxlab" --version
# The library is the numeric core only: no HDF5, no MPI.
if ldd "$P/lib/libmxlab.so" | grep -Ei "hdf5|mpi"; then
  echo "install_test: libmxlab.so depends on HDF5 or MPI"
  exit 1
fi

# C through pkg-config (the sources are copied out of the tree first).
cp "$src/tests/capi/capi_c99_test.c" "$tmp/main.c"
export PKG_CONFIG_PATH=$P/lib/pkgconfig
cc -std=c99 -Wall -Wextra -pedantic -Werror $(pkg-config --cflags mxlab) "$tmp/main.c" \
   -o "$tmp/c_consumer" $(pkg-config --libs mxlab)
LD_LIBRARY_PATH=$P/lib "$tmp/c_consumer"

# C++ through find_package(mxlab 0.1 CONFIG REQUIRED).
cp -r "$src/tests/capi/consumer" "$tmp/consumer"
cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$P" > "$tmp/configure.log" || { cat "$tmp/configure.log"; exit 1; }
nice cmake --build "$tmp/consumer/build" -j2 > "$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
ctest --test-dir "$tmp/consumer/build" --output-on-failure -V > "$tmp/ctest.log" ||
  { cat "$tmp/ctest.log"; exit 1; }
grep -E "naive kernel|\(static\)|tests passed" "$tmp/ctest.log"
# A version the package does not satisfy is refused.
mkdir -p "$tmp/v9"
printf 'cmake_minimum_required(VERSION 3.22)\nproject(v9 NONE)\nfind_package(mxlab 9.0 CONFIG REQUIRED)\n' \
  > "$tmp/v9/CMakeLists.txt"
if cmake -S "$tmp/v9" -B "$tmp/v9/build" -DCMAKE_PREFIX_PATH="$P" > /dev/null 2>&1; then
  echo "install_test: find_package(mxlab 9.0) accepted version $("$P/bin/mxlab" --version)"
  exit 1
fi
echo "install_test: passed"
