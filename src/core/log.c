/* log.c - the one logger (see log.h). */
#include "log.h"

#include <event2/event.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "mailetd";
static enum log_level log_level = LOG_LVL_INFO;
static bool log_ts = true;
static bool log_stderr = true;
static bool log_syslog;
/* getpid() is a system call per line (glibc no longer caches it): the pid
 * is read once, and again in a forked child. */
static pid_t log_pid;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static void
log_pid_reset(void)
{
	log_pid = getpid();
}

static void
log_atfork(void)
{
	(void)pthread_atfork(NULL, NULL, log_pid_reset);
}

void
log_init(const char *progname, enum log_level level, bool stderr_ts)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	(void)pthread_once(&once, log_atfork);
	log_pid = getpid();
	log_prog = progname;
	log_level = level;
	log_ts = stderr_ts;
}

void
log_open_syslog(int facility)
{
	openlog(log_prog, LOG_PID | LOG_NDELAY, facility);
	log_syslog = true;
}

void
log_set_stderr(bool on)
{
	log_stderr = on;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level;
}

static void
log_vmsg(enum log_level level, const char *id, const char *fmt, va_list ap)
{
	char body[2048];
	int n = vsnprintf(body, sizeof(body), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(body))
		memcpy(body + sizeof(body) - 4, "...", 4);

	if (log_syslog) {
		if (id != NULL)
			syslog(level_prio[level], "%s id=%s %s", level_names[level], id, body);
		else
			syslog(level_prio[level], "%s %s", level_names[level], body);
	}
	if (!log_stderr)
		return;

	char line[2300], ts[40] = "";
	if (log_ts) {
		struct timeval tv;
		struct tm tm;
		gettimeofday(&tv, NULL);
		gmtime_r(&tv.tv_sec, &tm);
		size_t k = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + k, sizeof(ts) - k, ".%03dZ ", (int)(tv.tv_usec / 1000));
	}
	int m;
	if (id != NULL)
		m = snprintf(line, sizeof(line), "%s%s[%d]: %s id=%s %s\n", ts, log_prog,
		    (int)(log_pid != 0 ? log_pid : getpid()), level_names[level], id, body);
	else
		m = snprintf(line, sizeof(line), "%s%s[%d]: %s %s\n", ts, log_prog,
		    (int)(log_pid != 0 ? log_pid : getpid()), level_names[level], body);
	if (m < 0)
		return;
	if ((size_t)m >= sizeof(line)) {
		m = sizeof(line) - 1;
		line[m - 1] = '\n';
	}
	/* One write per line keeps lines from different threads whole. */
	(void)!write(STDERR_FILENO, line, (size_t)m);
}

void
log_msg(enum log_level level, const char *id, const char *fmt, ...)
{
	if (level > log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, id, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_quote(char *buf, size_t bufsz, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (bufsz < 8) {
		if (bufsz > 0)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[5];
		size_t el = 0;
		if (c == '"' || c == '\\') {
			esc[el++] = '\\';
			esc[el++] = (char)c;
		} else if (c == '\r') {
			esc[el++] = '\\';
			esc[el++] = 'r';
		} else if (c == '\n') {
			esc[el++] = '\\';
			esc[el++] = 'n';
		} else if (c == '\t') {
			esc[el++] = '\\';
			esc[el++] = 't';
		} else if (c < 0x20 || c >= 0x7f) {
			esc[el++] = '\\';
			esc[el++] = 'x';
			esc[el++] = hex[c >> 4];
			esc[el++] = hex[c & 15];
		} else {
			esc[el++] = (char)c;
		}
		/* Keep room for the closing quote, "..." and NUL. */
		if (o + el + 5 > bufsz) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, esc, el);
		o += el;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void
libevent_log_cb(int severity, const char *msg)
{
	enum log_level lvl = severity >= EVENT_LOG_ERR ? LOG_LVL_ERROR
	    : severity == EVENT_LOG_WARN             ? LOG_LVL_WARN
	    : severity == EVENT_LOG_MSG              ? LOG_LVL_INFO
	                                             : LOG_LVL_DEBUG;
	log_msg(lvl, NULL, "event=libevent msg=\"%s\"", msg);
}

void
log_route_libevent(void)
{
	event_set_log_callback(libevent_log_cb);
}
