"""TLS: implicit TLS (RFC 8314), STARTTLS (RFC 3207), key material, SNI.

Every test makes its own self-signed certificates (EC keys: quick) in the
test's configuration directory.
"""
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
from contextlib import contextmanager

from lib import Client, Daemon, TestFailure, check, run, running, wait_for

PEM_KEYS = """<privateKey>file://conf/private.key</privateKey>
      <certificates>file://conf/certs.pem</certificates>"""


def need(prog):
    if shutil.which(prog) is None:
        raise TestFailure("%s is not installed (build-aux/install-deps.sh installs it)" % prog)


def make_cert(conf, cn, key="private.key", cert="certs.pem", password=None):
    """A self-signed certificate for cn in conf/cert, its key in conf/key."""
    cmd = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-days", "30", "-subj", "/CN=" + cn,
           "-addext", "subjectAltName=DNS:" + cn,
           "-keyout", os.path.join(conf, key), "-out", os.path.join(conf, cert)]
    cmd += ["-passout", "pass:" + password] if password else ["-nodes"]
    rc, out, err = run(cmd)
    check(rc == 0, "openssl req failed: %s" % err)


def tls_xml(mode, keys=PEM_KEYS, more=""):
    attrs = 'socketTLS="true" startTLS="false"' if mode == "implicit" else \
        'socketTLS="false" startTLS="true"'
    return "<tls %s>\n      %s\n      %s\n    </tls>" % (attrs, keys, more)


@contextmanager
def tls_daemon(mode="starttls", keys=PEM_KEYS, more="", certs=True, **kw):
    """A daemon with <tls> whose certificate is made before it starts."""
    d = Daemon(extra=tls_xml(mode, keys, more), **kw)
    if certs:
        make_cert(d.conf, "mx.mailetd.test")
    with running(d):
        yield d


def client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def check_tls_received(d, proto="ESMTPS"):
    ids = wait_for(d.spool_ids)
    check(len(ids) == 1, ids)
    msg = d.spool_cat(ids[0]).decode("utf-8", "replace")
    check("with %s id" % proto in msg, msg[:600])
    check("(using TLSv1." in msg and "with cipher TLS_" in msg, msg[:600])
    return msg


def starttls(c, ctx=None):
    """EHLO, STARTTLS, handshake on the raw client c; returns the TLS socket."""
    c.cmd("STARTTLS", 220)
    c.sock = (ctx or client_ctx()).wrap_socket(c.sock, server_hostname="mx.mailetd.test")
    return c.sock


def test_starttls_openssl_s_client():
    need("openssl")
    with tls_daemon() as d:
        script = ("EHLO client.example\r\nMAIL FROM:<alice@example.org>\r\n"
                  "RCPT TO:<bob@mailetd.test>\r\nDATA\r\n")
        p = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-quiet",
                              "-connect", "127.0.0.1:%d" % d.port],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdin.write(script.encode())
            p.stdin.flush()
            time.sleep(1)
            p.stdin.write(b"Subject: s_client\r\n\r\nbody\r\n.\r\n")
            p.stdin.flush()
            time.sleep(1)
            p.stdin.write(b"QUIT\r\n")
            p.stdin.flush()
            out, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
        out = out.decode("utf-8", "replace")
        check("250 2.6.0 Message received" in out, out + err.decode())
        check("STARTTLS" not in out, "STARTTLS offered under TLS: " + out)
        check_tls_received(d)
        check("event=tls version=TLSv1." in d.log(), "no tls log line")


def test_swaks_starttls():
    need("swaks")
    with tls_daemon() as d:
        rc, out, err = run(["swaks", "--tls", "--server", "127.0.0.1", "--port", str(d.port),
                            "--from", "alice@example.org", "--to", "bob@mailetd.test",
                            "--helo", "client.example", "--body", "swaks tls body"])
        check(rc == 0, "swaks --tls failed: %s %s" % (out, err))
        check("<-  220 2.0.0 Ready to start TLS" in out, out)
        check("250 2.6.0 Message received" in out, out)
        check_tls_received(d)


def test_swaks_implicit_tls():
    need("swaks")
    with tls_daemon("implicit") as d:
        rc, out, err = run(["swaks", "--tlsc", "--server", "127.0.0.1", "--port", str(d.port),
                            "--from", "alice@example.org", "--to", "bob@mailetd.test",
                            "--helo", "client.example"])
        check(rc == 0, "swaks --tlsc failed: %s %s" % (out, err))
        check("250 2.6.0 Message received" in out, out)
        check_tls_received(d)


