/* tls.c - TLS contexts from <tls> (see tls.h and james.md 1a.2). */
#include "tls.h"

#include "../config/cfg_diag.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/xmalloc.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Keystores and PEM files larger than this are refused (they are a few KiB). */
#define TLS_FILE_MAX (1024 * 1024)

struct tls_sni {
	char *hostname;   /* lower case; may start with "*." */
	SSL_CTX *ctx;
};

struct tls {
	SSL_CTX *ctx;     /* the default certificate and every setting */
	struct tls_sni *sni;
	size_t nsni;
};

/* What one context is built from, resolved from the configuration. */
struct tls_build {
	const char *file;
	const char *confdir;
	const char *datadir;
	struct cfg_diag *diag;
	int min, max;
	unsigned long no_opts;
	char *cipher_list;  /* TLS 1.2 and older, OpenSSL names, ':'-separated */
	char *suites;       /* TLS 1.3 */
	long cache_size, cache_timeout;
	bool lowsec;        /* TLS 1.0/1.1 wanted: security level 0 */
};

const char *
tls_error_reason(char *buf, size_t len, unsigned long err, const char *fallback)
{
	if (err == 0)
		err = ERR_peek_error();
	if (err == 0) {
		snprintf(buf, len, "%s", fallback);
	} else {
		const char *r = ERR_reason_error_string(err);
		if (r != NULL)
			snprintf(buf, len, "%s", r);
		else
			ERR_error_string_n(err, buf, len);
	}
	ERR_clear_error();
	return buf;
}

/* --- paths ------------------------------------------------------------------ */

int
tls_resolve_path(const char *url, const char *confdir, const char *datadir, char **out,
    char *err, size_t errlen)
{
	static const char conf[] = "file://conf/", var[] = "file://var/", abs[] = "file:///",
			  file[] = "file://";
	const char *rest;
	*out = NULL;
	if (strncmp(url, conf, sizeof(conf) - 1) == 0) {
		rest = url + sizeof(conf) - 1;
		if (*rest != '\0')
			*out = xasprintf("%s/%s", confdir, rest);
	} else if (strncmp(url, var, sizeof(var) - 1) == 0) {
		rest = url + sizeof(var) - 1;
		if (*rest != '\0')
			*out = xasprintf("%s/%s", datadir, rest);
	} else if (strncmp(url, abs, sizeof(abs) - 1) == 0) {
		rest = url + sizeof(abs) - 1;
		if (*rest != '\0')
			*out = xasprintf("/%s", rest);
	} else if (strncmp(url, file, sizeof(file) - 1) == 0) {
		/* James resolves other file:// URLs against its home directory. */
		rest = url + sizeof(file) - 1;
		if (*rest != '\0')
			*out = xasprintf("%s/../%s", confdir, rest);
	} else if (strncmp(url, "classpath:", 10) == 0) {
		/* No class path here: resources ship with the configuration. */
		rest = url + 10;
		rest += strspn(rest, "/");
		if (*rest != '\0')
			*out = xasprintf("%s/%s", confdir, rest);
	} else if (strstr(url, "://") != NULL) {
		snprintf(err, errlen, "unsupported URL (use file://conf/, file://var/ or file:///)");
		return -1;
	} else if (url[0] == '/') {
		*out = xstrdup(url);
	} else if (url[0] != '\0') {
		*out = xasprintf("%s/%s", confdir, url);
	}
	if (*out == NULL) {
		snprintf(err, errlen, "empty path");
		return -1;
	}
	return 0;
}

/* --- protocols and cipher suites --------------------------------------------- */

unsigned
tls_protocol_bit(const char *name)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "TLSv1", TLS_P_10 },
		{ "TLSv1.0", TLS_P_10 },
		{ "TLSv1.1", TLS_P_11 },
		{ "TLSv1.2", TLS_P_12 },
		{ "TLSv1.3", TLS_P_13 },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, name) == 0)
			return names[i].bit;
	return 0;
}

