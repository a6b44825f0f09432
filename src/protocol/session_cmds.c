/*
 * session_cmds.c - the SMTP and LMTP commands (see session_int.h): HELO,
 * EHLO, LHLO, MAIL, RCPT, DATA, BDAT, RSET, NOOP, QUIT, VRFY, EXPN and
 * HELP, the command tables that say which verb is allowed when, and the
 * two protocol descriptions (SMTP, LMTP) the session engine is given.
 * Sequence, syntax and the error ceiling are checked by the dispatcher
 * (session.c), never here.
 */
#include "session_int.h"

#include "../../handlers/chain.h"
#include "../config/config.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "reply.h"
#include "smtp_parse.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Recipients per transaction: RFC 5321 4.5.3.1.8 asks for at least 100. */
#define SESSION_MAX_RCPTS 1000

static void helo_after(struct session *s, struct hook_result r);
static void mail_after(struct session *s, struct hook_result r);
static void rcpt_after(struct session *s, struct hook_result r);

/* ---------------------------------------------------------------------- */
/* commands                                                               */

static void
cmd_helo_common(struct session *s, const char *arg, size_t len, bool esmtp)
{
	if (!smtp_valid_helo(arg, len)) {
		session_reply(s, 501, "5.5.2", "Invalid domain name or ip supplied as HELO argument");
		return;
	}
	char *helo = xstrndup(arg, len);
	s->hs.helo = helo;
	s->hs.esmtp = esmtp;
	struct hook_result r;
	if (session_hook(s, CHAIN_HELO, helo, &r, helo_after))
		helo_after(s, r);
}

/* The HELO hooks answered (the argument is s->hook_arg, not yet s->helo). */
static void
helo_after(struct session *s, struct hook_result r)
{
	char *helo = (char *)s->hook_arg;
	bool esmtp = s->hs.esmtp;
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		s->hs.helo = s->helo;
		free(helo);
		session_reply_hook(s, &r);
		return;
	}
	free(s->helo);
	s->helo = helo;
	/* RFC 5321 4.1.4: HELO/EHLO resets any transaction in progress. */
	tx_reset(s);
	session_set_state(s, ST_READY);

	if (!esmtp) {
		session_reply(s, 250, NULL, "%s Hello %s [%s]", s->srv->hello_name, helo,
		    s->client_text);
		return;
	}
	char first[300];
	snprintf(first, sizeof(first), "%s Hello %s [%s]", s->srv->hello_name, helo,
	    s->client_text);
	/* The core handlers' keywords (SIZE, MailSizeEsmtpExtension) keep
	 * their place after PIPELINING; configured handlers' come after the
	 * fixed ones (james.md 1c). */
	const char *lines[4 + 11 + 8] = { first, "PIPELINING" };
	size_t n = 2 + chain_ehlo_core_keywords(s->env->chain, &s->hs, lines + 2, 4);
	if (s->proto->lmtp) {
		/* LHLO (RFC 2033 4.1): no AUTH, no STARTTLS, no SMTPUTF8; handlers
		 * may add keywords (DSN in James's lmtpdsn.xml). */
		lines[n++] = "8BITMIME";
		lines[n++] = "ENHANCEDSTATUSCODES";
		lines[n++] = "CHUNKING";
		n += chain_ehlo_keywords(s->env->chain, &s->hs, lines + n, 8);
		reply_add_lines(session_out(s), 250, NULL, lines, n);
		return;
	}
	lines[n++] = "8BITMIME";
	lines[n++] = "ENHANCEDSTATUSCODES";
	lines[n++] = "SMTPUTF8";
	lines[n++] = "CHUNKING";
	/* Keywords handlers contribute (james.md 1c: after the fixed ones). */
	n += chain_ehlo_keywords(s->env->chain, &s->hs, lines + n, 8);
	/* AUTH and the legacy AUTH= form (james.md 1c), in James's order. */
	char auth[32], auth_old[32];
	s->hs.auth_announced = session_auth_offered(s);
	if (s->hs.auth_announced) {
		unsigned m = s->srv->auth_mechs;
		snprintf(auth, sizeof(auth), "AUTH%s%s", (m & CFG_MECH_LOGIN) ? " LOGIN" : "",
		    (m & CFG_MECH_PLAIN) ? " PLAIN" : "");
		snprintf(auth_old, sizeof(auth_old), "AUTH=%s", auth + 5);
		lines[n++] = auth;
		lines[n++] = auth_old;
	}
	/* STARTTLS last, and only while it can still be used (RFC 3207 4.2). */
	if (s->srv->tls.start_tls && !s->tls_active)
		lines[n++] = "STARTTLS";
	reply_add_lines(session_out(s), 250, NULL, lines, n);
}