def test_curl_ssl_reqd():
    need("curl")
    msg = b"From: alice@example.org\r\nTo: bob@mailetd.test\r\nSubject: curl\r\n\r\ncurl tls\r\n"
    with tls_daemon() as d:
        rc, out, err = run(["curl", "-sS", "--max-time", "20", "--ssl-reqd", "--insecure",
                            "smtp://127.0.0.1:%d/client.example" % d.port,
                            "--mail-from", "alice@example.org",
                            "--mail-rcpt", "bob@mailetd.test", "-T", "-"], input=msg)
        check(rc == 0, "curl --ssl-reqd failed (%d): %s" % (rc, err))
        check_tls_received(d)
    with tls_daemon("implicit") as d:
        rc, out, err = run(["curl", "-sS", "--max-time", "20", "--insecure",
                            "smtps://127.0.0.1:%d/client.example" % d.port,
                            "--mail-from", "alice@example.org",
                            "--mail-rcpt", "bob@mailetd.test", "-T", "-"], input=msg)
        check(rc == 0, "curl smtps:// failed (%d): %s" % (rc, err))
        check_tls_received(d)


def test_smtplib_starttls_and_ssl():
    with tls_daemon() as d:
        with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
            s.ehlo("client.example")
            check(s.has_extn("starttls"), "STARTTLS not offered")
            s.starttls(context=client_ctx())
            s.ehlo("client.example")
            check(not s.has_extn("starttls"), "STARTTLS offered again")
            s.sendmail("alice@example.org", ["bob@mailetd.test"], "Subject: x\r\n\r\nbody\r\n")
        check_tls_received(d)
    with tls_daemon("implicit") as d:
        with smtplib.SMTP_SSL("127.0.0.1", d.port, timeout=10, context=client_ctx()) as s:
            s.ehlo("client.example")
            check(not s.has_extn("starttls"), "STARTTLS offered on implicit TLS")
            s.sendmail("alice@example.org", ["bob@mailetd.test"], "Subject: x\r\n\r\nbody\r\n")
        check_tls_received(d)


def test_starttls_injection():
    """CVE-2011-0411: commands sent with STARTTLS are dropped, never run."""
    with tls_daemon() as d:
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.send("STARTTLS\r\nRSET\r\n")
        c.expect(220)
        check(c.buf == b"", "reply after the 220: %r" % c.buf)
        c.sock = client_ctx().wrap_socket(c.sock, server_hostname="mx.mailetd.test")
        c.sock.settimeout(1)
        try:
            data = c.sock.recv(1000)
            check(data == b"", "the injected RSET was answered: %r" % data)
        except socket.timeout:
            pass
        c.sock.settimeout(10)
        code, lines = c.cmd("EHLO client.example", 250)
        check(lines[0].startswith("250-mx.mailetd.test Hello"), lines)
        c.cmd("QUIT", 221)
        c.close()

        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.send("STARTTLS\r\nMAIL FROM:<x@example.org>\r\n")
        c.expect(220)
        c.sock = client_ctx().wrap_socket(c.sock, server_hostname="mx.mailetd.test")
        c.cmd("EHLO client.example", 250)
        # Had the MAIL run, RCPT would be accepted.
        c.cmd("RCPT TO:<bob@mailetd.test>", 503)
        c.cmd("QUIT", 221)
        c.close()
        check(wait_for(lambda: "event=starttls-injection" in d.log()), "injection not logged")


