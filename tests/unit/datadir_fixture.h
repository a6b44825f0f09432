/*
 * datadir_fixture.h - a temporary data directory for each test, as a Check
 * fixture (tcase_add_checked_fixture(tc, setup, teardown)): setup() makes
 * /tmp/mailetd-test-<DATADIR_FIXTURE_NAME>-XXXXXX and puts its name into
 * datadir; teardown() removes it with all below it. A test program
 * defines DATADIR_FIXTURE_NAME (a string literal) before including this.
 */
#ifndef MAILETD_TEST_DATADIR_FIXTURE_H
#define MAILETD_TEST_DATADIR_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

static char datadir[256];

static __attribute__((unused)) void
setup(void)
{
	snprintf(datadir, sizeof(datadir), "/tmp/mailetd-test-" DATADIR_FIXTURE_NAME "-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(datadir));
}

static __attribute__((unused)) void
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", datadir);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
