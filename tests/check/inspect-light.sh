#!/bin/sh
# Registering the plugin and inspecting every element must not load
# libtorch: the backend module opens when an element starts.
set -eu
inspect="$1"
rm -f "$GST_REGISTRY"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
LD_DEBUG=libs "$inspect" kling >/dev/null 2>"$log"
if ! grep -q "libgstkling.so" "$log"; then
  echo "the kling plugin was not loaded at all" >&2
  exit 1
fi
if grep -E "(libtorch|libc10|libkling-torch)" "$log" | grep -q "calling init"; then
  echo "gst-inspect-1.0 kling loaded libtorch:" >&2
  grep -E "(libtorch|libc10|libkling-torch)" "$log" | grep "calling init" | head >&2
  exit 1
fi
for f in $("$inspect" kling 2>/dev/null | sed -n 's/^ *\([a-z]*\): .*/\1/p'); do
  LD_DEBUG=libs "$inspect" "$f" >/dev/null 2>"$log"
  if grep -E "(libtorch|libc10)" "$log" | grep -q "calling init"; then
    echo "gst-inspect-1.0 $f loaded libtorch" >&2
    exit 1
  fi
done
echo "ok: no libtorch loaded by gst-inspect-1.0 kling"
