/*
 * log.h - the one logger: levels, stderr and/or syslog, key=value lines.
 *
 * A line reads "<time> mailetd[pid]: <level> id=<session or mail id> k=v ...".
 * Callers format the fields; text that came from the network must pass
 * through log_quote() first so that a client cannot forge log lines.
 * Thread-safe: each line is written with a single write(2).
 */
#ifndef MAILETD_LOG_H
#define MAILETD_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* progname: tag for every line; stderr_ts: prefix stderr lines with a UTC
 * timestamp (off under systemd, whose journal stamps lines itself). */
void log_init(const char *progname, enum log_level level, bool stderr_ts);
/* Also send every line to syslog(3) with the given facility (LOG_MAIL ...). */
void log_open_syslog(int facility);
/* Stop writing to stderr (syslog only). */
void log_set_stderr(bool on);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int log_level_parse(const char *s);
bool log_enabled(enum log_level level);

/* id may be NULL. fmt usually yields "event=... key=value" fields. */
void log_msg(enum log_level level, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(id, ...) log_msg(LOG_LVL_ERROR, (id), __VA_ARGS__)
#define log_warn(id, ...)  log_msg(LOG_LVL_WARN, (id), __VA_ARGS__)
#define log_info(id, ...)  log_msg(LOG_LVL_INFO, (id), __VA_ARGS__)
#define log_debug(id, ...)                                                     \
	do {                                                                   \
		if (log_enabled(LOG_LVL_DEBUG))                                \
			log_msg(LOG_LVL_DEBUG, (id), __VA_ARGS__);             \
	} while (0)

/* Fatal start-up or runtime error: logs and exits with status 1. */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Writes s[0..len) into buf as a double-quoted string with \" \\ \r \n \t
 * and \xHH escapes for bytes outside printable ASCII, truncated with "..."
 * when it does not fit. Always NUL-terminates; returns buf. Safe on
 * untrusted input.
 */
char *log_quote(char *buf, size_t bufsz, const char *s, size_t len);

/* Routes libevent's own warnings into this logger. */
void log_route_libevent(void);

#endif
