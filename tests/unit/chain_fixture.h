/*
 * chain_fixture.h - a handler chain read from a <handlerchain> text the way
 * mailetd reads smtpserver.xml, for the unit tests of handlers. Included by
 * one test program each (static functions); which of them a program uses
 * varies, hence the unused attribute.
 */
#ifndef MAILETD_TEST_CHAIN_FIXTURE_H
#define MAILETD_TEST_CHAIN_FIXTURE_H

#include "../../handlers/chain.h"
#include "../../src/config/cfg_chain.h"
#include "../../src/config/cfg_diag.h"
#include "../../src/config/cfg_xml.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Writes xml to a temporary file (its name into file, which must hold 32
 * octets) and reads it with cfg_chain_read: the chain, or NULL when the
 * configuration has errors. *d gets the diagnostics (the caller clears
 * it); the file is gone on return.
 */
static __attribute__((unused)) struct chain *
fixture_chain_read(const char *xml, struct cfg_diag *d, char file[32])
{
	snprintf(file, 32, "/tmp/mailetd-test-chain-XXXXXX");
	int fd = mkstemp(file);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, xml, strlen(xml)), (ssize_t)strlen(xml));
	close(fd);
	cfg_diag_init(d);
	struct cfg_xml x;
	ck_assert_int_eq(cfg_xml_open(&x, file, NULL, d), 1);
	struct chain *c = cfg_chain_read(&x, cfg_xml_root(&x), false);
	cfg_xml_close(&x);
	unlink(file);
	return c;
}

/* The chain of xml, its diagnostics printed; *errors gets their count. */
static __attribute__((unused)) struct chain *
chain_from(const char *xml, size_t *errors)
{
	char file[32];
	struct cfg_diag d;
	struct chain *c = fixture_chain_read(xml, &d, file);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  diag: %s\n", d.v[i].text);
	*errors = d.errors;
	cfg_diag_clear(&d);
	return c;
}

#endif
