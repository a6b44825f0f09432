"""SpamAssassinHandler through real sessions: against Debian's spamd (started
by the test on a loopback port with a private configuration) and against a
small spamd written here that speaks the same protocol (for the failure
cases: spamd down, silent, talking nonsense).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import lib
from lib import check, running, wait_for
from test_auth import envelope_has
from test_handlers import chain_daemon

SPAMD = "/usr/sbin/spamd"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
REJECT = ("554 5.7.0 This message reach the spam hits treshold. Please contact the "
          "Postmaster if the email is not SPAM. Message rejected")

HAM = ("From: Alice <alice@example.org>\r\n"
       "To: Bob <bob@mailetd.test>\r\n"
       "Subject: Lunch on Thursday\r\n"
       "Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
       "Message-ID: <20261123100000.1234@example.org>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: text/plain; charset=us-ascii\r\n"
       "\r\n"
       "Hello Bob,\r\n\r\nshall we have lunch on Thursday at noon?\r\n\r\nAlice\r\n")
SPAM = HAM.replace("Subject: Lunch on Thursday", "Subject: test").replace(
    "shall we have lunch on Thursday at noon?", GTUBE)


def handler(port, hits="10.0", extra="", host="127.0.0.1"):
    return ('<handler class="org.apache.james.spamassassin.SpamAssassinHandler">'
            '<spamdHost>%s</spamdHost><spamdPort>%d</spamdPort>'
            '<spamdRejectionHits>%s</spamdRejectionHits>%s</handler>' % (host, port, hits, extra))


def send(c, body):
    c.cmd("MAIL FROM:<alice@example.org>", 250)
    c.cmd("RCPT TO:<bob@mailetd.test>", 250)
    c.cmd("DATA", 354)
    c.send(body + ".\r\n")
    return c.read_reply()


class RealSpamd:
    """Debian's spamd on a free loopback port, private config and home."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mailetd-spamd-")
        os.chmod(self.dir, 0o755)
        cfg = os.path.join(self.dir, "cfg")
        home = os.path.join(self.dir, "home")
        os.makedirs(cfg)
        os.makedirs(home)
        # The plugin loaders (*.pre) from the system, rules from the package;
        # no network tests, no learning: fast and the same on every machine.
        for f in os.listdir("/etc/spamassassin"):
            if f.endswith(".pre"):
                shutil.copy(os.path.join("/etc/spamassassin", f), cfg)
        with open(os.path.join(cfg, "local.cf"), "w") as f:
            f.write("use_bayes 0\nbayes_auto_learn 0\nskip_rbl_checks 1\n"
                    "dns_available no\nuse_razor2 0\nuse_pyzor 0\n")
        self.port = lib.free_port()
        args = [SPAMD, "--listen=127.0.0.1:%d" % self.port, "--max-children=1",
                "--min-children=1", "--siteconfigpath=" + cfg, "--nouser-config",
                "--local", "--syslog=stderr", "--helper-home-dir=" + home]
        if os.getuid() == 0:  # spamd will not scan as root
            args.append("--username=nobody")
            shutil.chown(home, user="nobody")
        self.log = open(os.path.join(self.dir, "spamd.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=90):
        """Waits until spamd answers PING (loading the rules takes seconds)."""
        end = time.time() + timeout
        while time.time() < end:
            check(self.proc.poll() is None, "spamd exited: %s" % self.read_log())
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(b"PING SPAMC/1.5\r\n\r\n")
                s.settimeout(30)
                data = s.recv(100)
                s.close()
                if data.startswith(b"SPAMD/") and b"PONG" in data:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise lib.TestFailure("spamd did not start: %s" % self.read_log())

    def read_log(self):
        with open(os.path.join(self.dir, "spamd.log"), "rb") as f:
            return f.read().decode("utf-8", "replace")[-3000:]

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the parent ends its children
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_spamassassin_real_spamd():
    if not os.path.exists(SPAMD):
        raise lib.TestSkipped("%s not installed (build-aux/install-deps.sh installs spamd)" % SPAMD)
    sa = RealSpamd()
    try:
        sa.wait_ready()
        with running(chain_daemon(handler(sa.port))) as d:
            c = lib.greet(d.port)
            code, lines = send(c, SPAM)
            check(lines == [REJECT], lines)
            code, lines = send(c, HAM)
            check(code == 250, "%r\n%s" % (lines, d.log()[-2000:]))
            c.cmd("QUIT", 221)
            c.close()
            check(len(d.spool_ids()) == 1, d.spool_ids())
            check(wait_for(lambda: envelope_has(d, b"org.apache.james.spamassassin.flag")),
                  "no flag attribute")
            check(envelope_has(d, b"No, hits="), "no status attribute")
            check("event=spamd spam=yes" in d.log(), d.log()[-2000:])
    finally:
        sa.close()


class FakeSpamd(threading.Thread):
    """A spamd that answers CHECK by the rules of spamd(8): GTUBE is spam.

    mode: "ok" answers, "silent" never answers, "garbage" answers nonsense.
    """

    def __init__(self, mode="ok"):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        conn.settimeout(10)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            length = None
            for h in lines[1:]:
                name, _, value = h.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            while length is not None and len(body) < length:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                body += chunk
            self.requests.append((lines[0], length, body))
            if self.mode == "silent":
                time.sleep(5)
            elif self.mode == "garbage":
                conn.sendall(b"SPAMD/1.1 0 EX_OK\r\nSpam: perhaps\r\n\r\n")
            elif lines[0] != b"CHECK SPAMC/1.5" or length != len(body):
                conn.sendall(b"SPAMD/1.0 76 Bad header line\r\n")
            elif GTUBE.encode() in body:
                conn.sendall(b"SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0\r\n\r\n")
            else:
                conn.sendall(b"SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.4 / 5.0\r\n\r\n")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stopping = True
        self.sock.close()


def test_spamassassin_fake_spamd_protocol():
    f = FakeSpamd()
    f.start()
    try:
        with running(chain_daemon(handler(f.port))) as d:
            c = lib.greet(d.port)
            code, lines = send(c, SPAM)
            check(lines == [REJECT], lines)
            # Pipelined after the data: answered in order once spamd has spoken.
            c.cmd("MAIL FROM:<alice@example.org>", 250)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)
            c.cmd("DATA", 354)
            c.send(HAM + ".\r\nNOOP\r\n")
            code, lines = c.read_reply()
            check(code == 250, lines)
            c.expect(250)
            c.close()
            check(len(d.spool_ids()) == 1, d.spool_ids())
            check(wait_for(lambda: envelope_has(d, b"No, hits=0.4 required=5.0")),
                  "status attribute missing")
            # spamd saw the whole message as it is delivered: Received first.
            first, length, body = f.requests[-1]
            check(first == b"CHECK SPAMC/1.5" and length == len(body), f.requests[-1][:2])
            check(body.startswith(b"Received: ") and body.endswith(b"Alice\r\n"), body[:200])
    finally:
        f.close()


def test_spamassassin_spamd_failures_accept():
    # Down: nothing listens on the port.
    port = lib.free_port()
    with running(chain_daemon(handler(port))) as d:
        c = lib.greet(d.port)
        code, lines = send(c, SPAM)
        check(code == 250, lines)
        c.close()
        check("event=spamd-error" in d.log() and "action=accept" in d.log(), d.log()[-2000:])
        check(not envelope_has(d, b"org.apache.james.spamassassin"), "attributes without spamd")
    # Silent: the time limit ends the wait, the message is accepted.
    f = FakeSpamd("silent")
    f.start()
    try:
        with running(chain_daemon(handler(f.port, extra="<spamdTimeout>1s</spamdTimeout>"))) as d:
            c = lib.greet(d.port)
            t = time.time()
            code, lines = send(c, SPAM)
            check(code == 250, lines)
            check(0.8 < time.time() - t < 4, "answered after %.1fs" % (time.time() - t))
            check("timed out" in d.log(), d.log()[-2000:])
            c.close()
    finally:
        f.close()
    # Nonsense: refused by the parser, logged, accepted.
    f = FakeSpamd("garbage")
    f.start()
    try:
        with running(chain_daemon(handler(f.port))) as d:
            c = lib.greet(d.port)
            code, lines = send(c, SPAM)
            check(code == 250, lines)
            check("bad Spam header" in d.log(), d.log()[-2000:])
            c.close()
    finally:
        f.close()


def test_spamassassin_skips_relay_clients_and_zero_hits():
    f = FakeSpamd()
    f.start()
    try:
        # 127.0.0.2 is in authorizedAddresses: not scanned (checkAuthNetworks false).
        with running(chain_daemon(handler(f.port))) as d:
            c = lib.greet(d.port, source="127.0.0.2")
            code, lines = send(c, SPAM)
            check(code == 250, lines)
            c.close()
            check(f.requests == [], f.requests)
        # spamdRejectionHits 0 (James's default): flagged, never rejected.
        # "localhost" is 127.0.0.1 (where the spamd listens), not ::1.
        with running(chain_daemon(handler(f.port, hits="0.0", host="localhost"))) as d:
            c = lib.greet(d.port)
            code, lines = send(c, SPAM)
            check(code == 250, lines)
            c.close()
            check(wait_for(lambda: envelope_has(d, b"Yes, hits=1000.0 required=5.0")),
                  "status attribute missing")
    finally:
        f.close()


def test_spamassassin_properties_file():
    # James's own layout: the handler without parameters, spamd's address in
    # spamassassin.properties beside smtpserver.xml.
    f = FakeSpamd()
    f.start()
    try:
        d = chain_daemon('<handler class="org.apache.james.spamassassin.SpamAssassinHandler">'
                         '<spamdRejectionHits>10</spamdRejectionHits></handler>')
        d.write("spamassassin.properties",
                "# spamd\nspamassassin.host=127.0.0.1\nspamassassin.port = %d\n" % f.port)
        with running(d):
            c = lib.greet(d.port)
            code, lines = send(c, SPAM)
            check(lines == [REJECT], lines)
            c.close()
            check(len(f.requests) == 1, f.requests)
        d = chain_daemon('<handler class="org.apache.james.spamassassin.SpamAssassinHandler"/>')
        d.write("spamassassin.properties", "spamassassin.host=127.0.0.1\nspamassassin.port=99999\n")
        rc, out, err = lib.run([lib.MAILETD, "-t", "-c", d.conf])
        check(rc == 1 and "spamassassin.properties:2: spamassassin.port: \"99999\" is not a port"
              in err, err)
        shutil.rmtree(d.dir, ignore_errors=True)
    finally:
        f.close()
