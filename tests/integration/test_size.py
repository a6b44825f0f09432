"""SIZE (RFC 1870): declared and actual size limits."""
from lib import Client, check, daemon, greet


def test_declared_size_over_limit():
    with daemon(maxsize="1K") as d:
        c = greet(d.port)
        code, l = c.cmd("MAIL FROM:<a@example.org> SIZE=1025", 552)
        check("5.3.4" in l[0], l)
        c.cmd("RCPT TO:<b@mailetd.test>", 503)
        c.cmd("MAIL FROM:<a@example.org> SIZE=1024", 250)
        c.cmd("QUIT", 221)


def test_body_over_limit_rejected_after_data_and_not_kept():
    with daemon(maxsize="4K") as d:
        # tmp/ may hold the spool's pool of empty files made ahead (fsync
        # on): the message takes one, and must leave nothing new behind.
        tmpd = d.data + "/spool/tmp"
        before = set(__import__("os").listdir(tmpd))
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(("x" * 70 + "\r\n") * 200 + ".\r\n")
        code, l = c.read_reply()
        check(code == 552 and "5.3.4" in l[0], l)
        c.cmd("NOOP", 250)
        c.cmd("QUIT", 221)
        check(d.spool_ids() == [], "oversized message kept")
        after = set(__import__("os").listdir(tmpd))
        check(after <= before and (not before or len(after) == len(before) - 1),
              "temporary file left behind: %d files before, %d after" % (len(before), len(after)))


def test_message_under_limit_accepted():
    with daemon(maxsize="4K") as d:
        # tmp/ may hold the spool's pool of empty files made ahead (fsync
        # on): the message takes one, and must leave nothing new behind.
        tmpd = d.data + "/spool/tmp"
        before = set(__import__("os").listdir(tmpd))
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(("y" * 70 + "\r\n") * 20 + ".\r\n")
        c.expect(250)
        c.cmd("QUIT", 221)