void
tls_protocol_range(unsigned mask, int *min, int *max, unsigned long *no_opts)
{
	static const struct {
		unsigned bit;
		int version;
		unsigned long no;
	} v[] = {
		{ TLS_P_10, TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ TLS_P_11, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ TLS_P_12, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ TLS_P_13, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	if (mask == 0)
		mask = TLS_P_12 | TLS_P_13;
	*min = *max = 0;
	*no_opts = 0;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (mask & v[i].bit) {
			if (*min == 0)
				*min = v[i].version;
			*max = v[i].version;
		}
	}
	/* A gap (TLSv1.1 and TLSv1.3 without 1.2) is closed by an option. */
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!(mask & v[i].bit) && v[i].version > *min && v[i].version < *max)
			*no_opts |= v[i].no;
}

/* The TLS 1.3 suites (RFC 8446 B.4); their JSSE, IANA and OpenSSL names agree. */
static const char *const tls13_suites[] = {
	"TLS_AES_128_GCM_SHA256",
	"TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
	"TLS_AES_128_CCM_SHA256",
	"TLS_AES_128_CCM_8_SHA256",
};

enum tls_cipher_kind
tls_cipher_map(const char *jsse, const char **name)
{
	char std[128];
	*name = NULL;
	for (size_t i = 0; i < sizeof(tls13_suites) / sizeof(tls13_suites[0]); i++) {
		if (strcmp(jsse, tls13_suites[i]) == 0) {
			*name = tls13_suites[i];
			return TLS_CIPHER_13;
		}
	}
	if (strcmp(jsse, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV") == 0)
		return TLS_CIPHER_SIGNAL;
	/* JSSE keeps the SSL_ prefix of suites from SSL 3.0 days. */
	if (strncmp(jsse, "SSL_", 4) == 0)
		snprintf(std, sizeof(std), "TLS_%s", jsse + 4);
	else
		snprintf(std, sizeof(std), "%s", jsse);
	if (strncmp(std, "TLS_", 4) != 0)
		return TLS_CIPHER_UNKNOWN;
	/* OpenSSL knows the IANA names of every suite it implements. */
	const char *o = OPENSSL_cipher_name(std);
	if (o == NULL || strcmp(o, "(NONE)") == 0)
		return TLS_CIPHER_UNKNOWN;
	*name = o;
	return TLS_CIPHER_12;
}

void
tls_describe(const SSL *ssl, const char **version, const char **cipher)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	*version = SSL_get_version(ssl);
	*cipher = c != NULL ? SSL_CIPHER_standard_name(c) : NULL;
	if (*cipher == NULL)
		*cipher = c != NULL ? SSL_CIPHER_get_name(c) : "none";
}

/* Appends item to the ':'-separated list *list. */
static void
list_append(char **list, const char *item)
{
	char *n = *list == NULL ? xstrdup(item) : xasprintf("%s:%s", *list, item);
	free(*list);
	*list = n;
}

/* Reads supportedProtocols and supportedCipherSuites into b. */
static void
build_settings(struct tls_build *b, const struct cfg_tls *t)
{
	unsigned mask = 0;
	for (size_t i = 0; i < t->nprotocols; i++) {
		unsigned bit = tls_protocol_bit(t->protocols[i].value);
		if (bit == 0)
			cfg_error(b->diag, b->file, t->protocols[i].line,
			    "<protocol>: \"%s\" is not a protocol mailetd speaks (use TLSv1.2, "
			    "TLSv1.3, or TLSv1.1, TLSv1)",
			    t->protocols[i].value);
		mask |= bit;
	}
	tls_protocol_range(mask, &b->min, &b->max, &b->no_opts);
	b->lowsec = b->min < TLS1_2_VERSION;

	for (size_t i = 0; i < t->nciphers; i++) {
		const char *name;
		switch (tls_cipher_map(t->ciphers[i].value, &name)) {
		case TLS_CIPHER_UNKNOWN:
			cfg_error(b->diag, b->file, t->ciphers[i].line,
			    "<cipherSuite>: \"%s\" is not a cipher suite OpenSSL knows (use JSSE "
			    "names such as TLS_AES_256_GCM_SHA384 or "
			    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)",
			    t->ciphers[i].value);
			break;
		case TLS_CIPHER_13:
			list_append(&b->suites, name);
			break;
		case TLS_CIPHER_12:
			list_append(&b->cipher_list, name);
			break;
		case TLS_CIPHER_SIGNAL:
			break;
		}
	}
	if (t->nciphers > 0 && b->suites == NULL && b->max == TLS1_3_VERSION) {
		/* Only pre-1.3 suites listed: TLS 1.3 has nothing to offer. */
		b->max = TLS1_2_VERSION;
		if (b->min > b->max)
			cfg_error(b->diag, b->file, t->ciphers[0].line,
			    "<supportedCipherSuites>: no TLS 1.3 suite listed, but only TLSv1.3 "
			    "is enabled");
	}
	if (t->nciphers > 0 && b->cipher_list == NULL && b->min < TLS1_3_VERSION) {
		b->min = TLS1_3_VERSION;
		if (b->max < b->min)
			cfg_error(b->diag, b->file, t->ciphers[0].line,
			    "<supportedCipherSuites>: no suite for TLSv1.2 or older listed, but "
			    "TLSv1.3 is not enabled");
	}
	b->cache_size = t->cache_size;
	b->cache_timeout = t->cache_timeout;
}

