#!/bin/sh
# run.sh OUTDIR SECONDS FUZZER... - runs each libFuzzer target for SECONDS
# on its seed corpus (tests/fuzz/corpus/<name>, copied to OUTDIR so the
# tree stays clean). A crash fails the run and leaves the reproducer in OUTDIR.
out=$1
secs=$2
shift 2
fail=0
pass=0
for f in "$@"; do
	name=$(basename "$f")
	seeds="tests/fuzz/corpus/${name#fuzz_}"
	work="$out/corpus-${name#fuzz_}"
	mkdir -p "$work"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null
	if "$f" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/$name-" -print_final_stats=0 "$work" \
		>"$out/$name.log" 2>&1; then
		pass=$((pass + 1))
	else
		echo "fuzz: $name FAILED, see $out/$name.log" >&2
		tail -n 30 "$out/$name.log" >&2
		fail=$((fail + 1))
	fi
done
echo "fuzz targets: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
