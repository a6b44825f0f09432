"""The DNS-based handlers through real sessions, against dnsserver.py on a
loopback port (docs/handlers.md): DNSRBLHandler, ResolvableEhloHeloHandler,
ReverseEqualsEhloHeloHandler, ValidSenderDomainHandler, ValidRcptMX and
SPFHandler, URIRBLHandler, with listed and unlisted clients, good and bad names, and DNS
timeouts (never a permanent rejection).
"""
import base64
import shutil
import socket
import time

import lib
from lib import Client, Daemon, check, running, wait_for
from test_auth import envelope_has, spooled
import dnsserver

V6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"

ZONE = {
    "names": {
        # DNSRBL: 127.0.0.1 and ::1 are listed in bl.test, 127.0.0.1 in wl.test.
        "1.0.0.127.bl.test": {"A": ["127.0.0.2"], "TXT": ["listed for testing"]},
        V6 + ".bl.test": {"A": ["127.0.0.4"]},
        "1.0.0.127.wl.test": {"A": ["127.0.0.2"]},
        "other.bl.test": {"A": ["127.0.0.2"]},
        "other.wl.test": {"A": ["127.0.0.2"]},
        # HELO names
        "good.test": {"A": ["192.0.2.1"]},
        "v6only.test": {"AAAA": ["2001:db8::1"]},
        # sender domains
        "mx.test": {"MX": [[10, "mail.mx.test"]]},
        "mail.mx.test": {"A": ["198.51.100.7"]},
        "aonly.test": {"A": ["198.51.100.8"]},
        "nullmx.test": {"MX": [[0, "."]]},
        # recipient MX
        "badmx.test": {"MX": [[10, "mx.badmx.test"], [20, "mx2.badmx.test"]]},
        "mx.badmx.test": {"A": ["198.51.100.9"]},
        "mx2.badmx.test": {"A": ["192.0.2.5"]},
        "bogon.test": {"MX": [[10, "mx.bogon.test"]]},
        "mx.bogon.test": {"A": ["10.1.2.3"]},
        "implicit.test": {"A": ["192.0.2.77"]},
        "pub.test": {"MX": [[10, "mx.pub.test"]]},
        "mx.pub.test": {"A": ["93.184.216.34"], "AAAA": ["2606:2800:220:1::1"]},
        # SPF
        "spf-pass.test": {"TXT": ["v=spf1 ip4:127.0.0.1 ip6:::1 -all"],
                          "MX": [[10, "mail.mx.test"]]},
        "spf-fail.test": {"TXT": ["v=spf1 -all"]},
        "spf-exp.test": {"TXT": ["v=spf1 -all exp=why.spf-exp.test"]},
        "why.spf-exp.test": {"TXT": ["%{i} may not send for %{d}"]},
        "spf-soft.test": {"TXT": ["v=spf1 ~all"]},
        "spf-perm.test": {"TXT": ["v=spf1 foo:bar -all"]},
        "spf-temp.test": {"TXT": ["v=spf1 include:slow.test -all"]},
        "helo.test": {"TXT": ["v=spf1 ip4:127.0.0.1 -all"]},
        # URI blocklist
        "evil.example.uribl.test": {"A": ["127.0.0.2"], "TXT": ["spam site"]},
    },
    "drop": ["slow.test", "1.0.0.127.slowbl.test", V6 + ".slowbl.test", "slowmx.test",
             "evil.example.slowuri.test"],
}


def dns_daemon(srv, handlers, **kw):
    extra = kw.pop("extra", "") + "<handlerchain>%s</handlerchain>" % handlers
    d = Daemon(extra=extra, **kw)
    d.write("dnsservice.xml",
            '<?xml version="1.0"?>\n<dnsservice>\n<servers>\n'
            '<server>127.0.0.1:%d</server>\n</servers>\n'
            '<autodiscover>false</autodiscover>\n<timeout>2</timeout>\n'
            '</dnsservice>\n' % srv.port)
    return d


class Zone:
    def __enter__(self):
        self.srv = dnsserver.Server(ZONE).start()
        return self.srv

    def __exit__(self, *a):
        self.srv.stop()


