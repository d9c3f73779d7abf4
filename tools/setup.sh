#!/usr/bin/env bash
# Installs the Debian packages mxlab needs, only those that are missing.
# Usage: bash tools/setup.sh   (uses sudo when not root)
set -euo pipefail
pkgs=(cmake g++ make git pkg-config
      libboost-dev libeigen3-dev libfmt-dev libbenchmark-dev libgtest-dev
      libhdf5-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
      libopenmpi-dev openmpi-bin python3-numpy python3-h5py python3-matplotlib
      verilator
      python3-dev python3-venv python3-pip python3-torch python3-pandas ninja-build)  # tools/python
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
