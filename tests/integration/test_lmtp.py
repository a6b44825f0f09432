"""LMTP (RFC 2033): per-recipient replies and delivery into Maildirs.

The daemon gets an lmtpserver.xml listening on a loopback port and on a
UNIX socket; users are made with mailetctl. Clients are Python's
smtplib.LMTP (driven at the protocol level, because smtplib reads only one
reply after DATA) and raw sockets for pipelining and BDAT.
"""
import glob
import os
import re
import signal
import smtplib
import socket
import subprocess
import time

import lib
from lib import Daemon, TestFailure, check, free_port, running, wait_for

LMTP_TEMPLATE = """<?xml version="1.0"?>
<lmtpservers>
  <lmtpserver enabled="true">
    <jmxName>test-lmtp</jmxName>
    <bind>{bind}</bind>
    <helloName autodetect="false">lmtp.mailetd.test</helloName>
    <connectiontimeout>60</connectiontimeout>
    <maxmessagesize>{maxsize}</maxmessagesize>
    <handlerchain>
      <handler class="org.apache.james.lmtpserver.CoreCmdHandlerLoader"/>
    </handlerchain>
  </lmtpserver>
</lmtpservers>
"""

SENDER = "alice@example.org"
BODY = (b"From: Alice <alice@example.org>\r\n"
        b"To: Bob <bob@mailetd.test>\r\n"
        b"Subject: LMTP test\r\n"
        b"Message-ID: <lmtp-test-1@example.org>\r\n"
        b"\r\n"
        b"Hello Bob,\r\n"
        b"..a line that was dot-stuffed on the wire\r\n"
        b"\xc3\xa9t\xc3\xa9 8-bit text\r\n"
        b"bye\r\n")


def lmtp_daemon(maxsize="0", users=("bob",)):
    """A Daemon with an LMTP server on TCP and a UNIX socket, and users."""
    d = Daemon()
    d.lmtp_port = free_port()
    d.lmtp_sock = os.path.join(d.dir, "lmtp.sock")
    d.write("lmtpserver.xml", LMTP_TEMPLATE.format(
        bind="127.0.0.1:%d, unix:%s" % (d.lmtp_port, d.lmtp_sock), maxsize=maxsize))
    for u in users:
        r = subprocess.run([lib.MAILETCTL, "-c", d.conf, "user", "add", u, "--password-stdin"],
                           input=b"pw\n", capture_output=True, timeout=60)
        check(r.returncode == 0, "user add %s: %r" % (u, r.stderr))
    return d


def maildir(d, user="bob", domain="mailetd.test", sub="new"):
    return os.path.join(d.data, "mail", domain, user, sub)


def mail_files(d, user="bob", sub="new"):
    return sorted(glob.glob(os.path.join(maildir(d, user, sub=sub), "*")))


def read(path):
    with open(path, "rb") as f:
        return f.read()


TRACE_RE = re.compile(
    rb"^Return-Path: <([^>]*)>\r\n"
    rb"Delivered-To: ([^\r\n]*)\r\n"
    rb"(Received: from [^\r\n]*\r\n(?:\t[^\r\n]*\r\n)+)")


def check_delivered(data, body, rcpt, sender=SENDER, proto=b"LMTP"):
    """The Maildir file is the trace headers, then the message byte for byte."""
    m = TRACE_RE.match(data)
    check(m is not None, "no Return-Path/Delivered-To/Received at the top: %r" % data[:300])
    check(m.group(1) == sender.encode(), "Return-Path %r" % m.group(1))
    check(m.group(2) == rcpt.encode(), "Delivered-To %r" % m.group(2))
    check(b" with " + proto + b" id " in m.group(3), "Received: %r" % m.group(3))
    check(data[m.end():] == body, "body differs:\n%r\n%r" % (data[m.end():], body))


def wire(body):
    """Dot-stuffs body for DATA (RFC 5321 4.5.2)."""
    return re.sub(rb"(?m)^\.", b"..", body)


