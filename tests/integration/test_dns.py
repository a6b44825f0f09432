"""The DNS resolver in the daemon, and the test DNS server itself.

The DNS-based handlers (DNSRBL, SPF, ...) are tested through sessions in
their own files; here: the daemon starts its resolver on the servers of
dnsservice.xml and stops it cleanly (no leak under ASan), and
dnsserver.py answers as the other tests rely on.
"""
import socket
import struct

from lib import check, daemon, Daemon, greet, running
import dnsserver

ZONE = {
    "names": {
        "a.test": {"A": ["192.0.2.1"], "MX": [[10, "mx.a.test"]],
                   "TXT": [["v=spf1 ", "-all"]]},
        "x.a.test": {"AAAA": ["2001:db8::1"]},
    },
    "drop": ["slow.test"],
    "servfail": ["broken.test"],
}


def ask(port, name, qtype, tcp=False, timeout=1.0):
    """(rcode, answer count, authority count), or None on timeout."""
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    q += struct.pack("!HH", qtype, 1)
    if tcp:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", s.recv(2))[0]
        r = b""
        while len(r) < n:
            r += s.recv(n - len(r))
        s.close()
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(timeout)
        s.sendto(q, ("127.0.0.1", port))
        try:
            r = s.recv(4096)
        except socket.timeout:
            return None
        finally:
            s.close()
    check(r[:2] == q[:2] and r[2] & 0x80, "not a reply to our query: %r" % r[:4])
    an, ns = struct.unpack("!HH", r[6:10])
    return r[3] & 15, an, ns


def test_dnsserver_answers_as_documented():
    srv = dnsserver.Server(ZONE).start()
    try:
        p = srv.port
        check(ask(p, "a.test", 1) == (0, 1, 0), "A")
        check(ask(p, "A.TEST", 15) == (0, 1, 0), "MX, any case")
        check(ask(p, "a.test", 16, tcp=True) == (0, 1, 0), "TXT over TCP")
        check(ask(p, "a.test", 28) == (0, 0, 1), "no data carries a SOA")
        check(ask(p, "a.test", 28)[0] == 0, "no data is NOERROR")
        check(ask(p, "nope.test", 1) == (3, 0, 1), "NXDOMAIN")
        check(ask(p, "test", 1) == (0, 0, 1), "empty non-terminal exists")
        check(ask(p, "broken.test", 1)[0] == 2, "SERVFAIL")
        check(ask(p, "slow.test", 1, timeout=0.5) is None, "dropped")
        check(srv.count("a.test") == 5 and srv.count("a.test", "A") == 1,
              "counts: %r" % srv.counts)
    finally:
        srv.stop()


def test_daemon_starts_resolver_on_configured_server():
    srv = dnsserver.Server(ZONE).start()
    try:
        d = Daemon()
        d.write("dnsservice.xml",
                '<?xml version="1.0"?>\n<dnsservice>\n<servers>\n'
                '<server>127.0.0.1:%d</server>\n</servers>\n'
                '<autodiscover>false</autodiscover>\n<timeout>2</timeout>\n'
                '</dnsservice>\n' % srv.port)
        with running(d):
            c = greet(d.port)
            c.cmd("QUIT", 221)
            c.close()
            log = d.log()
            check("event=dns_server server=127.0.0.1@%d" % srv.port in log, log[-2000:])
            check("resolv.conf" not in log, "autodiscover was off: " + log[-2000:])
    finally:
        srv.stop()


def test_daemon_autodiscovers_by_default():
    with daemon() as d:
        c = greet(d.port)
        c.cmd("QUIT", 221)
        c.close()
        log = d.log()
        check("event=dns_server" in log, log[-2000:])
