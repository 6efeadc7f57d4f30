#!/usr/bin/env bash
# The main job, end to end: installs missing Debian packages, builds, then
# finds the cheapest per-layer polynomial plan for ResNet-20 under the default
# HE cost profile and prints its per-layer table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
echo "== polyact fit --func relu --range -8,8 --degree 15" >&2
./build/polyact fit --func relu --range -8,8 --degree 15