def lmtp_transaction(client, rcpts, body, sender=SENDER, before_data=None):
    """MAIL, RCPTs, DATA on an smtplib.LMTP; returns the accepted recipients,
    the replies after the data, and the RCPT replies of the refused ones."""
    code, msg = client.ehlo("client.example")  # sends LHLO on an LMTP object
    check(code == 250, "LHLO: %r" % msg)
    code, msg = client.mail(sender)
    check(code == 250, "MAIL: %d %r" % (code, msg))
    accepted, refused = [], {}
    for r in rcpts:
        code, msg = client.rcpt(r)
        if code == 250:
            accepted.append(r)
        else:
            refused[r] = (code, msg)
    if before_data is not None:
        before_data()
    code, msg = client.docmd("DATA")
    check(code == 354, "DATA: %d %r" % (code, msg))
    client.send(wire(body) + b".\r\n")
    return accepted, [client.getreply() for _ in accepted], refused


def two_recipients_one_unknown(d, client):
    # James's LMTP core set has ValidRcptHandler: an unknown local user is
    # refused at RCPT (550 5.1.1), so the data gets one reply, for bob.
    accepted, replies, refused = lmtp_transaction(
        client, ["bob@mailetd.test", "nobody@mailetd.test"], BODY)
    check(accepted == ["bob@mailetd.test"], accepted)
    code, msg = refused["nobody@mailetd.test"]
    check(code == 550 and msg.startswith(b"5.1.1 ") and b"nobody@mailetd.test" in msg,
          (code, msg))
    codes = [c for c, _ in replies]
    check(codes == [250], "per-recipient replies: %r" % replies)
    check(replies[0][1].startswith(b"2.1.5 ") and b"bob@mailetd.test" in replies[0][1],
          replies[0])
    files = mail_files(d)
    check(len(files) == 1, "new/: %r" % files)
    check_delivered(read(files[0]), BODY, "bob@mailetd.test")
    check(mail_files(d, sub="tmp") == [], "tmp/ not empty")
    check(not os.path.exists(maildir(d, "nobody")), "a mailbox for an unknown user")
    check(d.spool_ids() == [], "LMTP mail must not go through the spool queue")


def test_lmtp_tcp_two_recipients_one_unknown():
    d = lmtp_daemon()
    with running(d):
        client = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=10)
        try:
            two_recipients_one_unknown(d, client)
            check(client.docmd("QUIT")[0] == 221, "QUIT")
        finally:
            client.close()


def test_lmtp_user_deleted_between_rcpt_and_data():
    """A user removed after RCPT: the delivery answers 550 5.1.1 for that
    recipient only, after the data, and the other copy is delivered."""
    d = lmtp_daemon(users=("bob", "carol"))
    with running(d):
        client = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=10)

        def delete_carol():
            r = subprocess.run([lib.MAILETCTL, "-c", d.conf, "user", "del", "carol"],
                               capture_output=True, timeout=60)
            check(r.returncode == 0, "user del: %r" % r.stderr)
            time.sleep(1.2)  # the daemon looks at users.db at most once a second

        try:
            accepted, replies, refused = lmtp_transaction(
                client, ["bob@mailetd.test", "carol@mailetd.test"], BODY,
                before_data=delete_carol)
            check(accepted == ["bob@mailetd.test", "carol@mailetd.test"] and not refused,
                  (accepted, refused))
            check([c for c, _ in replies] == [250, 550], "per-recipient replies: %r" % replies)
            check(replies[1][1].startswith(b"5.1.1 ") and b"carol@mailetd.test" in replies[1][1],
                  replies[1])
        finally:
            client.close()
        check(len(mail_files(d)) == 1, mail_files(d))
        check(mail_files(d, "carol") == [], "a copy for a deleted user")


def test_lmtp_unix_socket_two_recipients_one_unknown():
    d = lmtp_daemon()
    with running(d):
        st = os.stat(d.lmtp_sock)
        import stat
        check(stat.S_ISSOCK(st.st_mode), "not a socket")
        check(stat.S_IMODE(st.st_mode) == 0o666, "mode %o" % stat.S_IMODE(st.st_mode))
        client = smtplib.LMTP(d.lmtp_sock, timeout=10)  # smtplib: a path is a UNIX socket
        try:
            two_recipients_one_unknown(d, client)
            check(b"Received: from client.example ([unix])" in read(mail_files(d)[0]),
                  read(mail_files(d)[0])[:300])
        finally:
            client.close()
    check(not os.path.exists(d.lmtp_sock), "socket file left after stop")


