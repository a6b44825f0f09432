"""A small authoritative DNS server for mailetd's tests (pure Python).

It answers every name from one zone the test gives it, over UDP and TCP on
a loopback port, and can be told to misbehave for some names:

    zone = {
        "ttl": 300,                      # default TTL (optional)
        "names": {
            "mx.test": {"A": ["192.0.2.1"], "AAAA": ["2001:db8::1"]},
            "test": {"MX": [[10, "mx.test"], [5, "mx0.test"]],
                     "TXT": ["v=spf1 -all", ["two ", "strings"]]},
            "www.test": {"CNAME": "mx.test"},
            "1.2.0.192.in-addr.arpa": {"PTR": ["mx.test"]},
            "short.test": {"A": ["192.0.2.9"], "TTL": 1},
        },
        "drop": ["slow.test"],           # never answered (a timeout)
        "servfail": ["broken.test"],     # answered with SERVFAIL
        "refused": ["refused.test"],     # answered with REFUSED
    }

A name with records, or with names below it, exists: a query for a type it
lacks gets NOERROR with no answer (no data); any other name gets NXDOMAIN.
Negative answers carry a SOA record so that resolvers cache them. Names are
compared without case and without the trailing dot.

Every query is counted per (name, type) in `counts`, so a test can see
whether a resolver answered from its cache; run as a program, the server
also appends "name TYPE" lines to --log.

As a program (used by tests/unit/test_dns.c):
    python3 dnsserver.py --zone zone.json [--log queries.log] [--port 0]
prints "port N" on stdout once it listens and serves until killed or until
its stdin is closed.
"""
import argparse
import json
import os
import socket
import socketserver
import struct
import sys
import threading

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
         "AAAA": 28, "OPT": 41, "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5


def norm(name):
    return name.lower().rstrip(".")


