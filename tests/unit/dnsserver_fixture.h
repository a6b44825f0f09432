/*
 * dnsserver_fixture.h - starts tests/integration/dnsserver.py for a unit
 * test: a zone (JSON text) written to a temporary directory, the server
 * on a free loopback port (server_port), its query log in logpath. The
 * server exits when the test process (its standard input) goes away, so
 * a failed test never leaves it behind. Run the tests from the project
 * root. Included by one test program each (static functions).
 */
#ifndef MAILETD_TEST_DNSSERVER_FIXTURE_H
#define MAILETD_TEST_DNSSERVER_FIXTURE_H

#include <check.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/dnsserver.XXXXXX";
static char logpath[256];
static pid_t server_pid;
static int server_stdin = -1;
static int server_port;

/* Starts dnsserver.py on a free port (server_port) serving zone. */
static void
dnsserver_start(const char *zone)
{
	char path[300];
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/zone.json", tmpdir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(zone, f);
	fclose(f);
	snprintf(logpath, sizeof(logpath), "%s/queries.log", tmpdir);

	int in[2], out[2];
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	server_pid = fork();
	ck_assert_int_ge(server_pid, 0);
	if (server_pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execlp("python3", "python3", "tests/integration/dnsserver.py", "--zone", path,
		    "--log", logpath, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* The server stops when this end closes, also if this test dies. */
	server_stdin = in[1];
	FILE *o = fdopen(out[0], "r");
	char line[64] = "";
	ck_assert_msg(fgets(line, sizeof(line), o) != NULL,
	    "dnsserver.py did not start (run from the project root)");
	fclose(o);
	ck_assert_int_eq(sscanf(line, "port %d", &server_port), 1);
}

/* Stops it and removes its files. */
static void
dnsserver_stop(void)
{
	char path[300];
	if (server_stdin >= 0)
		close(server_stdin);
	server_stdin = -1;
	if (server_pid > 0) {
		int st;
		for (int i = 0; i < 50 && waitpid(server_pid, &st, WNOHANG) == 0; i++)
			usleep(20000);
		if (waitpid(server_pid, &st, WNOHANG) == 0) {
			kill(server_pid, SIGKILL);
			waitpid(server_pid, &st, 0);
		}
	}
	server_pid = 0;
	snprintf(path, sizeof(path), "%s/zone.json", tmpdir);
	unlink(path);
	unlink(logpath);
	rmdir(tmpdir);
	memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

/* Queries the server has seen for name and type ("A", "MX", ...). */
static int __attribute__((unused))
queries(const char *name, const char *type)
{
	FILE *f = fopen(logpath, "r");
	if (f == NULL)
		return 0;
	char line[512], want[300];
	int n = 0;
	snprintf(want, sizeof(want), "%s %s\n", name, type);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strcmp(line, want) == 0;
	fclose(f);
	return n;
}

#endif
