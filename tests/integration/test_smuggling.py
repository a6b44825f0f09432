"""SMTP smuggling (CVE-2023-51764 class): bare LF/CR never end DATA."""
from lib import Client, check, daemon, greet

VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r.\r", b"\r\n.\n", b"\r\n.\r\r\n"]


def smuggle(port, variant):
    c = greet(port)
    c.cmd("MAIL FROM:<a@example.org>", 250)
    c.cmd("RCPT TO:<b@mailetd.test>", 250)
    c.cmd("DATA", 354)
    c.send(b"Subject: outer\r\n\r\nfirst part" + variant +
           b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@mailetd.test>\r\nDATA\r\n"
           b"Subject: smuggled\r\n\r\nsmuggled\r\n.\r\n")
    code, lines = c.read_reply()
    closed = c.closed()
    return code, lines, closed, c.buf


def test_smuggling_variants_are_rejected_and_close():
    with daemon() as d:
        for v in VARIANTS:
            code, lines, closed, rest = smuggle(d.port, v)
            check(code == 550 and "5.5.2" in lines[0], "%r: got %r" % (v, lines))
            check(closed, "%r: connection left open" % v)
            check(rest == b"", "%r: more replies after rejection: %r" % (v, rest))
        check(d.spool_ids() == [], "a smuggled or rejected message was kept")
        check("smuggled" not in d.log(), "smuggled command executed")