def test_lmtp_unix_socket_replaces_stale_socket_but_not_a_file():
    d = lmtp_daemon()
    # A socket file left by a crashed run is replaced.
    s = socket.socket(socket.AF_UNIX)
    s.bind(d.lmtp_sock)
    s.close()
    with running(d):
        c = lib.Client.__new__(lib.Client)
        c.sock = socket.socket(socket.AF_UNIX)
        c.sock.settimeout(10)
        c.sock.connect(d.lmtp_sock)
        c.buf = b""
        code, lines = c.read_reply()
        check(code == 220 and "LMTP" in lines[0], lines)
        c.close()
    # Anything else at the path is an error, and is left alone.
    d = lmtp_daemon()
    with open(d.lmtp_sock, "w") as f:
        f.write("precious")
    try:
        d.start(wait=False)
        check(d.proc.wait(15) != 0, "started over a regular file")
        check("is not a socket" in d.log(), d.log()[-2000:])
        check(read(d.lmtp_sock) == b"precious", "the file was touched")
    finally:
        d.close(ok=False)


def test_lmtp_lhlo_and_unknown_commands():
    d = lmtp_daemon(maxsize="100")
    with running(d):
        c = lib.Client(d.lmtp_port)
        code, lines = c.read_reply()
        check(code == 220 and lines[0] == "220 lmtp.mailetd.test LMTP mailetd ready", lines)
        for verb in ("HELO client.example", "EHLO client.example", "HELP",
                     "AUTH PLAIN AGJvYgBwdw==", "STARTTLS"):
            code, lines = c.cmd(verb)
            check(code == 500 and lines[0].startswith("500 5.5.1 "), (verb, lines))
        code, lines = c.cmd("LHLO")
        check(code == 501, lines)
        code, lines = c.cmd("LHLO client.example", 250)
        kw = [l[4:] for l in lines[1:]]
        check(kw == ["PIPELINING", "SIZE 102400", "8BITMIME", "ENHANCEDSTATUSCODES",
                     "CHUNKING"], "LHLO keywords: %r" % lines)
        c.close()


def test_lmtp_pipelined_lhlo_mail_rcpt_data():
    d = lmtp_daemon(users=("bob", "carol"))
    with running(d):
        c = lib.Client(d.lmtp_port)
        c.expect(220)
        # Everything up to DATA in one packet (RFC 2920, RFC 2033 4.2).
        c.send("LHLO client.example\r\nMAIL FROM:<%s>\r\nRCPT TO:<bob@mailetd.test>\r\n"
               "RCPT TO:<ghost@mailetd.test>\r\nRCPT TO:<remote@elsewhere.example>\r\n"
               "RCPT TO:<Carol+tag@local.test>\r\nDATA\r\n" % SENDER)
        code, lines = c.read_reply()
        check(code == 250 and len(lines) > 1, lines)
        for want, ecode in ((250, None), (250, None), (550, "5.1.1"), (550, "5.1.2"),
                            (250, None), (354, None)):
            code, lines = c.read_reply()
            check(code == want, "expected %d, got %r" % (want, lines))
            if ecode is not None:
                check(lines[0].startswith("%d %s " % (want, ecode)), lines)
        c.send(wire(BODY) + b".\r\nQUIT\r\n")
        got = [c.read_reply() for _ in range(2)]
        check([g[0] for g in got] == [250, 250], "per-recipient replies: %r" % got)
        check("bob@mailetd.test" in got[0][1][0] and "Carol+tag@local.test" in got[1][1][0], got)
        check(c.read_reply()[0] == 221, "QUIT")
        c.close()
        check_delivered(read(mail_files(d)[0]), BODY, "bob@mailetd.test")
        files = mail_files(d, "carol")
        check(len(files) == 1, files)
        check_delivered(read(files[0]), BODY, "Carol+tag@local.test")