static void
cmd_helo(struct session *s, const char *arg, size_t len)
{
	cmd_helo_common(s, arg, len, false);
}

static void
cmd_ehlo(struct session *s, const char *arg, size_t len)
{
	cmd_helo_common(s, arg, len, true);
}

/* LHLO: EHLO's LMTP twin (RFC 2033 4.1). */
static void
cmd_lhlo(struct session *s, const char *arg, size_t len)
{
	cmd_helo_common(s, arg, len, true);
}

/*
 * Appends "@<defaultDomain>" to a mailbox given without a domain, as James
 * does (1b.4). Returns -1 if the result would be too long.
 */
static int
path_add_default_domain(const struct session *s, struct smtp_path *p)
{
	if (p->null || p->at < p->len)
		return 0;
	const char *dom = s->env->cfg->domains.default_domain;
	size_t dl = strlen(dom);
	if (p->len + 1 + dl > SMTP_MAILBOX_MAX)
		return -1;
	p->mailbox[p->len] = '@';
	memcpy(p->mailbox + p->len + 1, dom, dl + 1);
	p->at = p->len;
	p->len += 1 + dl;
	return 0;
}

void
cmd_mail(struct session *s, const char *arg, size_t len)
{
	struct transaction *tx = &s->tx;
	const char *ptext;
	size_t plen;
	s->hs.mail_serial++; /* the parameter hooks start afresh */
	enum smtp_path_status st = smtp_parse_path_arg(arg, len, false,
	    s->srv->brackets_enforcement, &tx->sender, &ptext, &plen);
	switch (st) {
	case SMTP_PATH_OK:
		break;
	case SMTP_PATH_NO_PREFIX:
		session_reply(s, 501, "5.5.4", "Usage: MAIL FROM:<sender>");
		return;
	case SMTP_PATH_NO_BRACKETS:
		session_reply(s, 501, "5.1.7", "Syntax error in MAIL command");
		return;
	case SMTP_PATH_BAD_PARAMS:
		session_reply(s, 501, "5.5.4", "Syntax error in parameters or arguments");
		return;
	case SMTP_PATH_BAD_ADDRESS:
	case SMTP_PATH_TOO_LONG:
		session_reply(s, 501, "5.1.7", "Syntax error in sender address");
		return;
	}

	struct smtp_param params[SMTP_PARAMS_MAX];
	int np = smtp_parse_params(ptext, plen, true, params, SMTP_PARAMS_MAX);
	if (np < 0) {
		session_reply(s, 501, "5.5.4", "Syntax error in parameters or arguments");
		return;
	}
	bool utf8 = false;
	char body[16] = "";
	for (int i = 0; i < np; i++) {
		const struct smtp_param *p = &params[i];
		if (smtp_param_is(p, "BODY")) {
			/* RFC 6152; BINARYMIME is not offered (no RFC 3030 binary mode). */
			if (p->value == NULL ||
			    !((p->valuelen == 4 && strncasecmp(p->value, "7BIT", 4) == 0) ||
				(p->valuelen == 8 && strncasecmp(p->value, "8BITMIME", 8) == 0))) {
				session_reply(s, 501, "5.5.4", "Unsupported BODY type");
				return;
			}
			memcpy(body, p->value, p->valuelen);
			body[p->valuelen] = '\0';
			for (char *c = body; *c; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 'a' + 'A');
		} else if (smtp_param_is(p, "SMTPUTF8")) {
			if (p->value != NULL) {
				session_reply(s, 501, "5.5.4", "SMTPUTF8 takes no value");
				return;
			}
			utf8 = true;
		} else if (smtp_param_is(p, "AUTH") && p->value != NULL) {
			/* RFC 4954 5: accepted; James ignores it too (1b.2). */
			char q[160];
			log_info(s->id, "event=mail-auth-param value=%s",
			    log_quote(q, sizeof(q), p->value, p->valuelen));
		} else if (chain_mail_param_declared(s->env->chain, p->key, p->keylen)) {
			/* A handler takes it (1b.3); the first answer stops the command. */
			char name[64], value[256];
			snprintf(name, sizeof(name), "%.*s", (int)p->keylen, p->key);
			for (char *c = name; *c; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 'a' + 'A');
			snprintf(value, sizeof(value), "%.*s", p->value ? (int)p->valuelen : 0,
			    p->value ? p->value : "");
			struct hook_param hp = { .name = name, .value = value };
			struct hook_result r = session_hook_now(s, CHAIN_MAIL_PARAM, &hp);
			if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
				session_reply_hook(s, &r);
				return;
			}
		} else {
			/* James ignores MAIL parameters nobody declared (1b.3). */
			log_debug(s->id, "event=ignored-mail-param");
		}
	}
	if (tx->sender.utf8 && !utf8) {
		session_reply(s, 553, "5.6.7", "SMTPUTF8 is required for a UTF-8 address");
		return;
	}
	if (path_add_default_domain(s, &tx->sender) != 0) {
		session_reply(s, 501, "5.1.7", "Syntax error in sender address");
		return;
	}

	s->hs.sender = &tx->sender;
	tx->smtputf8 = utf8;
	memcpy(tx->body, body, sizeof(body));
	struct hook_result r;
	if (session_hook(s, CHAIN_MAIL, &tx->sender, &r, mail_after))
		mail_after(s, r);
}

