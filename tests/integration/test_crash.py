"""Crash consistency: 250 means durable, even across kill -9.

Twenty client threads submit mail in a loop, each message with a unique
Message-ID, and record the Message-ID of every message that got its 250.
Meanwhile the daemon is killed with SIGKILL at random moments and started
again on the same port and data directory. At the end every acknowledged
message must be in the spool exactly once. Messages found that were never
acknowledged are fine (the kill came between the commit and the 250
reaching the client); an acknowledged message missing or found twice is a
failure. Prints "acknowledged N, found N, lost 0".
"""
import glob
import os
import random
import re
import socket
import threading
import time

from lib import TestFailure, check, daemon

CLIENTS = 20
CYCLES = 12
MAIN_FSYNC = """<?xml version="1.0"?>
<mailetd>
  <dataDirectory>{data}</dataDirectory>
  <spool><fsync>true</fsync><commitThreads>4</commitThreads></spool>
  <shutdownGracePeriod>5</shutdownGracePeriod>
  <log><level>info</level></log>
</mailetd>
"""
ENVELOPE_RE = re.compile(rb"\nMAILETD-ENVELOPE [12]\n")
MSGID_RE = re.compile(rb"^Message-ID: <([^>]+)>\r$", re.M | re.I)


class Submitter(threading.Thread):
    """One client: connect, send messages until told to stop; reconnects
    whenever the daemon goes away."""

    def __init__(self, port, n, stop):
        super().__init__(daemon=True)
        self.port, self.n, self.stop = port, n, stop
        self.acked = []
        self.sent = 0
        self.errors = []
        self.buf = b""

    def reply(self, sock):
        while True:
            while b"\r\n" not in self.buf:
                d = sock.recv(65536)
                if not d:
                    raise ConnectionError("closed")
                self.buf += d
            line, self.buf = self.buf.split(b"\r\n", 1)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), line

    def session(self):
        self.buf = b""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            code, line = self.reply(sock)
            if code != 220:
                return
            sock.sendall(b"EHLO crash.example\r\n")
            if self.reply(sock)[0] != 250:
                return
            while not self.stop.is_set():
                seq = self.sent
                self.sent += 1
                mid = "crash-%d-%d@client.example" % (self.n, seq)
                body = ("From: <c%d@client.example>\r\nTo: <u%d@mailetd.test>\r\n"
                        "Subject: crash test %d/%d\r\nMessage-ID: <%s>\r\n\r\n"
                        "%s\r\n.\r\n" % (self.n, self.n, self.n, seq, mid,
                                         "line of the body\r\n" * random.randint(1, 40)))
                # Pipelined envelope: MAIL, RCPT, DATA in one write.
                sock.sendall(b"MAIL FROM:<c%d@client.example>\r\nRCPT TO:<u%d@mailetd.test>\r\n"
                             b"DATA\r\n" % (self.n, self.n))
                codes = [self.reply(sock)[0] for _ in range(3)]
                if codes != [250, 250, 354]:
                    self.errors.append("envelope replies %r" % codes)
                    return
                sock.sendall(body.encode())
                code, line = self.reply(sock)
                if code == 250:
                    self.acked.append(mid)
                elif code // 100 != 4:
                    self.errors.append("end of data: %r" % line)
                    return
        finally:
            sock.close()

    def run(self):
        while not self.stop.is_set():
            try:
                self.session()
            except (OSError, ConnectionError, ValueError):
                time.sleep(0.02)  # daemon killed or restarting


def spool_message_ids(data):
    """Message-ID -> count, read from the committed queue files."""
    found = {}
    for path in glob.glob(os.path.join(data, "spool", "queue", "*", "*")):
        with open(path, "rb") as f:
            raw = f.read()
        # The message part ends where the envelope begins (format 1 or 2).
        msg = ENVELOPE_RE.split(raw, 1)[0]
        m = MSGID_RE.search(msg)
        if m:
            mid = m.group(1).decode()
            found[mid] = found.get(mid, 0) + 1
    return found


def test_kill9_loses_no_acknowledged_mail():
    rnd = random.Random(os.getpid() ^ int(time.time()))
    with daemon(timeout=30) as d:
        d.write("mailetd.xml", MAIN_FSYNC.format(data=d.data))
        d.stop()
        d.logf.close()
        d.start()
        stop = threading.Event()
        clients = [Submitter(d.port, n, stop) for n in range(CLIENTS)]
        for c in clients:
            c.start()
        try:
            for cycle in range(CYCLES):
                time.sleep(rnd.uniform(0.3, 2.0))
                d.kill9()
                time.sleep(rnd.uniform(0, 0.2))
                d.start()
        finally:
            time.sleep(rnd.uniform(0.3, 1.0))
            d.kill9()
            stop.set()
            for c in clients:
                c.join(15)
        # Restart once more (recovery runs at start-up), then look.
        d.start()
        errors = [e for c in clients for e in c.errors]
        check(not errors, "client errors: %r" % errors[:5])
        acked = [m for c in clients for m in c.acked]
        sent = sum(c.sent for c in clients)
        found = spool_message_ids(d.data)
        # Cross-check with the admin tool: it must see the same number.
        ids = d.spool_ids()
        check(len(ids) == sum(found.values()),
              "mailetctl lists %d messages, queue has %d" % (len(ids), sum(found.values())))
        missing = [m for m in acked if m not in found]
        twice = [m for m in acked if found.get(m, 0) > 1]
        acked_set = set(acked)
        unacked = len([m for m in found if m not in acked_set])
        corrupt = os.listdir(os.path.join(d.data, "spool", "corrupt")) \
            if os.path.isdir(os.path.join(d.data, "spool", "corrupt")) else []
        # Start-up recovery: committed files found in tmp/ (the kill came
        # between the commit and the rename into the queue) are moved into
        # their queue, the rest of tmp/ deleted, so after the last start
        # tmp/ holds no message.
        log = d.log()
        recovered = log.count("event=spool-tmp-recovered")
        removed = log.count("event=spool-tmp-removed")
        # (Empty files there are the new daemon's pool of files made ahead.)
        tmpd = os.path.join(d.data, "spool", "tmp")
        tmp_left = [n for n in os.listdir(tmpd) if os.path.getsize(os.path.join(tmpd, n)) > 0]
        print("crash: %d cycles, sent %d, acknowledged %d, found %d, lost %d, "
              "duplicated %d, found unacknowledged %d, corrupt %d, "
              "recovered from tmp/ %d, interrupted removed %d"
              % (CYCLES + 1, sent, len(acked), len(acked) - len(missing), len(missing),
                 len(twice), unacked, len(corrupt), recovered, removed))
        check(not tmp_left, "tmp/ not empty after start-up: %r" % tmp_left[:5])
        print("acknowledged %d, found %d, lost %d"
              % (len(acked), len(acked) - len(missing), len(missing)))
        check(len(acked) > CYCLES * 10, "too few messages acknowledged (%d) to mean anything"
              % len(acked))
        if missing or twice:
            raise TestFailure("acknowledged mail lost %r or duplicated %r"
                              % (missing[:5], twice[:5]))