def test_lmtp_bdat():
    d = lmtp_daemon(users=("bob", "carol"))
    with running(d):
        c = lib.Client(d.lmtp_port)
        c.expect(220)
        c.cmd("LHLO client.example", 250)
        c.cmd("MAIL FROM:<>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("RCPT TO:<nobody@mailetd.test>", 550)
        c.cmd("RCPT TO:<carol@mailetd.test>", 250)
        body = BODY + b".a line starting with a dot is not stuffed in BDAT\r\n"
        first, rest = body[:40], body[40:]
        c.send(b"BDAT %d\r\n" % len(first) + first)
        code, lines = c.read_reply()
        check(code == 250 and len(lines) == 1, "non-LAST chunk: one reply: %r" % lines)
        c.send(b"BDAT %d LAST\r\n" % len(rest) + rest)
        got = [c.read_reply() for _ in range(2)]
        check([g[0] for g in got] == [250, 250], got)
        # The session goes on: a second transaction on the same connection.
        c.cmd("MAIL FROM:<%s>" % SENDER, 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.send(b"BDAT %d LAST\r\n" % len(BODY) + BODY)
        check(c.read_reply()[0] == 250, "second message")
        c.close()
        files = mail_files(d)
        check(len(files) == 2, files)
        datas = [read(f) for f in files]
        null = [x for x in datas if x.startswith(b"Return-Path: <>\r\n")]
        check(len(null) == 1, "null sender: %r" % [x[:40] for x in datas])
        check_delivered(null[0], body, "bob@mailetd.test", sender="")


def test_lmtp_size_limit():
    d = lmtp_daemon(maxsize="1", users=("bob", "carol"))  # KiB, as in James
    with running(d):
        c = lib.Client(d.lmtp_port)
        c.expect(220)
        c.cmd("LHLO client.example", 250)
        code, lines = c.cmd("MAIL FROM:<%s> SIZE=5000" % SENDER)
        check(code == 552, lines)
        c.cmd("MAIL FROM:<%s>" % SENDER, 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("RCPT TO:<carol@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" * 0 + (b"y" * 70 + b"\r\n") * 40 +
               b".\r\n")
        got = [c.read_reply() for _ in range(2)]
        check([g[0] for g in got] == [552, 552], "one 552 per recipient: %r" % got)
        c.cmd("NOOP", 250)
        c.close()
        check(mail_files(d) == [], "an over-size message was delivered")


def test_lmtp_quota():
    d = lmtp_daemon(users=("bob", "carol"))
    def quota(*args):
        r = subprocess.run([lib.MAILETCTL, "-c", d.conf, "user", "quota"] + list(args),
                           capture_output=True, timeout=60)
        return r.returncode, r.stdout.decode(), r.stderr.decode()
    check(quota("nobody", "1K")[0] == 1, "quota of an unknown user")
    check(quota("carol", "12Q")[0] == 2, "a bad size")
    rc, out, err = quota("carol", "1K")
    check(rc == 0 and "1024 bytes" in out, (rc, out, err))
    rc, out, err = quota("carol", "600")
    check(rc == 0, err)
    r = subprocess.run([lib.MAILETCTL, "-c", d.conf, "user", "list"], capture_output=True,
                       timeout=60)
    check(b"carol\tquota=600\n" in r.stdout, r.stdout)
    with running(d):
        for n in range(3):
            client = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=10)
            try:
                accepted, replies, _ = lmtp_transaction(
                    client, ["carol@mailetd.test", "bob@mailetd.test"], BODY)
            finally:
                client.close()
            # Each copy is about 400 octets: the second one does not fit in 600.
            want = [250, 250] if n == 0 else [452, 250]
            check([c for c, _ in replies] == want, "round %d: %r" % (n, replies))
            if n > 0:
                check(replies[0][1].startswith(b"4.2.2 "), replies)
        check(len(mail_files(d, "carol")) == 1 and len(mail_files(d)) == 3, "files")


def test_lmtp_kill9_during_delivery_leaves_no_half_message():
    """A big message to several recipients; the daemon is killed with SIGKILL
    while it delivers. new/ may hold some copies, but each one whole."""
    users = ("bob", "carol", "dave", "erin")
    d = lmtp_daemon(users=users)
    body = b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 30000 + b"THE END\r\n"
    try:
        for rnd, delay in enumerate((0.0, 0.02, 0.05, 0.1, 0.2)):
            d.start()
            c = lib.Client(d.lmtp_port, timeout=30)
            c.expect(220)
            c.cmd("LHLO client.example", 250)
            c.cmd("MAIL FROM:<%s>" % SENDER, 250)
            for u in users:
                c.cmd("RCPT TO:<%s@mailetd.test>" % u, 250)
            c.cmd("DATA", 354)
            before = d.log().count("event=lmtp-delivered")
            c.send(body + b".\r\n")
            check(wait_for(lambda: "event=message" in d.log()[d.log_start:], timeout=30),
                  "the message did not arrive")
            time.sleep(delay)
            d.kill9()
            c.close()
            for u in users:
                for f in mail_files(d, u):
                    data = read(f)
                    check(data.endswith(b"THE END\r\n"), "round %d: half message %s (%d octets)"
                          % (rnd, f, len(data)))
                    check_delivered(data, body, "%s@mailetd.test" % u)
            del before
        total = sum(len(mail_files(d, u)) for u in users)
        partial = sum(len(mail_files(d, u, sub="tmp")) for u in users)
        # Partial copies left in tmp/ show that kills did land mid-delivery.
        print("  copies delivered across the kills: %d of %d; partial copies left in tmp/: %d"
              % (total, 5 * len(users), partial))
        d.start()
        check(d.spool_ids() == [], "LMTP leftovers in the spool queue")
        # (Empty files there are the spool's pool of files made ahead.)
        tmpd = os.path.join(d.data, "spool", "tmp")
        check([n for n in os.listdir(tmpd) if os.path.getsize(os.path.join(tmpd, n)) > 0] == [],
              "spool tmp/ not cleaned")
    finally:
        d.close()


# --- Postfix's lmtp client delivering into mailetd ----------------------------

POSTFIX_MAIN = """compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.postfix.test
mydomain = postfix.test
myorigin = postfix.test
mydestination =
relay_domains = mailetd.test, local.test
transport_maps = texthash:{conf}/transport
default_transport = discard
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
biff = no
alias_maps =
alias_database =
local_recipient_maps =
lmtp_connect_timeout = 10s
maillog_file_prefixes = /tmp, /var
maillog_file = {log}
"""

POSTFIX_MASTER = """127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
lmtp      unix  - - n - - lmtp
discard   unix  - - n - - discard
retry     unix  - - n - - error
error     unix  - - n - - error
showq     unix  n - n - - showq
postlog   unix-dgram n - n - 1 postlogd
"""


def postfix_available():
    from shutil import which
    if which("postfix") is None or which("postconf") is None:
        return "postfix is not installed (build-aux/install-deps.sh installs it)"
    if os.geteuid() != 0:
        return "the private Postfix instance must be started as root"
    import pwd
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return None


class PrivatePostfix:
    """A Postfix instance of its own (config and queue in dir), on loopback."""

    def __init__(self, top, transports):
        import shutil
        self.dir = os.path.join(top, "postfix")
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "maillog")
        for p in (self.conf, self.queue, self.data):
            os.makedirs(p)
        shutil.chown(self.data, "postfix")
        self.port = free_port()
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN.format(queue=self.queue, data=self.data, conf=self.conf,
                                        log=self.log))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER.format(port=self.port))
        with open(os.path.join(self.conf, "transport"), "w") as f:
            for dom, nexthop in transports:
                f.write("%s %s\n" % (dom, nexthop))
        self.env = dict(os.environ, MAIL_CONFIG=self.conf)

    def start(self):
        # postfix prints its errors only to a terminal: run it under script(1).
        r = subprocess.run(["script", "-qec", "postfix -c %s start" % self.conf, "/dev/null"],
                           capture_output=True, text=True, env=self.env, timeout=30)
        check(r.returncode == 0, "postfix start: %s %s" % (r.stdout, r.stderr))
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise TestFailure("postfix smtpd did not listen:\n" + self.maillog())

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError):
            return None

    def maillog(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        pid = self.master_pid()
        if pid is None:
            return
        subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True,
                       env=self.env, timeout=30)
        end = time.time() + 10
        while time.time() < end and os.path.exists("/proc/%d" % pid):
            time.sleep(0.1)
        if os.path.exists("/proc/%d" % pid):
            os.kill(pid, signal.SIGKILL)  # only the master we started