/* The MAIL hooks answered. */
static void
mail_after(struct session *s, struct hook_result r)
{
	struct transaction *tx = &s->tx;
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		s->hs.sender = NULL;
		tx->smtputf8 = false;
		tx->body[0] = '\0';
		session_reply_hook(s, &r);
		return;
	}
	tx->has_sender = true;
	session_set_state(s, ST_MAIL);
	session_reply(s, 250, "2.1.0", "Sender <%s> OK", tx->sender.mailbox);
}

static void
cmd_rcpt(struct session *s, const char *arg, size_t len)
{
	struct transaction *tx = &s->tx;
	struct smtp_path rcpt;
	const char *ptext;
	size_t plen;
	enum smtp_path_status st = smtp_parse_path_arg(arg, len, true,
	    s->srv->brackets_enforcement, &rcpt, &ptext, &plen);
	switch (st) {
	case SMTP_PATH_OK:
		break;
	case SMTP_PATH_NO_PREFIX:
		session_reply(s, 501, "5.5.2", "Usage: RCPT TO:<recipient>");
		return;
	case SMTP_PATH_NO_BRACKETS:
	case SMTP_PATH_BAD_PARAMS:
		session_reply(s, 501, "5.5.2", "Syntax error in parameters or arguments");
		return;
	case SMTP_PATH_BAD_ADDRESS:
	case SMTP_PATH_TOO_LONG:
		session_reply(s, 553, "5.1.3", "Syntax error in recipient address");
		return;
	}
	struct smtp_param params[SMTP_PARAMS_MAX];
	int np = smtp_parse_params(ptext, plen, true, params, SMTP_PARAMS_MAX);
	if (np < 0) {
		session_reply(s, 501, "5.5.2", "Syntax error in parameters or arguments");
		return;
	}
	/* The declared parameters go to the RCPT hooks, copied: a hook may wait. */
	free(s->hook_params_text);
	s->hook_params_text = xmalloc(plen * 2 + 2 * SMTP_PARAMS_MAX + 1);
	char *pt = s->hook_params_text;
	s->hs.rcpt_params = s->hook_params;
	s->hs.nrcpt_params = 0;
	for (int i = 0; i < np; i++) {
		/* James's experimental SmtpUtf8RcptHook accepts SMTPUTF8 here. */
		if (smtp_param_is(&params[i], "SMTPUTF8") && params[i].value == NULL)
			continue;
		if (chain_rcpt_param_declared(s->env->chain, params[i].key, params[i].keylen)) {
			struct hook_param *hp = &s->hook_params[s->hs.nrcpt_params++];
			hp->name = pt;
			for (size_t k = 0; k < params[i].keylen; k++) {
				char ch = params[i].key[k];
				*pt++ = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
			}
			*pt++ = '\0';
			hp->value = pt;
			if (params[i].value != NULL) {
				memcpy(pt, params[i].value, params[i].valuelen);
				pt += params[i].valuelen;
			}
			*pt++ = '\0';
			continue;
		}
		/* 1b.3: an RCPT parameter no handler declares is refused. */
		session_reply(s, 504, "5.5.4", "Unrecognized or unsupported option: %.*s",
		    (int)params[i].keylen, params[i].key);
		return;
	}
	if (rcpt.utf8 && !tx->smtputf8) {
		session_reply(s, 553, "5.6.7", "SMTPUTF8 is required for a UTF-8 address");
		return;
	}
	if (path_add_default_domain(s, &rcpt) != 0) {
		session_reply(s, 553, "5.1.3", "Syntax error in recipient address");
		return;
	}
	if (tx->nrcpts >= SESSION_MAX_RCPTS) {
		session_reply(s, 452, "4.5.3", "Too many recipients");
		return;
	}
	if (s->proto->lmtp && !config_is_local_domain(s->env->cfg, rcpt.mailbox + rcpt.at + 1,
				  rcpt.len - rcpt.at - 1)) {
		/* LMTP delivers to local mailboxes only, never relays. */
		session_reply(s, 550, "5.1.2", "<%s> Recipient domain is not local", rcpt.mailbox);
		return;
	}
	s->hook_path = rcpt;
	struct hook_result r;
	if (session_hook(s, CHAIN_RCPT, &s->hook_path, &r, rcpt_after))
		rcpt_after(s, r);
}

