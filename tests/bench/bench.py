#!/usr/bin/env python3
"""bench.py - mailetd against Postfix and smtp-sink, side by side on loopback.

  bench.py --mailetd PATH [--runs N] [--out DIR] [--quick]

Installs what it needs (tests/bench/install.sh: postfix for smtpd,
smtp-source and smtp-sink; gnuplot-nox), then sets up in one temporary
directory:
  mailetd        fsync on (the default), spool only
  mailetd-nosync the same with <fsync>false</fsync> (unsafe; for scale)
  postfix        private config and queue directory, smtpd on 127.0.0.1,
                 default_transport = discard (queued durably, then dropped)
  smtp-sink      Postfix's test sink: no queue, the upper bound here
and measures throughput with smtp-source (1, 20, 100 sessions with 4 KiB
messages; 20 sessions with 1 MiB), servers alternated in every round, then
idle-connection memory and end-of-DATA latency. Writes results.md and
throughput.png to --out (default: the directory of this script). Kills only
the processes it started, by PID, and removes its temporary directory.
"""
import argparse
import datetime
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DOMAIN = "bench.test"
LOADS = [  # (name, sessions, messages, length)
    ("1 session, 4 KiB", 1, 400, 4096),
    ("20 sessions, 4 KiB", 20, 2000, 4096),
    ("100 sessions, 4 KiB", 100, 3000, 4096),
    ("20 sessions, 1 MiB", 20, 200, 1024 * 1024),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# --- servers -------------------------------------------------------------------

class Mailetd:
    def __init__(self, binary, top, name, fsync):
        self.name, self.port = name, free_port()
        self.dir = os.path.join(top, name)
        conf = os.path.join(self.dir, "conf")
        os.makedirs(conf)
        self.data = os.path.join(self.dir, "var")
        self.binary = binary
        files = {
            "smtpserver.xml": """<?xml version="1.0"?>
<smtpservers><smtpserver enabled="true">
  <jmxName>bench</jmxName><bind>127.0.0.1:%d</bind>
  <connectionBacklog>1024</connectionBacklog>
  <helloName autodetect="false">mx.%s</helloName>
  <connectiontimeout>300</connectiontimeout>
  <connectionLimit>0</connectionLimit><connectionLimitPerIP>0</connectionLimitPerIP>
  <authorizedAddresses>127.0.0.2/32</authorizedAddresses>
  <maxmessagesize>20M</maxmessagesize>
</smtpserver></smtpservers>
""" % (self.port, DOMAIN),
            "domainlist.xml": """<?xml version="1.0"?>
<domainlist><domainnames><domainname>%s</domainname></domainnames>
<autodetect>false</autodetect><defaultDomain>%s</defaultDomain></domainlist>
""" % (DOMAIN, DOMAIN),
            "mailetd.xml": """<?xml version="1.0"?>
<mailetd><dataDirectory>%s</dataDirectory>
<spool><fsync>%s</fsync></spool>
<shutdownGracePeriod>5</shutdownGracePeriod><log><level>info</level></log></mailetd>
""" % (self.data, "true" if fsync else "false"),
        }
        for n, t in files.items():
            with open(os.path.join(conf, n), "w") as f:
                f.write(t)
        self.conf = conf
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "mailetd.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port)

    def pids(self):
        return [self.proc.pid]

    def clear(self):
        """Empties the queue between runs so the spool does not grow."""
        q = os.path.join(self.data, "spool", "queue", "spool")
        if os.path.isdir(q):
            for n in os.listdir(q):
                os.unlink(os.path.join(q, n))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()


class Postfix:
    def __init__(self, top):
        self.name, self.port = "postfix", free_port()
        self.dir = os.path.join(top, "postfix")
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        self.datad = os.path.join(self.dir, "data")
        os.makedirs(self.conf)
        os.makedirs(self.datad)
        os.makedirs(self.queue)  # postfix-script creates its subdirectories
        shutil.chown(self.datad, "postfix")
        # Postfix refuses a queue under a directory others may write to:
        # the temp directory is 0700 root, which it accepts.
        main = """compatibility_level = 3.6
queue_directory = {q}
data_directory = {d}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{dom}
mydomain = {dom}
myorigin = {dom}
mydestination = {dom}
local_recipient_maps =
default_transport = discard
local_transport = discard
relay_transport = discard
virtual_transport = discard
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
default_process_limit = 200
message_size_limit = 20971520
biff = no
alias_maps =
alias_database =
maillog_file_prefixes = /tmp, /var
maillog_file = {log}
""".format(q=self.queue, d=self.datad, dom=DOMAIN, log=os.path.join(self.dir, "maillog"))
        master = """127.0.0.1:{port} inet n - n - 200 smtpd
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
discard   unix  - - n - - discard
retry     unix  - - n - - error
error     unix  - - n - - error
showq     unix  n - n - - showq
postlog   unix-dgram n - n - 1 postlogd
""".format(port=self.port)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(main)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(master)

    def start(self):
        env = dict(os.environ, MAIL_CONFIG=self.conf)
        # postfix reports errors on stderr only when it is a terminal, so
        # run it under script(1) to see why it failed.
        r = subprocess.run(["script", "-qec", "postfix -c %s start" % self.conf, "/dev/null"],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            raise RuntimeError("postfix start: %s %s" % (r.stdout, r.stderr))
        wait_port(self.port)

    def master_pid(self):
        try:
            with open(os.path.join(self.queue, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError):
            return None

    def pids(self):
        """master and all its children (smtpd, cleanup, qmgr ...)."""
        m = self.master_pid()
        if m is None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(m)], capture_output=True,
                             text=True).stdout
        return [m] + [int(x) for x in out.split()]

    def clear(self):
        pass  # discard: the queue empties itself

    def stop(self):
        if self.master_pid() is not None:
            subprocess.run(["postfix", "-c", self.conf, "stop"], capture_output=True,
                           env=dict(os.environ, MAIL_CONFIG=self.conf))
            # postfix stop signals master; wait until it is gone
            end = time.time() + 20
            while time.time() < end and self.master_pid() is not None and \
                    os.path.exists("/proc/%d" % self.master_pid()):
                time.sleep(0.1)


class Sink:
    def __init__(self, top):
        self.name, self.port, self.proc = "smtp-sink", free_port(), None

    def start(self):
        self.proc = subprocess.Popen(["smtp-sink", "-u", "postfix", "127.0.0.1:%d" % self.port, "1024"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def pids(self):
        return [self.proc.pid]

    def clear(self):
        pass

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_port(port, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.recv(100)
            s.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d" % port)


# --- measurements --------------------------------------------------------------

def throughput(server, sessions, messages, length):
    """messages/s of one smtp-source run (a new connection per message, as
    smtp-source does without -d)."""
    server.clear()
    t0 = time.time()
    r = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(messages),
                        "-l", str(length), "-f", "bench@client.example",
                        "-t", "user@" + DOMAIN, "-M", "client.example",
                        "127.0.0.1:%d" % server.port], capture_output=True, text=True,
                       timeout=600)
    dt = time.time() - t0
    if r.returncode != 0:
        raise RuntimeError("smtp-source against %s: %s" % (server.name, r.stderr[-500:]))
    return messages / dt


def proc_cost(pids):
    """(CPU seconds, context switches) so far, summed over every thread of
    the given processes (from /proc: utime + stime, voluntary and
    involuntary switches)."""
    hz = os.sysconf("SC_CLK_TCK")
    cpu, cs = 0.0, 0
    for pid in pids:
        tdir = "/proc/%d/task" % pid
        try:
            tids = os.listdir(tdir)
        except OSError:
            continue
        for t in tids:
            try:
                with open("%s/%s/stat" % (tdir, t)) as f:
                    st = f.read().rsplit(")", 1)[1].split()
                cpu += (int(st[11]) + int(st[12])) / hz
                with open("%s/%s/status" % (tdir, t)) as f:
                    for line in f:
                        if "ctxt_switches" in line:
                            cs += int(line.split()[1])
            except (OSError, IndexError, ValueError):
                pass
    return cpu, cs


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def idle_memory(server, count):
    """Opens count connections, waits for every greeting, and returns
    (held, RSS delta KiB, PSS delta KiB) summed over the server's processes."""
    def mem():
        pids = server.pids()
        return sum(rss_kib(p) for p in pids), sum(pss_kib(p) for p in pids)
    time.sleep(0.5)
    r0, p0 = mem()
    socks, held = [], 0
    try:
        for _ in range(count):
            try:
                s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            except OSError:
                break  # the server holds no more: report what it held
            socks.append(s)
        for s in socks:
            try:
                if s.recv(200).startswith(b"220"):
                    held += 1
            except OSError:
                pass
        time.sleep(1.0)
        r1, p1 = mem()
    finally:
        for s in socks:
            s.close()
    time.sleep(1.0)
    return held, r1 - r0, p1 - p0


def latency(server, sessions=20, per_session=100):
    """Seconds from sending the end of DATA to reading 250, over persistent
    sessions in parallel threads."""
    samples, lock, errors = [], threading.Lock(), []
    body = ("Subject: latency\r\n\r\n" + ("x" * 78 + "\r\n") * 52 + ".\r\n").encode()

    def reply(s, buf):
        while True:
            while b"\r\n" not in buf[0]:
                d = s.recv(65536)
                if not d:
                    raise ConnectionError("closed")
                buf[0] += d
            line, buf[0] = buf[0].split(b"\r\n", 1)
            if line[3:4] != b"-":
                return int(line[:3])

    def worker():
        try:
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            # No Nagle: the end of data must leave at once, or the delayed
            # ACK of the body (40 ms) is what gets measured.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = [b""]
            reply(s, buf)
            s.sendall(b"EHLO client.example\r\n")
            reply(s, buf)
            mine = []
            for _ in range(per_session):
                s.sendall(b"MAIL FROM:<l@client.example>\r\n")
                reply(s, buf)
                s.sendall(b"RCPT TO:<user@" + DOMAIN.encode() + b">\r\n")
                reply(s, buf)
                s.sendall(b"DATA\r\n")
                reply(s, buf)
                s.sendall(body[:-5])
                t0 = time.perf_counter()
                s.sendall(body[-5:])
                code = reply(s, buf)
                mine.append(time.perf_counter() - t0)
                if code != 250:
                    raise RuntimeError("end of data: %d" % code)
            s.sendall(b"QUIT\r\n")
            s.close()
            with lock:
                samples.extend(mine)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(str(e))

    server.clear()
    ts = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("latency client: %s" % errors[:3])
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]


def profile(server, seconds=8):
    """perf profile of mailetd (fsync on) under 20 sessions of 4 KiB: the
    top symbols by self time, or None without perf."""
    if shutil.which("perf") is None:
        return None
    data = os.path.join(os.path.dirname(server.dir), "perf.data")
    rec = subprocess.Popen(["perf", "record", "-q", "-F", "999", "-g", "-o", data,
                            "-p", str(server.proc.pid), "--", "sleep", str(seconds)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.time() + seconds
    while time.time() < end:
        throughput(server, 20, 500, 4096)
    rec.wait()
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                        "--sort", "dso,symbol", "-g", "none", "--percent-limit", "1.5"],
                       capture_output=True, text=True)
    rows = [l.rstrip() for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")]
    r = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                        "--sort", "dso", "-g", "none", "--percent-limit", "1"],
                       capture_output=True, text=True)
    dsos = [l.rstrip() for l in r.stdout.splitlines() if l.strip() and not l.startswith("#")]
    return (dsos[:8] + [""] + rows[:20]) or None


