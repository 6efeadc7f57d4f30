#!/usr/bin/env bash
# Fetches what polyact runs on -- the CIFAR-10 binary archive and the pretrained
# CIFAR ResNet-20/32/44/56 of github.com/akamaster/pytorch_resnet_cifar10 --
# verifies their checksums and converts them into the layout POLYACT_DATA
# expects:
#   DEST/models/resnetNN.safetensors            (converted by torch2safetensors.py)
#   DEST/models/resnetNN-<sha256 prefix>.th     (the original checkpoints)
#   DEST/data/cifar-10-batches-bin/*.bin        (the official files, plus the
#                                                1,017-image subsets ../shared has)
#   DEST/downloads/cifar-10-binary.tar.gz
# Files already in place (downloaded earlier or copied by hand) are verified and
# used without any download; outputs that are up to date are left alone, so a
# second run does nothing. Offline, it lists exactly what to fetch and where to
# put it, converts whatever is already there, and exits 1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=fetch-data

usage() {
  cat <<EOF
Usage: tools/fetch-data.sh [--dest DIR] [--offline] [--help]

Downloads (curl or wget) the CIFAR-10 binary archive and the akamaster
pretrained CIFAR ResNet-20/32/44/56 checkpoints, verifies their checksums
(md5 for CIFAR-10, the sha256 prefix in each checkpoint's name as torch hub
does) and converts them with tools/torch2safetensors.py into DIR/models/ and
DIR/data/cifar-10-batches-bin/; then POLYACT_DATA=DIR runs polyact on them.

  --dest DIR   where to put everything (default: data/ in this checkout)
  --offline    never download: verify and convert the files already in place,
               list the missing ones (URL, checksum, destination)
  --help       this text

Exit codes: 0 everything in place, 1 a file is missing, corrupt or does not
convert, 2 usage error.
EOF
}

dest="$here/../data"
offline=0
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --dest) [ $# -ge 2 ] || { echo "$prog: --dest needs a folder (see --help)" >&2; exit 2; }
            dest=$2; shift 2 ;;
    --dest=*) dest=${1#--dest=}; shift ;;
    --offline) offline=1; shift ;;
    *) echo "$prog: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$dest" || { echo "$prog: cannot create $dest" >&2; exit 1; }
dest=$(cd "$dest" && pwd)

cifar_url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
cifar_md5=c32a1d4ab5d03f1284b67883e8d87530
cifar_tar=$dest/downloads/cifar-10-binary.tar.gz
cifar_dir=$dest/data/cifar-10-batches-bin
model_url=https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models
# name-<first 8 hex digits of the file's sha256>, as the upstream README links them
checkpoints=(resnet20-12fca82f resnet32-d509ac18 resnet44-014dd654 resnet56-4bfd9763)
# ../shared's subset: the first 1,017 records of a batch, and all its labels
subset_images=1017
record_bytes=3073

missing=()   # "URL|checksum|destination" of every file that is not in place
failed=()    # one line per file that is present but wrong, or did not convert
network=1    # cleared after the first failed download: don't wait on each file

fetcher() {
  if command -v curl >/dev/null; then echo curl
  elif command -v wget >/dev/null; then echo wget
  fi
}

# download URL FILE: to FILE.part, renamed only when complete; 1 on failure.
download() {
  local url=$1 file=$2 tool
  [ "$offline" -eq 0 ] && [ "$network" -eq 1 ] || return 1
  tool=$(fetcher)
  [ -n "$tool" ] || { network=0; return 1; }
  mkdir -p "$(dirname "$file")"
  echo "$prog: downloading $url" >&2
  if [ "$tool" = curl ]; then
    curl -fL --silent --show-error --connect-timeout 20 --retry 1 -o "$file.part" "$url" || true
  else
    wget -q --timeout=20 --tries=2 -O "$file.part" "$url" || true
  fi
  if [ -s "$file.part" ]; then
    mv "$file.part" "$file"
    return 0
  fi
  rm -f "$file.part"
  network=0
  return 1
}

