#!/bin/sh
# Runs every test of the runner under valgrind's memcheck; any error or
# leak fails. Tests that cannot run under valgrind skip themselves.
runner=$1
passed=0 failed=0 skipped=0
for t in $("$runner" --list); do
    out=$(MMF_UNDER_VALGRIND=1 VALGRIND_OPTS=--vex-iropt-register-updates=allregs-at-mem-access \
        valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --trace-children=no \
        "$runner" "$t" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1))
    else
        failed=$((failed + 1))
        echo "valgrind: FAILED $t (status $rc)"
        echo "$out" | tail -40
    fi
done
echo "valgrind: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