/* The RCPT hooks answered for s->hook_path. */
static void
rcpt_after(struct session *s, struct hook_result r)
{
	struct transaction *tx = &s->tx;
	const struct smtp_path rcpt = s->hook_path;
	s->hs.nrcpt_params = 0; /* the hooks are done with them */
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		char q[160];
		log_info(s->id, "event=rcpt-rejected rcpt=%s code=%d",
		    log_quote(q, sizeof(q), rcpt.mailbox, rcpt.len), r.code);
		session_reply_hook(s, &r);
		return;
	}
	tx->rcpts = xreallocarray(tx->rcpts, tx->nrcpts + 1, sizeof(*tx->rcpts));
	tx->rcpts[tx->nrcpts++] = xstrndup(rcpt.mailbox, rcpt.len);
	s->hs.nrcpts = tx->nrcpts;
	session_set_state(s, ST_RCPT);
	session_reply(s, 250, "2.1.5", "Recipient <%s> OK", rcpt.mailbox);
}

static void
cmd_data(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	if (tx_open_message(s) != 0) {
		tx_reset(s);
		return;
	}
	dataread_init(&s->dr, s->srv->max_message_size, s->srv->max_line_length);
	session_set_state(s, ST_DATA);
	data_stage_begin(s);
	session_reply(s, 354, NULL, "Ok Send data ending with <CRLF>.<CRLF>");
}

/* Parses "size [LAST]". 0, or -1 on a syntax error. */
static int
bdat_parse(const char *arg, size_t len, uint64_t *size, bool *last)
{
	size_t i = 0;
	while (i < len && arg[i] != ' ')
		i++;
	unsigned long long n;
	if (smtp_parse_u64(arg, i, &n) != 0)
		return -1;
	*size = n;
	*last = false;
	while (i < len && arg[i] == ' ')
		i++;
	if (i == len)
		return 0;
	if (len - i == 4 && strncasecmp(arg + i, "LAST", 4) == 0) {
		*last = true;
		return 0;
	}
	return -1;
}

/*
 * A BDAT whose size cannot be read leaves us unable to find the next
 * command in the stream: answer and close rather than execute chunk data.
 */
static bool
bdat_check_syntax(struct session *s, const char *arg, size_t len, uint64_t *size, bool *last)
{
	if (bdat_parse(arg, len, size, last) == 0)
		return true;
	session_reply(s, 501, "5.5.4", "Syntax error in BDAT size; closing connection");
	session_close(s);
	return false;
}

