#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs missing Debian packages, builds
# with -Werror and runs every test (and some under valgrind), then does the same
# under ASan+UBSan, then runs each fuzz target for a short while (tools/fuzz.sh).
# POLYACT_DATA points at models/ and data/ (default: ../shared beside the checkout).
# The mpirun tests (label mpi) run in the release build only; as root (CI),
# mpirun needs OMPI_ALLOW_RUN_AS_ROOT, which the tests set themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
jobs=$(nproc)

echo "== release build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPOLYACT_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -LE bench -j "$jobs")

echo "== examples against the installed package (CMake and pkg-config)"
bash tools/test-install.sh build

echo "== valgrind memcheck on a representative set of the release build's tests"
bash tools/valgrind.sh build

echo "== ASan+UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPOLYACT_WERROR=ON -DPOLYACT_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -LE 'bench|slow|mpi' -j "$jobs")
# the one slow test light enough for the sanitizers: a user's own network
# (examples/resnet_by_hand.c), calibrated on 8 images and tested on 16 (args
# set in tests/CMakeLists.txt; about 35 s of CPU under ASan)
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -R '^test_user_model$')

echo "== fuzz smoke: every libFuzzer target ${POLYACT_FUZZ_SECONDS:-20} s under ASan+UBSan"
bash tools/fuzz.sh "${POLYACT_FUZZ_SECONDS:-20}"