def enc_name(name):
    out = b""
    for label in norm(name).split(".") if norm(name) else []:
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError("bad label in %r" % name)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def read_name(msg, off):
    """Returns (name text, offset after the name); follows compression."""
    labels, jumps, end = [], 0, None
    while True:
        if off >= len(msg):
            raise ValueError("truncated name")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(msg) or jumps > 20:
                raise ValueError("bad pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            continue
        if n & 0xC0:
            raise ValueError("bad label type")
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    return ".".join(labels), (end if end is not None else off)


def rdata(rtype, value):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype in ("PTR", "CNAME", "NS"):
        return enc_name(value)
    if rtype == "MX":
        return struct.pack("!H", value[0]) + enc_name(value[1])
    if rtype == "TXT":
        parts = [value] if isinstance(value, str) else value
        out = b""
        for p in parts:
            raw = p.encode("utf-8") if isinstance(p, str) else bytes(p)
            for i in range(0, max(len(raw), 1), 255):
                chunk = raw[i:i + 255]
                out += bytes([len(chunk)]) + chunk
        return out
    raise ValueError("unsupported type %s" % rtype)


def rr(name, rtype, ttl, data):
    return enc_name(name) + struct.pack("!HHIH", TYPES[rtype], 1, ttl, len(data)) + data


class Zone:
    def __init__(self, zone):
        self.ttl = int(zone.get("ttl", 300))
        self.names = {norm(k): v for k, v in zone.get("names", {}).items()}
        self.drop = {norm(n) for n in zone.get("drop", [])}
        self.servfail = {norm(n) for n in zone.get("servfail", [])}
        self.refused = {norm(n) for n in zone.get("refused", [])}

    def exists(self, name):
        if name in self.names:
            return True
        suffix = "." + name
        return any(k.endswith(suffix) for k in self.names)

    def soa(self):
        # Owned by the root, an ancestor of every name; MINIMUM is the
        # negative-caching TTL (RFC 2308).
        data = enc_name("ns.test") + enc_name("hostmaster.test") + \
            struct.pack("!IIIII", 1, 3600, 600, 86400, self.ttl)
        return rr("", "SOA", self.ttl, data)

    def answer(self, qname, qtype):
        """(rcode, answers, authority) for one question, or None to drop it."""
        name = norm(qname)
        if name in self.drop:
            return None
        if name in self.servfail:
            return SERVFAIL, [], []
        if name in self.refused:
            return REFUSED, [], []
        answers = []
        for _ in range(8):  # follow CNAMEs inside the zone
            recs = self.names.get(name, {})
            ttl = int(recs.get("TTL", self.ttl))
            if "CNAME" in recs and qtype != TYPES["CNAME"]:
                answers.append(rr(name, "CNAME", ttl, rdata("CNAME", recs["CNAME"])))
                name = norm(recs["CNAME"])
                continue
            for rtype, values in recs.items():
                if rtype in ("TTL", "CNAME") or rtype not in TYPES:
                    continue
                if qtype not in (TYPES[rtype], TYPES["ANY"]):
                    continue
                for v in values:
                    answers.append(rr(name, rtype, ttl, rdata(rtype, v)))
            break
        if answers:
            return NOERROR, answers, []
        if self.exists(name):
            return NOERROR, [], [self.soa()]
        return NXDOMAIN, [], [self.soa()]


class Server:
    """Serves zone on 127.0.0.1:port (0: a free port) over UDP and TCP."""

    def __init__(self, zone, port=0, log=None):
        self.zone = Zone(zone)
        self.counts = {}
        self.lock = threading.Lock()
        self.log = log
        outer = self

        class UDP(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                reply = outer.handle(data, udp=True)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class TCP(socketserver.BaseRequestHandler):
            def handle(self):
                sock = self.request
                sock.settimeout(10)
                try:
                    while True:
                        head = self._read(sock, 2)
                        if head is None:
                            return
                        msg = self._read(sock, struct.unpack("!H", head)[0])
                        if msg is None:
                            return
                        reply = outer.handle(msg, udp=False)
                        if reply is not None:
                            sock.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

            @staticmethod
            def _read(sock, n):
                buf = b""
                while len(buf) < n:
                    chunk = sock.recv(n - len(buf))
                    if not chunk:
                        return None
                    buf += chunk
                return buf

        class UDPServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
            daemon_threads = True

        class TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        # Bind UDP first (on a free port when port is 0), then TCP on the
        # same number; retry when that TCP port happens to be taken.
        for _ in range(20):
            self.udp = UDPServer(("127.0.0.1", port), UDP)
            self.port = self.udp.server_address[1]
            try:
                self.tcp = TCPServer(("127.0.0.1", self.port), TCP)
                break
            except OSError:
                self.udp.server_close()
                if port:
                    raise
        else:
            raise OSError("no free port for UDP and TCP")
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True)
                        for s in (self.udp, self.tcp)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        for s in (self.udp, self.tcp):
            s.shutdown()
            s.server_close()

    def count(self, name, rtype=None):
        """Queries seen for name (of type rtype, or of any type)."""
        name = norm(name)
        with self.lock:
            return sum(n for (k, t), n in self.counts.items()
                       if k == name and (rtype is None or t == rtype))

    def handle(self, msg, udp):
        """The reply to one query message, or None (dropped, or garbage)."""
        if len(msg) < 12:
            return None
        qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
        if flags & 0x8000:
            return None  # a response, not a query
        try:
            qname, off = read_name(msg, 12)
            qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
        except (ValueError, struct.error):
            return struct.pack("!HHHHHH", qid, 0x8000 | FORMERR, 0, 0, 0, 0)
        question = msg[12:off + 4]
        edns = ar > 0
        key = (norm(qname), TYPE_NAMES.get(qtype, str(qtype)))
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            if self.log is not None:
                self.log.write("%s %s\n" % key)
                self.log.flush()
        if qd != 1 or qclass != 1 or flags & 0x7800:
            rcode, answers, auth = NOTIMP, [], []
        else:
            res = self.zone.answer(qname, qtype)
            if res is None:
                return None
            rcode, answers, auth = res
        rflags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode  # QR AA RD RA
        opt = b"\0" + struct.pack("!HHIH", TYPES["OPT"], 1232, 0, 0) if edns else b""
        body = question + b"".join(answers) + b"".join(auth)
        reply = struct.pack("!HHHHHH", qid, rflags, 1, len(answers), len(auth),
                            1 if edns else 0) + body + opt
        limit = (1232 if edns else 512) if udp else 65535
        if len(reply) > limit:
            # Too large for UDP: truncated, the client retries over TCP.
            reply = struct.pack("!HHHHHH", qid, rflags | 0x0200, 1, 0, 0, 0) + question
        return reply


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zone", required=True, help="zone as a JSON file")
    ap.add_argument("--log", help="append 'name TYPE' per query to this file")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    with open(args.zone) as f:
        zone = json.load(f)
    log = open(args.log, "a") if args.log else None
    srv = Server(zone, args.port, log).start()
    print("port %d" % srv.port, flush=True)
    # Serve until the parent closes our stdin (or kills us).
    try:
        sys.stdin.read()
    except KeyboardInterrupt:
        pass
    # No orderly shutdown (it waits for the serve loops' poll interval):
    # the log is flushed after every query, so just leave.
    os._exit(0)


if __name__ == "__main__":
    main()