/* --- key material --------------------------------------------------------------- */

/* A path from a URL of the configuration, or NULL after reporting. */
static char *
build_path(struct tls_build *b, const struct cfg_text *v, const char *elem)
{
	char err[160], *path;
	if (tls_resolve_path(v->value, b->confdir, b->datadir, &path, err, sizeof(err)) != 0) {
		cfg_error(b->diag, b->file, v->line, "<%s>: \"%s\": %s", elem, v->value, err);
		return NULL;
	}
	return path;
}

/* Opens path for reading, or reports why not. */
static BIO *
build_open(struct tls_build *b, const char *path, const struct cfg_text *v, const char *elem)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		cfg_error(b->diag, b->file, v->line, "<%s>: cannot read %s: %s", elem, path,
		    strerror(errno));
		return NULL;
	}
	BIO *bio = BIO_new_fp(f, BIO_CLOSE);
	if (bio == NULL) {
		fclose(f);
		cfg_error(b->diag, b->file, v->line, "<%s>: cannot read %s: out of memory", elem,
		    path);
	}
	return bio;
}

/* PEM password callback: the <secret>, or failure when there is none. */
static int
pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)rwflag;
	const char *secret = u;
	if (secret == NULL || size <= 0)
		return -1;
	size_t n = strlen(secret);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, secret, n);
	return (int)n;
}

/* Reads a whole small file. 0, or -1 after reporting. */
static int
read_small(struct tls_build *b, const char *path, const struct cfg_text *v, const char *elem,
    unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		cfg_error(b->diag, b->file, v->line, "<%s>: cannot read %s: %s", elem, path,
		    strerror(errno));
		return -1;
	}
	unsigned char *buf = xmalloc(TLS_FILE_MAX + 1);
	size_t n = fread(buf, 1, TLS_FILE_MAX + 1, f);
	bool bad = ferror(f) != 0;
	fclose(f);
	if (bad || n > TLS_FILE_MAX) {
		cfg_error(b->diag, b->file, v->line, "<%s>: cannot read %s: %s", elem, path,
		    bad ? "read error" : "larger than 1 MiB");
		free(buf);
		return -1;
	}
	buf[n] = '\0'; /* PEM is text: lets the caller search it */
	*data = buf;
	*len = n;
	return 0;
}