static void
cmd_bdat(struct session *s, const char *arg, size_t len)
{
	uint64_t size;
	bool last;
	if (!bdat_check_syntax(s, arg, len, &size, &last))
		return;
	if (s->state == ST_RCPT) {
		if (tx_open_message(s) != 0) {
			/* 451 is said; still swallow the chunk to stay in sync. */
			tx_reset(s);
			s->tx.bdat_discard = true;
			s->tx.bdat_discard_reply = false;
			s->tx.bdat_in_chunk = true;
			s->tx.bdat_remaining = size;
			session_set_state(s, ST_BDAT);
			return;
		}
		session_set_state(s, ST_BDAT);
	}
	s->tx.bdat_in_chunk = true;
	s->tx.bdat_remaining = size;
	s->tx.bdat_last = last;
	s->tx.bdat_discard = false;
	if (!evtimer_pending(s->data_ev, NULL))
		data_stage_begin(s); /* the first chunk starts the stage */
}

/* BDAT in a state that does not allow it: read and drop the chunk, then 503. */
static void
bdat_reject(struct session *s, const char *arg, size_t len, const struct cmd_seq_msg *m)
{
	uint64_t size;
	bool last;
	(void)m;
	if (!bdat_check_syntax(s, arg, len, &size, &last))
		return;
	tx_clear(s);
	s->tx.bdat_discard = true;
	s->tx.bdat_discard_reply = true;
	s->tx.bdat_in_chunk = true;
	s->tx.bdat_remaining = size;
	session_set_state(s, ST_BDAT);
	data_stage_begin(s);
}

static void
cmd_rset(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	tx_reset(s);
	session_reply(s, 250, "2.0.0", "OK");
}

static void
cmd_noop(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	session_reply(s, 250, "2.0.0", "OK");
}

static void
cmd_quit(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	struct hook_result r = session_hook_now(s, CHAIN_QUIT, NULL);
	if (r.verdict != HOOK_DECLINED && r.verdict != HOOK_OK) {
		session_reply(s, r.code, r.ecode, "%s", r.text);
		session_close(s);
		return;
	}
	session_reply(s, 221, "2.0.0", "%s Service closing transmission channel",
	    s->srv->hello_name);
	session_close(s);
}