FF = "org.apache.james.smtpserver.fastfail."
RBL_TEXT = ("554 5.7.1 Rejected: unauthenticated e-mail from /%s is restricted.  "
            "Contact the postmaster for details.")


def rbl(lists, detail=False):
    return ('<handler class="%sDNSRBLHandler"><getDetail>%s</getDetail><rblservers>%s'
            '</rblservers></handler>' % (FF, "true" if detail else "false", lists))


def test_dnsrbl_blacklist():
    with Zone() as srv, running(dns_daemon(srv, rbl("<blacklist>bl.test.</blacklist>"))) as d:
        c = lib.greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)  # James refuses at RCPT
        code, lines = c.cmd("RCPT TO:<bob@mailetd.test>", 554)
        check(lines == [RBL_TEXT % "127.0.0.1"], lines)
        c.cmd("RCPT TO:<postmaster@mailetd.test>", 250)  # RFC 5321 4.5.1
        c.cmd("RCPT TO:<abuse@mailetd.test>", 250)
        c.close()
        # A client allowed to relay is not checked.
        c = lib.greet(d.port, source="127.0.0.2")
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.close()
        # Looked up once per connection, at connect (prefetch).
        check(srv.count("1.0.0.127.bl.test", "A") == 1, srv.counts)
        check(srv.count("2.0.0.127.bl.test", "A") == 0, srv.counts)


def test_dnsrbl_detail_whitelist_and_timeout():
    with Zone() as srv:
        with running(dns_daemon(srv, rbl("<blacklist>bl.test</blacklist>", True))) as d:
            c = lib.greet(d.port)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            code, lines = c.cmd("RCPT TO:<bob@mailetd.test>", 554)
            check(lines == ["554 5.7.1 listed for testing"], lines)
            c.close()
        lists = "<whitelist>wl.test</whitelist><blacklist>bl.test</blacklist>"
        with running(dns_daemon(srv, rbl(lists))) as d:
            c = lib.greet(d.port)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)  # whitelisted first
            c.close()
        # A list that does not answer: the client passes (as in James).
        with running(dns_daemon(srv, rbl("<blacklist>slowbl.test</blacklist>"))) as d:
            c = lib.greet(d.port)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)
            c.close()
            check("event=dnsrbl-tempfail zone=slowbl.test" in d.log(), d.log()[-3000:])


def test_dnsrbl_ipv6_and_pending():
    with Zone() as srv:
        d = dns_daemon(srv, rbl("<blacklist>bl.test</blacklist><blacklist>slowbl.test"
                                "</blacklist>"))
        port6 = lib.free_port()
        d.write("smtpserver.xml", open(d.conf + "/smtpserver.xml").read().replace(
            "<bind>127.0.0.1:%d</bind>" % d.port,
            "<bind>127.0.0.1:%d, [::1]:%d</bind>" % (d.port, port6)))
        with running(d):
            s = socket.create_connection(("::1", port6), timeout=10)
            c = Client.__new__(Client)
            c.sock, c.buf = s, b""
            c.expect(220)
            c.cmd("EHLO client.example", 250)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            # slowbl.test never answers: RCPT waits (PENDING) for the timeout.
            t0 = time.time()
            code, lines = c.cmd("RCPT TO:<bob@mailetd.test>", 554)
            check(time.time() - t0 > 1.0, "did not wait for the slow list")
            check(lines == [RBL_TEXT % "::1"], lines)
            c.close()
            check("handler=DNSRBLHandler" in d.log(), d.log()[-3000:])
            check(srv.count(V6 + ".bl.test", "A") == 1, srv.counts)
            # A client that leaves while the lookups run: they are cancelled.
            for _ in range(3):
                c = lib.greet(d.port)
                c.close()
            c = lib.greet(d.port)
            c.cmd("NOOP", 250)
            c.close()


HELO_BAD = "501 5.5.4 Provided EHLO/HELO Optional[%s] can not resolved."


