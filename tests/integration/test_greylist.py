"""JDBCGreylistHandler (embedded store) through real sessions, with short
times: first sighting, too-soon retry, pass, persistence across a restart,
whitelisted networks and relay clients.
"""
import os
import time

import lib
from lib import check, running
from test_handlers import chain_daemon

FIRST = "451 4.4.3 Temporary rejected: Please try again later"
TOO_SOON = "451 4.4.3 Temporary rejected: Reconnect to fast. Please try again later"


def greylist(extra=""):
    return ('<handler class="org.apache.james.smtpserver.fastfail.JDBCGreylistHandler">'
            '<tempBlockTime>1s</tempBlockTime><autoWhiteListLifeTime>1 hour</autoWhiteListLifeTime>'
            '<unseenLifeTime>1 hour</unseenLifeTime>%s</handler>' % extra)


def rcpt(c, to, sender="alice@example.org"):
    c.cmd("RSET", 250)
    c.cmd("MAIL FROM:<%s>" % sender, 250)
    return c.cmd("RCPT TO:<%s>" % to)


def test_greylist_first_retry_pass_and_restart():
    d = chain_daemon(greylist())
    d.start()
    try:
        c = lib.greet(d.port)
        code, lines = rcpt(c, "bob@mailetd.test")
        check(lines == [FIRST], lines)
        code, lines = rcpt(c, "bob@mailetd.test")
        check(lines == [TOO_SOON], lines)
        time.sleep(1.2)
        code, lines = rcpt(c, "bob@mailetd.test")
        check(code == 250, lines)
        c.cmd("DATA", 354)
        c.send("Subject: t\r\n\r\nx\r\n.\r\n")
        c.expect(250)
        # Another recipient, another sender, the null sender: new triplets.
        code, lines = rcpt(c, "carol@mailetd.test")
        check(lines == [FIRST], lines)
        code, lines = rcpt(c, "bob@mailetd.test", sender="mallory@example.org")
        check(lines == [FIRST], lines)
        code, lines = rcpt(c, "bob@mailetd.test", sender="")
        check(lines == [FIRST], lines)
        # Pipelined RCPTs are answered in order while the store is asked.
        c.cmd("RSET", 250)
        c.send("MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@mailetd.test>\r\n"
               "RCPT TO:<dave@mailetd.test>\r\nNOOP\r\n")
        check(c.read_reply()[0] == 250, "MAIL")
        check(c.read_reply()[0] == 250, "RCPT bob (whitelisted)")
        check(c.read_reply()[1] == [FIRST], "RCPT dave")
        check(c.read_reply()[0] == 250, "NOOP")
        c.close()
        check("event=greylisted" in d.log(), d.log()[-2000:])
        check(os.path.exists(os.path.join(d.data, "greylist.db")), "no greylist.db")
        # A restart remembers: the passed triplet is still whitelisted, the
        # fresh one still too soon... until its block time is over.
        check(d.stop() == 0, "stop")
        d.logf.close()
        d.start()
        c = lib.greet(d.port)
        code, lines = rcpt(c, "bob@mailetd.test")
        check(code == 250, lines)
        c.close()
    finally:
        d.close()


def test_greylist_whitelisted_and_relay_clients():
    with running(chain_daemon(greylist("<whitelistedNetworks>127.0.0.0/8"
                                       "</whitelistedNetworks>"))) as d:
        c = lib.greet(d.port)
        code, lines = rcpt(c, "bob@mailetd.test")
        check(code == 250, lines)
        c.close()
    with running(chain_daemon(greylist())) as d:
        # 127.0.0.2 may relay (authorizedAddresses): never greylisted.
        c = lib.greet(d.port, source="127.0.0.2")
        code, lines = rcpt(c, "bob@mailetd.test")
        check(code == 250, lines)
        c.close()
        c = lib.greet(d.port)
        code, lines = rcpt(c, "bob@mailetd.test")
        check(lines == [FIRST], lines)
        c.close()


def test_greylist_james_sample_config_loads():
    # spring-app/smtpserver.xml's (commented-out) block, as written there.
    d = chain_daemon('<handler class="org.apache.james.smtpserver.fastfail.JDBCGreylistHandler">'
                     '<repositoryPath>db://maildb</repositoryPath>'
                     '<sqlFile>file://conf/sqlResources.xml</sqlFile>'
                     '<tempBlockTime>1 hour</tempBlockTime>'
                     '<unseenLifeTime>4 hours</unseenLifeTime>'
                     '<autoWhiteListLifeTime>36 days</autoWhiteListLifeTime>'
                     '<whitelistedNetworks>127.0.0.0/8</whitelistedNetworks></handler>')
    rc, out, err = lib.run([lib.MAILETD, "-t", "-v", "-c", d.conf])
    check(rc == 0 and "JDBCGreylistHandler" in out, out + err)
    import shutil
    shutil.rmtree(d.dir, ignore_errors=True)
