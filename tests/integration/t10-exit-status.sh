#!/bin/bash
test_description='exit codes, killing signals and core dumps, as waitpid reports them'
. "$(dirname "$0")/../lib.sh"

test_expect 'exit(3), SIGTERM, SIGKILL, SIGABRT without core and SIGSEGV with core: each zombie carries the status its parent reaped' '
	mkdir cores &&
	zm_run -- "$ZF" -o "$PWD/zf.out" signals --core-dir "$PWD/cores" &&
	expect_zm_rc 0 &&
	expect_eq "children" 5 "$(zfcount ".event == \"reaped\"")" &&
	diag "core dumped by the SIGSEGV child: $(zfget ".kind == \"sigsegv-core\"" .core_dumped) (core_pattern: $(cat /proc/sys/kernel/core_pattern))" &&
	for kind in exit sigterm sigkill sigabrt-nocore sigsegv-core; do
		pid=$(zfget ".event == \"reaped\" and .kind == \"$kind\"" .pid) &&
		expect_pair "$pid" zf-child zf-signals wait4 || exit 1
	done &&
	expect_event zombie pid="$(zfget ".kind == \"sigterm\"" .pid)" signal=15 exit_code=0 core_dumped=false &&
	expect_event zombie pid="$(zfget ".kind == \"sigkill\"" .pid)" signal=9 exit_code=0 core_dumped=false &&
	expect_event zombie pid="$(zfget ".kind == \"exit\"" .pid)" signal=0 exit_code=3 core_dumped=false
'

test_done