def test_resolvable_ehlo_helo():
    with Zone() as srv, running(dns_daemon(
            srv, '<handler class="%sResolvableEhloHeloHandler"/>' % FF)) as d:
        for helo in ("good.test", "v6only.test", "[127.0.0.1]"):
            c = lib.greet(d.port, helo=helo)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)
            c.close()
        c = lib.greet(d.port, helo="nohost.test")
        code, lines = c.cmd("MAIL FROM:<a@example.org>", 501)
        check(lines == [HELO_BAD % "nohost.test"], lines)
        c.cmd("HELO good.test", 250)  # a new name, a new check
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.close()
        # A timeout is temporary.
        c = lib.greet(d.port, helo="slow.test")
        code, lines = c.cmd("MAIL FROM:<a@example.org>", 451)
        check(lines[0].startswith("451 4.4.3 "), lines)
        c.close()
        # Clients that may relay are not checked (checkAuthNetworks false).
        c = lib.greet(d.port, helo="nohost.test", source="127.0.0.2")
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.close()


def test_reverse_equals_ehlo_helo():
    # 127.0.0.1's PTR name is localhost (libunbound's own local zone).
    with Zone() as srv, running(dns_daemon(
            srv, '<handler class="%sReverseEqualsEhloHeloHandler"/>' % FF)) as d:
        for helo in ("localhost", "LocalHost", "[127.0.0.1]"):
            c = lib.greet(d.port, helo=helo)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.close()
        # Resolvable, but not the client's name: the intended check refuses it.
        for helo in ("good.test", "[127.0.0.9]"):
            c = lib.greet(d.port, helo=helo)
            code, lines = c.cmd("MAIL FROM:<a@example.org>", 501)
            check(lines == [HELO_BAD % helo], lines)
            c.close()


def test_valid_sender_domain():
    with Zone() as srv, running(dns_daemon(
            srv, '<handler class="%sValidSenderDomainHandler"/>' % FF)) as d:
        c = lib.greet(d.port)
        for good in ("a@mx.test", "a@aonly.test", "", "a@[192.0.2.1]"):
            c.cmd("MAIL FROM:<%s>" % good, 250)
            c.cmd("RSET", 250)
        for bad in ("a@nope.test", "a@nullmx.test"):
            code, lines = c.cmd("MAIL FROM:<%s>" % bad, 501)
            check(lines == ["501 5.1.7 sender %s contains a domain with no valid MX records"
                            % bad], lines)
        code, lines = c.cmd("MAIL FROM:<a@slow.test>", 451)
        check(lines[0].startswith("451 4.4.3 "), lines)
        c.close()
        c = lib.greet(d.port, source="127.0.0.2")
        c.cmd("MAIL FROM:<a@nope.test>", 250)
        c.close()


def test_valid_rcpt_mx():
    h = ('<handler class="%sValidRcptMX"><invalidMXNetworks>192.0.2.0/24'
         '</invalidMXNetworks></handler>' % FF)
    with Zone() as srv:
        with running(dns_daemon(srv, h)) as d:
            c = lib.greet(d.port, source="127.0.0.2")  # may relay
            c.cmd("MAIL FROM:<a@example.org>", 250)
            code, lines = c.cmd("RCPT TO:<x@badmx.test>", 530)
            check(lines == ["530 5.7.1 Invalid MX 192.0.2.5 for domain badmx.test. "
                            "Reject email"], lines)
            code, lines = c.cmd("RCPT TO:<x@implicit.test>", 530)  # no MX: the domain
            check("192.0.2.77" in lines[0], lines)
            c.cmd("RCPT TO:<x@mx.test>", 250)
            c.cmd("RCPT TO:<x@bogon.test>", 250)  # 10/8 is not in this list
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)  # local: not checked
            code, lines = c.cmd("RCPT TO:<x@slowmx.test>", 451)
            check(lines == ["451 Temporary problem. Please try again later"], lines)
            c.close()
            # A client that may not relay: the relay hook answers, no lookup.
            c = lib.greet(d.port)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            code, lines = c.cmd("RCPT TO:<x@badmx.test>", 550)
            check("relaying denied" in lines[0], lines)
            c.close()
            check(srv.count("badmx.test", "MX") == 1, srv.counts)
        # Without a list: the bogon networks.
        with running(dns_daemon(srv, '<handler class="%sValidRcptMX"/>' % FF)) as d:
            c = lib.greet(d.port, source="127.0.0.2")
            c.cmd("MAIL FROM:<a@example.org>", 250)
            code, lines = c.cmd("RCPT TO:<x@bogon.test>", 530)
            check("Invalid MX 10.1.2.3 for domain bogon.test" in lines[0], lines)
            c.cmd("RCPT TO:<x@pub.test>", 250)
            c.close()


