"""SMTP AUTH (RFC 4954): PLAIN and LOGIN, announce policy, requireSSL,
relaying for authenticated clients, real clients (swaks, curl, smtplib).

Users are made with mailetctl in each test's configuration. The daemon's
authorizedAddresses is 127.0.0.2/32, so 127.0.0.1 is an unauthorized client.
"""
import base64
import os
import smtplib
import subprocess
import time
from contextlib import contextmanager

import lib
from lib import Client, Daemon, TestFailure, check, run, running, wait_for
from test_tls import client_ctx, make_cert, need, starttls, tls_xml

PASSWORD = "s3cret-pw"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def plain(user, pw, authz=""):
    return b64("%s\0%s\0%s" % (authz, user, pw))


def auth_xml(announce="forUnauthorizedAddresses", require_ssl=None, plain_enabled=None,
             required=None):
    parts = []
    if announce is not None:
        parts.append("<announce>%s</announce>" % announce)
    if require_ssl is not None:
        parts.append("<requireSSL>%s</requireSSL>" % require_ssl)
    if plain_enabled is not None:
        parts.append("<plainAuthEnabled>%s</plainAuthEnabled>" % plain_enabled)
    if required is not None:
        parts.append("<required>%s</required>" % required)
    return "<auth>%s</auth>" % "".join(parts)


def add_user(d, name, pw=PASSWORD):
    r = subprocess.run([lib.MAILETCTL, "-c", d.conf, "user", "add", name, "--password-stdin"],
                       input=(pw + "\n").encode(), capture_output=True, timeout=30)
    check(r.returncode == 0, "mailetctl user add failed: %r" % r.stderr)


@contextmanager
def auth_daemon(tls=True, more="", users=("bob",), **auth):
    """A daemon with STARTTLS (unless tls=False), <auth> and users."""
    extra = auth_xml(**auth) + more
    if tls:
        extra = tls_xml("starttls") + extra
    d = Daemon(extra=extra)
    if tls:
        make_cert(d.conf, "mx.mailetd.test")
    for u in users:
        add_user(d, u)
    with running(d):
        yield d


def ehlo_lines(c):
    code, lines = c.cmd("EHLO client.example", 250)
    return [l[4:] for l in lines]


def tls_client(d, source=None):
    c = Client(d.port, source=source)
    c.expect(220)
    c.cmd("EHLO client.example", 250)
    starttls(c)
    return c


def spooled(d):
    ids = wait_for(d.spool_ids)
    check(len(ids) == 1, ids)
    return d.spool_cat(ids[0]).decode("utf-8", "replace")


def envelope_has(d, needle):
    """True if a file of the spool (an envelope) holds needle."""
    for root, _, files in os.walk(d.data):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                if needle in fh.read():
                    return True
    return False


def test_swaks_plain_and_login_relay():
    need("swaks")
    for mech in ("PLAIN", "LOGIN"):
        with auth_daemon() as d:
            rc, out, err = run(["swaks", "--tls", "--server", "127.0.0.1", "--port", str(d.port),
                                "--auth", mech, "--auth-user", "bob", "--auth-password", PASSWORD,
                                "--from", "bob@mailetd.test", "--to", "carol@remote.example",
                                "--helo", "client.example"])
            check(rc == 0, "swaks --auth %s failed: %s %s" % (mech, out, err))
            check("235 2.7.0 Authentication Successful" in out, out)
            check("250 2.6.0 Message received" in out, out)
            msg = spooled(d)
            check("with ESMTPSA id" in msg, msg[:600])
            log = d.log()
            check("event=auth client=127.0.0.1 mech=%s user=\"bob\"" % mech in log, log[-2000:])
            check(PASSWORD not in log and b64(PASSWORD) not in log, "password in the log")


