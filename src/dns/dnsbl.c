/* dnsbl.c - DNS blocklist names and answers (see dnsbl.h). */
#include "dnsbl.h"

#include <string.h>
#include <sys/socket.h>

/* Zone syntax: labels of 1-63 printable octets, no "\" or blanks. */
static bool
zone_ok(const char *zone)
{
	size_t len = strlen(zone);
	if (len > 0 && zone[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)zone[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (c <= ' ' || c >= 0x7f || c == '\\' || ++label > 63) {
			return false;
		}
	}
	return label > 0;
}

int
dnsbl_query_name(const struct netaddr *client, const char *zone, char *buf, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct netaddr a = *client;

	if (!zone_ok(zone))
		return -1;
	if (a.family == AF_INET6 && memcmp(a.addr, mapped, sizeof(mapped)) == 0) {
		a.family = AF_INET;
		memmove(a.addr, client->addr + 12, 4);
		memset(a.addr + 4, 0, 12);
	}
	return dns_reverse_name(&a, zone, buf, len);
}

void
dnsbl_interpret(const struct dns_result *a, struct dnsbl_answer *out)
{
	memset(out, 0, sizeof(*out));
	switch (a->status) {
	case DNS_FOUND:
		break;
	case DNS_TEMPFAIL:
		out->verdict = DNSBL_TEMPFAIL;
		return;
	default:
		out->verdict = DNSBL_NOT_LISTED;
		return;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct netaddr *x = &a->rr[i].addr;
		if (x->family != AF_INET || x->addr[0] != 127)
			continue;
		if (x->addr[1] == 255 && x->addr[2] == 255)
			continue; /* 127.255.255.x: an error code, not a listing */
		if (x->addr[1] == 0 && x->addr[2] == 0 && x->addr[3] == 1)
			continue; /* 127.0.0.1 is never a listing */
		uint8_t c = x->addr[3];
		size_t k = 0;
		while (k < out->ncodes && out->codes[k] < c)
			k++;
		if ((k < out->ncodes && out->codes[k] == c) || out->ncodes == DNSBL_MAX_CODES)
			continue;
		memmove(out->codes + k + 1, out->codes + k, out->ncodes - k);
		out->codes[k] = c;
		out->ncodes++;
	}
	out->verdict = out->ncodes > 0 ? DNSBL_LISTED : DNSBL_ERROR;
}

bool
dnsbl_has_code(const struct dnsbl_answer *ans, uint8_t code)
{
	for (size_t i = 0; i < ans->ncodes; i++)
		if (ans->codes[i] == code)
			return true;
	return false;
}

size_t
dnsbl_detail(const struct dns_result *txt, char *buf, size_t len)
{
	size_t n = 0;
	if (len == 0)
		return 0;
	if (txt->status == DNS_FOUND && txt->n > 0 && txt->rr[0].text != NULL) {
		const char *s = txt->rr[0].text;
		for (size_t i = 0; i < txt->rr[0].len && n + 1 < len; i++) {
			unsigned char c = (unsigned char)s[i];
			buf[n++] = c >= ' ' && c < 0x7f ? (char)c : '?';
		}
	}
	buf[n] = '\0';
	return n;
}
