"""The SMTP dialogue: commands, replies, sequence and syntax (RFC 5321)."""
import re
import smtplib

from lib import Client, check, daemon, greet, wait_for

BODY = "From: a@example.org\r\nTo: b@mailetd.test\r\nSubject: hi\r\n\r\nHello there.\r\n"


def test_smtplib_transaction_is_spooled_byte_for_byte():
    with daemon() as d:
        s = smtplib.SMTP("127.0.0.1", d.port, timeout=10)
        code, msg = s.ehlo("client.example")
        check(code == 250, "EHLO %d" % code)
        refused = s.sendmail("sender@example.org", ["rcpt@mailetd.test"], BODY)
        check(refused == {}, "refused %r" % refused)
        s.quit()
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, "spool has %r" % ids)
        data = d.spool_cat(ids[0])
        check(data.startswith(b"Received: from client.example ([127.0.0.1])\r\n"),
              "Received header: %r" % data[:200])
        check(data.endswith(BODY.encode()), "body differs: %r" % data)
        hdr = data[: len(data) - len(BODY)].decode()
        check("with ESMTP id %s" % ids[0] in hdr, "id/protocol missing: %r" % hdr)
        check("for <rcpt@mailetd.test>;" in hdr, "for clause missing: %r" % hdr)
        rc, out, err = d.ctl("spool", "list")
        check("sender@example.org" in out and "rcpt@mailetd.test" in out, out)


def test_ehlo_advertises_extensions():
    with daemon(maxsize="1M") as d:
        c = Client(d.port)
        greeting = c.expect(220)
        check(greeting[0].startswith("220 mx.mailetd.test"), greeting)
        code, lines = c.cmd("EHLO client.example", 250)
        words = [l[4:] for l in lines[1:]]
        for kw in ("PIPELINING", "SIZE 1048576", "8BITMIME", "ENHANCEDSTATUSCODES",
                   "SMTPUTF8", "CHUNKING"):
            check(kw in words, "%s missing from %r" % (kw, lines))
        check(lines[0] == "250-mx.mailetd.test Hello client.example [127.0.0.1]", lines[0])
        code, lines = c.cmd("HELO client.example", 250)
        check(len(lines) == 1, lines)
        c.cmd("QUIT", 221)


def test_sequence_errors_get_503():
    with daemon() as d:
        c = Client(d.port)
        c.expect(220)
        code, l = c.cmd("MAIL FROM:<a@example.org>", 503)
        check("5.5.0 Need HELO or EHLO before MAIL" in l[0], l)
        c.cmd("EHLO client.example", 250)
        code, l = c.cmd("RCPT TO:<a@mailetd.test>", 503)
        check("5.5.0" in l[0], l)
        code, l = c.cmd("DATA", 503)
        check("5.5.0 No sender specified" in l[0], l)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        code, l = c.cmd("MAIL FROM:<a@example.org>", 503)
        check("Sender already specified" in l[0], l)
        code, l = c.cmd("DATA", 503)
        check("No recipients specified" in l[0], l)
        c.cmd("RSET", 250)
        c.cmd("RCPT TO:<a@mailetd.test>", 503)
        c.cmd("QUIT", 221)


def test_helo_not_enforced_when_disabled():
    with daemon(helo="false") as d:
        c = Client(d.port)
        c.expect(220)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("QUIT", 221)


def test_unknown_and_bad_syntax():
    with daemon() as d:
        c = greet(d.port)
        code, l = c.cmd("FOOBAR x", 500)
        check(l[0].startswith("500 5.5.1 "), l)
        code, l = c.cmd("STARTTLS", 500)
        check("5.5.1" in l[0], l)
        code, l = c.cmd("MAIL FROM<a@example.org>", 501)
        check("5.5.4" in l[0], l)
        code, l = c.cmd("MAIL FROM:a@example.org", 501)
        check("5.1.7" in l[0], l)
        code, l = c.cmd("MAIL FROM:<a@@example.org>", 501)
        check("5.1.7 Syntax error in sender address" in l[0], l)
        c.cmd("MAIL FROM:<a@example.org> SIZE=abc", 501)
        c.cmd("MAIL FROM:<a@example.org> BODY=BINARYMIME", 501)
        c.cmd("MAIL FROM:<a@example.org> BODY=8BITMIME", 250)
        code, l = c.cmd("RCPT TO:<b@@mailetd.test>", 553)
        check("5.1.3" in l[0], l)
        code, l = c.cmd("RCPT TO:<b@mailetd.test> FOO=bar", 504)
        check("5.5.4" in l[0] and "FOO" in l[0], l)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA extra", 501)
        c.cmd("HELO", 501)
        c.cmd("EHLO -bad-.example", 501)
        c.cmd("QUIT", 221)


