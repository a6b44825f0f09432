/*
 * verify_identity.c - James's SenderAuthIdentifyVerificationHook
 * (<verifyIdentity>, james.md 1a.3 and 1b.5).
 *
 * MAIL and RCPT, strict and relaxed:
 *   an authenticated client may only use a sender of its own: a local
 *   domain and an address that maps to the authenticated user (the users
 *   repository's mapping: local part, or local@domain with virtual
 *   hosting; "+detail" removed), or an alias of that user in the
 *   recipient rewrite table (alias: mappings, and addresses of a domain
 *   that is a domainAlias: of the user's, as James's CanSendFrom; group:
 *   and forward: do not count; src/rrt/rrt.h) - else 503 5.7.1.
 *   A client that is neither authenticated nor allowed to relay may not
 *   use a sender in a local domain: 530 5.7.1. Relaxed mode accepts it
 *   when the HELO name is a domain with a dot (another MTA, James's "MX
 *   heuristic").
 * The null sender is always allowed at MAIL.
 *
 * End of data, strict (and relaxed with an authenticated user): for an
 * authenticated client the From: header must be present (503 5.5.4
 * Missing From header) and every address in it, group members included,
 * must be the user's own (503 5.7.1); an empty group or an unparsable
 * From: is refused. Unauthenticated clients are not checked at end of
 * data (mailetd does not refuse inbound mail for a missing From:).
 */
#include "core_handlers.h"

#include "../../src/auth/users.h"
#include "../../src/config/config.h"
#include "../../src/protocol/smtp_parse.h"
#include "../../src/rrt/rrt.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct hook_result verify_wrong_sender = {
	.verdict = HOOK_DENY,
	.code = 503,
	.ecode = "5.7.1",
	.text = "Incorrect Authentication for Specified Email Address",
};

static const struct hook_result verify_auth_required = {
	.verdict = HOOK_DENY,
	.code = 530,
	.ecode = "5.7.1",
	.text = "Authentication Required",
};

static const struct hook_result verify_missing_from = {
	.verdict = HOOK_DENY,
	.code = 503,
	.ecode = "5.5.4",
	.text = "Missing From header",
};

/* True if local@domain (an address the client uses) is the authenticated user's. */
static bool
verify_is_own(const struct hook_session *s, const char *local, size_t llen, const char *domain,
    size_t dlen)
{
	char user[USERS_NAME_MAX + 1];
	struct users *db = s->cfg->users_db;
	if (db == NULL || s->auth_user == NULL)
		return false;
	if (!config_is_local_domain(s->cfg, domain, dlen))
		return false;
	if (users_recipient_user(db, local, llen, domain, dlen, user, sizeof(user)) &&
	    strcasecmp(user, s->auth_user) == 0)
		return true;
	/* An alias: the address and the user's are in one buffer, local@domain. */
	char addr[SMTP_MAILBOX_MAX + 2];
	int n = snprintf(addr, sizeof(addr), "%.*s@%.*s", (int)llen, local, (int)dlen, domain);
	if (n < 0 || (size_t)n >= sizeof(addr))
		return false;
	return rrt_is_alias_of(s->cfg->rrt_db, db, addr, (size_t)n, s->auth_user);
}

/* The HELO name looks like an MTA's: a valid domain with a dot (RELAXED). */
static bool
verify_helo_is_mx(const struct hook_session *s)
{
	if (s->helo == NULL || s->helo[0] == '[')
		return false;
	size_t len = strlen(s->helo);
	if (!smtp_valid_helo(s->helo, len) || strchr(s->helo, '.') == NULL)
		return false;
	/* An IPv4 address is valid HELO but not a domain. */
	return strspn(s->helo, "0123456789.") != len;
}

static struct hook_result
verify_sender(const struct hook_session *s, const struct smtp_path *sender)
{
	enum cfg_verify mode = s->server->verify_identity;
	if (mode == CFG_VERIFY_DISABLED || sender == NULL || sender->null ||
	    sender->at >= sender->len)
		return HOOK_RESULT_DECLINED;
	const char *domain = sender->mailbox + sender->at + 1;
	size_t dlen = sender->len - sender->at - 1;
	if (s->authenticated) {
		if (!verify_is_own(s, sender->mailbox, sender->at, domain, dlen))
			return verify_wrong_sender;
		return HOOK_RESULT_DECLINED;
	}
	if (s->relaying_allowed || !config_is_local_domain(s->cfg, domain, dlen))
		return HOOK_RESULT_DECLINED;
	if (mode == CFG_VERIFY_RELAXED && verify_helo_is_mx(s))
		return HOOK_RESULT_DECLINED;
	return verify_auth_required;
}

