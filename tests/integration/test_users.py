"""Users and domains: mailetctl user/domain commands and the daemon's view."""
import os
import subprocess
import time

import lib
from lib import Daemon, check, daemon, greet

CRYPT_HASH = ("{SHA512-CRYPT}$6$saltsaltsalt$PMWE8DTlam1JU37Piyk43bHcMxTJq6sgu5DKB0/"
              "tGPjanN35jcY68QkpDfPFUGPWX5uCxIQkSPzMmqEiVNgts.")


def ctl(d, *args, input=None):
    r = subprocess.run([lib.MAILETCTL, "-c", d.conf] + list(args), input=input,
                       capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def users_file(d):
    with open(os.path.join(d.data, "users", "users.db")) as f:
        return f.read()


def test_user_add_list_passwd_del():
    d = Daemon()
    try:
        rc, out, err = ctl(d, "user", "list")
        check(rc == 0 and out == "", (rc, out, err))
        rc, out, err = ctl(d, "user", "add", "Bob", "--password-stdin", input=b"s3cret\n")
        check(rc == 0 and "added user bob" in out, (rc, out, err))
        check("s3cret" not in out + err, "password printed")
        # Not a tty: the password comes from standard input without the flag too.
        rc, out, err = ctl(d, "user", "add", "alice", input=b"pw\n")
        check(rc == 0, (rc, out, err))
        rc, out, err = ctl(d, "user", "add", "bob", "--password-stdin", input=b"x\n")
        check(rc == 1 and "already exists" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "add", "carol", "--password-stdin", input=b"")
        check(rc == 1 and "no password" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "add", "carol@mailetd.test", input=b"pw\n")
        check(rc == 1 and "not a valid name" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "list")
        check(rc == 0 and out == "alice\nbob\n", (rc, out, err))
        text = users_file(d)
        check("s3cret" not in text and "{PBKDF2-SHA512}" in text, "stored: %r" % text)
        before = text
        rc, out, err = ctl(d, "user", "passwd", "bob", "--password-stdin", input=b"n3w\n")
        check(rc == 0, (rc, out, err))
        check(users_file(d) != before, "passwd changed nothing")
        rc, out, err = ctl(d, "user", "passwd", "nobody", input=b"n3w\n")
        check(rc == 1 and "not found" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "del", "alice")
        check(rc == 0, (rc, out, err))
        rc, out, err = ctl(d, "user", "del", "alice")
        check(rc == 1 and "not found" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "list")
        check(out == "bob\n", out)
        for bad in (["user"], ["user", "add"], ["user", "list", "x"], ["domain", "frob", "x"],
                    ["user", "del", "a", "--password-stdin"]):
            rc, out, err = ctl(d, *bad)
            check(rc == 2 and "usage:" in err, (bad, rc, err))
        # The temporary file of the atomic rewrite never stays behind.
        check(sorted(os.listdir(os.path.join(d.data, "users"))) ==
              ["domains.db", "lock", "users.db"] or
              sorted(os.listdir(os.path.join(d.data, "users"))) == ["lock", "users.db"],
              os.listdir(os.path.join(d.data, "users")))
    finally:
        d.close()


def test_user_import_dovecot_file():
    d = Daemon()
    try:
        path = os.path.join(d.dir, "passwd")
        with open(path, "w") as f:
            f.write("# Dovecot passwd-file\n\n")
            f.write("alice:%s:1000:1000::/home/alice::\n" % CRYPT_HASH)
            f.write("dave:%s\n" % CRYPT_HASH.replace("{SHA512-CRYPT}", ""))
            f.write("eve:{PLAIN}secret\n")
        rc, out, err = ctl(d, "user", "import", path)
        check(rc == 1 and ":5:" in err and "nothing imported" in err, (rc, out, err))
        check("secret" not in err and "PMWE8" not in err, "hash or password printed: " + err)
        rc, out, err = ctl(d, "user", "list")
        check(out == "", "partial import: %r" % out)
        with open(path, "w") as f:
            f.write("alice:%s:1000:1000::/home/alice::\n" % CRYPT_HASH)
            f.write("dave:%s\n" % CRYPT_HASH.replace("{SHA512-CRYPT}", ""))
        rc, out, err = ctl(d, "user", "import", path)
        check(rc == 0 and "imported 2 users" in out, (rc, out, err))
        rc, out, err = ctl(d, "user", "list")
        check(out == "alice\ndave\n", out)
        rc, out, err = ctl(d, "user", "import", os.path.join(d.dir, "missing"))
        check(rc == 1, (rc, out, err))
    finally:
        d.close()


def test_domain_add_list_del():
    d = Daemon()
    try:
        rc, out, err = ctl(d, "domain", "list")
        check(rc == 0 and out == "", (rc, out, err))
        rc, out, err = ctl(d, "domain", "add", "Added.Test")
        check(rc == 0, (rc, out, err))
        rc, out, err = ctl(d, "domain", "add", "added.test")
        check(rc == 1 and "already exists" in err, (rc, out, err))
        rc, out, err = ctl(d, "domain", "add", "mailetd.test")
        check(rc == 1 and "already exists" in err, (rc, out, err))
        rc, out, err = ctl(d, "domain", "add", "bad_domain")
        check(rc == 1 and "not a valid name" in err, (rc, out, err))
        rc, out, err = ctl(d, "domain", "list")
        check(out == "added.test\n", out)
        rc, out, err = ctl(d, "domain", "del", "added.test")
        check(rc == 0, (rc, out, err))
        rc, out, err = ctl(d, "domain", "del", "added.test")
        check(rc == 1 and "not found" in err, (rc, out, err))
    finally:
        d.close()


def test_virtual_hosting_users():
    d = Daemon()
    try:
        d.write("usersrepository.xml", "<usersrepository name=\"LocalUsers\">\n"
                "<enableVirtualHosting>true</enableVirtualHosting>\n</usersrepository>\n")
        rc, out, err = ctl(d, "user", "add", "bob", input=b"pw\n")
        check(rc == 1 and "not a valid name" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "add", "bob@elsewhere.example", input=b"pw\n")
        check(rc == 1 and "not a local domain" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "add", "bob@mailetd.test", input=b"pw\n")
        check(rc == 0, (rc, out, err))
        ctl(d, "domain", "add", "new.test")
        rc, out, err = ctl(d, "user", "add", "carol@new.test", input=b"pw\n")
        check(rc == 0, (rc, out, err))
        rc, out, err = ctl(d, "domain", "del", "new.test")
        check(rc == 1 and "users of this domain" in err, (rc, out, err))
        rc, out, err = ctl(d, "user", "list")
        check(out == "bob@mailetd.test\ncarol@new.test\n", out)
    finally:
        d.close()


def test_domain_added_at_run_time_is_local():
    with daemon() as d:
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<someone@runtime.test>", 550)
        rc, out, err = ctl(d, "domain", "add", "runtime.test")
        check(rc == 0, (rc, out, err))
        # Seen within about a second, without a restart.
        deadline = time.time() + 3
        ok = False
        while time.time() < deadline and not ok:
            code, lines = c.cmd("RCPT TO:<someone@runtime.test>")
            ok = code == 250
            if not ok:
                time.sleep(0.2)
        check(ok, "run-time domain not accepted: %r" % (lines,))
        c.cmd("QUIT", 221)
        rc, out, err = ctl(d, "domain", "del", "runtime.test")
        check(rc == 0, (rc, out, err))
        time.sleep(1.3)
        c = greet(d.port)
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<someone@runtime.test>", 550)
        c.cmd("QUIT", 221)