def spf(block_soft="false", block_perm="true"):
    return ('<handler class="%sSPFHandler"><blockSoftFail>%s</blockSoftFail>'
            '<blockPermError>%s</blockPermError></handler>' % (FF, block_soft, block_perm))


def test_spf_handler_decisions():
    with Zone() as srv:
        with running(dns_daemon(srv, spf())) as d:
            c = lib.greet(d.port)
            code, lines = c.cmd("MAIL FROM:<a@spf-fail.test>", 554)
            check(lines == ["554 5.7.1 Blocked - see: SPF fail for a@spf-fail.test from "
                            "127.0.0.1"], lines)
            code, lines = c.cmd("MAIL FROM:<a@spf-exp.test>", 554)
            check(lines == ["554 5.7.1 Blocked - see: 127.0.0.1 may not send for "
                            "spf-exp.test"], lines)
            code, lines = c.cmd("MAIL FROM:<a@spf-perm.test>", 554)
            check(lines == ["554 5.7.1 Block caused by an invalid SPF record"], lines)
            code, lines = c.cmd("MAIL FROM:<a@spf-temp.test>", 451)
            check(lines == ["451 4.4.3 Temporarily rejected: Problem on SPF lookup"], lines)
            c.cmd("MAIL FROM:<a@spf-soft.test>", 250)  # blockSoftFail false
            c.cmd("RSET", 250)
            c.cmd("MAIL FROM:<a@spf-pass.test>", 250)
            c.close()
            c = lib.greet(d.port, source="127.0.0.2")  # may relay: not checked
            c.cmd("MAIL FROM:<a@spf-fail.test>", 250)
            c.close()
        with running(dns_daemon(srv, spf("true", "false"))) as d:
            c = lib.greet(d.port)
            c.cmd("MAIL FROM:<a@spf-soft.test>", 554)
            c.cmd("MAIL FROM:<a@spf-perm.test>", 250)
            c.close()


def test_spf_handler_header_and_attributes():
    with Zone() as srv, running(dns_daemon(srv, spf())) as d:
        c = lib.greet(d.port, helo="helo.test")
        c.cmd("MAIL FROM:<a@spf-fail.test>", 554)  # withdrawn: leaves no header
        c.cmd("MAIL FROM:<a@spf-pass.test>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: spf\r\n\r\nbody\r\n.\r\n")
        code, lines = c.read_reply()
        check(code == 250, lines)
        c.close()
        msg = spooled(d)
        first = msg.split("\r\n")[0]
        check(first == "Received-SPF: pass (mx.mailetd.test: domain of a@spf-pass.test "
                       "designates 127.0.0.1 as permitted sender)", msg[:600])
        head = msg.split("\r\nReceived: ")[0]
        for want in ("\r\n\tclient-ip=127.0.0.1;", '\r\n\tenvelope-from="a@spf-pass.test";',
                     "\r\n\thelo=helo.test;", "\r\n\treceiver=mx.mailetd.test;",
                     "\r\n\tidentity=mailfrom;", '\r\n\tmechanism="+ip4:127.0.0.1/32"'):
            check(want in head, "%r not in %r" % (want, head))
        check(msg.count("Received-SPF:") == 1, msg[:800])
        check(envelope_has(d, b"org.apache.james.spf.header"), "header attribute missing")
        check(envelope_has(d, b"org.apache.james.spf.result"), "result attribute missing")


def test_spf_null_sender_checks_helo():
    with Zone() as srv, running(dns_daemon(srv, spf())) as d:
        c = lib.greet(d.port, helo="spf-fail.test")
        code, lines = c.cmd("MAIL FROM:<>", 554)
        check("postmaster@spf-fail.test" in lines[0], lines)
        c.cmd("EHLO helo.test", 250)
        c.cmd("MAIL FROM:<>", 250)
        c.close()


