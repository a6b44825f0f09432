"""PROXY protocol (proxyRequired): a real haproxy in front of mailetd.

haproxy listens on 127.0.0.1 and connects to mailetd from 127.0.0.3
(`source 127.0.0.3`), which is NOT in authorizedAddresses; clients connect
to haproxy from 127.0.0.2 (authorized) or 127.0.0.4 (not). Relaying from
127.0.0.2 therefore works only if mailetd takes the client address from
the PROXY header and not from the socket; relaying from 127.0.0.4 must be
refused either way. haproxy is stopped by the PID this test started.
"""
import os
import shutil
import socket
import ssl
import struct
import subprocess
import time
from contextlib import contextmanager

from lib import Client, Daemon, TestFailure, check, free_port, running, wait_for

AUTHORIZED = "127.0.0.2"
OUTSIDER = "127.0.0.4"
PROXY_SOURCE = "127.0.0.3"

PROXY_XML = """<proxyRequired>true</proxyRequired>
    <auth><announce>forUnauthorizedAddresses</announce><requireSSL>false</requireSSL></auth>"""

HAPROXY_CFG = """global
    maxconn 200
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
"""

HAPROXY_PAIR = """frontend f{n}
    bind 127.0.0.1:{port}
    default_backend b{n}
backend b{n}
    server s{n} 127.0.0.1:{target} {opts} source {source}
"""


def need(prog):
    """The path of prog (also in /usr/sbin, where Debian puts haproxy)."""
    path = shutil.which(prog) or shutil.which(prog, path="/usr/sbin:/sbin")
    if path is None:
        raise TestFailure("%s is not installed (build-aux/install-deps.sh installs it)" % prog)
    return path


@contextmanager
def haproxy(d, routes):
    """Starts haproxy with one frontend per (name, target port, server options);
    yields {name: frontend port}. Stops it by its PID."""
    haproxy_bin = need("haproxy")
    ports = {}
    cfg = HAPROXY_CFG
    for i, (name, target, opts) in enumerate(routes):
        ports[name] = free_port()
        cfg += HAPROXY_PAIR.format(n=i, port=ports[name], target=target, opts=opts,
                                   source=PROXY_SOURCE)
    path = os.path.join(d.dir, "haproxy.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    log = open(os.path.join(d.dir, "haproxy.log"), "wb")
    proc = subprocess.Popen([haproxy_bin, "-db", "-f", path], stdout=log, stderr=subprocess.STDOUT)
    try:
        def listening():
            for p in ports.values():
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=1).close()
                except OSError:
                    return False
            return True
        if not wait_for(listening, timeout=10):
            proc.poll()
            raise TestFailure("haproxy did not start (%s):\n%s" % (
                proc.returncode, open(os.path.join(d.dir, "haproxy.log")).read()))
        yield ports
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def greet(port, source):
    c = Client(port, source=source)
    c.expect(220)
    code, lines = c.cmd("EHLO client.example", 250)
    return c, lines


def relay_attempt(port, source):
    """MAIL + RCPT to a remote domain; returns the RCPT reply code."""
    c, lines = greet(port, source)
    c.cmd("MAIL FROM:<sender@example.org>", 250)
    code, _ = c.cmd("RCPT TO:<someone@remote.example>")
    c.cmd("QUIT")
    c.close()
    return code, lines


def send_message(port, source, rcpt):
    c, _ = greet(port, source)
    c.cmd("MAIL FROM:<sender@example.org>", 250)
    c.cmd("RCPT TO:<%s>" % rcpt, 250)
    c.cmd("DATA", 354)
    c.cmd("Subject: via haproxy\r\n\r\nhello\r\n.", 250)
    c.cmd("QUIT", 221)
    c.close()


def test_haproxy_v1_and_v2_relay_uses_proxied_address():
    with running(Daemon(extra=PROXY_XML, timeout=5)) as d:
        # v2tlv: haproxy adds a CRC32C TLV, which must be walked and skipped
        routes = [("v1", d.port, "send-proxy"), ("v2", d.port, "send-proxy-v2"),
                  ("v2tlv", d.port, "send-proxy-v2 proxy-v2-options crc32c")]
        with haproxy(d, routes) as ports:
            for version, port in sorted(ports.items()):
                code, ehlo = relay_attempt(port, AUTHORIZED)
                check(code == 250, "%s: relay from authorized %s through haproxy: %d"
                      % (version, AUTHORIZED, code))
                # forUnauthorizedAddresses: no AUTH for the authorized client
                check(not any("AUTH" in l for l in ehlo), "%s: %r" % (version, ehlo))
                code, ehlo = relay_attempt(port, OUTSIDER)
                check(code in (530, 550), "%s: relay from %s accepted: %d"
                      % (version, OUTSIDER, code))
                check(any("AUTH" in l for l in ehlo), "%s: %r" % (version, ehlo))
            send_message(ports["v2"], AUTHORIZED, "postmaster@mailetd.test")
            ids = wait_for(d.spool_ids)
            check(len(ids) == 1, ids)
            msg = d.spool_cat(ids[0]).decode("utf-8", "replace")
            check("([%s])" % AUTHORIZED in msg, msg[:400])
            check(PROXY_SOURCE not in msg, msg[:400])
        log = d.log()
        check("event=proxy proxy=%s client=%s" % (PROXY_SOURCE, AUTHORIZED) in log, log[-3000:])
        check("version=1" in log and "version=2" in log, log[-3000:])
        check("event=connect client=%s" % OUTSIDER in log, log[-3000:])


