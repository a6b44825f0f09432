/*
 * cfg_dns.h - loader for dnsservice.xml (james.md 1d.4, docs/dns.md).
 *
 * James's elements: <servers><server> (repeatable; mailetd also accepts a
 * port: "127.0.0.1:5353", "[::1]:5353" or unbound's "::1@5353"),
 * <autodiscover> (add the servers of /etc/resolv.conf), <authoritative>,
 * <maxcachesize>, <negativeCacheTTL>, <singleIPperMX>; <searchpaths>,
 * <verbose> and <setAsDNSJavaDefault> are accepted and have no effect.
 * mailetd adds <timeout>, the longest a lookup may take.
 */
#ifndef MAILETD_CFG_DNS_H
#define MAILETD_CFG_DNS_H

#include "cfg_diag.h"
#include "config.h"

/*
 * Fills *out from path; a missing file gives the defaults. *out is always
 * filled, also on errors; release it with cfg_dns_clear(). Returns 1 if
 * the file was read, 0 if it does not exist, -1 if it could not be read
 * or parsed.
 */
int cfg_dns_load(const char *path, const struct config_opts *opts, struct cfg_diag *diag,
    struct cfg_dns *out);
void cfg_dns_clear(struct cfg_dns *d);

/*
 * Parses one DNS server as written in <server> (untrusted text): an IPv4
 * or IPv6 address, optionally with a port as "a.b.c.d:port",
 * "[v6]:port" or "addr@port" (default 53). 0 with *fwd = "addr@port"
 * (caller frees), or -1 with a reason in err.
 */
int cfg_dns_server_parse(const char *s, char **fwd, char *err, size_t errlen);

#endif