/* <privateKey> + <certificates>. 0, or -1 after reporting. */
static int
load_pem(struct tls_build *b, SSL_CTX *ctx, const struct cfg_tls_keys *k)
{
	char reason[256];
	int rc = -1;
	char *kpath = build_path(b, &k->private_key, "privateKey");
	char *cpath = build_path(b, &k->certificates, "certificates");
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	unsigned char *kdata = NULL;
	size_t klen = 0;
	if (kpath == NULL || cpath == NULL)
		goto out;

	if ((bio = build_open(b, cpath, &k->certificates, "certificates")) == NULL)
		goto out;
	BIO_free(bio);
	bio = NULL;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cpath) != 1) {
		cfg_error(b->diag, b->file, k->certificates.line,
		    "<certificates>: %s: no usable PEM certificate (%s)", cpath,
		    tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
		goto out;
	}
	if (read_small(b, kpath, &k->private_key, "privateKey", &kdata, &klen) != 0)
		goto out;
	/* PKCS#8 "ENCRYPTED PRIVATE KEY" or the old "Proc-Type: 4,ENCRYPTED". */
	bool crypt = strstr((const char *)kdata, "ENCRYPTED") != NULL;
	if ((bio = BIO_new_mem_buf(kdata, (int)klen)) == NULL)
		log_fatal("event=fatal msg=\"BIO_new_mem_buf failed\"");
	ERR_clear_error();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_pass_cb, k->secret.value);
	if (pkey == NULL) {
		tls_error_reason(reason, sizeof(reason), ERR_peek_last_error(), "unknown error");
		if (crypt && k->secret.value == NULL)
			cfg_error(b->diag, b->file, k->private_key.line,
			    "<privateKey>: %s is encrypted; give its password in <secret>", kpath);
		else if (crypt)
			cfg_error(b->diag, b->file, k->secret.line != 0 ? k->secret.line
									: k->private_key.line,
			    "<secret>: wrong password for the private key %s (%s)", kpath, reason);
		else
			cfg_error(b->diag, b->file, k->private_key.line,
			    "<privateKey>: %s: no usable PEM private key (%s)", kpath, reason);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		cfg_error(b->diag, b->file, k->private_key.line,
		    "<privateKey>: %s does not match the certificate in %s (%s)", kpath, cpath,
		    tls_error_reason(reason, sizeof(reason), 0, "mismatch"));
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	if (kdata != NULL)
		OPENSSL_cleanse(kdata, klen);
	free(kdata);
	free(kpath);
	free(cpath);
	return rc;
}

/* <keystore> (PKCS#12). 0, or -1 after reporting. */
static int
load_keystore(struct tls_build *b, SSL_CTX *ctx, const struct cfg_tls_keys *k)
{
	char reason[256];
	const char *type = k->keystore_type.value != NULL ? k->keystore_type.value : "JKS";
	long type_line = k->keystore_type.line != 0 ? k->keystore_type.line : k->keystore.line;
	bool jks = strcasecmp(type, "JKS") == 0;
	if (!jks && strcasecmp(type, "PKCS12") != 0) {
		cfg_error(b->diag, b->file, type_line,
		    "<keystoreType>: \"%s\" is not supported (use PKCS12, or PEM files with "
		    "<privateKey> and <certificates>)",
		    type);
		return -1;
	}
	char *path = build_path(b, &k->keystore, "keystore");
	if (path == NULL)
		return -1;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = -1;
	PKCS12 *p12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	if (read_small(b, path, &k->keystore, "keystore", &data, &len) != 0)
		goto out;

	static const unsigned char jks_magic[] = { 0xfe, 0xed, 0xfe, 0xed };
	static const unsigned char jceks_magic[] = { 0xce, 0xce, 0xce, 0xce };
	if (len >= 4 && (memcmp(data, jks_magic, 4) == 0 || memcmp(data, jceks_magic, 4) == 0)) {
		cfg_error(b->diag, b->file, k->keystore.line,
		    "<keystore>: %s is a Java JKS keystore, which mailetd cannot read; convert "
		    "it with: keytool -importkeystore -srckeystore %s -destkeystore %s.p12 "
		    "-deststoretype PKCS12, then set <keystoreType>PKCS12</keystoreType>",
		    path, path, path);
		goto out;
	}
	/* Like Java's keystore.type.compat, a JKS-typed file that is really
	 * PKCS#12 (what keytool writes since Java 9) is read as PKCS#12. */
	const unsigned char *p = data;
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	if (p12 == NULL) {
		ERR_clear_error();
		if (jks)
			cfg_error(b->diag, b->file, type_line,
			    "<keystoreType>: %s (type %s, James's default) is not a keystore "
			    "mailetd can read; use a PKCS#12 keystore with "
			    "<keystoreType>PKCS12</keystoreType>",
			    path, type);
		else
			cfg_error(b->diag, b->file, k->keystore.line,
			    "<keystore>: %s is not a PKCS#12 keystore", path);
		goto out;
	}
	const char *secret = k->secret.value != NULL ? k->secret.value : "";
	if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, secret, -1)) {
		ERR_clear_error();
		cfg_error(b->diag, b->file, k->secret.line != 0 ? k->secret.line : k->keystore.line,
		    "<secret>: wrong password for the keystore %s", path);
		goto out;
	}
	if (!PKCS12_parse(p12, secret, &pkey, &cert, &ca)) {
		cfg_error(b->diag, b->file, k->keystore.line,
		    "<keystore>: cannot read %s (%s; a keystore with legacy encryption can be "
		    "rewritten with: openssl pkcs12 -legacy, then -export)",
		    path, tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
		goto out;
	}
	if (pkey == NULL || cert == NULL) {
		cfg_error(b->diag, b->file, k->keystore.line,
		    "<keystore>: %s holds no private key with its certificate", path);
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		cfg_error(b->diag, b->file, k->keystore.line,
		    "<keystore>: %s: the private key does not match the certificate (%s)", path,
		    tls_error_reason(reason, sizeof(reason), 0, "mismatch"));
		goto out;
	}
	for (int i = 0; ca != NULL && i < sk_X509_num(ca); i++) {
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(ca, i)) != 1) {
			cfg_error(b->diag, b->file, k->keystore.line,
			    "<keystore>: %s: cannot use a chain certificate (%s)", path,
			    tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
			goto out;
		}
	}
	rc = 0;
