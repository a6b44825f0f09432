/*
 * cfg_smtp.h - loader for smtpserver.xml and lmtpserver.xml (James format).
 *
 * The root element's name is ignored, as in James; each <smtpserver>
 * child is one server. A file whose root element is itself named
 * <smtpserver> and holds no <smtpserver> children (the form of James's
 * protocols-smtp test resources) is read as one server. A bind entry that
 * is an absolute path, or "unix:" and one, is a UNIX-domain socket.
 */
#ifndef MAILETD_CFG_SMTP_H
#define MAILETD_CFG_SMTP_H

#include "cfg_diag.h"
#include "config.h"

#include <stddef.h>

/*
 * Reads path and appends one struct cfg_server per block to *servers
 * (*n entries; the array is reallocated). Each server's .file is path
 * itself, so path must live as long as the servers. Problems go to diag.
 * Returns 1 if the file was read (even with errors in it), 0 if it does
 * not exist (nothing appended), -1 if it could not be read or parsed.
 */
int cfg_smtp_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_server **servers, size_t *n);

/*
 * The same for lmtpserver.xml: <lmtpserver> blocks (James's LMTP
 * elements, james.md 1a.4), proto CFG_PROTO_LMTP, default bind
 * 0.0.0.0:24. SMTP-only elements (auth, authorizedAddresses, ...) are
 * warned about and have no effect: LMTP never relays and has no AUTH.
 */
int cfg_lmtp_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_server **servers, size_t *n);

/* Frees what a server owns (not the struct itself). */
void cfg_smtp_server_clear(struct cfg_server *s);
/* Frees what a <tls> owns, its built context included; secrets are wiped. */
void cfg_tls_clear(struct cfg_tls *t);

#endif