def test_chain_lists_dns_handlers():
    """mailetd -t -v shows the DNS handlers in the chain (they run now)."""
    handlers = (rbl("<blacklist>bl.test</blacklist>") +
                '<handler class="%sResolvableEhloHeloHandler"/>' % FF +
                '<handler class="ReverseEqualsEhloHeloHandler"/>' +
                '<handler class="%sValidSenderDomainHandler"/>' % FF +
                '<handler class="%sValidRcptMX"/>' % FF + spf())
    d = Daemon(extra="<handlerchain>%s</handlerchain>" % handlers)
    rc, out, err = lib.run([lib.MAILETD, "-t", "-v", "-c", d.conf])
    shutil.rmtree(d.dir, ignore_errors=True)
    check(rc == 0, err)
    check("chain: DNSRBLHandler ResolvableEhloHeloHandler ReverseEqualsEhloHeloHandler "
          "ValidSenderDomainHandler ValidRcptMX SPFHandler MailSizeEsmtpExtension "
          "UsersRepositoryAuthHook AuthRequiredToRelayRcptHook" in out,
          out)
    check("skipped" not in out and "not supported" not in err, out + err)


def test_dns_handlers_pipelined_and_client_leaving():
    """Pipelined commands wait behind a PENDING hook and are answered in
    order; a client that leaves while lookups run does not upset the
    server."""
    handlers = (spf() + '<handler class="%sValidSenderDomainHandler"/>' % FF +
                '<handler class="%sResolvableEhloHeloHandler"/>' % FF)
    with Zone() as srv, running(dns_daemon(srv, handlers)) as d:
        c = Client(d.port)
        c.expect(220)
        c.send("EHLO good.test\r\nMAIL FROM:<a@spf-fail.test>\r\n"
               "MAIL FROM:<a@spf-pass.test>\r\nRCPT TO:<bob@mailetd.test>\r\n"
               "DATA\r\nSubject: p\r\n\r\nx\r\n.\r\nQUIT\r\n")
        codes = [c.read_reply()[0] for _ in range(7)]
        check(codes == [250, 554, 250, 250, 354, 250, 221], codes)
        c.close()
        check("Received-SPF: pass" in spooled(d), "no Received-SPF")
        for helo in ("slow.test", "good.test"):
            c = Client(d.port)
            c.expect(220)
            c.send("EHLO %s\r\nMAIL FROM:<a@slow.test>\r\n" % helo)
            c.close()
        c = lib.greet(d.port)
        c.cmd("NOOP", 250)
        c.close()


def test_shutdown_while_lookups_pending():
    """SIGTERM while a session waits for DNS: the daemon still stops cleanly."""
    handlers = spf() + rbl("<blacklist>slowbl.test</blacklist>")
    with Zone() as srv:
        d = dns_daemon(srv, handlers)
        d.start()
        try:
            c = Client(d.port)
            c.expect(220)
            c.send("EHLO good.test\r\nMAIL FROM:<a@spf-temp.test>\r\n")
            c.read_reply()
            time.sleep(0.2)
            t0 = time.time()
            rc = d.stop()
            check(rc == 0, "exit status %r" % rc)
            check(time.time() - t0 < 15, "stopping took %.1fs" % (time.time() - t0))
            c.close()
        finally:
            d.close()


def urirbl(zones, detail=False):
    return ('<handler class="%sURIRBLHandler"><getDetail>%s</getDetail><uriRblServers>%s'
            '</uriRblServers></handler>' % (FF, "true" if detail else "false",
                                             "".join("<server>%s</server>" % z for z in zones)))


def send_body(c, body):
    c.cmd("MAIL FROM:<a@example.org>", 250)
    c.cmd("RCPT TO:<bob@mailetd.test>", 250)
    c.cmd("DATA", 354)
    c.send(body + ".\r\n")
    return c.read_reply()


EVIL_HTML = ("Subject: offer\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
             "--b\r\nContent-Type: text/plain\r\n\r\nsee the link\r\n"
             "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + base64.encodebytes(b'<a href="https://WWW.Evil.Example/buy">now</a>').decode()
             .replace("\n", "\r\n") + "--b--\r\n")