# --- report --------------------------------------------------------------------

def fmt_tp(v):
    return "%.0f (%.0f–%.0f)" % (statistics.median(v), min(v), max(v))


def ratio_per_run(a, b):
    """Median and min–max of a[i]/b[i]: each ratio from the same round."""
    r = [x / y for x, y in zip(a, b)]
    return "%.2f (%.2f–%.2f)" % (statistics.median(r), min(r), max(r)), statistics.median(r)


def versions(mailetd):
    v = {}
    try:
        v["mailetd"] = subprocess.run([mailetd, "-V"], capture_output=True, text=True,
                                      timeout=5).stdout.strip() or "?"
    except OSError:
        v["mailetd"] = "?"
    v["mailetd"] += " (git %s)" % subprocess.run(
        ["git", "-C", HERE, "describe", "--always", "--dirty"], capture_output=True,
        text=True).stdout.strip()
    v["postfix"] = subprocess.run(["postconf", "-d", "-h", "mail_version"],
                                  capture_output=True, text=True).stdout.strip()
    v["kernel"] = platform.release()
    return v


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    fs = subprocess.run(["df", "-T", tempfile.gettempdir()], capture_output=True,
                        text=True).stdout.splitlines()[-1].split()
    return "%s, %d cores, %d MiB RAM, temp directory on %s (%s)" % (
        cpu, os.cpu_count(), mem, fs[1], fs[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mailetd", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--quick", action="store_true", help="1 run, small loads: a smoke test")
    ap.add_argument("--no-profile", dest="profile", action="store_false",
                    help="skip the perf profile of mailetd")
    a = ap.parse_args()
    binary = os.path.abspath(a.mailetd)
    subprocess.run(["sh", os.path.join(HERE, "install.sh")], check=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit
    loads = LOADS
    if a.quick:
        a.runs, a.idle = 1, 1000
        loads = [(n, s, max(s, m // 10), l) for n, s, m, l in LOADS]

    top = tempfile.mkdtemp(prefix="mailetd-bench-")
    os.chmod(top, 0o755)  # postfix's processes must reach their queue
    servers = [Mailetd(binary, top, "mailetd", True), Mailetd(binary, top, "mailetd-nosync", False),
               Postfix(top), Sink(top)]
    started = []
    load_seen = [loadavg()]
    t_start = time.time()
    try:
        for s in servers:
            s.start()
            started.append(s)
        results = {(l[0], s.name): [] for l in loads for s in servers}
        costs = {(l[0], s.name): [] for l in loads for s in servers}
        for run in range(a.runs):
            for name, sess, msgs, length in loads:
                order = servers if run % 2 == 0 else list(reversed(servers))
                for s in order:  # A B C D, then D C B A: alternated
                    single = not isinstance(s, Postfix)  # one long-lived process
                    c0 = proc_cost(s.pids()) if single else None
                    tp = throughput(s, sess, msgs, length)
                    results[(name, s.name)].append(tp)
                    if single:
                        c1 = proc_cost(s.pids())
                        costs[(name, s.name)].append(((c1[0] - c0[0]) * 1e6 / msgs,
                                                      (c1[1] - c0[1]) / msgs))
                    print("run %d %-20s %-15s %8.0f msg/s  load %s" % (
                        run + 1, name, s.name, tp, loadavg()), flush=True)
            load_seen.append(loadavg())
        lat = {}
        for s in servers:
            lat[s.name] = latency(s)
            print("latency %-15s median %.2f ms p99 %.2f ms" % (
                s.name, lat[s.name][0] * 1e3, lat[s.name][1] * 1e3), flush=True)
        mem = {}
        for s in servers:
            # smtp-sink is no server to size (select(), 1024 fds at most).
            if s.name in ("mailetd-nosync", "smtp-sink"):
                continue
            n = a.idle if not isinstance(s, Postfix) else 150  # one smtpd process each
            try:
                mem[s.name] = (n,) + idle_memory(s, n)
            except OSError as e:
                print("idle %s: %s" % (s.name, e), flush=True)
                continue
            print("idle %-15s %s" % (s.name, mem[s.name]), flush=True)
        prof = None
        if a.profile:
            try:
                prof = profile(servers[0])
            except (OSError, RuntimeError) as e:
                print("profile: %s" % e)
        load_seen.append(loadavg())
    finally:
        for s in reversed(started):
            s.stop()
        shutil.rmtree(top, ignore_errors=True)
    write_report(a, binary, loads, servers, results, lat, mem, load_seen,
                 time.time() - t_start, prof, costs)


def write_report(a, binary, loads, servers, results, lat, mem, load_seen, elapsed, prof=None,
                 costs=None):
    v = versions(binary)
    names = [s.name for s in servers]
    out = []
    out.append("# mailetd benchmark results\n")
    out.append("Produced by `make bench` (tests/bench/bench.py); do not edit by hand.\n")
    out.append("- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC"))
    out.append("- Machine: %s" % machine())
    out.append("- Versions: mailetd %s; Postfix %s (smtpd, smtp-source, smtp-sink); "
               "Linux %s" % (v["mailetd"], v["postfix"], v["kernel"]))
    out.append("- Load average (1 min) at start, after each round, at the end: %s"
               % ", ".join(load_seen))
    out.append("- %d rounds; in every round each load runs against every server, "
               "the order reversed every other round; %.0f s in all" % (a.runs, elapsed))
    out.append("- mailetd: spool only (no mailet container yet), fsync on unless "
               "`mailetd-nosync`; log level info. Postfix: private config and queue, "
               "`default_transport = discard` (queue files are fsync'd by cleanup, "
               "then discarded). smtp-sink: no queue, the upper bound.")
    out.append("- Load: `smtp-source -s SESSIONS -m MESSAGES -l LENGTH` (a new "
               "connection per message, smtp-source's default).\n")
    out.append("## Throughput (messages/s: median (min–max))\n")
    out.append("| load | " + " | ".join(names) + " | mailetd / Postfix | "
               "mailetd / smtp-sink | nosync / smtp-sink |")
    out.append("|---|" + "---|" * (len(names) + 3))
    ratios = {}
    for name, sess, msgs, length in loads:
        row = [fmt_tp(results[(name, n)]) for n in names]
        rp, rpm = ratio_per_run(results[(name, "mailetd")], results[(name, "postfix")])
        rs, rsm = ratio_per_run(results[(name, "mailetd")], results[(name, "smtp-sink")])
        rn, rnm = ratio_per_run(results[(name, "mailetd-nosync")], results[(name, "smtp-sink")])
        ratios[name] = (rpm, rsm, rnm)
        out.append("| %s (%d msgs) | %s | %s | %s | %s |" % (name, msgs, " | ".join(row), rp, rs, rn))
    out.append("\nRatios are taken per round (both servers measured in the same round) "
               "and then the median, min and max of those.\n")
    if costs:
        single = [n for n in names if costs.get((loads[0][0], n))]
        out.append("## Cost per message (median over the rounds)\n")
        out.append("CPU time (user + system, every thread) and context switches of the "
                   "server process per message, from /proc around each run. Switches "
                   "hardly depend on the machine's load; CPU time does (a loaded VM "
                   "makes every system call dearer). (Postfix spreads a message over "
                   "short-lived processes: not measured.)\n")
        out.append("| load | " + " | ".join("%s CPU µs / switches" % n for n in single) + " |")
        out.append("|---|" + "---|" * len(single))
        for name, sess, msgs, length in loads:
            cells = []
            for n in single:
                v = costs[(name, n)]
                cells.append("%.0f / %.1f" % (statistics.median(x[0] for x in v),
                                              statistics.median(x[1] for x in v)))
            out.append("| %s | %s |" % (name, " | ".join(cells)))
        out.append("")
    out.append("## Targets (issue 6)\n")
    out.append("| target | measured | met |")
    out.append("|---|---|---|")

    def target(label, val, goal):
        out.append("| %s ≥ %.1f | %.2f | %s |" % (
            label, goal, val, "yes" if val >= goal else "**no** (%.0f%% of target)" % (100 * val / goal)))
    n1, n20, n100, nbig = [l[0] for l in loads]
    target("1 session: mailetd / Postfix", ratios[n1][0], 2.5)
    target("20 sessions: mailetd / Postfix", ratios[n20][0], 5)
    target("100 sessions: mailetd / Postfix", ratios[n100][0], 5)
    target("20 sessions: mailetd / smtp-sink", ratios[n20][1], 0.4)
    target("100 sessions: mailetd / smtp-sink", ratios[n100][1], 0.4)
    target("1 MiB: mailetd / Postfix", ratios[nbig][0], 2)
    for n in (n1, n20, n100):
        target("fsync off, %s: mailetd / smtp-sink" % n, ratios[n][2], 0.8)
    if "mailetd" in mem:
        n, held, rss, pss = mem["mailetd"]
        per = rss / max(held, 1)
        out.append("| 10,000 idle connections ≤ 10 KiB each | %.1f KiB | %s |" % (
            per, "yes" if per <= 10 else "**no**"))
    out.append("\n## Idle connections (memory)\n")
    out.append("| server | connections held | RSS delta | PSS delta | per connection (RSS / PSS) |")
    out.append("|---|---|---|---|---|")
    for n, (cnt, held, rss, pss) in mem.items():
        out.append("| %s | %d of %d | %d KiB | %d KiB | %.1f / %.1f KiB |" % (
            n, held, cnt, rss, pss, rss / max(held, 1), pss / max(held, 1)))
    out.append("\nPostfix runs one smtpd process per connection (process limit 200 here), "
               "so it is measured with 150 connections; summed RSS counts shared pages "
               "once per process, PSS shares them out.\n")
    out.append("## Latency, end of DATA to 250, 20 sessions (4 KiB, persistent sessions)\n")
    out.append("| server | median | p99 |")
    out.append("|---|---|---|")
    for n, (med, p99) in lat.items():
        out.append("| %s | %.2f ms | %.2f ms |" % (n, med * 1e3, p99 * 1e3))
    if prof:
        out.append("\n## Where mailetd's time goes (perf, fsync on, 20 sessions, 4 KiB)\n")
        out.append("Self time by shared object and symbol, over every thread of the "
                   "daemon (samples in the kernel are the socket, file and fsync work "
                   "done on its behalf):\n")
        out.append("```")
        out.extend(prof)
        out.append("```")
    notes = os.path.join(HERE, "analysis.md")
    if os.path.exists(notes):
        # Written by hand from the profiles (see that file): where the time
        # goes and why a target is missed, kept beside the generated tables.
        with open(notes) as f:
            out.append("\n" + f.read().rstrip())
    out.append("\n![messages/s against sessions](throughput.png)\n")
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    plot(a.out, loads, names, results)
    print("wrote %s" % os.path.join(a.out, "results.md"))


def plot(outdir, loads, names, results):
    small = [l for l in loads if l[3] == 4096]
    with tempfile.TemporaryDirectory() as td:
        dat = os.path.join(td, "tp.dat")
        with open(dat, "w") as f:
            f.write("# sessions " + " ".join(names) + "\n")
            for name, sess, _, _ in small:
                f.write("%d %s\n" % (sess, " ".join(
                    "%.1f" % statistics.median(results[(name, n)]) for n in names)))
        cmds = ['set terminal png size 800,500', 'set output "%s"' % os.path.join(outdir, "throughput.png"),
                'set title "Throughput, 4 KiB messages, loopback"', 'set xlabel "parallel sessions"',
                'set ylabel "messages/s (median)"', 'set logscale x', 'set key top left',
                'set xtics (1, 20, 100)', 'set grid']
        series = ", ".join('"%s" using 1:%d with linespoints title "%s"' % (dat, i + 2, n)
                           for i, n in enumerate(names))
        cmds.append("plot " + series)
        subprocess.run(["gnuplot"], input="\n".join(cmds), text=True, check=True)


if __name__ == "__main__":
    sys.exit(main())