out:
	PKCS12_free(p12);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	free(path);
	return rc;
}

/* --- client certificates (<clientAuth>) ------------------------------------------------ */

/* What client certificates are verified against. */
struct tls_trust {
	STACK_OF(X509) *certs;     /* trusted CA (or self-signed client) certificates */
	STACK_OF(X509_CRL) *crls;  /* CRLs found in a PEM truststore */
	bool system;               /* no <truststore>: OpenSSL's default CA paths */
};

static void
trust_clear(struct tls_trust *tr)
{
	sk_X509_pop_free(tr->certs, X509_free);
	sk_X509_CRL_pop_free(tr->crls, X509_CRL_free);
	memset(tr, 0, sizeof(*tr));
}

/* Certificates and CRLs of a PEM truststore. 0, or -1 after reporting. */
static int
trust_pem(struct tls_build *b, const struct cfg_tls *t, const char *path,
    const unsigned char *data, size_t len, struct tls_trust *tr)
{
	char reason[256];
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		log_fatal("event=fatal msg=\"BIO_new_mem_buf failed\"");
	ERR_clear_error();
	STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (infos == NULL) {
		cfg_error(b->diag, b->file, t->truststore.line,
		    "<truststore>: %s: not a usable PEM file (%s)", path,
		    tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
		return -1;
	}
	for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);
		if (xi->x509 != NULL && X509_up_ref(xi->x509) == 1)
			sk_X509_push(tr->certs, xi->x509);
		if (xi->crl != NULL && X509_CRL_up_ref(xi->crl) == 1)
			sk_X509_CRL_push(tr->crls, xi->crl);
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	return 0;
}