def test_starttls_replies():
    with tls_daemon() as d:
        c = Client(d.port)
        c.expect(220)
        code, lines = c.cmd("EHLO client.example", 250)
        check(lines[-1] == "250 STARTTLS", "STARTTLS is not the last keyword: %r" % lines)
        c.cmd("STARTTLS now", 501)
        check("Syntax error (no parameters allowed)" in c.cmd("STARTTLS x")[1][0], "text")
        c.cmd("MAIL FROM:<a@example.org>", 250)
        code, lines = c.cmd("STARTTLS", 503)
        c.cmd("RSET", 250)
        starttls(c)
        # The session starts over: HELO/EHLO is required again (RFC 3207 4.2).
        code, lines = c.cmd("MAIL FROM:<a@example.org>", 503)
        check("Need HELO or EHLO" in lines[0], lines)
        code, lines = c.cmd("EHLO client.example", 250)
        check(not any("STARTTLS" in l for l in lines), "STARTTLS after TLS: %r" % lines)
        code, lines = c.cmd("STARTTLS", 503)
        check(lines[0] == "503 5.5.1 TLS already active", lines)
        c.cmd("QUIT", 221)
        c.close()
    # Without startTLS the verb does not exist.
    with tls_daemon("implicit") as d:
        c = Client(d.port)
        c.sock = client_ctx().wrap_socket(c.sock, server_hostname="mx.mailetd.test")
        c.expect(220)
        code, lines = c.cmd("EHLO client.example", 250)
        check(not any("STARTTLS" in l for l in lines), lines)
        code, lines = c.cmd("STARTTLS", 500)
        check(lines[0] == "500 5.5.1 Command STARTTLS unrecognized.", lines)
        c.close()


def test_pkcs12_keystore():
    need("openssl")
    keys = """<keystore>file://conf/keystore.p12</keystore>
      <keystoreType>PKCS12</keystoreType>
      <secret>s3cret</secret>"""
    d = Daemon(extra=tls_xml("implicit", keys))
    try:
        make_cert(d.conf, "mx.mailetd.test", "k.pem", "c.pem")
        rc, out, err = run(["openssl", "pkcs12", "-export", "-inkey",
                            os.path.join(d.conf, "k.pem"), "-in", os.path.join(d.conf, "c.pem"),
                            "-passout", "pass:s3cret",
                            "-out", os.path.join(d.conf, "keystore.p12")])
        check(rc == 0, "openssl pkcs12 failed: " + err)
        d.start()
        with smtplib.SMTP_SSL("127.0.0.1", d.port, timeout=10, context=client_ctx()) as s:
            check(s.ehlo("client.example")[0] == 250, "EHLO failed")
    finally:
        d.close(ok=False)


def config_errors(extra, setup=None):
    """Runs mailetd -t on a configuration; returns (exit status, output)."""
    d = Daemon(extra=extra)
    try:
        if setup:
            setup(d.conf)
        r = subprocess.run([__import__("lib").MAILETD, "-t", "-c", d.conf],
                           capture_output=True, timeout=30)
        return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")
    finally:
        shutil.rmtree(d.dir, ignore_errors=True)


def test_tls_config_errors():
    # A missing file.
    rc, out = config_errors(tls_xml("starttls"))
    check(rc == 1, out)
    check("smtpserver.xml:" in out and "<certificates>: cannot read" in out, out)

    # A JKS keystore (James's default type).
    def jks(conf):
        with open(os.path.join(conf, "ks.jks"), "wb") as f:
            f.write(b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + b"\x00" * 64)
    rc, out = config_errors(tls_xml("starttls", "<keystore>file://conf/ks.jks</keystore>"), jks)
    check(rc == 1 and "JKS keystore" in out and "keytool -importkeystore" in out, out)

    # A wrong keystore password.
    def p12(conf):
        make_cert(conf, "mx.mailetd.test", "k.pem", "c.pem")
        run(["openssl", "pkcs12", "-export", "-inkey", os.path.join(conf, "k.pem"),
             "-in", os.path.join(conf, "c.pem"), "-passout", "pass:right",
             "-out", os.path.join(conf, "ks.p12")])
    keys = """<keystore>file://conf/ks.p12</keystore>
      <keystoreType>PKCS12</keystoreType><secret>wrong</secret>"""
    rc, out = config_errors(tls_xml("implicit", keys), p12)
    check(rc == 1 and "wrong password for the keystore" in out, out)
    check(any(":" in l and "smtpserver.xml:" in l for l in out.splitlines()), out)

    # A wrong PEM key password, and a key that does not match the certificate.
    def enc(conf):
        make_cert(conf, "mx.mailetd.test", password="right")
    rc, out = config_errors(tls_xml("starttls", PEM_KEYS + "<secret>wrong</secret>"), enc)
    check(rc == 1 and "<secret>: wrong password for the private key" in out, out)

    def mismatch(conf):
        make_cert(conf, "a.test")
        make_cert(conf, "b.test", key="other.key", cert="other.pem")
        shutil.copy(os.path.join(conf, "other.key"), os.path.join(conf, "private.key"))
    rc, out = config_errors(tls_xml("starttls"), mismatch)
    check(rc == 1 and "does not match the certificate" in out, out)

    # Unknown protocol and cipher suite names.
    more = ("<supportedProtocols><protocol>SSLv3</protocol></supportedProtocols>"
            "<supportedCipherSuites><cipherSuite>TLS_NO_SUCH_SUITE</cipherSuite>"
            "</supportedCipherSuites>")
    rc, out = config_errors(tls_xml("starttls", PEM_KEYS, more),
                            lambda conf: make_cert(conf, "mx.mailetd.test"))
    check(rc == 1 and '"SSLv3" is not a protocol' in out and "TLS_NO_SUCH_SUITE" in out, out)

    # sessionCache values.
    more = "<sessionCache><size>many</size><timeout>2 fortnights</timeout></sessionCache>"
    rc, out = config_errors(tls_xml("starttls", PEM_KEYS, more),
                            lambda conf: make_cert(conf, "mx.mailetd.test"))
    check(rc == 1 and '<size>: "many" is not a number' in out and
          '<timeout>: "2 fortnights" is not a duration' in out, out)


