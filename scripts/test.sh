#!/usr/bin/env bash
# make test: every suite against the built flavor, then one summary line
# "N passed, N failed" over all of them. Exit status is non-zero on any failure.
#   unit   tests/unit/*.c      cmocka binaries in build/$FLAVOR/tests/
#   lint   scripts/lint.sh     banned functions, layering rules
#   integ  tests/integ/*.mjs   real Redis, nginx, cohort-api, cohort-stream (node --test)
#   browser tests/browser/b*.test.mjs  the front end (npm run build) in Debian's chromium
# SUITES="unit integ" limits the run; TESTS="t2*" limits integration files,
# BROWSER_TESTS="b1*" browser files.
set -uo pipefail
cd "$(dirname "$0")/.."
FLAVOR=${FLAVOR:-release}
export FLAVOR
BUILD=build/$FLAVOR
SUITES=${SUITES:-unit lint integ browser}
OUT=var/test/$FLAVOR
mkdir -p "$OUT"
pass=0
fail=0
failed_names=()

note_fail() { fail=$((fail + 1)); failed_names+=("$1"); }

if [[ " $SUITES " == *" unit "* ]]; then
  echo "== unit ($FLAVOR)"
  for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    log="$OUT/$name.log"
    timeout 300 "$t" >"$log" 2>&1
    rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed, sanitizer report, or timeout
    pass=$((pass + p))
    if [ "$f" -gt 0 ]; then
      fail=$((fail + f))
      failed_names+=("$name")
      echo "  FAIL $name ($f failed, rc=$rc) — $log"
      tail -n 30 "$log" | sed 's/^/    /'
    else
      echo "  ok   $name ($p)"
    fi
  done
fi

if [[ " $SUITES " == *" lint "* ]]; then
  echo "== lint"
  if scripts/lint.sh >"$OUT/lint.log" 2>&1; then
    pass=$((pass + 1))
    echo "  ok   lint"
  else
    note_fail lint
    echo "  FAIL lint"
    sed 's/^/    /' "$OUT/lint.log"
  fi
fi

if [[ " $SUITES " == *" integ "* ]]; then
  echo "== integration ($FLAVOR binaries)"
  shopt -s nullglob
  files=(tests/integ/${TESTS:-t}*.test.mjs)
  if [ ${#files[@]} -gt 0 ]; then
    timeout 1500 node --test --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$OUT/integ.tap" "${files[@]}"
    rc=$?
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$OUT/integ.tap" | tail -n1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$OUT/integ.tap" | tail -n1)
    c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$OUT/integ.tap" | tail -n1)
    p=${p:-0}
    f=$(( ${f:-0} + ${c:-0} ))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p))
    if [ "$f" -gt 0 ]; then fail=$((fail + f)); failed_names+=("integration"); fi
  fi
fi

if [[ " $SUITES " == *" browser "* ]]; then
  echo "== browser (front end in chromium, $FLAVOR binaries)"
  shopt -s nullglob
  files=(tests/browser/${BROWSER_TESTS:-b}*.test.mjs)
  if [ ${#files[@]} -gt 0 ]; then
    if ! (cd frontend && npm run --silent build) >"$OUT/frontend-build.log" 2>&1; then
      note_fail frontend-build
      echo "  FAIL frontend build — $OUT/frontend-build.log"
      tail -n 30 "$OUT/frontend-build.log" | sed 's/^/    /'
    else
      timeout 400 node --test --test-concurrency=1 --test-timeout=240000 --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$OUT/browser.tap" "${files[@]}"
      rc=$?
      p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$OUT/browser.tap" | tail -n1)
      f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$OUT/browser.tap" | tail -n1)
      c=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$OUT/browser.tap" | tail -n1)
      p=${p:-0}
      f=$(( ${f:-0} + ${c:-0} ))
      if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
      pass=$((pass + p))
      if [ "$f" -gt 0 ]; then fail=$((fail + f)); failed_names+=("browser"); fi
    fi
  fi
fi

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
