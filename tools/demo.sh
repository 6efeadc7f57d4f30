#!/usr/bin/env bash
# The main job, end to end: installs missing Debian packages, builds, then
# for the pretrained ResNet-20 calibrates on training images, finds the
# cheapest per-layer polynomial plan under the default HE cost profile
# (one polynomial per channel, refitted on the PANN's own inputs)
# (ending in its per-layer table), and checks it on the test images.
# Outputs in out/ (calib.json, plan.json). POLYACT_DATA points at the data
# (default: data/ when filled by tools/fetch-data.sh, else ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
data=${POLYACT_DATA:-}
if [ -z "$data" ]; then
  if [ -f data/models/resnet20.safetensors ]; then data=data
  elif [ -f ../shared/models/resnet20.safetensors ]; then data=../shared
  else echo "demo: no models found: run tools/fetch-data.sh or set POLYACT_DATA" >&2; exit 1; fi
fi
model=$data/models/resnet20.safetensors
train=$data/data/cifar-10-batches-bin/data_batch_1_first1017.bin
test=$data/data/cifar-10-batches-bin/test_batch_first1017.bin
mkdir -p out
threads=$(nproc)
echo "== calibrate on training images" >&2
./build/polyact calibrate --model "$model" --data "$train" --threads "$threads" -o out/calib.json >/dev/null
echo "== optimize (HE cost profile: built-in mpcnn-log; per-channel polynomials, error-aware refit)" >&2
./build/polyact optimize --model "$model" --data "$train" --calib out/calib.json \
    --per-channel --refit --threads "$threads" -o out/plan.json
echo "== the plan on the test images" >&2
./build/polyact eval --model "$model" --data "$test" --plan out/plan.json --threads "$threads"