def test_haproxy_per_ip_limit_counts_proxied_clients():
    with running(Daemon(extra=PROXY_XML, limit_per_ip=1, timeout=5)) as d:
        with haproxy(d, [("v2", d.port, "send-proxy-v2")]) as ports:
            port = ports["v2"]
            first, _ = greet(port, AUTHORIZED)
            # a second client address through the same proxy is not limited
            other, _ = greet(port, OUTSIDER)
            # a second connection of the same proxied client is
            third = Client(port, source=AUTHORIZED)
            code, lines = third.read_reply()
            check(code == 421, "second connection from %s: %r" % (AUTHORIZED, lines))
            for c in (first, other, third):
                c.close()
        check("reason=connection-limit-per-ip client=%s" % AUTHORIZED in d.log(), d.log()[-2000:])


def test_haproxy_implicit_tls_behind_proxy():
    """socketTLS: the PROXY header comes before the TLS handshake (proxyFirst)."""
    need("openssl")
    from test_tls import make_cert, tls_xml, client_ctx
    d = Daemon(extra=PROXY_XML + "\n    " + tls_xml("implicit"), timeout=5)
    make_cert(d.conf, "mx.mailetd.test")
    with running(d):
        with haproxy(d, [("v1", d.port, "send-proxy")]) as ports:
            raw = socket.create_connection(("127.0.0.1", ports["v1"]), timeout=10,
                                           source_address=(AUTHORIZED, 0))
            c = Client.__new__(Client)
            c.sock = client_ctx().wrap_socket(raw, server_hostname="mx.mailetd.test")
            c.buf = b""
            c.expect(220)
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<sender@example.org>", 250)
            c.cmd("RCPT TO:<someone@remote.example>", 250)  # relay: proxied 127.0.0.2
            c.cmd("DATA", 354)
            c.cmd("Subject: tls via haproxy\r\n\r\nhi\r\n.", 250)
            c.cmd("QUIT", 221)
            c.close()
            ids = wait_for(d.spool_ids)
            msg = d.spool_cat(ids[0]).decode("utf-8", "replace")
            check("([%s])" % AUTHORIZED in msg and "(using TLSv1." in msg, msg[:500])


def v2_header(src, dst, sport, dport, command=0x21, fam=0x11):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([command, fam]) + struct.pack("!H", len(body))
            + body)


def dropped_silently(port, data, timeout=4):
    """Sends data (if any) directly and returns what came back before the close
    (None if the connection stayed open)."""
    c = Client(port)
    if data:
        c.send(data)
    closed = c.closed(timeout)
    got = c.buf
    c.close()
    return got if closed else None