/* Certificates of a PKCS#12 truststore. 0, or -1 after reporting. */
static int
trust_p12(struct tls_build *b, const struct cfg_tls *t, const char *path,
    const unsigned char *data, size_t len, struct tls_trust *tr)
{
	char reason[256];
	const unsigned char *p = data;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc = -1;
	const char *secret = t->truststore_secret.value != NULL ? t->truststore_secret.value : "";
	long sline = t->truststore_secret.line != 0 ? t->truststore_secret.line : t->truststore.line;
	if (p12 == NULL) {
		ERR_clear_error();
		cfg_error(b->diag, b->file, t->truststore.line,
		    "<truststore>: %s is neither a PKCS#12 keystore nor a PEM file of "
		    "certificates",
		    path);
		return -1;
	}
	if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, secret, -1)) {
		ERR_clear_error();
		cfg_error(b->diag, b->file, sline,
		    "<truststoreSecret>: wrong password for the truststore %s", path);
		goto out;
	}
	if (!PKCS12_parse(p12, secret, &pkey, &cert, &ca)) {
		cfg_error(b->diag, b->file, t->truststore.line, "<truststore>: cannot read %s (%s)",
		    path, tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
		goto out;
	}
	if (cert != NULL) {
		sk_X509_push(tr->certs, cert);
		cert = NULL;
	}
	while (ca != NULL && sk_X509_num(ca) > 0)
		sk_X509_push(tr->certs, sk_X509_shift(ca));
	rc = 0;
out:
	PKCS12_free(p12);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	return rc;
}

/*
 * Reads <clientAuth><truststore>: a PEM file of CA certificates (and
 * CRLs), or a PKCS#12 truststore (<truststoreType> JKS, James's default,
 * is read as PKCS#12 when the file is one, as Java 9+ does). Without a
 * truststore, OpenSSL's default CA paths stand for Java's cacerts. With
 * <enableOCSPCRLChecks> the truststore must hold CRLs. 0, or -1 after
 * reporting.
 */
static int
trust_load(struct tls_build *b, const struct cfg_tls *t, struct tls_trust *tr)
{
	tr->certs = sk_X509_new_null();
	tr->crls = sk_X509_CRL_new_null();
	if (tr->certs == NULL || tr->crls == NULL)
		log_fatal("event=fatal msg=\"out of memory\"");
	if (t->truststore.value == NULL) {
		tr->system = true;
		if (t->revocation) {
			cfg_error(b->diag, b->file, t->revocation_line,
			    "<enableOCSPCRLChecks>: needs <clientAuth><truststore> with the CRLs "
			    "of the client certificates' CAs (mailetd checks revocation against "
			    "them, not by OCSP)");
			return -1;
		}
		return 0;
	}
	const char *type = t->truststore_type.value != NULL ? t->truststore_type.value : "JKS";
	long type_line = t->truststore_type.line != 0 ? t->truststore_type.line
						      : t->truststore.line;
	bool pem_type = strcasecmp(type, "PEM") == 0;
	bool p12_type = strcasecmp(type, "PKCS12") == 0;
	if (!pem_type && !p12_type && strcasecmp(type, "JKS") != 0) {
		cfg_error(b->diag, b->file, type_line,
		    "<truststoreType>: \"%s\" is not supported (use PEM or PKCS12)", type);
		return -1;
	}
	char *path = build_path(b, &t->truststore, "truststore");
	if (path == NULL)
		return -1;
	unsigned char *data = NULL;
	size_t len = 0;
	int rc = -1;
	if (read_small(b, path, &t->truststore, "truststore", &data, &len) != 0)
		goto out;
	static const unsigned char jks_magic[] = { 0xfe, 0xed, 0xfe, 0xed };
	if (len >= 4 && memcmp(data, jks_magic, 4) == 0) {
		cfg_error(b->diag, b->file, t->truststore.line,
		    "<truststore>: %s is a Java JKS keystore, which mailetd cannot read; convert "
		    "it with: keytool -importkeystore -srckeystore %s -destkeystore %s.p12 "
		    "-deststoretype PKCS12, or list the CA certificates in a PEM file",
		    path, path, path);
		goto out;
	}
	bool pem = strstr((const char *)data, "-----BEGIN ") != NULL;
	if (pem && p12_type) {
		cfg_error(b->diag, b->file, type_line,
		    "<truststoreType>: %s is a PEM file, not PKCS12 (write PEM)", path);
		goto out;
	}
	if (!pem && pem_type) {
		cfg_error(b->diag, b->file, t->truststore.line,
		    "<truststore>: %s is not a PEM file of certificates", path);
		goto out;
	}
	if ((pem ? trust_pem(b, t, path, data, len, tr) : trust_p12(b, t, path, data, len, tr)) != 0)
		goto out;
	if (sk_X509_num(tr->certs) == 0) {
		cfg_error(b->diag, b->file, t->truststore.line,
		    "<truststore>: %s holds no certificate", path);
		goto out;
	}
	if (t->revocation && sk_X509_CRL_num(tr->crls) == 0) {
		cfg_error(b->diag, b->file, t->revocation_line,
		    "<enableOCSPCRLChecks>: the truststore %s holds no CRL; mailetd checks "
		    "revocation against the CRLs in a PEM truststore (not by OCSP), so every "
		    "client certificate would be refused",
		    path);
		goto out;
	}
	rc = 0;
out:
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	free(path);
	return rc;
}

