"""Start-up, shutdown, crash recovery, and the spool's durability."""
import os
import signal
import time

from lib import Client, Daemon, check, daemon, greet, wait_for, TestFailure

BODY = b"Subject: durable\r\n\r\n" + b"line of the durable message\r\n" * 100


def test_sigterm_during_transfer_finishes_the_message():
    d = Daemon(grace=10).start()
    try:
        c = greet(d.port)
        idle = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(BODY[:500])
        d.proc.send_signal(signal.SIGTERM)
        # the idle session is told at once
        code, l = idle.read_reply()
        check(code == 421, "idle session got %r" % l)
        time.sleep(0.5)
        # new connections are refused
        try:
            n = Client(d.port, timeout=2)
            code, l = n.read_reply()
            check(code == 421, "new connection during shutdown got %r" % l)
        except (ConnectionRefusedError, TestFailure, OSError):
            pass
        c.send(BODY[500:] + b".\r\n")
        code, l = c.read_reply()
        check(code == 250, "in-flight message got %r" % l)
        code, l = c.read_reply()
        check(code == 421, "no 421 after the transaction: %r" % l)
        rc = d.proc.wait(20)
        check(rc == 0, "exit status %s" % rc)
        ids = d.spool_ids()
        check(len(ids) == 1, ids)
        check(d.spool_cat(ids[0]).endswith(BODY), "message differs")
    finally:
        d.close()


def test_grace_period_expiry_closes_stuck_sessions():
    d = Daemon(grace=1).start()
    try:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(b"Subject: never finished\r\n")
        t0 = time.time()
        d.proc.send_signal(signal.SIGTERM)
        rc = d.proc.wait(15)
        check(rc == 0, "exit status %s" % rc)
        check(time.time() - t0 < 8, "shutdown took too long")
        check(d.spool_ids() == [], "an unfinished message was kept")
        check(os.listdir(os.path.join(d.data, "spool", "tmp")) == [], "tmp not cleaned")
    finally:
        d.close()


def test_kill9_after_250_then_restart_keeps_message():
    d = Daemon().start()
    try:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(BODY + b".\r\n")
        code, l = c.read_reply()
        check(code == 250, l)
        d.kill9()
        # a second transfer interrupted half-way by a crash leaves nothing
        d.start()
        c2 = greet(d.port)
        c2.cmd("MAIL FROM:<a@example.org>", 250)
        c2.cmd("RCPT TO:<b@mailetd.test>", 250)
        c2.cmd("DATA", 354)
        c2.send(b"Subject: half\r\n\r\nhalf a message")
        time.sleep(0.3)
        d.kill9()
        # The transfer's file is in tmp/, maybe among the spool's pool of
        # empty files made ahead; the restart removes every one of them
        # (the new daemon makes a new pool under new names).
        tmpd = os.path.join(d.data, "spool", "tmp")
        before = set(os.listdir(tmpd))
        check(len(before) >= 1, "expected the interrupted transfer in tmp/")
        d.start()
        after = os.listdir(tmpd)
        check(not before & set(after), "interrupted transfer not cleaned up at start")
        check(all(os.path.getsize(os.path.join(tmpd, n)) == 0 for n in after),
              "a message left in tmp/: %r" % after)
        ids = d.spool_ids()
        check(len(ids) == 1, "spool after restart: %r" % ids)
        data = d.spool_cat(ids[0])
        check(data.startswith(b"Received: ") and data.endswith(BODY), "message differs")
    finally:
        d.close()


def test_bind_failure_stops_startup():
    with daemon() as d:
        other = Daemon(port=d.port)
        other.start(wait=False)
        rc = other.proc.wait(15)
        check(rc == 1, "second daemon on the same port: status %s" % rc)
        check("cannot bind 127.0.0.1:%d" % d.port in other.log(), other.log())
        other.close(ok=False)
