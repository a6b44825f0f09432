"""Timeouts and connection limits."""
import time

from lib import Client, check, daemon


def test_idle_timeout_closes_connection():
    with daemon(timeout=2) as d:
        c = Client(d.port)
        c.expect(220)
        t0 = time.time()
        code, l = c.read_reply()
        check(code == 421 and "4.4.2" in l[0], l)
        check(c.closed(), "not closed after timeout")
        check(time.time() - t0 < 6, "timeout took too long")


def test_trickled_command_line_hits_line_deadline():
    with daemon(timeout=2) as d:
        c = Client(d.port)
        c.expect(220)
        t0 = time.time()
        closed = False
        for ch in "NOOP and a very slow line":
            try:
                c.send(ch)
            except OSError:
                closed = True
                break
            time.sleep(0.5)
            if time.time() - t0 > 6:
                break
        code, l = c.read_reply()
        check(code == 421, "trickling client not cut off: %r" % l)
        check(time.time() - t0 < 6, "line deadline not enforced")


def test_connection_limit_per_ip():
    with daemon(limit_per_ip=2) as d:
        a = Client(d.port)
        a.expect(220)
        b = Client(d.port)
        b.expect(220)
        c = Client(d.port)
        code, l = c.read_reply()
        check(code == 421, "third connection got %r" % l)
        check(c.closed(), "over-limit connection left open")
        other = Client(d.port, source="127.0.0.2")
        other.expect(220)
        a.cmd("QUIT", 221)
        a.closed()
        time.sleep(0.3)
        e = Client(d.port)
        e.expect(220)
        for x in (b, e, other):
            x.cmd("QUIT", 221)


def test_connection_limit_global():
    with daemon(limit=2) as d:
        a = Client(d.port)
        a.expect(220)
        b = Client(d.port, source="127.0.0.3")
        b.expect(220)
        c = Client(d.port, source="127.0.0.4")
        code, l = c.read_reply()
        check(code == 421, "third connection got %r" % l)
        a.cmd("QUIT", 221)
        b.cmd("QUIT", 221)