/* Logs why a client certificate was refused (the handshake then fails). */
static int
trust_verify_cb(int ok, X509_STORE_CTX *xs)
{
	if (ok)
		return ok;
	char subject[256] = "unknown", q[300];
	X509 *cert = X509_STORE_CTX_get_current_cert(xs);
	if (cert != NULL)
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	log_info(NULL, "event=client-certificate-refused depth=%d subject=%s reason=\"%s\"",
	    X509_STORE_CTX_get_error_depth(xs), log_quote(q, sizeof(q), subject, strlen(subject)),
	    X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
	return ok;
}

/*
 * Makes ctx require a client certificate that verifies against tr (RFC
 * 8446 4.3.2 / 5246 7.4.4: the truststore's subjects are sent as the
 * acceptable CAs); with revocation, every certificate of the chain must be
 * covered by a current CRL of its issuer and not be listed in it.
 */
static void
trust_apply(SSL_CTX *ctx, const struct tls_trust *tr, bool revocation)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	if (tr->system && SSL_CTX_set_default_verify_paths(ctx) != 1)
		ERR_clear_error();
	for (int i = 0; i < sk_X509_num(tr->certs); i++) {
		X509 *c = sk_X509_value(tr->certs, i);
		if (X509_STORE_add_cert(st, c) != 1 || SSL_CTX_add_client_CA(ctx, c) != 1)
			ERR_clear_error(); /* a duplicate: already there */
	}
	for (int i = 0; i < sk_X509_CRL_num(tr->crls); i++)
		if (X509_STORE_add_crl(st, sk_X509_CRL_value(tr->crls, i)) != 1)
			ERR_clear_error();
	if (revocation)
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, trust_verify_cb);
}

/* --- contexts ----------------------------------------------------------------------- */

