#!/bin/sh
# docs/architecture.md's "Layout" block against the source tree: every
# file under gst/, ext/, tests/, tools/ and models/ is listed there (a
# line naming a directory, ending in /, covers all below it), and every
# path listed exists.  Usage: layout-check.sh SOURCE_ROOT
set -eu
root=${1:?source root}
doc="$root/docs/architecture.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the paths of the block: the first word of each line between the
# "## Layout" heading's ``` fences
awk '/^## Layout/ { in_section = 1; next }
     in_section && /^```/ { if (in_block) exit; in_block = 1; next }
     in_block && NF { print $1 }' "$doc" | sort -u >"$tmp/listed"
[ -s "$tmp/listed" ] || { echo "no Layout block in $doc"; exit 1; }

(cd "$root" && find gst ext tests tools models -type f 2>/dev/null \
    | grep -v -e '/__pycache__/' -e '\.pyc$' | sort) >"$tmp/tree"

status=0
while read -r f; do
  covered=no
  if grep -qxF "$f" "$tmp/listed"; then
    covered=yes
  else
    d=$(dirname "$f")
    while [ "$d" != "." ]; do
      if grep -qxF "$d/" "$tmp/listed"; then covered=yes; break; fi
      d=$(dirname "$d")
    done
  fi
  if [ $covered = no ]; then
    echo "not in docs/architecture.md's Layout: $f"
    status=1
  fi
done <"$tmp/tree"
while read -r p; do
  if [ ! -e "$root/$p" ]; then
    echo "in docs/architecture.md's Layout but not in the tree: $p"
    status=1
  fi
done <"$tmp/listed"
[ $status = 0 ] && echo "Layout: $(wc -l <"$tmp/tree") files, all listed"
exit $status
