#!/bin/sh
# run.sh - runs the Check unit-test programs given as arguments and prints
# one summary line; fails if any of them fails. The failed programs and their
# failing checks are repeated just above the summary, so that the tail of a
# long log (all that a CI page may show) says what failed.
fail=0
pass=0
recap=""
log=$(mktemp "${TMPDIR:-/tmp}/mailetd-unit-XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	"$t" >"$log" 2>&1
	rc=$?
	cat "$log"
	if [ "$rc" -eq 0 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		# Check's failure lines look like "file.c:123:F:tcase:test:0: message".
		lines=$(grep -E '^[^ :]+:[0-9]+:[EF]:' "$log" | head -20)
		[ -n "$lines" ] || lines=$(tail -5 "$log")
		recap="$recap
unit: FAILED: $t (exit $rc)
$lines"
	fi
done
[ -z "$recap" ] || printf '%s\n' "$recap" >&2
echo "unit programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
