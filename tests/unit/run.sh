#!/bin/sh
# run.sh - runs the Check unit-test programs given as arguments and prints
# one summary line; fails if any of them fails.
fail=0
pass=0
for t in "$@"; do
	if "$t"; then
		pass=$((pass + 1))
	else
		echo "unit: FAILED: $t" >&2
		fail=$((fail + 1))
	fi
done
echo "unit programs: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