def test_raw_exchange_replies():
    with auth_daemon() as d:
        c = tls_client(d)
        ext = ehlo_lines(c)
        check("AUTH LOGIN PLAIN" in ext and "AUTH=LOGIN PLAIN" in ext, ext)
        # Unauthenticated relay while AUTH is announced: 530.
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 530)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 503)  # inside a transaction
        c.cmd("RSET", 250)
        c.cmd("AUTH FOO", 504)
        c.cmd("AUTH", 501)
        c.cmd("AUTH PLAIN !!!!", 501)
        code, lines = c.cmd("AUTH LOGIN", 334)
        check(lines == ["334 VXNlcm5hbWU6"], lines)
        code, lines = c.cmd("*", 501)
        check(lines == ["501 5.7.1 Authentication aborted"], lines)
        code, lines = c.cmd("AUTH PLAIN", 334)
        check(lines == ["334 "], lines)
        code, lines = c.cmd("not base64", 501)
        check(lines == ["501 5.5.2 Could not decode parameters for AUTH PLAIN"], lines)
        code, lines = c.cmd("AUTH PLAIN " + plain("bob", "wrong"), 535)
        check(lines == ["535 5.7.8 Authentication credentials invalid"], lines)
        c.cmd("AUTH PLAIN " + plain("nobody", PASSWORD), 535)
        # A continuation line over 12288 octets ends the exchange with 501.
        c.cmd("AUTH PLAIN", 334)
        code, lines = c.cmd("A" * 13000, 501)
        # authzid of another user: only administrators may.
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD, authz="alice"), 535)
        # LOGIN with the user name as the initial response.
        code, lines = c.cmd("AUTH LOGIN " + b64("bob"), 334)
        check(lines == ["334 UGFzc3dvcmQ6"], lines)
        code, lines = c.cmd(b64(PASSWORD), 235)
        check(lines == ["235 2.7.0 Authentication Successful"], lines)
        code, lines = c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 503)
        check("previously authenticated" in lines[0], lines)
        c.cmd("MAIL FROM:<bob@mailetd.test> AUTH=bob+40mailetd.test", 250)
        c.cmd("RCPT TO:<y@remote.example>", 250)
        c.cmd("DATA", 354)
        c.send("From: bob@mailetd.test\r\nSubject: t\r\n\r\nbody\r\n.\r\n")
        c.expect(250)
        c.cmd("QUIT", 221)
        c.close()
        msg = spooled(d)
        check("with ESMTPSA id" in msg, msg[:600])
        check(envelope_has(d, b"org.apache.james.SMTPAuthUser"), "no SMTPAuthUser attribute")
        log = d.log()
        check("event=auth-failed client=127.0.0.1 mech=PLAIN user=\"bob\"" in log, log[-3000:])
        check("wrong" not in log, "password in the log")


def test_plain_as_continuation_and_equals():
    with auth_daemon() as d:
        c = tls_client(d)
        c.cmd("EHLO client.example", 250)
        c.cmd("AUTH PLAIN =", 501)  # an empty PLAIN message is not a valid one
        c.cmd("AUTH PLAIN", 334)
        c.cmd(plain("bob", PASSWORD), 235)
        c.close()


def test_require_ssl_refuses_cleartext():
    with auth_daemon(announce="always") as d:
        c = Client(d.port)
        c.expect(220)
        ext = ehlo_lines(c)
        check(not any(l.startswith("AUTH") for l in ext), ext)
        code, lines = c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 538)
        check(lines == ["538 5.7.11 Encryption required for requested authentication mechanism"],
              lines)
        # Not announced here: the relay attempt gets James's 550.
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 550)
        c.close()


def test_require_ssl_false_works_in_cleartext():
    with auth_daemon(tls=False, announce="always", require_ssl="false") as d:
        c = Client(d.port)
        c.expect(220)
        ext = ehlo_lines(c)
        check("AUTH LOGIN PLAIN" in ext, ext)
        c.cmd("AUTH LOGIN", 334)
        c.cmd(b64("bob"), 334)
        c.cmd(b64(PASSWORD), 235)
        c.cmd("MAIL FROM:<bob@mailetd.test>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 250)
        c.cmd("DATA", 354)
        c.send("From: bob@mailetd.test\r\nSubject: t\r\n\r\nbody\r\n.\r\n")
        c.expect(250)
        c.close()
        msg = spooled(d)
        check("with ESMTPA id" in msg, msg[:600])


def test_announce_policies():
    def offered(d, source):
        c = Client(d.port, source=source)
        c.expect(220)
        ext = ehlo_lines(c)
        c.close()
        return any(l.startswith("AUTH ") for l in ext)

    with auth_daemon(tls=False, announce="never", require_ssl="false") as d:
        check(not offered(d, "127.0.0.1"), "never: AUTH announced")
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)  # still usable, as James
        c.close()
    with auth_daemon(tls=False, announce="ALWAYS", require_ssl="false") as d:
        check(offered(d, "127.0.0.1") and offered(d, "127.0.0.2"), "always: not announced")
    with auth_daemon(tls=False, announce="forUnauthorizedAddresses", require_ssl="false") as d:
        check(offered(d, "127.0.0.1"), "unauthorized client: not announced")
        check(not offered(d, "127.0.0.2"), "authorized client: announced")
    # Deprecated <authRequired>true</authRequired> means forUnauthorizedAddresses.
    with auth_daemon(tls=False, announce=None, require_ssl="false",
                     more="<authRequired>true</authRequired>") as d:
        check(offered(d, "127.0.0.1") and not offered(d, "127.0.0.2"), "authRequired")
    d = Daemon(extra=auth_xml(announce="sometimes"))
    rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
    check(rc != 0 and "announce" in err, "bad announce accepted: %s %s" % (out, err))


