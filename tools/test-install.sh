#!/usr/bin/env bash
# Installs polyact into a temporary prefix and builds examples/ out of tree
# against the installed package, with CMake (find_package) and with pkg-config,
# then runs them. Usage: tools/test-install.sh [BUILD_DIR (default build)]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
# resnet_by_hand needs the shared model and images (POLYACT_DATA, default ../shared)
data=${POLYACT_DATA:-$(cd .. && pwd)/shared}
cifar=$data/data/cifar-10-batches-bin
by_hand_args=("$data/models/resnet20.safetensors" "$cifar/data_batch_1_first1017.bin"
              "$cifar/test_batch_first1017.bin")
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
echo "== examples via CMake find_package(polyact)"
cmake -S examples -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/fit_relu"
"$work/cmake/user_inference"
"$work/cmake/resnet_by_hand" "${by_hand_args[@]}" "$work/plan.json" \
    --calib-images 64 --test-images 64 --impact-images 8 --max-drop 100
echo "== examples via pkg-config"
cp examples/*.c examples/Makefile "$work/"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig" make -s -C "$work" >/dev/null
"$work/fit_relu"
"$work/user_inference"
"$work/resnet_by_hand" "${by_hand_args[@]}" "$work/plan.json" \
    --calib-images 64 --test-images 64 --impact-images 8 --max-drop 100
echo "installed-package examples: 3 passed, 0 failed"
