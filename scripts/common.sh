# Shared by .ci/run and scripts/demo.sh: install what gst-kling needs on
# Debian 12, then configure and build.  Safe to run again.
set -euo pipefail

KLING_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KLING_BUILD=${KLING_BUILD:-$KLING_TOP/build}

KLING_PACKAGES=(
  meson ninja-build pkg-config gcc g++
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # gst-discoverer-1.0, and textoverlay (pango) for the launch tests
  gstreamer1.0-plugins-base-apps gstreamer1.0-x
  liborc-0.4-dev liborc-0.4-dev-bin libjson-glib-dev
  libtorch-dev python3-torch
  # Debian's default reference BLAS makes libtorch many times slower
  libopenblas0-pthread
  # /usr/bin/time for the benchmarks' peak RSS; valgrind for the C suites
  time valgrind
  # klingspeak: espeak-ng's library and voices; srtenc (plugins-bad) and
  # ffprobe for the subtitle and muxing tests
  libespeak-ng-dev espeak-ng gstreamer1.0-plugins-bad ffmpeg
  # tests/fuzz: clang 14 with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
  # torchvision's operator library (torchvision::nms) for scripted
  # torchvision detectors, and the real-detector tests
  python3-torchvision
  # models/detect/train.py (its second drawing path) and models/detect/eval
  # (the second product renderer): PIL drawing, JPEG
  python3-pil
  # gst-kling-serve: gst-rtsp-server, libsoup 3 for the status endpoint,
  # x264enc (plugins-ugly), and for its tests rtspsrc and avdec_h264
  libgstrtspserver-1.0-dev libsoup-3.0-dev gstreamer1.0-plugins-ugly
  gstreamer1.0-rtsp gstreamer1.0-libav
  # gst-kling-promo: x264enc and avdec_h264 (above); GES (libges-1.0-dev,
  # with libges-1.0-0's nle plugin) holds its timeline: shots, cross-fades,
  # the end card's title, the audio mix (docs/promo.md)
  libges-1.0-dev
  # CJK glyphs for the burnt-in subtitles and the end card
  fonts-wqy-microhei
  # gst-kling-live's tests: a real RTMP server on loopback
  nginx libnginx-mod-rtmp
)

kling_install_deps() {
  local missing=()
  for p in "${KLING_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "gst-kling: all packages installed"
    return
  fi
  echo "gst-kling: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

kling_build() {
  if [ -f "$KLING_BUILD/build.ninja" ]; then
    meson setup --reconfigure "$KLING_BUILD" "$KLING_TOP" >/dev/null
  else
    meson setup "$KLING_BUILD" "$KLING_TOP"
  fi
  ninja -C "$KLING_BUILD"
}
