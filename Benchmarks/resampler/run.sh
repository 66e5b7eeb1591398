#!/bin/sh
# Builds and runs the resampler comparison (libsoxr vs libspeexdsp); used by `make bench`.
set -e
here=$(dirname "$0")
out=${TMPDIR:-/tmp}/sluice-resampler-compare
cc -O2 -Wall -o "$out" "$here/resampler_compare.c" $(pkg-config --cflags --libs soxr speexdsp) -lm
"$out"
