#!/usr/bin/env bash
# Installs what polyact needs to build and test on Debian (idempotent; as root,
# or with sudo). Missing packages only: a machine that has them all is untouched.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libcjson-dev
      libopenblas-dev  # only the baseline of tests/bench_gemm
      libprotobuf-c-dev protobuf-c-compiler libonnx-dev openmpi-bin libopenmpi-dev
      sollya python3 python3-numpy python3-torch valgrind
      clang libclang-rt-14-dev)  # libFuzzer (tools/fuzz.sh)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "polyact: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