def test_lmtp_postfix_delivers_through_lmtp_client():
    why = postfix_available()
    if why:
        raise lib.TestSkipped(why)
    t0 = time.time()
    d = lmtp_daemon()
    os.chmod(d.dir, 0o755)  # Postfix's lmtp runs as user postfix and needs the socket
    pf = PrivatePostfix(d.dir, [("mailetd.test", "lmtp:inet:127.0.0.1:%d" % d.lmtp_port),
                                ("local.test", "lmtp:unix:%s" % d.lmtp_sock)])
    with running(d):
        try:
            pf.start()
            s = smtplib.SMTP("127.0.0.1", pf.port, timeout=20)
            try:
                refused = s.sendmail(SENDER, ["bob@mailetd.test", "nobody@mailetd.test"],
                                     BODY.replace(b"Message-ID: <lmtp-test-1@",
                                                  b"Message-ID: <lmtp-tcp@"))
                check(refused == {}, refused)
                refused = s.sendmail(SENDER, ["bob@local.test", "ghost@local.test"],
                                     BODY.replace(b"Message-ID: <lmtp-test-1@",
                                                  b"Message-ID: <lmtp-unix@"))
                check(refused == {}, refused)
                s.quit()
            finally:
                s.close()

            def outcome():
                log = pf.maillog()
                lines = [l for l in log.splitlines() if " postfix/lmtp[" in l and "status=" in l]
                return lines if len(lines) >= 4 else None
            lines = wait_for(outcome, timeout=40, step=0.2)
            check(lines, "Postfix did not finish delivering:\n%s\n--- mailetd:\n%s"
                  % (pf.maillog()[-4000:], d.log()[-3000:]))
            by_rcpt = {}
            for l in lines:
                print("  postfix: " + l[l.find("postfix/lmtp"):][:200])
                m = re.search(r"to=<([^>]+)>.*relay=([^ ,]+).*status=(\w+)", l)
                check(m, l)
                by_rcpt[m.group(1)] = (m.group(2), m.group(3), l)
            check(by_rcpt["bob@mailetd.test"][1] == "sent" and
                  "127.0.0.1[127.0.0.1]:%d" % d.lmtp_port in by_rcpt["bob@mailetd.test"][0],
                  by_rcpt["bob@mailetd.test"])
            check(by_rcpt["nobody@mailetd.test"][1] == "bounced" and
                  "5.1.1" in by_rcpt["nobody@mailetd.test"][2], by_rcpt["nobody@mailetd.test"])
            check(by_rcpt["bob@local.test"][1] == "sent" and
                  d.lmtp_sock in by_rcpt["bob@local.test"][0], by_rcpt["bob@local.test"])
            check(by_rcpt["ghost@local.test"][1] == "bounced", by_rcpt["ghost@local.test"])
            files = mail_files(d)
            check(len(files) == 2, "bob's new/: %r" % files)
            datas = sorted(read(f) for f in files)
            for data, rcpt in zip(datas, ("bob@local.test", "bob@mailetd.test")):
                check(b"Delivered-To: " + rcpt.encode() + b"\r\n" in data[:200], data[:300])
                check(b"with LMTP id" in data and b"Hello Bob," in data, data[:600])
        finally:
            pf.stop()
    check(time.time() - t0 < 60, "took %.0fs" % (time.time() - t0))