def test_urirbl_handler():
    with Zone() as srv:
        with running(dns_daemon(srv, urirbl(["uribl.test"]))) as d:
            c = lib.greet(d.port)
            code, lines = send_body(c, EVIL_HTML)
            check(lines == ["554 5.7.0 Rejected: message contains domain evil.example listed "
                            "by uribl.test"], lines)
            # The session goes on; a clean message passes.
            code, lines = send_body(c, "Subject: ok\r\n\r\nhttp://good.example/\r\n")
            check(code == 250, lines)
            c.close()
            check(len(d.spool_ids()) == 1, d.spool_ids())
            check(srv.count("evil.example.uribl.test", "A") == 1, srv.counts)
            check(srv.count("www.evil.example.uribl.test", "A") == 1, srv.counts)
            check(srv.count("good.example.uribl.test", "A") == 1, srv.counts)
        with running(dns_daemon(srv, urirbl(["uribl.test."], detail=True))) as d:
            c = lib.greet(d.port)
            code, lines = send_body(c, EVIL_HTML)
            check(lines == ["554 5.7.0 Rejected: message contains domain evil.example listed "
                            "by uribl.test . Details: spam site"], lines)
            c.close()
        # A list that does not answer: the message passes (as in James), after the timeout.
        with running(dns_daemon(srv, urirbl(["slowuri.test"]))) as d:
            c = lib.greet(d.port)
            t0 = time.time()
            code, lines = send_body(c, EVIL_HTML)
            check(code == 250, lines)
            check(time.time() - t0 > 1.0, "did not wait for the slow list")
            c.close()
            check("event=urirbl-tempfail name=evil.example.slowuri.test" in d.log(),
                  d.log()[-3000:])
            # A client that leaves while the lookups run: they are cancelled.
            c = lib.greet(d.port)
            c.cmd("MAIL FROM:<a@example.org>", 250)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)
            c.cmd("DATA", 354)
            c.send(EVIL_HTML + ".\r\n")
            time.sleep(0.2)
            c.close()
            c = lib.greet(d.port)
            c.cmd("NOOP", 250)
            c.close()
    # Without a server the configuration is refused.
    d = Daemon(extra='<handlerchain><handler class="%sURIRBLHandler"><getDetail>true'
                     '</getDetail></handler></handlerchain>' % FF)
    rc, out, err = lib.run([lib.MAILETD, "-t", "-c", d.conf])
    check(rc == 1 and "URIRBLHandler needs <uriRblServers> with at least one <server>" in err,
          err)


def test_james_sample_dns_handlers_load_unchanged():
    """spring-app/smtpserver.xml with its commented-out DNS handlers
    enabled, exactly as James documents them, loads and runs them."""
    import os
    import re
    import tempfile
    from test_config import JAMES
    from test_handlers import check_dir
    src = os.path.join(JAMES, "spring-app", "smtpserver.xml")
    if not os.path.isfile(src):
        raise lib.TestSkipped("James corpus not found at %s (set JAMES_CONF)" % JAMES)
    names = ("DNSRBLHandler|SPFHandler|ResolvableEhloHeloHandler|"
             "ReverseEqualsEhloHeloHandler|ValidSenderDomainHandler|URIRBLHandler")
    pat = re.compile(r'<!--((?:(?!-->).)*?<handler class="org\.apache\.james\.smtpserver\.'
                     r'fastfail\.(?:%s)"(?:(?!-->).)*)-->' % names, re.S)
    with open(src, encoding="utf-8") as f:
        text, n = pat.subn(r"\1", f.read())
    check(n == 6, "expected 6 commented-out handlers, found %d" % n)
    fd, path = tempfile.mkstemp(suffix=".xml")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        rc, out, err = check_dir([(path, "smtpserver.xml")])
    finally:
        os.unlink(path)
    check(rc == 0, err)
    check("chain: DNSRBLHandler SPFHandler ResolvableEhloHeloHandler "
          "ReverseEqualsEhloHeloHandler ValidSenderDomainHandler ValidRcptHandler "
          "URIRBLHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook"
          in out, out)
    check("skipped: org.apache.james.smtpserver.fastfail.URIRBLHandler" not in out, out)
    check("error" not in err, err)
