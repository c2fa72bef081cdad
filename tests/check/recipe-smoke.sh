#!/bin/sh
# One training step of a model recipe, then the package it wrote must load
# for its task exactly as the elements load it.
#   recipe-smoke.sh PYTHON RECIPE TASK PACKAGE_CHECK
set -eu
python="$1"; recipe="$2"; task="$3"; check="$4"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$python" "$recipe" --smoke --output "$out/smoke.pt"
"$check" "$out/smoke.pt" "$task"
