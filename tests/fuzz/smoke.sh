#!/bin/sh
# Runs each libFuzzer target for $FUZZ_SECONDS (default 10) seconds over its
# committed seed corpus (tests/fuzz/corpus/<name>, read-only) plus a scratch
# corpus in build/fuzz/corpus/<name> that receives new inputs. Prints one
# line per target; exits non-zero if any target found a crash, leak or
# sanitizer report (the input is left in build/fuzz/artifacts/).
#
#   tests/fuzz/smoke.sh build/fuzz/fuzz_json build/fuzz/fuzz_utf8 ...
set -u
secs=${FUZZ_SECONDS:-10}
root=build/fuzz
fail=0
mkdir -p "$root/artifacts" "$root/logs"
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	seeds=tests/fuzz/corpus/$name
	work=$root/corpus/$name
	log=$root/logs/$name.log
	mkdir -p "$work"
	if [ ! -d "$seeds" ]; then
		echo "fuzz $name: no seed corpus at $seeds" >&2
		fail=1
		continue
	fi
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$root/artifacts/$name-" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: ok, ${runs:-?} runs in ${secs}s, ${cov:-cov: ?}"
	else
		echo "fuzz $name: FAILED (exit $rc), see $log and $root/artifacts/" >&2
		grep -m 5 -E 'ERROR|runtime error|SUMMARY' "$log" >&2
		fail=1
	fi
done
exit $fail