def test_direct_clients_without_valid_header_are_dropped():
    with running(Daemon(extra=PROXY_XML, timeout=2)) as d:
        cases = [
            (b"", "no header at all (waits for a greeting)"),
            (b"EHLO client.example\r\n", "SMTP without a header"),
            (b"PROXY TCP4 127.0.0.2 127.0.0.1 1234\r\n", "v1 with a missing port"),
            (b"PROXY TCP4 127.0.0.2  127.0.0.1 1234 25\r\n", "v1 with two spaces"),
            (b"PROXY TCP4 127.0.0.2 127.0.0.1 1234 25\n", "v1 without CR"),
            (b"PROXY TCP6 127.0.0.2 127.0.0.1 1234 25\r\n", "v1 TCP6 with IPv4"),
            (b"PROXY UNKNOWN\r\n", "v1 UNKNOWN"),
            (b"PROXY TCP4 " + b"1" * 120 + b"\r\n", "v1 over 107 octets"),
            (v2_header("127.0.0.2", "127.0.0.1", 1, 25, command=0x20, fam=0x00),
             "v2 LOCAL"),
            (v2_header("127.0.0.2", "127.0.0.1", 1, 25, fam=0x12), "v2 UDP"),
            (v2_header("127.0.0.2", "127.0.0.1", 1, 25)[:-1], "v2 truncated, then silence"),
            (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "a TLS ClientHello"),
        ]
        t0 = time.time()
        for data, what in cases:
            got = dropped_silently(d.port, data)
            check(got is not None, "%s: connection not closed" % what)
            check(got == b"", "%s: got a reply %r (must close without one)" % (what, got))
        check(time.time() - t0 < 45, "drops took %.1fs" % (time.time() - t0))
        # A well-formed header sent by the test itself is believed (the proxy
        # is trusted): v1 and v2 from an authorized source relay.
        for hdr in (b"PROXY TCP4 127.0.0.2 127.0.0.1 40000 25\r\n",
                    v2_header("127.0.0.2", "127.0.0.1", 40000, 25)):
            c = Client(d.port)
            c.send(hdr)
            c.expect(220)
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<sender@example.org>", 250)
            c.cmd("RCPT TO:<someone@remote.example>", 250)
            c.cmd("QUIT", 221)
            c.close()
        log = d.log()
        check(log.count("event=proxy-refused") >= len(cases), log[-3000:])
        check("no complete header within connectiontimeout" in log, log[-3000:])


def test_proxy_first_false_header_inside_tls():
    """proxyFirst=false on a socketTLS server: TLS first, the header inside it."""
    from test_tls import make_cert, tls_xml, client_ctx
    d = Daemon(extra=PROXY_XML + "<proxyFirst>false</proxyFirst>\n    " + tls_xml("implicit"),
               timeout=3)
    make_cert(d.conf, "mx.mailetd.test")

    def tls_client(header):
        raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        c = Client.__new__(Client)
        c.sock = client_ctx().wrap_socket(raw, server_hostname="mx.mailetd.test")
        c.buf = b""
        if header:
            c.send(header)
        return c

    with running(d):
        for hdr in (b"PROXY TCP4 127.0.0.2 127.0.0.1 40000 25\r\n",
                    v2_header("127.0.0.2", "127.0.0.1", 40000, 25)):
            c = tls_client(hdr)
            c.expect(220)
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<sender@example.org>", 250)
            c.cmd("RCPT TO:<someone@remote.example>", 250)  # relay: proxied 127.0.0.2
            c.cmd("QUIT", 221)
            c.close()
        c = tls_client(b"PROXY TCP4 127.0.0.4 127.0.0.1 40000 25\r\n")
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<sender@example.org>", 250)
        c.cmd("RCPT TO:<someone@remote.example>", 530)
        c.close()
        # inside TLS but no header: closed without a greeting
        c = tls_client(b"")
        try:
            check(c.closed(6) and c.buf == b"", c.buf)
        except (ssl.SSLError, OSError):
            pass
        c.close()
        # the header in cleartext before the handshake: the handshake fails
        got = dropped_silently(d.port, b"PROXY TCP4 127.0.0.2 127.0.0.1 40000 25\r\n")
        check(got == b"", "cleartext header on a proxyFirst=false server: %r" % got)
        log = d.log()
        check("event=connect client=127.0.0.2" in log and "event=connect client=127.0.0.4" in log,
              log[-3000:])
        check("reason=\"no complete header within connectiontimeout\"" in log, log[-3000:])
        check("reason=\"TLS handshake failed\"" in log, log[-3000:])


def test_shutdown_while_a_header_is_awaited():
    """A connection still waiting for its header (in cleartext, or inside TLS
    with proxyFirst=false) does not hold up a stop."""
    from test_tls import make_cert, tls_xml, client_ctx
    for inside_tls in (False, True):
        extra = PROXY_XML
        if inside_tls:
            extra += "<proxyFirst>false</proxyFirst>\n    " + tls_xml("implicit")
        d = Daemon(extra=extra, timeout=60)
        if inside_tls:
            make_cert(d.conf, "mx.mailetd.test")
        with running(d):
            c = Client(d.port)
            if inside_tls:
                c.sock = client_ctx().wrap_socket(c.sock, server_hostname="mx.mailetd.test")
            c.send(b"PROXY TCP4 127.0.0.2")  # incomplete, then silence
            time.sleep(0.3)
            t0 = time.time()
            rc = d.stop()
            check(rc == 0, "exit status %s" % rc)
            check(time.time() - t0 < 5, "stop took %.1fs" % (time.time() - t0))
            try:
                check(c.closed(2) and c.buf == b"", c.buf)
            except (ssl.SSLError, OSError):
                pass
            c.close()