def test_protocols_and_ciphers():
    more = ("<supportedProtocols><protocol>TLSv1.2</protocol></supportedProtocols>"
            "<supportedCipherSuites>"
            "<cipherSuite>TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256</cipherSuite>"
            "</supportedCipherSuites>"
            "<sessionCache><size>100</size><timeout>10m</timeout></sessionCache>")
    with tls_daemon("implicit", more=more) as d:
        with smtplib.SMTP_SSL("127.0.0.1", d.port, timeout=10, context=client_ctx()) as s:
            check(s.sock.version() == "TLSv1.2", s.sock.version())
            check(s.sock.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256", s.sock.cipher())
            s.sendmail("alice@example.org", ["bob@mailetd.test"], "Subject: x\r\n\r\nb\r\n")
        msg = check_tls_received(d)
        check("(using TLSv1.2 with cipher TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)" in msg,
              msg[:500])


def test_implicit_tls_handshake_timeout():
    with tls_daemon("implicit", timeout=2) as d:
        c = Client(d.port)
        t0 = time.time()
        check(c.closed(timeout=8), "a silent client was not closed")
        check(time.time() - t0 < 6, "closed too late")
        c.close()
        check(wait_for(lambda: "event=tls-failed" in d.log()), "no tls-failed log line")


def test_handshake_failure_logged():
    with tls_daemon("implicit") as d:
        c = Client(d.port)
        c.send("EHLO cleartext.example\r\n")
        check(c.closed(timeout=8), "a cleartext client was not closed")
        c.close()
        check(wait_for(lambda: "event=tls-failed client=127.0.0.1" in d.log()),
              "no tls-failed line:\n" + d.log()[-2000:])


def test_sni_certificates():
    need("openssl")
    more = """<sni>
        <certificate hostname="other.example">
          <privateKey>file://conf/other.key</privateKey>
          <certificates>file://conf/other.pem</certificates>
        </certificate>
        <certificate hostname="*.wild.example">
          <privateKey>file://conf/wild.key</privateKey>
          <certificates>file://conf/wild.pem</certificates>
        </certificate>
      </sni>"""
    d = Daemon(extra=tls_xml("implicit", PEM_KEYS, more))
    try:
        make_cert(d.conf, "mx.mailetd.test")
        make_cert(d.conf, "other.example", "other.key", "other.pem")
        make_cert(d.conf, "a.wild.example", "wild.key", "wild.pem")
        d.start()
        for name, want in (("other.example", "other.example"),
                           ("x.wild.example", "a.wild.example"),
                           ("unknown.example", "mx.mailetd.test")):
            rc, out, err = run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % d.port,
                                "-servername", name], input=b"QUIT\r\n", timeout=20)
            check("subject=CN = %s" % want in out or "subject=CN=%s" % want in out,
                  "SNI %s: %s" % (name, out[:1500]))
        check(any("event=tls " in l and "sni=" in l and "other.example" in l
                  for l in d.log().splitlines()), "SNI not logged")
    finally:
        d.close(ok=False)
