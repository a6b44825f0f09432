"""HeaderChecksFilter through real SMTP DATA, BDAT and LMTP sessions: a
data_line filter's refusal answers the end of the data (DATA's dot, the
BDAT chunk, every LMTP recipient), the message is neither spooled nor
delivered, and the session goes on.
"""
import re

import lib
from lib import Client, check, running, run, wait_for
from test_handlers import chain_daemon
from test_lmtp import lmtp_daemon, mail_files, read

CHECKS = ('<handler class="HeaderChecksFilter">'
          '<reject pattern="^Subject:.*viagra" code="550" ecode="5.7.1">'
          'Message content rejected</reject>'
          '<defer pattern="^X-Mailer: +bulk"/>'
          '<disconnect pattern="^X-Bot:"/>'
          '<body_reject pattern="^buy now$" code="554">Body rejected</body_reject>'
          '</handler>')

BAD = (b"From: alice@example.org\r\n"
       b"Subject: cheap\r\n"
       b"\tVIAGRA here\r\n"
       b"To: bob@mailetd.test\r\n"
       b"\r\n"
       b"body\r\n")
CLEAN = (b"From: alice@example.org\r\n"
         b"Subject: hello\r\n"
         b"To: bob@mailetd.test\r\n"
         b"\r\n"
         b"Subject: viagra in the body is no header\r\n")


def envelope(c):
    c.cmd("MAIL FROM:<alice@example.org>", 250)
    c.cmd("RCPT TO:<bob@mailetd.test>", 250)


def data(c, msg):
    envelope(c)
    c.cmd("DATA", 354)
    c.send(msg + b".\r\n")
    return c.read_reply()


def test_header_checks_data_reject_defer_body():
    with running(chain_daemon(CHECKS)) as d:
        c = lib.greet(d.port)
        code, lines = data(c, BAD)
        check(code == 550 and lines == ["550 5.7.1 Message content rejected"], lines)
        # The session is usable: a clean message (a header-like body line) goes.
        code, lines = data(c, CLEAN)
        check(code == 250, lines)
        code, lines = data(c, b"X-Mailer:   BULK sender 1.0\r\n\r\nhi\r\n")
        check(code == 451 and lines[0].startswith("451 4.7.1 "), lines)
        code, lines = data(c, b"Subject: x\r\n\r\nfirst\r\nBUY NOW\r\nlast\r\n")
        check(code == 554 and lines == ["554 5.7.1 Body rejected"], lines)
        c.cmd("NOOP", 250)
        c.cmd("QUIT", 221)
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
        stored = d.spool_cat(ids[0])
        check(stored.endswith(b"\r\n" + CLEAN), stored)
        log = d.log()
        hits = re.findall(r'event=header-check action=(\w+) rule=\S+smtpserver\.xml:\d+ '
                          r'pattern="(?:[^"\\]|\\.)*" msgid=([0-9a-f]+) (field|line)="([^"]*)"', log)
        check([(h[0], h[2], h[3]) for h in hits] ==
              [("reject", "field", "Subject: cheap\\tVIAGRA here"),
               ("defer", "field", "X-Mailer:   BULK sender 1.0"),
               ("body_reject", "line", "BUY NOW")], hits)
        check(ids[0] not in [h[1] for h in hits], (ids, hits))


def test_header_checks_disconnect():
    with running(chain_daemon(CHECKS)) as d:
        c = lib.greet(d.port)
        code, lines = data(c, b"X-Bot: 1\r\nFrom: x\r\n\r\nhi\r\n")
        check(code == 554, lines)
        check(c.closed(), "still open")
        check(d.spool_ids() == [], d.spool_ids())


