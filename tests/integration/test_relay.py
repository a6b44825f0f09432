"""Relay authorization: never an open relay."""
from lib import Client, check, daemon, greet

TRICKS = [
    "<victim@elsewhere.example>",
    "<victim%elsewhere.example@mailetd.test>",
    "<elsewhere.example!victim@mailetd.test>",
    '<"victim@elsewhere.example"@mailetd.test>',
    "<@mailetd.test:victim@elsewhere.example>",
    "<victim@[127.0.0.1]>",
    "<victim@elsewhere.example.>",
    "<victim@mailetd.test.elsewhere.example>",
]


def test_relay_denied_from_unauthorized_and_local_ok():
    with daemon(authorized="127.0.0.2/32") as d:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        for t in TRICKS:
            code, l = c.cmd("RCPT TO:" + t)
            check(code >= 500, "%s accepted: %r" % (t, l))
        code, l = c.cmd("RCPT TO:<victim@elsewhere.example>", 550)
        check("5.7.1 Requested action not taken: relaying denied" in l[0], l)
        c.cmd("RCPT TO:<user@MAILETD.TEST>", 250)
        c.cmd("RCPT TO:<postmaster@mailetd.test>", 250)
        c.cmd("QUIT", 221)


def test_relay_allowed_from_authorized_address():
    with daemon(authorized="127.0.0.2/32") as d:
        c = greet(d.port, source="127.0.0.2")
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<friend@elsewhere.example>", 250)
        c.cmd("QUIT", 221)


def test_no_authorized_addresses_means_no_relay():
    with daemon(authorized="") as d:
        for src in ("127.0.0.1", "127.0.0.2"):
            c = greet(d.port, source=src)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("RCPT TO:<friend@elsewhere.example>", 550)
            c.cmd("QUIT", 221)


def test_ipv6_bind_and_ipv6_authorized_prefix():
    import socket
    from lib import free_port
    port = free_port()
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        print("SKIPPED: no IPv6 loopback on this machine")
        return
    with daemon(bind="[::1]:%d" % port, port=port, authorized="::1/128") as d:
        s = socket.create_connection(("::1", port), timeout=10)
        c = Client.__new__(Client)
        c.sock, c.buf = s, b""
        c.expect(220)
        code, l = c.cmd("EHLO client.example", 250)
        check("[::1]" in l[0], l)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<friend@elsewhere.example>", 250)
        c.cmd("QUIT", 221)
