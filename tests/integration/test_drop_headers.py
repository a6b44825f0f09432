"""DropHeadersFilter (and so the data_line filter hook) through real SMTP
DATA, BDAT and LMTP sessions: the named header fields and their
continuation lines leave the stored message, the body stays as sent, and
the message hooks see the filtered header block.
"""
import re
import smtplib

import lib
from lib import check, running, run, wait_for
from test_handlers import chain_daemon
from test_lmtp import lmtp_daemon, mail_files, read

DROP = '<handler class="DropHeadersFilter"/>'
# Six fields as sent, three once Return-Path, Bcc and Content-Length are
# gone: the limit of three passes only if the hook sees the filtered block.
LIMITS = ('<handler class="EnforceHeaderLimitationsMessageHook"><maxLines>3</maxLines>'
          '<maxSize>1K</maxSize></handler>')
MIME = ('<handler class="SetMimeHeaderHandler"><headername>X-Filtered</headername>'
        '<headervalue>yes</headervalue></handler>')

MESSAGE = (b"Return-Path: <evil@example.com>\r\n"
           b"From: alice@example.org\r\n"
           b"Bcc: hidden@example.com,\r\n"
           b"\tother@example.com\r\n"
           b"To: bob@mailetd.test\r\n"
           b"Content-Length: 999\r\n"
           b"Subject: drop test\r\n"
           b"\r\n"
           b"Bcc: keep-me\r\n"
           b"Content-Length: 5\r\n"
           b"..dot-stuffed body line\r\n")
# The same message as stored (the dot-stuffing is DATA's, undone).
STORED = (b"From: alice@example.org\r\n"
          b"To: bob@mailetd.test\r\n"
          b"Subject: drop test\r\n"
          b"\r\n"
          b"Bcc: keep-me\r\n"
          b"Content-Length: 5\r\n"
          b".dot-stuffed body line\r\n")


def check_stored(data):
    check(data.startswith(b"X-Filtered: yes\r\nReceived: from "), data[:200])
    check(data.endswith(b"\r\n" + STORED), data)
    head = data[:data.index(b"\r\n\r\n")]
    for name in (b"Bcc:", b"Return-Path:", b"Content-Length:", b"other@example.com"):
        check(name not in head, (name, head))


def smtp_send(c, how):
    c.cmd("MAIL FROM:<alice@example.org>", 250)
    c.cmd("RCPT TO:<bob@mailetd.test>", 250)
    if how == "data":
        c.cmd("DATA", 354)
        c.send(MESSAGE + b".\r\n")
        return c.read_reply()
    # BDAT, unstuffed, cut inside the folded Bcc field and between CR and LF.
    raw = MESSAGE.replace(b"\r\n..", b"\r\n.")
    cuts = [0, raw.index(b"hidden") + 3, raw.index(b"\tother") - 1, raw.index(b"Subject"),
            len(raw)]
    for i in range(len(cuts) - 1):
        part = raw[cuts[i]:cuts[i + 1]]
        last = b" LAST" if i == len(cuts) - 2 else b""
        c.send(b"BDAT %d%s\r\n" % (len(part), last) + part)
        code, lines = c.read_reply()
        if last:
            return code, lines
        check(code == 250, lines)


def test_drop_headers_data_and_bdat():
    with running(chain_daemon(DROP + LIMITS + MIME)) as d:
        c = lib.greet(d.port)
        for how in ("data", "bdat"):
            code, lines = smtp_send(c, how)
            check(code == 250, (how, lines))
        # The limit is real: four fields that stay are too many.
        c.cmd("MAIL FROM:<alice@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(b"Bcc: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nbody\r\n.\r\n")
        code, lines = c.read_reply()
        check(code == 552, lines)
        c.cmd("QUIT", 221)
        ids = wait_for(lambda: len(d.spool_ids()) == 2 and d.spool_ids())
        check(ids and len(ids) == 2, ids)
        for mid in ids:
            check_stored(d.spool_cat(mid))
        # The size is what is stored, not what was sent.
        sizes = re.findall(r"event=message msgid=\S+ size=(\d+)", d.log())
        check(sizes == [str(len(STORED))] * 2, sizes)


def test_drop_headers_smtplib():
    """A plain client (smtplib does the dot-stuffing)."""
    with running(chain_daemon(DROP + MIME)) as d:
        client = smtplib.SMTP("127.0.0.1", d.port, timeout=10)
        client.ehlo("client.example")
        client.sendmail("alice@example.org", ["bob@mailetd.test"],
                        MESSAGE.replace(b"\r\n..", b"\r\n."))
        client.quit()
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
        check_stored(d.spool_cat(ids[0]))


def test_drop_headers_lmtp():
    d = lmtp_daemon(users=("bob", "carol"))
    d.write("lmtpserver.xml", open(d.conf + "/lmtpserver.xml").read().replace(
        '<handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>',
        '<handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>'
        '<handler class="DropHeadersFilter"><header>bcc</header><header>RETURN-PATH</header>'
        '<header>Content-Length</header></handler>'))
    with running(d):
        client = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=10)
        client.ehlo("client.example")
        client.mail("alice@example.org")
        client.rcpt("bob@mailetd.test")
        client.rcpt("carol@mailetd.test")
        code, msg = client.data(MESSAGE.replace(b"\r\n..", b"\r\n."))
        check(code == 250, msg)
        client.quit()
        for user in ("bob", "carol"):
            files = wait_for(lambda: mail_files(d, user=user))
            check(files, "nothing delivered to %s" % user)
            data = read(files[0])
            # mailetd's own Return-Path stays; the client's is gone.
            check(data.startswith(b"Return-Path: <alice@example.org>\r\n"), data[:100])
            check(data.count(b"Return-Path:") == 1, data)
            check(data.endswith(b"\r\n" + STORED), data)


def test_drop_headers_bad_name_stops_startup():
    d = chain_daemon('\n<handler class="DropHeadersFilter">\n<header>Bcc</header>\n'
                     '<header>Resent Bcc</header>\n</handler>')
    rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
    check(rc == 1, "status %d: %s" % (rc, err))
    want = '%s/smtpserver.xml:20: <header>: "Resent Bcc" is not a header field name' % d.conf
    check(want in err, err)


def test_drop_headers_long_lines_bdat():
    """Lines longer than a filter's piece (8 KiB; maxlinelength is raised
    here): a long Bcc goes whole, a long field and a long body line stay
    byte for byte."""
    with running(chain_daemon(DROP, maxline=100000)) as d:
        c = lib.greet(d.port)
        c.cmd("MAIL FROM:<alice@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        keep = b"X-Long: " + b"k" * 30000 + b"\r\n"
        body = b"Bcc: keep-me " + b"b" * 40000 + b"\r\nend"
        raw = (b"Bcc: " + b"x" * 25000 + b"\r\n\t" + b"y" * 9000 + b"\r\n" + keep +
               b"Return-Path: <" + b"r" * 17000 + b">\r\n\r\n" + body)
        for i in range(0, len(raw), 7001):
            part = raw[i:i + 7001]
            last = b" LAST" if i + 7001 >= len(raw) else b""
            c.send(b"BDAT %d%s\r\n" % (len(part), last) + part)
            code, lines = c.read_reply()
            check(code == 250, lines)
        c.cmd("QUIT", 221)
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
        data = d.spool_cat(ids[0])
        check(data.endswith(b"\r\n" + keep + b"\r\n" + body), data[-200:])
        check(b"xxxx" not in data and b"yyyy" not in data and b"rrrr" not in data, len(data))