# fetch URL KIND SUM FILE: makes sure FILE is there with the right checksum
# (KIND md5: equal; KIND sha256: SUM is a prefix). 1 when it is not.
fetch() {
  local url=$1 kind=$2 sum=$3 file=$4 got
  if [ ! -f "$file" ] && ! download "$url" "$file"; then
    missing+=("$url|$kind $sum|$file")
    return 1
  fi
  got=$("${kind}sum" "$file" | cut -d' ' -f1)
  if [ "${got#"$sum"}" = "$got" ]; then
    failed+=("$file: $kind is $got, expected $sum$([ "$kind" = md5 ] || echo ...); delete it and fetch it again")
    return 1
  fi
  return 0
}

# up_to_date OUT IN...: OUT exists and is newer than every IN.
up_to_date() {
  local out=$1; shift
  [ -f "$out" ] || return 1
  local f
  for f in "$@"; do [ "$out" -nt "$f" ] || return 1; done
}

# --- models: checkpoint -> safetensors ---
mkdir -p "$dest/models"
for ck in "${checkpoints[@]}"; do
  name=${ck%-*}
  th=$dest/models/$ck.th
  out=$dest/models/$name.safetensors
  fetch "$model_url/$ck.th" sha256 "${ck#*-}" "$th" || continue
  up_to_date "$out" "$th" "$here/torch2safetensors.py" && continue
  if ! python3 "$here/torch2safetensors.py" "$th" "$out" >/dev/null; then
    failed+=("$th: conversion failed (message above)")
  else
    echo "$prog: wrote $out" >&2
  fi
done

# --- CIFAR-10: archive -> cifar-10-batches-bin/ (+ the subsets ../shared has) ---
stamp=$cifar_dir/.extracted-from-$cifar_md5
if [ -f "$stamp" ] && [ ! -f "$cifar_tar" ]; then
  :  # extracted and verified earlier; the archive was deleted since
elif fetch "$cifar_url" md5 "$cifar_md5" "$cifar_tar"; then
  if ! up_to_date "$stamp" "$cifar_tar"; then
    mkdir -p "$dest/data"
    if tar -xzf "$cifar_tar" -C "$dest/data" cifar-10-batches-bin; then
      for batch in test_batch data_batch_1; do
        bin=$cifar_dir/$batch.bin
        head -c $((subset_images * record_bytes)) "$bin" > "$cifar_dir/${batch}_first${subset_images}.bin"
        # every record's first byte is its label
        python3 - "$bin" "$cifar_dir/${batch}_labels_all10000.bin" "$record_bytes" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(data[::int(sys.argv[3])])
EOF
      done
      touch "$stamp"
      echo "$prog: extracted $cifar_dir" >&2
    else
      failed+=("$cifar_tar: does not extract")
    fi
  fi
fi

# --- what is left to do by hand: the details, then one error line ---
if [ ${#missing[@]} -gt 0 ]; then
  why="no network?"
  [ "$offline" -eq 1 ] && why="--offline"
  [ -n "$(fetcher)" ] || why="neither curl nor wget"
  echo "$prog: fetch these files (or copy them from another machine) to the path shown, then re-run:" >&2
  for m in "${missing[@]}"; do
    IFS='|' read -r url sum file <<< "$m"
    echo "  $url" >&2
    case "$sum" in
      sha256*) sum="sha256 starting with ${sum#sha256 }" ;;
    esac
    echo "      $sum  ->  $file" >&2
  done
fi
for f in "${failed[@]+"${failed[@]}"}"; do
  echo "  $f" >&2
done
if [ ${#missing[@]} -gt 0 ] || [ ${#failed[@]} -gt 0 ]; then
  summary=""
  [ ${#missing[@]} -eq 0 ] || summary="${#missing[@]} file(s) missing ($why)"
  [ ${#failed[@]} -eq 0 ] || summary="${summary:+$summary, }${#failed[@]} file(s) corrupt or not convertible"
  echo "$prog: error: $summary; see above" >&2
  exit 1
fi
echo "$prog: all data in place; use POLYACT_DATA=$dest" >&2