static struct hook_result
verify_mail(const struct hook_session *s, const struct smtp_path *sender)
{
	return verify_sender(s, sender);
}

static struct hook_result
verify_rcpt(const struct hook_session *s, const struct smtp_path *rcpt)
{
	(void)rcpt;
	return verify_sender(s, s->sender);
}

/*
 * Splits a From: value into its addresses (RFC 5322 3.4: mailbox-list,
 * display names, angle addresses, groups, comments, quoted strings) and
 * checks each. Returns 1 if every address is the user's and there is at
 * least one, 0 if one is not or the list is empty, -1 if unparsable.
 */
static int
verify_from_list(const struct hook_session *s, const char *v)
{
	char addr[SMTP_MAILBOX_MAX + 1];
	size_t alen = 0, found = 0;
	int depth = 0;           /* comment nesting */
	bool quoted = false, angle = false, had_angle = false, bad = false, gap = false;
	for (const char *p = v;; p++) {
		char c = *p;
		bool end_item = c == '\0' || (!quoted && depth == 0 && !angle && (c == ',' || c == ';'));
		if (end_item) {
			/* addr holds the angle address, or the bare addr-spec text. */
			if (alen > 0) {
				addr[alen] = '\0';
				char *at = strrchr(addr, '@');
				if (at == NULL || at == addr || at[1] == '\0')
					return -1;
				found++;
				if (!verify_is_own(s, addr, (size_t)(at - addr), at + 1, strlen(at + 1)))
					bad = true;
			}
			alen = 0;
			had_angle = false;
			gap = false;
			if (c == '\0')
				break;
			continue;
		}
		if (quoted) {
			if (c == '\\' && p[1] != '\0')
				p++;
			else if (c == '"')
				quoted = false;
			continue;
		}
		if (depth > 0) {
			if (c == '\\' && p[1] != '\0')
				p++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			continue;
		}
		switch (c) {
		case '"':
			quoted = true;
			if (!angle)
				alen = 0; /* a display name */
			break;
		case '(':
			depth++;
			break;
		case '<':
			if (angle)
				return -1;
			angle = true;
			had_angle = true;
			alen = 0;
			break;
		case '>':
			if (!angle)
				return -1;
			angle = false;
			break;
		case ':':
			if (angle)
				break;
			alen = 0; /* "group-name:" starts a group */
			break;
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			gap = !angle; /* the next word replaces a display-name word */
			break;
		default:
			if (had_angle && !angle)
				break; /* text after "<...>" */
			if (gap && !angle)
				alen = 0;
			gap = false;
			if (alen + 1 >= sizeof(addr))
				return -1;
			addr[alen++] = c;
			break;
		}
	}
	if (quoted || depth != 0 || angle)
		return -1;
	return found > 0 && !bad ? 1 : 0;
}

static struct hook_result
verify_message(const struct hook_session *s, unsigned long long size)
{
	(void)size;
	enum cfg_verify mode = s->server->verify_identity;
	if (mode == CFG_VERIFY_DISABLED || !s->authenticated)
		return HOOK_RESULT_DECLINED;
	char from[4096];
	long n = hook_header(s, "From", 0, from, sizeof(from));
	if (n < 0)
		return verify_missing_from;
	if ((size_t)n >= sizeof(from) || hook_header(s, "From", 1, NULL, 0) >= 0)
		return verify_wrong_sender; /* too long to judge, or two From: fields */
	if (verify_from_list(s, from) != 1)
		return verify_wrong_sender;
	return HOOK_RESULT_DECLINED;
}

const struct handler_def handler_verify_identity = {
	.name = "SenderAuthIdentifyVerificationHook",
	.james_class = "org.apache.james.smtpserver.SenderAuthIdentifyVerificationHook",
	.summary = "verifyIdentity: authenticated senders use their own address",
	.mail = verify_mail,
	.rcpt = verify_rcpt,
	.message = verify_message,
};
