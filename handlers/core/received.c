/*
 * received.c - James's ReceivedDataLineFilter (reference 1b.5): the
 * Received: trace header (RFC 5321 4.4) on top of every message, as a
 * data line filter that writes at the start of the data (data_begin), so
 * it costs nothing per line.
 *
 *   Received: from <helo> ([<ip>])
 *   	(using <TLS version> with cipher <cipher>)      under TLS only
 *   	by <helloName> (mailetd) with <protocol> id <msgid>
 *   	for <rcpt>; <date>                              one recipient
 *
 * With several recipients the "by" line ends with ";" and the date has
 * its own line (no "for": the recipients are not disclosed). The TLS
 * comment has James's form; the protocol is RFC 3848's (and RFC 6531's
 * UTF8SMTP forms), chosen by the session.
 */
#include "core_handlers.h"

#include "../../src/config/config.h"
#include "../../src/core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
received_data_begin(const struct hook_session *s)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);

	const char *helo = s->helo != NULL ? s->helo : "unknown";
	char tls[128] = "";
	if (s->tls_active && s->tls_version != NULL && s->tls_cipher != NULL)
		snprintf(tls, sizeof(tls), "\r\n\t(using %s with cipher %s)", s->tls_version,
		    s->tls_cipher);
	const char *proto = s->protocol != NULL ? s->protocol : "SMTP";
	const char *msgid = s->msgid != NULL ? s->msgid : "";
	char *hdr;
	if (s->nrcpts == 1 && s->rcpts != NULL)
		hdr = xasprintf("Received: from %s ([%s])%s\r\n\tby %s (mailetd) with %s id %s\r\n"
				"\tfor <%s>; %s\r\n",
		    helo, s->client_text, tls, s->server->hello_name, proto, msgid, s->rcpts[0],
		    date);
	else
		hdr = xasprintf("Received: from %s ([%s])%s\r\n\tby %s (mailetd) with %s id %s;\r\n"
				"\t%s\r\n",
		    helo, s->client_text, tls, s->server->hello_name, proto, msgid, date);
	hook_data_write(s, hdr, strlen(hdr)); /* a failure is the session's 451 */
	free(hdr);
}

const struct handler_def handler_received = {
	.name = "ReceivedDataLineFilter",
	.james_class = "org.apache.james.protocols.smtp.core.ReceivedDataLineFilter",
	.summary = "the Received: trace header on top of each message",
	.data_begin = received_data_begin,
};
