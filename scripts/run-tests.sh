#!/usr/bin/env bash
# Runs the node:test suite (or the given test files) under one runtime from
# node_modules and ends with one line "RUNTIME: N passed, N failed".
#   scripts/run-tests.sh deno|bun|node22|node24 [test files...]
# The same test files run everywhere: Deno and Bun implement node:test.
set -u
cd "$(dirname "$0")/.."
rt=${1:?runtime: deno, bun, node22 or node24}
shift
if [ $# -eq 0 ]; then set -- $(ls tests/*.test.ts); fi
bin=node_modules/.bin
out=$(mktemp)
case "$rt" in
  deno)
    "$bin/deno" test -A --no-check=remote --v8-flags=--expose-gc "$@" 2>&1 | tee "$out"
    code=${PIPESTATUS[0]}
    # "ok | 12 passed (40 steps) | 0 failed (1 step)": count tests and steps.
    sum=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^(ok|FAILED) \|' | tail -n1)
    p=$(echo "$sum" | grep -oE '[0-9]+ passed( \([0-9]+ steps?\))?' | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
    f=$(echo "$sum" | grep -oE '[0-9]+ failed( \([0-9]+ steps?\))?' | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
    ;;
  bun)
    "$bin/bun" test --timeout 60000 "$@" 2>&1 | tee "$out"
    code=${PIPESTATUS[0]}
    p=$(grep -E '^ *[0-9]+ pass$' "$out" | tail -n1 | grep -oE '[0-9]+')
    f=$(grep -E '^ *[0-9]+ fail$' "$out" | tail -n1 | grep -oE '[0-9]+')
    ;;
  node22|node24)
    "node_modules/$rt/bin/node" --expose-gc --test --test-reporter=spec "$@" 2>&1 | tee "$out"
    code=${PIPESTATUS[0]}
    p=$(grep -E '^ℹ pass [0-9]+' "$out" | tail -n1 | grep -oE '[0-9]+')
    f=$(grep -E '^ℹ fail [0-9]+' "$out" | tail -n1 | grep -oE '[0-9]+')
    ;;
  *) echo "unknown runtime $rt" >&2; exit 2 ;;
esac
rm -f "$out"
p=${p:-0}; f=${f:-0}
if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "$rt: $p passed, $f failed"
exit "$code"