def test_lmtp_client_gone_or_shutdown_during_delivery():
    """The session is not freed under a running delivery: a client that
    leaves right after the final dot still gets every copy delivered, and a
    graceful shutdown lets the delivery finish and answer before 421."""
    users = ("bob", "carol", "dave")
    d = lmtp_daemon(users=users)
    body = b"Subject: big\r\n\r\n" + (b"q" * 998 + b"\r\n") * 8000 + b"THE END\r\n"

    def transaction(c):
        c.expect(220)
        c.cmd("LHLO client.example", 250)
        c.cmd("MAIL FROM:<%s>" % SENDER, 250)
        for u in users:
            c.cmd("RCPT TO:<%s@mailetd.test>" % u, 250)
        c.cmd("DATA", 354)
        c.send(body + b".\r\n")

    with running(d):
        c = lib.Client(d.lmtp_port, timeout=30)
        transaction(c)
        c.close()  # gone before any reply
        check(wait_for(lambda: all(len(mail_files(d, u)) == 1 for u in users), timeout=30),
              "copies missing after the client left:\n" + d.log()[-3000:])
        check(wait_for(lambda: "event=lmtp-delivered" in d.log() and
                       "event=disconnect" in d.log(), timeout=10), d.log()[-3000:])
        for u in users:
            check_delivered(read(mail_files(d, u)[0]), body, "%s@mailetd.test" % u)

        c = lib.Client(d.lmtp_port, timeout=30)
        transaction(c)
        check(wait_for(lambda: d.log().count("event=message") >= 2, timeout=30),
              "the second message did not arrive")
        d.proc.send_signal(signal.SIGTERM)
        got = [c.read_reply() for _ in users]
        check([g[0] for g in got] == [250] * len(users), "replies during shutdown: %r" % got)
        code, lines = c.read_reply()
        check(code == 421, "after the replies: %r" % lines)
        c.close()
        check(d.proc.wait(30) == 0, "exit status")
        for u in users:
            check(len(mail_files(d, u)) == 2, "%s: %r" % (u, mail_files(d, u)))
