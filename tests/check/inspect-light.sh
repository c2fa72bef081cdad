#!/bin/sh
# Registering the plugin and inspecting every element must not load
# libtorch: the backend module opens when an element starts.
set -eu
inspect="$1"
plugin="${2:-kling}"
rm -f "$GST_REGISTRY"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
LD_DEBUG=libs "$inspect" "$plugin" >/dev/null 2>"$log"
if ! grep -q "libgst$plugin.so" "$log"; then
  echo "the $plugin plugin was not loaded at all" >&2
  exit 1
fi
if grep -E "(libtorch|libc10|libkling-torch)" "$log" | grep -q "calling init"; then
  echo "gst-inspect-1.0 $plugin loaded libtorch:" >&2
  grep -E "(libtorch|libc10|libkling-torch)" "$log" | grep "calling init" | head >&2
  exit 1
fi
# klingspeak names both the plugin and its one element: inspected above
[ "$plugin" = kling ] && for f in $("$inspect" "$plugin" 2>/dev/null | sed -n 's/^ *\([a-z]*\): .*/\1/p'); do
  LD_DEBUG=libs "$inspect" "$f" >/dev/null 2>"$log"
  if grep -E "(libtorch|libc10)" "$log" | grep -q "calling init"; then
    echo "gst-inspect-1.0 $f loaded libtorch" >&2
    exit 1
  fi
done
echo "ok: no libtorch loaded by gst-inspect-1.0 $plugin"