def test_misc_commands():
    with daemon() as d:
        c = greet(d.port)
        c.cmd("NOOP", 250)
        c.cmd("NOOP anything", 250)
        code, l = c.cmd("VRFY someone", 252)
        check("2.5.0" in l[0], l)
        code, l = c.cmd("HELP", 214)
        check(any("EHLO" in x for x in l), l)
        c.cmd("RSET", 250)
        code, l = c.cmd("RSET x", 501)
        code, l = c.cmd("QUIT", 221)
        check("2.0.0 mx.mailetd.test" in l[0], l)
        check(c.closed(), "not closed after QUIT")


def test_every_reply_has_enhanced_code():
    with daemon() as d:
        c = Client(d.port)
        c.expect(220)
        replies = []
        for line in ("EHLO client.example", "MAIL FROM:<a@example.org>",
                     "RCPT TO:<b@mailetd.test>", "RCPT TO:<b@elsewhere.example>",
                     "NOOP", "RSET", "BOGUS", "VRFY x", "MAIL FROM:<a"):
            replies.append(c.cmd(line))
        c.cmd("QUIT")
        for code, lines in replies[1:]:
            check(re.match(r"^\d{3}[ -][245]\.\d{1,3}\.\d{1,3} ", lines[-1]),
                  "no enhanced code: %r" % lines)


def test_address_without_domain_gets_default_domain_and_null_sender():
    with daemon() as d:
        c = greet(d.port)
        code, l = c.cmd("MAIL FROM:<>", 250)
        check("<>" in l[0], l)
        code, l = c.cmd("RCPT TO:<postmaster>", 250)
        check("postmaster@mailetd.test" in l[0], l)
        code, l = c.cmd("RCPT TO:<bob>", 250)
        check("bob@mailetd.test" in l[0], l)
        c.cmd("QUIT", 221)


def test_smtputf8_needs_the_parameter():
    with daemon() as d:
        c = greet(d.port)
        code, l = c.cmd("MAIL FROM:<θσερ@example.org>", 553)
        check("5.6.7" in l[0], l)
        c.cmd("MAIL FROM:<θσερ@example.org> SMTPUTF8", 250)
        c.cmd("RCPT TO:<用户@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: ünïcode\r\n\r\nbody\r\n.\r\n")
        c.expect(250)
        c.cmd("QUIT", 221)
        ids = wait_for(d.spool_ids)
        data = d.spool_cat(ids[0])
        check(b"with UTF8SMTP id" in data, data[:300])


def test_command_line_too_long_is_dropped_and_session_survives():
    with daemon(maxline=1000) as d:
        c = greet(d.port)
        code, l = c.cmd("NOOP " + "x" * 5000, 500)
        check("5.5.2" in l[0], l)
        c.cmd("NOOP", 250)
        # exactly at the limit is fine
        c.cmd("NOOP " + "y" * 995, 250)
        c.cmd("QUIT", 221)


def test_nul_in_command_rejected():
    with daemon() as d:
        c = greet(d.port)
        c.send(b"NOOP \x00x\r\n")
        code, l = c.read_reply()
        check(code == 500 and "5.5.2" in l[0], l)
        c.cmd("NOOP", 250)
        c.cmd("QUIT", 221)


def test_too_many_errors_closes_with_421():
    with daemon() as d:
        c = greet(d.port)
        code = None
        for i in range(40):
            c.send("BOGUS%d\r\n" % i)
            code, l = c.read_reply()
            if code == 421:
                break
        check(code == 421, "no 421 after many errors: %r" % l)
        check(c.closed(), "connection not closed after 421")


def test_data_line_too_long_rejects_message():
    with daemon(maxline=1000) as d:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: x\r\n\r\n" + "z" * 3000 + "\r\n.\r\n")
        code, l = c.read_reply()
        check(code == 500 and "5.5.2" in l[0], l)
        c.cmd("NOOP", 250)
        c.cmd("QUIT", 221)
        check(d.spool_ids() == [], "oversized line message was kept")


def test_dot_stuffing_and_empty_message():
    with daemon() as d:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: dots\r\n\r\n..leading dot\r\n...\r\n.x\r\n.\r\n")
        c.expect(250)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(".\r\n")
        c.expect(250)
        c.cmd("QUIT", 221)
        ids = wait_for(lambda: len(d.spool_ids()) == 2 and d.spool_ids())
        first = d.spool_cat(ids[0])
        check(first.endswith(b"Subject: dots\r\n\r\n.leading dot\r\n..\r\nx\r\n"), first)
        second = d.spool_cat(ids[1])
        check(second.startswith(b"Received:") and second.endswith(b"\r\n"), second)
