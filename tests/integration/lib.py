"""Shared helpers for mailetd's integration tests.

Each test gets a fresh temporary configuration directory and data
directory, starts the real daemon on a free loopback port, talks to it with
real clients, and stops it by the PID it started.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

MAILETD = None       # set by run.py
MAILETCTL = None
SANITIZER = False    # True when the binaries are built with ASan+UBSan

SMTP_TEMPLATE = """<?xml version="1.0"?>
<smtpservers>
  <smtpserver enabled="true">
    <jmxName>{name}</jmxName>
    <bind>{bind}</bind>
    <connectionBacklog>200</connectionBacklog>
    <helloName autodetect="false">mx.mailetd.test</helloName>
    <connectiontimeout>{timeout}</connectiontimeout>
    <connectionLimit>{limit}</connectionLimit>
    <connectionLimitPerIP>{limit_per_ip}</connectionLimitPerIP>
    <authorizedAddresses>{authorized}</authorizedAddresses>
    <maxmessagesize>{maxsize}</maxmessagesize>
    <maxLineLength>{maxline}</maxLineLength>
    <heloEhloEnforcement>{helo}</heloEhloEnforcement>
    <addressBracketsEnforcement>{brackets}</addressBracketsEnforcement>
    <ioWorkerCount>2</ioWorkerCount>
    {extra}
  </smtpserver>
</smtpservers>
"""

DOMAINS = """<?xml version="1.0"?>
<domainlist>
  <domainnames>
    <domainname>mailetd.test</domainname>
    <domainname>local.test</domainname>
  </domainnames>
  <autodetect>false</autodetect>
  <defaultDomain>mailetd.test</defaultDomain>
</domainlist>
"""

MAIN = """<?xml version="1.0"?>
<mailetd>
  <dataDirectory>{data}</dataDirectory>
  <shutdownGracePeriod>{grace}</shutdownGracePeriod>
  <log><level>debug</level></log>
</mailetd>
"""


class TestFailure(Exception):
    pass


class TestSkipped(Exception):
    """Raised by a test that cannot run here (say, without the James corpus
    beside the project); run.py reports it as SKIP, neither passed nor failed."""
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """A mailetd started by a test, on its own config and data directories."""

    def __init__(self, **kw):
        self.dir = tempfile.mkdtemp(prefix="mailetd-it-")
        self.conf = os.path.join(self.dir, "conf")
        self.data = os.path.join(self.dir, "var")
        os.makedirs(self.conf)
        self.port = kw.pop("port", None) or free_port()
        self.proc = None
        self.log_path = os.path.join(self.dir, "mailetd.log")
        opts = dict(name="test-smtp", bind="127.0.0.1:%d" % self.port, timeout=60,
                    limit=0, limit_per_ip=0, authorized="127.0.0.2/32",
                    maxsize="10M", maxline=8192, helo="true", brackets="true",
                    extra="", grace=10)
        opts.update(kw)
        self.write("smtpserver.xml", SMTP_TEMPLATE.format(**opts))
        self.write("domainlist.xml", DOMAINS)
        self.write("mailetd.xml", MAIN.format(data=self.data, grace=opts["grace"]))

    def write(self, name, text):
        with open(os.path.join(self.conf, name), "w") as f:
            f.write(text)

    def start(self, wait=True):
        env = dict(os.environ)
        if SANITIZER:
            env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:exitcode=86"
            env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1:exitcode=87"
        self.logf = open(self.log_path, "ab")
        self.log_start = self.logf.tell()
        self.proc = subprocess.Popen([MAILETD, "-c", self.conf], stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise TestFailure("mailetd exited with %s:\n%s" % (self.proc.returncode, self.log()))
            if "event=started" in self.log()[self.log_start:]:
                return
            time.sleep(0.05)
        raise TestFailure("mailetd did not start:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the daemon we started; returns its exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("mailetd did not stop within %ss" % timeout)
        return self.proc.returncode

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.logf.close()

    def sanitizer_errors(self):
        log = self.log()
        for pat in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if pat in log:
                return log
        return None

    def close(self, ok=True):
        rc = self.stop()
        if hasattr(self, "logf"):
            self.logf.close()
        bad = self.sanitizer_errors()
        if bad:
            raise TestFailure("sanitizer report:\n" + bad[-6000:])
        if rc not in (None, 0) and ok:
            raise TestFailure("mailetd exited with status %s:\n%s" % (rc, self.log()[-4000:]))
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args):
        r = subprocess.run([MAILETCTL, "-c", self.conf] + list(args),
                           capture_output=True, timeout=30)
        return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")

    def spool_ids(self):
        rc, out, err = self.ctl("spool", "list")
        check(rc == 0, "mailetctl spool list failed: %s" % err)
        return [l.split()[0] for l in out.splitlines()[1:] if re.match(r"^[0-9a-f]{20}\s", l)]

    def spool_cat(self, mid):
        r = subprocess.run([MAILETCTL, "-c", self.conf, "spool", "cat", mid],
                           capture_output=True, timeout=30)
        check(r.returncode == 0, "mailetctl spool cat failed: %r" % r.stderr)
        return r.stdout


class Client:
    """A raw SMTP client: exact bytes out, replies parsed back."""

    def __init__(self, port, host="127.0.0.1", source=None, timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def read_reply(self):
        """Reads one (possibly multi-line) reply; returns (code, [lines])."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise TestFailure("connection closed; got so far %r" % (lines,))
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), lines

    def cmd(self, line, expect=None):
        self.send(line + "\r\n")
        code, lines = self.read_reply()
        if expect is not None:
            check(code == expect, "%r: expected %d, got %r" % (line, expect, lines))
        return code, lines

    def expect(self, code):
        c, lines = self.read_reply()
        check(c == code, "expected %d, got %r" % (code, lines))
        return lines

    def closed(self, timeout=5):
        """True when the server closes the connection within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def run(cmd, timeout=60, input=None):
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, input=input)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


from contextlib import contextmanager  # noqa: E402


@contextmanager
def running(d):
    """Starts the prepared Daemon d for the with-block and always stops it."""
    d.start()
    try:
        yield d
    except BaseException:
        try:
            d.close(ok=False)
        except TestFailure:
            pass
        raise
    d.close()


def daemon(**kw):
    """A daemon with the test configuration, for a with-block."""
    return running(Daemon(**kw))


def greet(port, helo="client.example", source=None):
    c = Client(port, source=source)
    c.expect(220)
    c.cmd("EHLO " + helo, 250)
    return c


def wait_for(pred, timeout=10, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
