"""Relay authorization: never an open relay."""
from lib import Client, check, daemon, greet
import lib

TRICKS = [
    "<victim@elsewhere.example>",
    "<victim%elsewhere.example@mailetd.test>",
    "<elsewhere.example!victim@mailetd.test>",
    '<"victim@elsewhere.example"@mailetd.test>',
    "<@mailetd.test:victim@elsewhere.example>",
    "<victim@[127.0.0.1]>",
    "<victim@elsewhere.example.>",
    "<victim@mailetd.test.elsewhere.example>",
    # Forms nmap's smtp-open-relay script tries, and relatives: tricks with
    # no domain (the default domain gets appended), our own address as a
    # literal, double @, source routes through a literal.
    '<"victim@elsewhere.example">',
    '<"victim%elsewhere.example">',
    "<elsewhere.example!victim>",
    "<victim%elsewhere.example@[127.0.0.1]>",
    "<elsewhere.example!victim@[127.0.0.1]>",
    "<victim@elsewhere.example@mailetd.test>",
    "<victim@elsewhere.example@[127.0.0.1]>",
    '<"victim@elsewhere.example"@[127.0.0.1]>',
    "<@[127.0.0.1]:victim@elsewhere.example>",
    # Case and trailing dots on the local domain do not turn a trick local.
    "<victim%elsewhere.example@MAILETD.TEST>",
    "<victim%elsewhere.example@mailetd.test.>",
    "<elsewhere.example!victim@MailetD.Test>",
    "<victim@[IPv6:::1]>",
    "<victim@elsewhere.example:25>",
    "<victim@elsewhere.example\\@mailetd.test>",
]


def test_relay_denied_from_unauthorized_and_local_ok():
    with daemon(authorized="127.0.0.2/32") as d:
        # A fresh session every 10 tricks, below the error ceiling (maxErrors).
        for i in range(0, len(TRICKS), 10):
            c = greet(d.port)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            for t in TRICKS[i:i + 10]:
                code, l = c.cmd("RCPT TO:" + t)
                check(code >= 500 and code != 421, "%s accepted: %r" % (t, l))
            c.cmd("QUIT", 221)
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
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
        raise lib.TestSkipped("no IPv6 loopback on this machine")
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


def _shipped_config(d, hello_local):
    """The shipped conf/ files, changed only where a test must: free ports
    for every server, our data directory, and authorizedAddresses
    127.0.0.2/32 instead of 127.0.0.0/8, so that the probe from 127.0.0.1
    is unauthorized. Returns the ports of the enabled servers, the plain
    one (the shipped 2525) first."""
    import os
    import re
    import shutil
    from lib import free_port, run
    confdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf")
    with open(os.path.join(confdir, "smtpserver.xml")) as f:
        smtp = f.read()
    ports = []  # every server's, enabled or not

    def rebind(m):
        p = d.port if m.group(1).strip() == "127.0.0.1:2525" else free_port()
        ports.append(p)
        return "<bind>127.0.0.1:%d</bind>" % p
    check("<bind>127.0.0.1:2525</bind>" in smtp,
          "shipped smtpserver.xml has no <bind>127.0.0.1:2525</bind>")
    smtp = re.sub(r"<bind>([^<]*)</bind>", rebind, smtp)
    smtp, n = re.subn(r"<authorizedAddresses>[^<]*</authorizedAddresses>",
                      "<authorizedAddresses>127.0.0.2/32</authorizedAddresses>", smtp)
    check(n >= 1, "shipped smtpserver.xml has no authorizedAddresses")
    if hello_local:
        # nmap builds some tricks on the server's greeting name: make it a
        # local domain so those tricks aim inside our own domains.
        smtp, n = re.subn(r"<helloName[^>]*/>|<helloName[^>]*>[^<]*</helloName>",
                          '<helloName autodetect="false">mailetd.test</helloName>', smtp)
        check(n >= 1, "shipped smtpserver.xml has no helloName")
    d.write("smtpserver.xml", smtp)
    with open(os.path.join(confdir, "domainlist.xml")) as f:
        d.write("domainlist.xml", f.read())
    # TLS servers read their key and certificate from file://conf/: the
    # shipped pair when "make tls-cert" made one, else a throwaway one.
    for name in set(re.findall(r"file://conf/([^<\s]+)", smtp)):
        src = os.path.join(confdir, name)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(d.conf, name))
    keys = re.findall(r"<privateKey>file://conf/([^<]+)</privateKey>", smtp)
    certs = re.findall(r"<certificates>file://conf/([^<]+)</certificates>", smtp)
    if keys and certs and not os.path.exists(os.path.join(d.conf, keys[0])):
        rc, out, err = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "2", "-subj", "/CN=localhost",
                            "-keyout", os.path.join(d.conf, keys[0]),
                            "-out", os.path.join(d.conf, certs[0])])
        check(rc == 0, "openssl: %s" % err)
    # Ports of the servers that are enabled, in file order.
    blocks = re.findall(r"<smtpserver(?:\s+enabled=\"(\w+)\")?\s*>(.*?)</smtpserver>", smtp, re.S)
    enabled = []
    for flag, body in blocks:
        m = re.search(r"<bind>127\.0\.0\.1:(\d+)</bind>", body)
        if m and flag != "false":
            enabled.append(int(m.group(1)))
    check(enabled and enabled[0] == d.port, "the plain server on 2525 is not enabled")
    return enabled


def test_nmap_smtp_open_relay_probe():
    """nmap's smtp-open-relay script against the shipped configuration."""
    import shutil
    from lib import Daemon, run
    check(shutil.which("nmap") is not None,
          "nmap is missing: run build-aux/install-deps.sh (make deps)")
    # First the probe itself: from an authorized address it must find the relay.
    d = Daemon(authorized="127.0.0.1/32")
    d.start()
    try:
        rc, out, err = run(["nmap", "-n", "-Pn", "-p", str(d.port), "--script",
                            "+smtp-open-relay", "127.0.0.1"], timeout=120)
        check("is an open relay" in out, "nmap does not see an authorized client relay:\n" + out)
    finally:
        d.close()
    for hello_local in (False, True):
        d = Daemon()
        ports = _shipped_config(d, hello_local)
        d.start()
        try:
            # nmap tries TLS itself where plain SMTP fails.
            # (the TLS servers only once: nmap is slow on them)
            for port, domain in [(d.port, "elsewhere.example"), (d.port, "nmap.scanme.org")] + \
                    [(p, "nmap.scanme.org") for p in ports[1:] if not hello_local]:
                rc, out, err = run(["nmap", "-n", "-Pn", "-p", str(port),
                                    # "+": run even though the port is not 25/465/587.
                                    "--script", "+smtp-open-relay",
                                    "--script-args", "smtp-open-relay.domain=%s" % domain,
                                    "127.0.0.1"], timeout=120)
                check(rc == 0, "nmap failed: %s %s" % (out, err))
                check("smtp-open-relay:" in out, "no smtp-open-relay result:\n" + out)
                check("is an open relay" not in out, "OPEN RELAY:\n" + out)
                check("doesn't seem to be an open relay" in out or
                      "isn't an open relay" in out, "unexpected nmap verdict:\n" + out)
                print("nmap (port %s, helloName %s, domain %s): %s" % (
                    "plain" if port == d.port else port,
                    "mailetd.test" if hello_local else "shipped", domain,
                    [l.strip("|_ ") for l in out.splitlines() if "relay" in l][-1]))
        finally:
            d.close()
