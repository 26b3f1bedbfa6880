#!/usr/bin/env bash
# The whole check, as CI runs it (`npm test`, after `npm ci`):
#   1. static checks with Deno: fmt, lint, type-check, doc lint, publish dry run;
#   2. the documentation examples (`deno test --doc`);
#   3. the test suite under Deno, Bun, Node 22 and Node 24.
# Prints a table of step x result and ends with one line "N passed, N failed",
# exiting non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
deno=node_modules/.bin/deno
[ -x "$deno" ] || { echo "node_modules is missing: run 'npm ci' first" >&2; exit 2; }
logdir=${SKEIN_LOG_DIR:-$(mktemp -d)}
entries="mod.ts defer/mod.ts task/mod.ts reactor/mod.ts protocols/mod.ts testing/mod.ts"
present=""
for e in $entries; do [ -f "$e" ] && present="$present $e"; done
sources=$(ls -d mod.ts defer task reactor protocols testing 2>/dev/null | tr '\n' ' ')

rows=()
total_pass=0
total_fail=0

# step NAME COMMAND...: runs a check that counts as one test.
step() {
  local name=$1; shift
  local log="$logdir/$name.log"
  local t0=$SECONDS
  if "$@" >"$log" 2>&1; then
    rows+=("$(printf '%-22s %-6s %4ss' "$name" ok $((SECONDS - t0)))")
    total_pass=$((total_pass + 1))
  else
    rows+=("$(printf '%-22s %-6s %4ss  (see below)' "$name" FAILED $((SECONDS - t0)))")
    total_fail=$((total_fail + 1))
    echo "---- $name failed:"; tail -n 60 "$log"
  fi
}

# suite NAME RUNTIME: runs the node:test suite under a runtime and adds its counts.
suite() {
  local name=$1 rt=$2
  local log="$logdir/$name.log"
  local t0=$SECONDS
  scripts/run-tests.sh "$rt" >"$log" 2>&1
  local code=$?
  local line p f
  line=$(grep -E "^$rt: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n1)
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/'); p=${p:-0}
  f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/'); f=${f:-1}
  [ "$code" -ne 0 ] && [ "$f" -eq 0 ] && f=1
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  local verdict=ok; [ "$f" -ne 0 ] && verdict=FAILED
  rows+=("$(printf '%-22s %-6s %4ss  %s passed, %s failed' "$name" "$verdict" $((SECONDS - t0)) "$p" "$f")")
  if [ "$f" -ne 0 ]; then echo "---- $name failed:"; grep -vE '^(✔|ok |\(pass\))' "$log" | tail -n 120; fi
}

echo "Skein check: $("$deno" --version | head -n1), bun $(node_modules/.bin/bun --version), node $(node_modules/node22/bin/node --version) and $(node_modules/node24/bin/node --version)"
step "deno fmt --check" "$deno" fmt --check
step "deno lint" "$deno" lint
# shellcheck disable=SC2086
step "deno check" "$deno" check $present tests/ bench/ $(ls -d examples 2>/dev/null)
# shellcheck disable=SC2086
step "deno doc --lint" "$deno" doc --lint $present
step "deno publish --dry-run" "$deno" publish --dry-run --allow-dirty
# shellcheck disable=SC2086
step "deno test --doc" "$deno" test --doc -A $sources
# The examples' interop tests talk to nc and socat (Debian's netcat-openbsd, socat).
{ command -v nc && command -v socat; } >/dev/null ||
  (apt-get update && apt-get install -y netcat-openbsd socat) >"$logdir/apt.log" 2>&1 ||
  echo "could not install nc and socat (see $logdir/apt.log): the interop tests will fail"
suite "tests: deno" deno
suite "tests: bun" bun
suite "tests: node 22" node22
suite "tests: node 24" node24

echo
echo "step                   result  time  tests"
printf '%s\n' "${rows[@]}"
echo
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
