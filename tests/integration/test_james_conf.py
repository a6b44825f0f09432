"""James's own SMTP test configurations (../shared/james-conf/protocols-smtp-tests/
smtpserver-*.xml) load into mailetd and behave as their names say.

Each file is copied into a temporary configuration with ONLY its
`<bind>0.0.0.0:0</bind>` rewritten to a free loopback port; the TLS
variant's `classpath://keystore` is satisfied by a PKCS#12 keystore made
with James's password in the configuration directory (no rewrite).
"""
import base64
import os
import re
import socket
import ssl
import struct

from lib import Client, Daemon, TestFailure, TestSkipped, check, run, running
from test_auth import PASSWORD, add_user
from test_tls import make_cert, need

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.environ.get("JAMES_CONF") or os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "shared", "james-conf")), "protocols-smtp-tests")
GREETING = "220 Apache JAMES awesome SMTP Server"
JAMES_SECRET = "james72laBalle"


def corpus_file(name):
    path = os.path.join(CORPUS, "smtpserver-%s.xml" % name)
    if not os.path.isdir(CORPUS):
        # The corpus sits beside the project in the developers' workplace,
        # not in a bare clone: say so rather than fail.
        raise TestSkipped("James corpus not found at %s (set JAMES_CONF)" % CORPUS)
    if not os.path.exists(path):
        raise TestFailure("%s not found (the James configuration corpus)" % path)
    return path


def james_daemon(name, prepare=None):
    """A Daemon whose smtpserver.xml is James's file with the port rewritten."""
    d = Daemon()
    text = open(corpus_file(name)).read()
    check(text.count("<bind>0.0.0.0:0</bind>") == 1, "%s: no single <bind>0.0.0.0:0" % name)
    d.write("smtpserver.xml", text.replace("<bind>0.0.0.0:0</bind>",
                                           "<bind>127.0.0.1:%d</bind>" % d.port))
    if prepare:
        prepare(d)
    add_user(d, "bob")
    return d


def b64(s):
    return base64.b64encode(s.encode()).decode()


def session(d, source=None, tls=False):
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        c = Client.__new__(Client)
        c.sock = ctx.wrap_socket(raw, server_hostname="mx.mailetd.test")
        c.buf = b""
    else:
        c = Client(d.port, source=source)
    code, lines = c.read_reply()
    check(lines == [GREETING], "greeting %r (smtpGreeting of the file)" % lines)
    return c


def ehlo(c):
    code, lines = c.cmd("EHLO client.example", 250)
    return [l[4:] for l in lines[1:]]


def auth_line(ext):
    """The AUTH keyword line (RFC 4954), without the old "AUTH=" form."""
    return [l for l in ext if l.startswith("AUTH ") or l == "AUTH"]


def plain_auth(c):
    return c.cmd("AUTH PLAIN " + b64("\0bob\0" + PASSWORD))


def test_auth_announce_always():
    with running(james_daemon("authAnnounceAlways")) as d:
        c = session(d)
        check(auth_line(ehlo(c)) == ["AUTH LOGIN PLAIN"], "announce always")
        code, _ = plain_auth(c)
        check(code == 235, "AUTH PLAIN: %d" % code)
        c.close()


def test_auth_announce_never():
    with running(james_daemon("authAnnounceNever")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        # not announced to the client, so a relay attempt gets James's 550
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 550)
        c.close()


def test_auth_announce_sometime_matching():
    # authorizedAddresses 0.0.0.0/0.0.0.0: every client matches, none gets AUTH
    with running(james_daemon("authAnnounceSometimeMatching")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 250)  # authorized: relays
        c.close()


def test_auth_announce_sometime_not_matching():
    # authorizedAddresses 192.168.0.1: 127.0.0.1 does not match and gets AUTH
    with running(james_daemon("authAnnounceSometimeNotMatching")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == ["AUTH LOGIN PLAIN"], ext)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 530)  # announced: 530, not 550
        c.close()


