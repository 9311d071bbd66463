#!/bin/sh
# TAP: every command of docs/tutorial.md runs and prints what the tutorial
# shows (tests/scripts/tutorial.lua does the work, from the source dir).
q=${QSCOPE:-../src/qscope}
src=${top_srcdir:-..}
case $q in /*) ;; *) q=$(pwd)/$q ;; esac
cd "$src" || exit 1
QSCOPE=$q exec "$q" tests/scripts/tutorial.lua docs/tutorial.md
