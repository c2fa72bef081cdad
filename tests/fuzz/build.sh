#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, apart from the gcc/meson build:
#   tests/fuzz/build.sh [OUTDIR]          (default: build-fuzz/ at the top)
# Each target links the core sources it needs, built with
# -fsanitize=fuzzer,address,undefined.  See tests/fuzz/README.md.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-fuzz}
cc=${CC_FUZZ:-clang}
core="$top/gst/core"
mkdir -p "$out/include"

# the ORC kernels: the committed C fallbacks, as a build without orcc does
cp "$core/kling-orc-dist.h" "$out/include/kling-orc.h"
cat > "$out/include/config.h" <<CONFIG
#define PACKAGE "gst-kling"
#define VERSION "fuzz"
#define KLING_BACKEND_DIR "/nonexistent"
#define KLING_BACKEND_MODULE "libkling-fake.so"
#define KLING_MODEL_DIR "/nonexistent"
CONFIG

pkgs="gstreamer-1.0 gstreamer-video-1.0 gio-2.0 gmodule-2.0 json-glib-1.0 orc-0.4"
# the manifest reader checks a talking-head model's mel parameters (kling-mel)
pkgs="$pkgs gstreamer-fft-1.0"
# shellcheck disable=SC2086
cflags="-g -O1 -fno-omit-frame-pointer -DHAVE_CONFIG_H -I$out/include -I$core $(pkg-config --cflags $pkgs)"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkgs) -lm"
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"

base=(kling-archive.c kling-backend.c kling-manifest.c)
base+=(kling-mel.c)
# kling-backend.c loads through the process-wide model cache
base+=(kling-model-cache.c)
gen=(kling-tokenizer.c kling-gen.c kling-convert.c kling-noise.c
     kling-sampler.c kling-orc-dist.c kling-compose.c)

build() {
  local name="$1"; shift
  local srcs=()
  for s in "$@"; do srcs+=("$core/$s"); done
  echo "fuzz: building $name"
  # shellcheck disable=SC2086
  $cc $cflags $san -o "$out/$name" "$top/tests/fuzz/$name.c" "${srcs[@]}" $libs
}

build fuzz-manifest "${base[@]}"
build fuzz-archive "${base[@]}"
build fuzz-tokenizer kling-tokenizer.c
build fuzz-prompt "${base[@]}" "${gen[@]}"
# the prompt target's backend module (no libtorch); ASan comes from the
# executable that loads it
# shellcheck disable=SC2086
$cc $cflags -fPIC -shared -fsanitize=address,undefined -o "$out/libkling-fake.so" \
  "$top/tests/fuzz/fake-backend.c" $(pkg-config --libs glib-2.0 gmodule-2.0)
echo "fuzz: targets in $out"