def test_require_ssl():
    with running(james_daemon("requireSSL")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        code, lines = plain_auth(c)
        check(code == 538, "AUTH in cleartext with requireSSL: %r" % lines)
        c.close()


def test_no_plain():
    with running(james_daemon("no-plain")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        code, lines = plain_auth(c)
        check(code == 504 and "Unrecognized Authentication Type" in lines[0], lines)
        code, lines = c.cmd("AUTH LOGIN")
        check(code == 504, lines)
        c.close()


def test_noauth():
    # no <auth> at all: nothing is announced
    with running(james_daemon("noauth")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 550)
        c.close()


def test_disabled_auth():
    # NoAuthCmdHandlerLoader: AUTH does not exist (James's NoAuthTest)
    with running(james_daemon("disabled-auth")) as d:
        c = session(d)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        code, lines = plain_auth(c)
        check(lines == ["500 5.5.1 Command AUTH unrecognized."], lines)
        c.close()


def test_configured_auth_loads_and_says_what_does_not_run():
    """ConfigurationAuthHook (static accounts) runs: with
    NoAuthCmdHandlerLoader and AuthCmdHandler named, AUTH exists and the
    accounts of the file authenticate (any of an account's passwords); a
    wrong password gets 535; AuthCmdHandler itself is built in (warned)."""
    with running(james_daemon("configured-auth")) as d:
        log = d.log()
        check("ConfigurationAuthHook: not supported yet" not in log, log[-2000:])
        check("org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler: built into mailetd"
              in log, log[-2000:])
        c = session(d)
        ehlo(c)
        code, lines = c.cmd("AUTH PLAIN " + b64("\0noreply-tdrive@domain.tld\0wrong"))
        check(lines == ["535 5.7.8 Authentication credentials invalid"], lines)
        code, lines = c.cmd("AUTH PLAIN " + b64("\0noreply-tchat@domain.tld\0secret123456"))
        check(code == 535, lines)  # another account's password
        code, lines = c.cmd("AUTH PLAIN " + b64("\0noreply-tdrive@domain.tld\0"
                                                "here_to_ease_secret_rotation"))
        check(lines == ["235 2.7.0 Authentication Successful"], lines)
        c.close()
        c = session(d)
        ehlo(c)
        code, lines = c.cmd("AUTH LOGIN " + b64("noreply-tchat@domain.tld"), 334)
        code, lines = c.cmd(b64("secret234567"))
        check(lines == ["235 2.7.0 Authentication Successful"], lines)
        c.close()
        log = d.log()
        check('event=auth client=127.0.0.1 mech=LOGIN user="noreply-tchat@domain.tld"' in log
              or "event=auth client=127.0.0.1 mech=LOGIN user=noreply-tchat@domain.tld" in log,
              log[-2000:])
        check("secret" not in log, "a password in the log")


def test_tls_socket():
    need("openssl")

    def keystore(d):
        make_cert(d.conf, "mx.mailetd.test", key="k.pem", cert="c.pem")
        rc, out, err = run(["openssl", "pkcs12", "-export", "-inkey", os.path.join(d.conf, "k.pem"),
                            "-in", os.path.join(d.conf, "c.pem"), "-out",
                            os.path.join(d.conf, "keystore"), "-passout", "pass:" + JAMES_SECRET])
        check(rc == 0, err)

    with running(james_daemon("tls", keystore)) as d:
        c = session(d, tls=True)
        ext = ehlo(c)
        check(auth_line(ext) == ["AUTH LOGIN PLAIN"], ext)
        check("STARTTLS" not in ext, ext)
        code, _ = plain_auth(c)
        check(code == 235, code)
        c.close()
        # cleartext on the implicit-TLS port gets no greeting
        raw = Client(d.port)
        raw.send("EHLO client.example\r\n")
        check(raw.closed(10) and not raw.buf.startswith(b"220"), raw.buf)
        raw.close()


def test_proxy_required():
    with running(james_daemon("proxy")) as d:
        # no header: dropped without a greeting
        c = Client(d.port)
        c.send("EHLO client.example\r\n")
        check(c.closed(5) and c.buf == b"", c.buf)
        c.close()
        # a v1 header from an authorized address (127.0.0.0/8): no AUTH, relays
        c = Client(d.port)
        c.send("PROXY TCP4 127.0.0.9 127.0.0.1 40000 25\r\n")
        c.expect(220)
        ext = ehlo(c)
        check(auth_line(ext) == [], ext)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 250)
        c.close()
        # a v2 header from outside: AUTH offered, relay refused
        body = socket.inet_aton("192.0.2.7") + socket.inet_aton("127.0.0.1") + \
            struct.pack("!HH", 40001, 25)
        c = Client(d.port)
        c.send(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11" + struct.pack("!H", len(body)) + body)
        c.expect(220)
        ext = ehlo(c)
        check(auth_line(ext) == ["AUTH LOGIN PLAIN"], ext)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 530)
        c.close()
        check("event=connect client=192.0.2.7" in d.log(), d.log()[-2000:])