/* A context with b's settings and k's key material, or NULL after reporting. */
static SSL_CTX *
build_ctx(struct tls_build *b, const struct cfg_tls_keys *k)
{
	char reason[256];
	const char *elem = k->hostname != NULL ? "certificate" : "tls";
	if (k->keystore.value == NULL &&
	    (k->private_key.value == NULL || k->certificates.value == NULL)) {
		cfg_error(b->diag, b->file, k->line,
		    "<%s>: key material missing (give <keystore>, or both <privateKey> and "
		    "<certificates>)",
		    elem);
		return NULL;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		cfg_error(b->diag, b->file, k->line, "<%s>: cannot create a TLS context (%s)", elem,
		    tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
		return NULL;
	}
	if (b->lowsec)
		SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, b->min);
	SSL_CTX_set_max_proto_version(ctx, b->max);
	SSL_CTX_set_options(ctx, b->no_opts | SSL_OP_NO_RENEGOTIATION |
		SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"mailetd", 7);
	if (b->cache_size >= 0)
		SSL_CTX_sess_set_cache_size(ctx, b->cache_size);
	if (b->cache_timeout >= 0)
		SSL_CTX_set_timeout(ctx, b->cache_timeout);
	bool ok = true;
	if (b->cipher_list != NULL) {
		const char *list = b->cipher_list;
		char *withsec = NULL;
		if (b->lowsec)
			list = withsec = xasprintf("%s:@SECLEVEL=0", b->cipher_list);
		if (SSL_CTX_set_cipher_list(ctx, list) != 1) {
			cfg_error(b->diag, b->file, k->line,
			    "<supportedCipherSuites>: OpenSSL accepts none of the TLS 1.2 suites (%s)",
			    tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
			ok = false;
		}
		free(withsec);
	} else if (b->lowsec) {
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	}
	if (ok && b->suites != NULL && SSL_CTX_set_ciphersuites(ctx, b->suites) != 1) {
		cfg_error(b->diag, b->file, k->line,
		    "<supportedCipherSuites>: OpenSSL accepts none of the TLS 1.3 suites (%s)",
		    tls_error_reason(reason, sizeof(reason), 0, "unknown error"));
		ok = false;
	}
	if (ok) {
		int rc = k->keystore.value != NULL ? load_keystore(b, ctx, k) : load_pem(b, ctx, k);
		ok = rc == 0;
	}
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* True if the SNI pattern (lower case, maybe "*.x") matches name. */
static bool
sni_match(const char *pattern, const char *name)
{
	if (strcasecmp(pattern, name) == 0)
		return true;
	if (pattern[0] != '*' || pattern[1] != '.')
		return false;
	/* A wildcard stands for exactly one label (RFC 6125 6.4.3). */
	const char *dot = strchr(name, '.');
	return dot != NULL && dot != name && strcasecmp(dot, pattern + 1) == 0;
}

/* Chooses the certificate by server name (RFC 6066 3); default otherwise. */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	(void)alert;
	const struct tls *tls = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (size_t i = 0; i < tls->nsni; i++) {
		if (sni_match(tls->sni[i].hostname, name)) {
			SSL_set_SSL_CTX(ssl, tls->sni[i].ctx);
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

struct tls *
tls_new(const struct cfg_tls *t, const char *file, const char *confdir, const char *datadir,
    struct cfg_diag *diag)
{
	size_t errors = diag->errors;
	struct tls_build b = {
		.file = file,
		.confdir = confdir,
		.datadir = datadir,
		.diag = diag,
	};
	build_settings(&b, t);
	struct tls *tls = xcalloc(1, sizeof(*tls));
	if (diag->errors == errors) {
		tls->ctx = build_ctx(&b, &t->keys);
		tls->sni = xcalloc(t->nsni ? t->nsni : 1, sizeof(*tls->sni));
		for (size_t i = 0; i < t->nsni; i++) {
			SSL_CTX *c = build_ctx(&b, &t->sni[i]);
			if (c == NULL)
				continue;
			tls->sni[tls->nsni].hostname = xstrdup(t->sni[i].hostname);
			tls->sni[tls->nsni++].ctx = c;
		}
	}
	if (diag->errors == errors && t->client_auth) {
		struct tls_trust tr;
		memset(&tr, 0, sizeof(tr));
		if (trust_load(&b, t, &tr) == 0) {
			if (tls->ctx != NULL)
				trust_apply(tls->ctx, &tr, t->revocation);
			/* The SNI contexts verify with their own stores. */
			for (size_t i = 0; i < tls->nsni; i++)
				trust_apply(tls->sni[i].ctx, &tr, t->revocation);
		}
		trust_clear(&tr);
	}
	free(b.cipher_list);
	free(b.suites);
	if (diag->errors > errors) {
		tls_free(tls);
		return NULL;
	}
	if (tls->nsni > 0) {
		SSL_CTX_set_tlsext_servername_callback(tls->ctx, sni_cb);
		SSL_CTX_set_tlsext_servername_arg(tls->ctx, tls);
	}
	return tls;
}

void
tls_free(struct tls *tls)
{
	if (tls == NULL)
		return;
	for (size_t i = 0; i < tls->nsni; i++) {
		free(tls->sni[i].hostname);
		SSL_CTX_free(tls->sni[i].ctx);
	}
	free(tls->sni);
	SSL_CTX_free(tls->ctx);
	free(tls);
}

SSL *
tls_ssl_new(const struct tls *tls)
{
	SSL *ssl = SSL_new(tls->ctx);
	if (ssl == NULL)
		log_fatal("event=fatal msg=\"SSL_new failed\"");
	return ssl;
}
