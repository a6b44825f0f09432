/*
 * tls.h - TLS for the servers (RFC 3207 STARTTLS, RFC 8314 implicit TLS).
 *
 * One struct tls per <smtpserver> with TLS: an OpenSSL 3 SSL_CTX built
 * from the <tls> element when the configuration is loaded (so that
 * "mailetd -t" checks the key material), plus one SSL_CTX per
 * <sni><certificate>, chosen by the client's server name indication.
 * A built struct tls is immutable and shared by every I/O thread; each
 * connection gets its own SSL from tls_ssl_new().
 *
 * Key material comes in James's two forms (james.md 1a.2): PEM files
 * (<privateKey>, <certificates>, optional <secret> for an encrypted key)
 * or a PKCS#12 keystore (<keystore>, <keystoreType>PKCS12</keystoreType>,
 * <secret>). Java's JKS format cannot be read; a JKS keystore is an error
 * that says how to convert it.
 */
#ifndef MAILETD_TLS_H
#define MAILETD_TLS_H

#include <openssl/ssl.h>

#include <stdbool.h>
#include <stddef.h>

struct cfg_tls;
struct cfg_diag;
struct tls;

/*
 * Builds the contexts for t. file names the configuration file in
 * diagnostics; paths are resolved with tls_resolve_path(). Every problem
 * (unreadable file, wrong password, key not matching the certificate,
 * unknown protocol or cipher suite) is reported to diag as
 * "file:line: <element>: ..."; returns NULL if there was any error. The
 * caller owns the result (tls_free).
 */
struct tls *tls_new(const struct cfg_tls *t, const char *file, const char *confdir,
    const char *datadir, struct cfg_diag *diag);
void tls_free(struct tls *tls);

/* A new server-side SSL for one connection (owned by the caller). Never NULL. */
SSL *tls_ssl_new(const struct tls *tls);

/*
 * Resolves a James FileSystem URL: "file://conf/x" is x in confdir,
 * "file://var/x" x in datadir, "file:///abs" the absolute path, any
 * other "file://x" x in the parent of confdir (James's home),
 * "classpath:x" x in confdir (there is no class path); a plain path is
 * taken relative to confdir unless it is absolute. 0 with *out allocated
 * (caller frees), or -1 with the reason in err (other schemes, empty
 * paths).
 */
int tls_resolve_path(const char *url, const char *confdir, const char *datadir, char **out,
    char *err, size_t errlen);

/* Bits for protocol versions. */
enum {
	TLS_P_10 = 1u << 0,
	TLS_P_11 = 1u << 1,
	TLS_P_12 = 1u << 2,
	TLS_P_13 = 1u << 3,
};

/* The bit of a JSSE protocol name ("TLSv1.2"), or 0 if it is not one we speak. */
unsigned tls_protocol_bit(const char *name);

/*
 * Turns a set of TLS_P_* bits into OpenSSL's minimum and maximum version
 * and SSL_OP_NO_* options for versions missing in between. mask 0 means
 * the default, TLS 1.2 and 1.3.
 */
void tls_protocol_range(unsigned mask, int *min, int *max, unsigned long *no_opts);

enum tls_cipher_kind {
	TLS_CIPHER_UNKNOWN, /* no such suite (a configuration error) */
	TLS_CIPHER_13,      /* a TLS 1.3 suite: *name is for SSL_CTX_set_ciphersuites */
	TLS_CIPHER_12,      /* a TLS 1.2 or older suite: *name is OpenSSL's name */
	TLS_CIPHER_SIGNAL,  /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV: no cipher, ignored */
};

/*
 * Maps a JSSE cipher suite name (the IANA name, e.g.
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256; an SSL_ prefix counts as TLS_)
 * to OpenSSL's. *name points to static storage.
 */
enum tls_cipher_kind tls_cipher_map(const char *jsse, const char **name);

/* Protocol version and cipher suite (IANA name, as James logs it) of ssl. */
void tls_describe(const SSL *ssl, const char **version, const char **cipher);

/* The reason of OpenSSL's oldest queued error (or fallback), and clears the queue. */
const char *tls_error_reason(char *buf, size_t len, unsigned long err, const char *fallback);

#endif
