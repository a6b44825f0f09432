"""Real clients: swaks (plain and --pipeline) and curl smtp://."""
import shutil

from lib import check, daemon, run, wait_for, TestFailure


def need(prog):
    if shutil.which(prog) is None:
        raise TestFailure("%s is not installed (build-aux/install-deps.sh installs it)" % prog)


def test_swaks_plain():
    need("swaks")
    with daemon() as d:
        rc, out, err = run(["swaks", "--server", "127.0.0.1", "--port", str(d.port),
                            "--from", "alice@example.org", "--to", "bob@mailetd.test",
                            "--helo", "client.example", "--body", "swaks body line"])
        check(rc == 0, "swaks failed: %s %s" % (out, err))
        check("<-  250 2.6.0 Message received" in out, out)
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
        check(b"swaks body line" in d.spool_cat(ids[0]), "body missing")


def test_swaks_pipeline():
    need("swaks")
    with daemon() as d:
        rc, out, err = run(["swaks", "--pipeline", "--server", "127.0.0.1", "--port",
                            str(d.port), "--from", "alice@example.org",
                            "--to", "bob@mailetd.test,carol@mailetd.test",
                            "--helo", "client.example"])
        check(rc == 0, "swaks --pipeline failed: %s %s" % (out, err))
        check("250 2.6.0 Message received" in out, out)
        ids = wait_for(d.spool_ids)
        rc, listing, _ = d.ctl("spool", "list")
        check("bob@mailetd.test" in listing and "carol@mailetd.test" in listing, listing)


def test_swaks_relay_denied():
    need("swaks")
    with daemon() as d:
        rc, out, err = run(["swaks", "--server", "127.0.0.1", "--port", str(d.port),
                            "--from", "alice@example.org", "--to", "victim@elsewhere.example",
                            "--helo", "client.example"])
        check(rc != 0, "swaks relayed: %s" % out)
        check("550 5.7.1" in out, out)
        check(d.spool_ids() == [], "relayed mail was spooled")


def test_curl_smtp_upload():
    need("curl")
    with daemon() as d:
        msg = b"From: alice@example.org\r\nTo: bob@mailetd.test\r\nSubject: curl\r\n\r\ncurl body\r\n"
        rc, out, err = run(["curl", "-sS", "--max-time", "20",
                            "smtp://127.0.0.1:%d/client.example" % d.port,
                            "--mail-from", "alice@example.org",
                            "--mail-rcpt", "bob@mailetd.test", "-T", "-"], input=msg)
        check(rc == 0, "curl failed (%d): %s" % (rc, err))
        ids = wait_for(d.spool_ids)
        check(len(ids) == 1, ids)
        check(d.spool_cat(ids[0]).endswith(msg), "curl message differs")