def test_header_checks_bdat():
    with running(chain_daemon(CHECKS)) as d:
        c = lib.greet(d.port)
        envelope(c)
        # The matching field ends in the first chunk (the next field's line
        # is there too): that chunk gets the refusal.
        end = BAD.index(b"\r\n\r\n") + 2
        chunks = [BAD[:end], BAD[end:], b"more\r\n"]
        c.send(b"BDAT %d\r\n" % len(chunks[0]) + chunks[0])
        code, lines = c.read_reply()
        check(code == 550 and lines == ["550 5.7.1 Message content rejected"], lines)
        # The transaction is over: the next chunk is read and refused.
        c.send(b"BDAT %d\r\n" % len(chunks[1]) + chunks[1])
        code, lines = c.read_reply()
        check(code == 503, lines)
        c.send(b"BDAT %d LAST\r\n" % len(chunks[2]) + chunks[2])
        code, lines = c.read_reply()
        check(code == 503, lines)
        # A field that ends exactly at the end of a chunk is known to be
        # whole only with the next line: the next chunk is refused.
        envelope(c)
        cut = BAD.index(b"To:")
        c.send(b"BDAT %d\r\n" % cut + BAD[:cut])
        code, lines = c.read_reply()
        check(code == 250, lines)
        c.send(b"BDAT %d LAST\r\n" % (len(BAD) - cut) + BAD[cut:])
        code, lines = c.read_reply()
        check(code == 550, lines)
        # And the session goes on.
        envelope(c)
        c.send(b"BDAT %d LAST\r\n" % len(CLEAN) + CLEAN)
        code, lines = c.read_reply()
        check(code == 250, lines)
        c.cmd("QUIT", 221)
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
        check(d.spool_cat(ids[0]).endswith(b"\r\n" + CLEAN), ids)


def test_header_checks_lmtp_two_recipients():
    d = lmtp_daemon(users=("bob", "carol"))
    d.write("lmtpserver.xml", open(d.conf + "/lmtpserver.xml").read().replace(
        '<handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>',
        '<handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>' + CHECKS))
    with running(d):
        c = Client(d.lmtp_port)
        c.expect(220)
        c.cmd("LHLO client.example", 250)
        for msg, want in ((BAD, 550), (CLEAN, 250)):
            c.cmd("MAIL FROM:<alice@example.org>", 250)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)
            c.cmd("RCPT TO:<carol@mailetd.test>", 250)
            c.cmd("DATA", 354)
            c.send(msg + b".\r\n")
            replies = [c.read_reply() for _ in range(2)]
            check([r[0] for r in replies] == [want, want], replies)
            if want == 550:
                check(replies[0][1] == ["550 5.7.1 Message content rejected"], replies)
                # Nothing else is waiting: the refusal came once per recipient.
                c.cmd("NOOP", 250)
                check(mail_files(d, user="bob") == [] and mail_files(d, user="carol") == [],
                      "delivered")
        c.cmd("QUIT", 221)
        for user in ("bob", "carol"):
            files = wait_for(lambda: mail_files(d, user=user))
            check(len(files) == 1, (user, files))
            check(read(files[0]).endswith(b"\r\n" + CLEAN), user)


def test_header_checks_after_drop_headers():
    """Chain order: a field DropHeadersFilter removed is not seen by a
    HeaderChecksFilter listed after it, and is seen by one listed before."""
    rule = '<handler class="HeaderChecksFilter"><reject pattern="^Bcc:.*@secret"/></handler>'
    drop = '<handler class="DropHeadersFilter"><header>Bcc</header></handler>'
    msg = (b"From: alice@example.org\r\nBcc: x@secret.example,\r\n y@secret.example\r\n"
           b"To: bob@mailetd.test\r\n\r\nbody\r\n")
    for chain, want in ((drop + rule, 250), (rule + drop, 550)):
        with running(chain_daemon(chain)) as d:
            c = lib.greet(d.port)
            code, lines = data(c, msg)
            check(code == want, (chain, lines))
            c.cmd("QUIT", 221)
            if want == 250:
                ids = wait_for(d.spool_ids)
                check(len(ids) == 1, ids)
                check(b"secret" not in d.spool_cat(ids[0]), "Bcc kept")
            else:
                check(d.spool_ids() == [], d.spool_ids())


def test_header_checks_bad_config_stops_startup():
    for rule, why in (('<reject pattern="viagra(" />', '<reject>: pattern="viagra(" is not a '
                       'regular expression'),
                      ('<reject pattern="x" code="451"/>', '<reject>: code="451" is not a '
                       '5xx reply code'),
                      ('<defer pattern="x" code="450" ecode="5.7.1"/>',
                       '<defer>: ecode="5.7.1" is not an enhanced status code of class 4')):
        d = chain_daemon('\n<handler class="HeaderChecksFilter">\n%s\n</handler>' % rule)
        rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
        check(rc == 1, "status %d: %s" % (rc, err))
        want = "%s/smtpserver.xml:19: %s" % (d.conf, why)
        check(want in err, err)