static void
cmd_vrfy(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	/* RFC 5321 3.5.3: 252 neither confirms nor denies the address. */
	session_reply(s, 252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
}

static void
cmd_expn(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	session_reply(s, 502, "5.3.3", "EXPN is not supported");
}

static void
cmd_help(struct session *s, const char *arg, size_t len)
{
	(void)arg;
	(void)len;
	/* STARTTLS and AUTH only where EHLO would offer them now. */
	bool starttls = s->srv->tls.start_tls && !s->tls_active;
	char verbs[96];
	snprintf(verbs, sizeof(verbs), "EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP%s%s",
	    starttls ? " STARTTLS" : "", session_auth_offered(s) ? " AUTH" : "");
	const char *const lines[] = {
		"mailetd - commands:",
		verbs,
		"See RFC 5321 for their use",
	};
	reply_add_lines(session_out(s), 214, "2.0.0", lines, sizeof(lines) / sizeof(lines[0]));
}

static const struct cmd_seq_msg seq_mail[] = {
	{ ST(ST_MAIL) | ST(ST_RCPT), 503, "5.5.0", "Sender already specified" },
	{ ST(ST_GREETED), 503, "5.5.0", "Need HELO or EHLO before MAIL" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_rcpt[] = {
	{ ST(ST_GREETED) | ST(ST_READY), 503, "5.5.0", "Need MAIL before RCPT" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_data[] = {
	{ ST(ST_GREETED) | ST(ST_READY), 503, "5.5.0", "No sender specified" },
	{ ST(ST_MAIL), 503, "5.5.0", "No recipients specified" },
	{ ST(ST_BDAT), 503, "5.5.1", "DATA is not allowed during a BDAT transfer" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_starttls[] = {
	{ ST(ST_MAIL) | ST(ST_RCPT), 503, "5.5.1", "Error: MAIL transaction in progress" },
	{ ST(ST_BDAT), 503, "5.5.1", "Only BDAT, RSET, NOOP and QUIT are allowed during a BDAT transfer" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_bdat_phase[] = {
	{ ST(ST_BDAT), 503, "5.5.1", "Only BDAT, RSET, NOOP and QUIT are allowed during a BDAT transfer" },
	{ 0, 0, NULL, NULL },
};
static const struct cmd_seq_msg seq_auth[] = {
	{ ST(ST_GREETED), 503, "5.5.1", "Need EHLO before AUTH" },
	{ ST(ST_MAIL) | ST(ST_RCPT) | ST(ST_BDAT), 503, "5.5.1",
	    "AUTH is not allowed during a mail transaction" },
	{ 0, 0, NULL, NULL },
};

#define ST_COMMAND (ST(ST_GREETED) | ST(ST_READY) | ST(ST_MAIL) | ST(ST_RCPT))
#define ST_ANY_CMD (ST_COMMAND | ST(ST_BDAT))

/* The transaction and housekeeping commands SMTP and LMTP share. */
#define SHARED_CMDS \
	{ .verb = "MAIL", .states = ST(ST_GREETED) | ST(ST_READY), .args = ARG_REQ, .fn = cmd_mail, \
	    .usage = "Usage: MAIL FROM:<sender>", .seq = seq_mail }, \
	{ .verb = "RCPT", .states = ST(ST_MAIL) | ST(ST_RCPT), .args = ARG_REQ, .fn = cmd_rcpt, \
	    .usage = "Usage: RCPT TO:<recipient>", .seq = seq_rcpt }, \
	{ .verb = "DATA", .states = ST(ST_RCPT), .args = ARG_NONE, .fn = cmd_data, .seq = seq_data }, \
	{ .verb = "BDAT", .states = ST(ST_RCPT) | ST(ST_BDAT), .args = ARG_REQ, .fn = cmd_bdat, \
	    .usage = "Usage: BDAT size [LAST]", .reject = bdat_reject }, \
	{ .verb = "RSET", .states = ST_ANY_CMD, .args = ARG_NONE, .fn = cmd_rset }, \
	{ .verb = "NOOP", .states = ST_ANY_CMD, .args = ARG_OPT, .fn = cmd_noop }, \
	{ .verb = "QUIT", .states = ST_ANY_CMD, .args = ARG_NONE, .fn = cmd_quit }, \
	{ .verb = "VRFY", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_vrfy, \
	    .usage = "Usage: VRFY <address>", .seq = seq_bdat_phase }, \
	{ .verb = "EXPN", .states = ST_COMMAND, .args = ARG_OPT, .fn = cmd_expn, \
	    .seq = seq_bdat_phase }

/* The SMTP command table: the one place that says what is allowed when. */
static const struct cmd_def smtp_cmds[] = {
	{ .verb = "EHLO", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_ehlo,
	    .usage = "Domain address required: EHLO", .seq = seq_bdat_phase },
	{ .verb = "HELO", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_helo,
	    .usage = "Domain address required: HELO", .seq = seq_bdat_phase },
	SHARED_CMDS,
	{ .verb = "HELP", .states = ST_COMMAND, .args = ARG_OPT, .fn = cmd_help,
	    .seq = seq_bdat_phase },
	{ .verb = "STARTTLS", .states = ST(ST_GREETED) | ST(ST_READY), .args = ARG_NONE,
	    .flags = CF_STARTTLS | CF_NO_TLS, .fn = cmd_starttls, .seq = seq_starttls,
	    .argtext = "Syntax error (no parameters allowed) with STARTTLS command" },
	{ .verb = "AUTH", .states = ST(ST_READY), .args = ARG_REQ, .flags = CF_AUTH,
	    .fn = cmd_auth, .seq = seq_auth,
	    .usage = "Usage: AUTH (authentication type) <challenge>" },
};

/*
 * The LMTP command table (RFC 2033): LHLO replaces HELO and EHLO, which
 * are unknown commands here (500), as are AUTH, STARTTLS and HELP.
 */
static const struct cmd_def lmtp_cmds[] = {
	{ .verb = "LHLO", .states = ST_COMMAND, .args = ARG_REQ, .fn = cmd_lhlo,
	    .usage = "Domain address required: LHLO", .seq = seq_bdat_phase },
	SHARED_CMDS,
};

const struct session_proto proto_smtp = {
	.name = "SMTP",
	.cmds = smtp_cmds,
	.ncmds = sizeof(smtp_cmds) / sizeof(smtp_cmds[0]),
	.greeting = "ESMTP mailetd ready",
};

const struct session_proto proto_lmtp = {
	.name = "LMTP",
	.cmds = lmtp_cmds,
	.ncmds = sizeof(lmtp_cmds) / sizeof(lmtp_cmds[0]),
	.greeting = "LMTP mailetd ready",
	.lmtp = true,
};
