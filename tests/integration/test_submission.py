"""The submission server as clients see it: HELP, STARTTLS after a cleartext
AUTH (RFC 3207 4.2), and a JavaMail client configured like LabKey and XNAT.

The daemon's authorizedAddresses is 127.0.0.2/32, so 127.0.0.1 must
authenticate to relay.
"""
import os
import shutil
import subprocess
import tempfile

from lib import Client, Daemon, TestFailure, check, run, running, wait_for
from test_auth import PASSWORD, add_user, auth_daemon, auth_xml, plain, spooled
from test_tls import make_cert, need, starttls, tls_xml

HERE = os.path.dirname(os.path.abspath(__file__))
JAVAMAIL_JARS = ["/usr/share/java/javax.mail.jar", "/usr/share/java/javax.activation.jar"]


def help_verbs(c):
    code, lines = c.cmd("HELP", 214)
    return lines[1][4:].split()


def test_help_lists_starttls_and_auth_when_offered():
    with auth_daemon(announce="always") as d:  # requireSSL default: AUTH only after TLS
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        verbs = help_verbs(c)
        check("STARTTLS" in verbs and "AUTH" not in verbs, verbs)
        starttls(c)
        c.cmd("EHLO client.example", 250)
        verbs = help_verbs(c)
        check("AUTH" in verbs and "STARTTLS" not in verbs, verbs)
        check("MAIL" in verbs and "QUIT" in verbs, verbs)
        c.close()
    with auth_daemon(tls=False, announce="never") as d:
        c = Client(d.port)
        c.expect(220)
        verbs = help_verbs(c)
        check("AUTH" not in verbs and "STARTTLS" not in verbs, verbs)
        c.close()
    with auth_daemon(tls=False, announce="forUnauthorizedAddresses", require_ssl="false") as d:
        for source, offered in (("127.0.0.1", True), ("127.0.0.2", False)):
            c = Client(d.port, source=source)
            c.expect(220)
            verbs = help_verbs(c)
            check(("AUTH" in verbs) == offered, "%s: %r" % (source, verbs))
            c.close()


def test_starttls_forgets_a_cleartext_login():
    """RFC 3207 4.2: after STARTTLS the client is no longer authenticated."""
    with auth_daemon(announce="always", require_ssl="false") as d:
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        c.cmd("MAIL FROM:<bob@mailetd.test>", 250)     # verifyIdentity: his own address
        c.cmd("RCPT TO:<carol@remote.example>", 250)   # relaying: authenticated
        c.cmd("RSET", 250)
        starttls(c)
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<someone@example.org>", 250)
        code, lines = c.cmd("RCPT TO:<carol@remote.example>")
        check(code == 530, "relay after STARTTLS without a new AUTH: %r" % lines)
        c.cmd("RSET", 250)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)  # not "already authenticated"
        c.cmd("MAIL FROM:<bob@mailetd.test>", 250)
        c.cmd("RCPT TO:<carol@remote.example>", 250)
        c.cmd("DATA", 354)
        c.cmd("From: <bob@mailetd.test>\r\nSubject: after STARTTLS\r\n\r\nhello\r\n.", 250)
        c.cmd("QUIT", 221)
        c.close()
        msg = spooled(d)
        check("(using TLSv1." in msg and "with cipher TLS_" in msg, msg[:600])
        check("with ESMTPSA id" in msg, msg[:600])


def javac_sendmail(workdir):
    """Compiles SendMail.java into workdir; returns the class path."""
    need("javac")
    need("java")
    for jar in JAVAMAIL_JARS:
        if not os.path.exists(jar):
            raise TestFailure("%s missing (build-aux/install-deps.sh installs libmail-java)" % jar)
    cp = ":".join(JAVAMAIL_JARS + [workdir])
    rc, out, err = run(["javac", "-d", workdir, "-cp", cp,
                        os.path.join(HERE, "java", "SendMail.java")], timeout=180)
    check(rc == 0, "javac failed: %s %s" % (out, err))
    return cp


def test_javamail_starttls_auth_and_implicit_tls():
    work = tempfile.mkdtemp(prefix="mailetd-java-")
    try:
        cp = javac_sendmail(work)
        for mode in ("starttls", "smtps"):
            tls_mode = "starttls" if mode == "starttls" else "implicit"
            d = Daemon(extra=tls_xml(tls_mode) + auth_xml(announce="always", required="true"),
                       timeout=30)
            make_cert(d.conf, "mx.mailetd.test")
            add_user(d, "bob")
            with running(d):
                args = ["java", "-cp", cp, "SendMail", mode, "127.0.0.1", str(d.port), "bob",
                        PASSWORD, "bob@mailetd.test", "carol@remote.example"]
                rc, out, err = run(args, timeout=120)
                check(rc == 0, "%s: JavaMail failed: %s %s\n%s" % (mode, out, err,
                                                                   d.log()[-2000:]))
                check("250" in out, out)
                msg = spooled(d)
                check("Subject: JavaMail %s" % mode in msg, msg[:800])
                check("with ESMTPSA id" in msg and "(using TLSv1." in msg, msg[:800])
                # A wrong password is refused (and JavaMail reports it).
                bad = list(args)
                bad[8] = "wrong-password"
                rc, out, err = run(bad, timeout=120)
                check(rc != 0 and "535" in err, "%s: wrong password: rc %d %s" % (mode, rc, err))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_tls_commands_right_after_the_handshake_are_answered():
    """A client that sends its commands in the same flight as its TLS Finished
    (openssl s_client does) gets every reply before the close. Regression: a
    late write callback of the OpenSSL bufferevent freed the session with the
    EHLO and QUIT replies still queued."""
    import socket
    import ssl
    for mode in ("implicit", "starttls"):
        d = Daemon(extra=tls_xml(mode))
        make_cert(d.conf, "mx.mailetd.test")
        with running(d):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            for i in range(15):
                raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
                if mode == "starttls":
                    c = Client.__new__(Client)
                    c.sock, c.buf = raw, b""
                    c.expect(220)
                    c.cmd("EHLO client.example", 250)
                    c.cmd("STARTTLS", 220)
                tls = ctx.wrap_socket(raw, server_hostname="mx.mailetd.test")
                tls.sendall(b"EHLO client.example\r\nQUIT\r\n")
                got = b""
                while True:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                tls.close()
                check(b"\r\n250 " in b"\r\n" + got and b"221 2.0.0" in got,
                      "%s, try %d: replies lost: %r" % (mode, i, got))
