"""SetMimeHeaderHandler (and so hook_add_header, the message hooks' "header
fields to put on top") through real SMTP and LMTP sessions.
"""
import smtplib

import lib
from lib import check, running, wait_for
from test_handlers import chain_daemon
from test_lmtp import LMTP_TEMPLATE, lmtp_daemon, mail_files, read

HANDLER = ('<handler class="org.apache.james.smtpserver.SetMimeHeaderHandler">'
           '<headername>SPF-test</headername><headervalue>passed</headervalue></handler>')


def test_set_mime_header_smtp():
    with running(chain_daemon(HANDLER + '<handler class="org.apache.james.smtpserver.'
                              'EnforceHeaderLimitationsMessageHook"><maxLines>2</maxLines>'
                              '<maxSize>1K</maxSize></handler>')) as d:
        c = lib.greet(d.port)
        c.cmd("MAIL FROM:<alice@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: hello\r\n\r\nbody\r\n.\r\n")
        c.expect(250)
        # Refused by a later hook: nothing of the first message's field is
        # carried into the next transaction.
        c.cmd("MAIL FROM:<alice@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("A: 1\r\nB: 2\r\nC: 3\r\n\r\nbody\r\n.\r\n")
        code, lines = c.read_reply()
        check(code == 552, lines)
        c.cmd("MAIL FROM:<alice@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: again\r\n\r\nbody\r\n.\r\n")
        c.expect(250)
        c.close()
        ids = d.spool_ids()
        check(len(ids) == 2, ids)
        for mid in ids:
            data = d.spool_cat(mid)
            check(data.startswith(b"SPF-test: passed\r\nReceived: from "), data[:200])
            check(data.count(b"SPF-test:") == 1, data[:300])
            check(data.endswith(b"\r\n\r\nbody\r\n"), data[-50:])


def test_set_mime_header_lmtp():
    d = lmtp_daemon()
    d.write("lmtpserver.xml", open(d.conf + "/lmtpserver.xml").read().replace(
        '<handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>',
        '<handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>' + HANDLER))
    with running(d):
        client = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=10)
        client.ehlo("client.example")
        client.mail("alice@example.org")
        client.rcpt("bob@mailetd.test")
        code, msg = client.data(b"Subject: lmtp\r\n\r\nbody\r\n")
        check(code == 250, msg)
        client.quit()
        files = wait_for(lambda: mail_files(d))
        check(files, "nothing delivered")
        data = read(files[0])
        check(b"\r\nSPF-test: passed\r\nReceived: from " in data, data[:300])
        check(data.startswith(b"Return-Path: <alice@example.org>\r\n"), data[:100])