def test_plain_auth_disabled():
    with auth_daemon(plain_enabled="false") as d:
        c = tls_client(d)
        ext = ehlo_lines(c)
        check(not any(l.startswith("AUTH") for l in ext), ext)
        code, lines = c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 504)
        check(lines == ["504 5.5.4 Unrecognized Authentication Type"], lines)
        c.cmd("MAIL FROM:<x@example.org>", 250)
        c.cmd("RCPT TO:<y@remote.example>", 550)
        c.close()


def test_no_auth_loader():
    chain = ('<handlerchain coreHandlersPackage='
             '"org.apache.james.smtpserver.NoAuthCmdHandlerLoader"/>')
    with auth_daemon(announce="always", more=chain) as d:
        c = tls_client(d)
        ext = ehlo_lines(c)
        check(not any(l.startswith("AUTH") for l in ext), ext)
        code, lines = c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 500)
        check(lines == ["500 5.5.1 Command AUTH unrecognized."], lines)
        c.close()


def test_auth_required_submission():
    with auth_daemon(required="true") as d:
        c = tls_client(d)
        c.cmd("EHLO client.example", 250)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test>", 530)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        c.cmd("MAIL FROM:<bob@mailetd.test>", 250)
        c.close()


def test_repeated_failures_are_slowed():
    with auth_daemon() as d:
        c = tls_client(d)
        c.cmd("EHLO client.example", 250)
        for _ in range(3):
            c.cmd("AUTH PLAIN " + plain("bob", "bad"), 535)
        t = time.time()
        c.cmd("AUTH PLAIN " + plain("bob", "bad"), 535)
        check(time.time() - t >= 1.8, "fourth failure not slowed")
        c.close()
        check(d.log().count("event=auth-failed") >= 4, d.log()[-2000:])


def test_curl_and_smtplib_login():
    need("curl")
    msg = b"From: bob@mailetd.test\r\nTo: y@remote.example\r\nSubject: curl\r\n\r\ncurl auth\r\n"
    with auth_daemon() as d:
        rc, out, err = run(["curl", "-sS", "--max-time", "20", "--ssl-reqd", "--insecure",
                            "smtp://127.0.0.1:%d/client.example" % d.port,
                            "--user", "bob:" + PASSWORD,
                            "--mail-from", "bob@mailetd.test",
                            "--mail-rcpt", "y@remote.example", "-T", "-"], input=msg)
        check(rc == 0, "curl --user failed (%d): %s" % (rc, err))
        check("with ESMTPSA id" in spooled(d), "not ESMTPSA")
    with auth_daemon() as d:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.starttls(context=client_ctx())
            s.ehlo("client.example")
            check(s.has_extn("auth"), "AUTH not offered after STARTTLS")
            s.login("bob", PASSWORD)
            s.sendmail("bob@mailetd.test", ["y@remote.example"], b"From: bob@mailetd.test\r\nSubject: x\r\n\r\nsmtplib\r\n")
        check("with ESMTPSA id" in spooled(d), "not ESMTPSA")
        with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.starttls(context=client_ctx())
            s.ehlo("client.example")
            try:
                s.login("bob", "wrong")
                raise TestFailure("wrong password accepted")
            except smtplib.SMTPAuthenticationError as e:
                check(e.smtp_code == 535, e)


def test_admin_may_act_as_another_user():
    d = Daemon(extra=tls_xml("starttls") + auth_xml())
    d.write("usersrepository.xml", "<usersrepository name=\"LocalUsers\">\n"
            "<administratorId>admin</administratorId>\n</usersrepository>\n")
    make_cert(d.conf, "mx.mailetd.test")
    for u in ("admin", "bob", "alice"):
        add_user(d, u)
    d.start()
    try:
        c = tls_client(d)
        c.cmd("EHLO client.example", 250)
        c.cmd("AUTH PLAIN " + plain("alice", PASSWORD, authz="bob"), 535)
        c.cmd("AUTH PLAIN " + plain("admin", PASSWORD, authz="nobody"), 535)
        c.cmd("AUTH PLAIN " + plain("admin", PASSWORD, authz="bob"), 235)
        c.close()
        check('event=auth client=127.0.0.1 mech=PLAIN user="bob"' in d.log(), d.log()[-2000:])
    except BaseException:
        d.close(ok=False)
        raise
    d.close()
