"""The recipient rewrite table: mailetctl mapping/alias, ValidRcptHandler's
three checks, verifyIdentity with aliases, LMTP delivery through mappings,
recipientrewritetable.xml, and changes seen by a running daemon."""
import os
import smtplib

import lib
from lib import Daemon, check, run, running, wait_for
from test_auth import PASSWORD, add_user, auth_daemon, plain
from test_handlers import chain_daemon, mail_from, tls_ehlo
from test_lmtp import BODY, lmtp_daemon, lmtp_transaction, mail_files, read

VALID_RCPT = "org.apache.james.smtpserver.fastfail.ValidRcptHandler"


def ctl(d, *args):
    return d.ctl(*args)


def add_mapping(d, source, target):
    rc, out, err = ctl(d, "mapping", "add", source, target)
    check(rc == 0 and out.startswith("added mapping "), (source, target, rc, out, err))


def test_rrt_mailetctl_commands():
    d = Daemon()
    try:
        add_user(d, "bob")
        rc, out, err = ctl(d, "mapping", "list")
        check(rc == 0 and out == "", (rc, out, err))
        add_mapping(d, "Info@MailetD.test", "bob@mailetd.test")
        add_mapping(d, "team@mailetd.test", "group:bob")
        add_mapping(d, "team@mailetd.test", "GROUP:carol@remote.example")
        add_mapping(d, "old.test", "domain:mailetd.test")
        add_mapping(d, "gone@mailetd.test", "error:Gone to another company")
        add_mapping(d, "*@rx.test", "regex:([a-z]+)\\.([a-z]+)@rx.test:${1}@mailetd.test")
        rc, out, err = ctl(d, "alias", "add", "bob.smith@mailetd.test", "bob")
        check(rc == 0 and "added mapping bob.smith@mailetd.test alias:bob" in out, (rc, out, err))
        rc, out, err = ctl(d, "mapping", "add", "info@mailetd.test", "bob@mailetd.test")
        check(rc == 1 and "already exists" in err, (rc, out, err))
        # Bad input: clear reason, status 1, nothing stored.
        for args, want in (
                (("mapping", "add", "x@mailetd.test", "frob:bob"), 'unknown mapping type "frob:"'),
                (("mapping", "add", "x@mailetd.test", "regex:(a:${1}@x"), "does not compile"),
                (("mapping", "add", "x@mailetd.test", "regex:(.*)@x:${3}@y"), "group"),
                (("mapping", "add", "not an address", "bob"), "not a domain name"),
                (("mapping", "add", "*@*", "bob"), "*@*"),
                (("mapping", "add", "x@mailetd.test", "domain:bad_domain"), "not a domain name"),
                (("mapping", "del", "x@mailetd.test", "bob"), "no such mapping"),
                (("alias", "add", "al@mailetd.test", "nobody"), "no such user"),
                (("mapping", "resolve", "nodomain"), "not an address")):
            rc, out, err = ctl(d, *args)
            check(rc == 1 and want in err, (args, rc, out, err))
        for bad in (["mapping"], ["mapping", "add", "x"], ["mapping", "frob", "a", "b"],
                    ["alias", "list"], ["mapping", "list", "a", "b"]):
            rc, out, err = ctl(d, *bad)
            check(rc == 2 and "usage:" in err and "mapping add|del SOURCE TARGET" in err,
                  (bad, rc, err))
        rc, out, err = ctl(d, "mapping", "list")
        check(rc == 0 and out ==
              "*@old.test domain:mailetd.test\n"
              "*@rx.test regex:([a-z]+)\\.([a-z]+)@rx.test:${1}@mailetd.test\n"
              "bob.smith@mailetd.test alias:bob\n"
              "gone@mailetd.test error:Gone to another company\n"
              "info@mailetd.test bob@mailetd.test\n"
              "team@mailetd.test group:bob\n"
              "team@mailetd.test group:carol@remote.example\n", (rc, out, err))
        rc, out, err = ctl(d, "mapping", "list", "team@mailetd.test")
        check(rc == 0 and out.count("\n") == 2, out)
        rc, out, err = ctl(d, "mapping", "resolve", "TEAM@mailetd.test")
        check(rc == 0 and "mapped" in out and "bob@mailetd.test (group) local user bob" in out
              and "carol@remote.example (group) not a local user" in out, (rc, out, err))
        rc, out, err = ctl(d, "mapping", "resolve", "john.smith@rx.test")
        check("john@mailetd.test (regex)" in out, out)
        rc, out, err = ctl(d, "mapping", "resolve", "x@old.test")
        check("x@mailetd.test (domain) not a local user" in out, out)
        rc, out, err = ctl(d, "mapping", "resolve", "gone@mailetd.test")
        check("error: Gone to another company" in out, out)
        add_mapping(d, "l1@mailetd.test", "l2@mailetd.test")
        add_mapping(d, "l2@mailetd.test", "l1@mailetd.test")
        rc, out, err = ctl(d, "mapping", "resolve", "l1@mailetd.test")
        check(rc == 0 and "mapping loop" in out, out)
        rc, out, err = ctl(d, "mapping", "del", "TEAM@mailetd.test", "group:bob")
        check(rc == 0 and "deleted mapping" in out, (rc, out, err))
        rc, out, err = ctl(d, "alias", "del", "bob.smith@mailetd.test", "bob")
        check(rc == 0, (rc, out, err))
        rc, out, err = ctl(d, "mapping", "list", "bob.smith@mailetd.test")
        check(rc == 0 and out == "", out)
        with open(os.path.join(d.data, "users", "rrt.db")) as f:
            text = f.read()
        check(text.startswith("# mailetd rrt 1\n") and
              "gone@mailetd.test error:Gone%20to%20another%20company\n" in text, text)
        check(sorted(n for n in os.listdir(os.path.join(d.data, "users")) if "rrt" in n) ==
              ["rrt.db", "rrt.lock"], os.listdir(os.path.join(d.data, "users")))
    finally:
        d.close()


def rrt_chain_daemon(check_mode=None, enable=None):
    conf = ""
    if check_mode is not None:
        conf += "<recipientRewriteTableCheck>%s</recipientRewriteTableCheck>" % check_mode
    if enable is not None:
        conf += "<enableRecipientRewriteTable>%s</enableRecipientRewriteTable>" % enable
    d = chain_daemon('<handler class="%s">%s</handler>' % (VALID_RCPT, conf))
    add_user(d, "bob")
    for source, target in (("alias@mailetd.test", "alias:bob"),
                           ("fw@mailetd.test", "forward:someone@remote.example"),
                           ("gone@mailetd.test", "error:Gone"),
                           ("l1@mailetd.test", "l2@mailetd.test"),
                           ("l2@mailetd.test", "l1@mailetd.test"),
                           ("mixed@mailetd.test", "group:bob"),
                           ("mixed@mailetd.test", "group:x@remote.example"),
                           ("errok@mailetd.test", "error:Partly"),
                           ("errok@mailetd.test", "bob")):
        add_mapping(d, source, target)
    return d


# What each recipient gets under each check (James's ValidRcptHandlerTest table).
MODES = {
    None: {"alias": 250, "fw": 250, "gone": 250, "l1": 250, "mixed": 250, "errok": 250},
    "mappingExists": {"alias": 250, "fw": 250, "gone": 250, "l1": 250, "mixed": 250,
                      "errok": 250},
    "anyMappingValid": {"alias": 250, "fw": 550, "gone": 550, "l1": 550, "mixed": 250,
                        "errok": 250},
    "allMappingsValid": {"alias": 250, "fw": 550, "gone": 550, "l1": 550, "mixed": 550,
                         "errok": 550},
}


def test_rrt_valid_rcpt_modes():
    for mode, want in sorted(MODES.items(), key=lambda kv: str(kv[0])):
        with running(rrt_chain_daemon(mode)) as d:
            c = lib.greet(d.port)
            mail_from(c)
            c.cmd("RCPT TO:<bob@mailetd.test>", 250)
            for local, code in sorted(want.items()):
                got, lines = c.cmd("RCPT TO:<%s@mailetd.test>" % local)
                check(got == code, (mode, local, lines))
                if code == 550:
                    check(lines == ["550 5.1.1 Unknown user: %s@mailetd.test" % local],
                          (mode, lines))
            code, lines = c.cmd("RCPT TO:<unmapped@mailetd.test>", 550)
            check(lines == ["550 5.1.1 Unknown user: unmapped@mailetd.test"], lines)
            # Sub-addressing reaches the alias too.
            c.cmd("RCPT TO:<alias+tag@mailetd.test>", 250)
            c.close()
    # enableRecipientRewriteTable=false: only users.
    with running(rrt_chain_daemon("mappingExists", enable="false")) as d:
        c = lib.greet(d.port)
        mail_from(c)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        code, lines = c.cmd("RCPT TO:<alias@mailetd.test>", 550)
        check(lines == ["550 5.1.1 Unknown user: alias@mailetd.test"], lines)
        c.close()


def test_rrt_mapping_seen_while_running():
    d = chain_daemon('<handler class="%s"/>' % VALID_RCPT)
    add_user(d, "bob")
    with running(d):
        c = lib.greet(d.port)
        mail_from(c)
        c.cmd("RCPT TO:<sales@mailetd.test>", 550)
        add_mapping(d, "sales@mailetd.test", "alias:bob")

        def accepted():
            return c.cmd("RCPT TO:<sales@mailetd.test>")[0] == 250
        check(wait_for(accepted, timeout=5, step=0.3), "mapping not seen by the daemon")
        check("event=rrt_reload" in d.log(), d.log()[-2000:])
        rc, out, err = ctl(d, "mapping", "del", "sales@mailetd.test", "alias:bob")
        check(rc == 0, err)
        check(wait_for(lambda: c.cmd("RCPT TO:<sales@mailetd.test>")[0] == 550, timeout=5,
                       step=0.3), "deleted mapping still applies")
        c.close()


def test_rrt_verify_identity_accepts_alias():
    with auth_daemon(users=("bob", "carol")) as d:
        rc, out, err = ctl(d, "alias", "add", "bob.smith@mailetd.test", "bob")
        check(rc == 0, err)
        rc, out, err = ctl(d, "alias", "add", "carol.jones@mailetd.test", "carol")
        check(rc == 0, err)
        add_mapping(d, "team@mailetd.test", "group:bob")
        c = tls_ehlo(d)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        c.cmd("MAIL FROM:<bob.smith@mailetd.test>", 250)
        c.cmd("RCPT TO:<x@remote.example>", 250)
        c.cmd("DATA", 354)
        c.send("From: Bob Smith <Bob.Smith@mailetd.test>\r\n\r\nx\r\n.\r\n")
        code, lines = c.read_reply()
        check(code == 250, lines)
        # Another user's address or alias, or a group: refused.
        for sender in ("carol@mailetd.test", "carol.jones@mailetd.test", "team@mailetd.test"):
            code, lines = c.cmd("MAIL FROM:<%s>" % sender, 503)
            check(lines == ["503 5.7.1 Incorrect Authentication for Specified Email Address"],
                  (sender, lines))
        # From: header naming carol's alias at the end of data: refused.
        c.cmd("MAIL FROM:<bob@mailetd.test>", 250)
        c.cmd("RCPT TO:<x@remote.example>", 250)
        c.cmd("DATA", 354)
        c.send("From: <carol.jones@mailetd.test>\r\n\r\nx\r\n.\r\n")
        code, lines = c.read_reply()
        check(lines == ["503 5.7.1 Incorrect Authentication for Specified Email Address"], lines)
        c.close()


def test_rrt_lmtp_delivers_through_mappings():
    d = lmtp_daemon(users=("bob", "carol"))
    for source, target in (("info@mailetd.test", "alias:bob"),
                           ("team@mailetd.test", "group:bob"),
                           ("team@mailetd.test", "group:carol"),
                           ("ext@mailetd.test", "forward:someone@remote.example"),
                           ("gone@mailetd.test", "error:Gone to another company"),
                           ("l1@mailetd.test", "l2@mailetd.test"),
                           ("l2@mailetd.test", "l1@mailetd.test")):
        add_mapping(d, source, target)
    with running(d):
        client = smtplib.LMTP("127.0.0.1", d.lmtp_port, timeout=10)
        try:
            accepted, replies, refused = lmtp_transaction(
                client, ["info@mailetd.test", "team@mailetd.test", "ext@mailetd.test",
                         "gone@mailetd.test", "l1@mailetd.test", "nobody@mailetd.test"], BODY)
            check(accepted == ["info@mailetd.test", "team@mailetd.test"], (accepted, refused))
            check([c for c, _ in replies] == [250, 250], replies)
            code, msg = refused["ext@mailetd.test"]
            check(code == 550 and msg.startswith(b"5.1.1 ext@mailetd.test: mapped to "
                                                 b"someone@remote.example, which is not a local"),
                  (code, msg))
            code, msg = refused["gone@mailetd.test"]
            check(code == 550 and msg == b"5.1.1 gone@mailetd.test: Gone to another company",
                  (code, msg))
            code, msg = refused["l1@mailetd.test"]
            check(code == 550 and b"mapping loop" in msg, (code, msg))
            code, msg = refused["nobody@mailetd.test"]
            check(code == 550 and b"Unknown user" in msg, (code, msg))
            client.docmd("QUIT")
        finally:
            client.close()
        bob = mail_files(d, "bob")
        carol = mail_files(d, "carol")
        check(len(bob) == 2 and len(carol) == 1, (bob, carol))
        tos = sorted(read(f).split(b"\r\n")[1] for f in bob)
        check(tos == [b"Delivered-To: info@mailetd.test", b"Delivered-To: team@mailetd.test"],
              tos)
        check(read(carol[0]).endswith(BODY), "carol's copy differs")
        for name in ("info", "team", "ext", "gone"):
            check(not os.path.exists(os.path.join(d.data, "mail", "mailetd.test", name)),
                  "a mailbox for the alias %s" % name)


def test_rrt_xml_file():
    d = Daemon()
    try:
        add_user(d, "bob")
        d.write("recipientrewritetable.xml",
                '<?xml version="1.0"?>\n'
                '<recipientrewritetable class="org.apache.james.rrt.jpa.JPARecipientRewriteTable">\n'
                '  <recursiveMapping>true</recursiveMapping>\n'
                '  <mappingLimit>10</mappingLimit>\n'
                '  <mapping>webmaster@mailetd.test=bob@mailetd.test,'
                'old.test=domain:mailetd.test</mapping>\n'
                '</recipientrewritetable>\n')
        rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
        check(rc == 0 and "recipientrewritetable" not in err, (rc, out, err))
        rc, out, err = ctl(d, "mapping", "list")
        check(rc == 0 and "webmaster@mailetd.test bob@mailetd.test  (recipientrewritetable.xml)"
              in out and "*@old.test domain:mailetd.test  (recipientrewritetable.xml)" in out,
              (rc, out, err))
        rc, out, err = ctl(d, "mapping", "del", "webmaster@mailetd.test", "bob@mailetd.test")
        check(rc == 1 and "recipientrewritetable.xml" in err, (rc, out, err))
        rc, out, err = ctl(d, "mapping", "resolve", "webmaster@mailetd.test")
        check("bob@mailetd.test (address) local user bob" in out, out)
        # Bad values stop start-up with file:line.
        for body, want in (
                ("<mappingLimit>0</mappingLimit>", "recipientrewritetable.xml:3: <mappingLimit>: "
                 "0 is out of range"),
                ("<mapping>a@mailetd.test=oops:b</mapping>",
                 "recipientrewritetable.xml:3: <mapping>: target \"oops:b\": unknown mapping"),
                ("<recursiveMapping>perhaps</recursiveMapping>",
                 "recipientrewritetable.xml:3: <recursiveMapping>")):
            d.write("recipientrewritetable.xml", '<?xml version="1.0"?>\n<recipientrewritetable>\n'
                    + body + "\n</recipientrewritetable>\n")
            rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
            check(rc == 1 and want in err, (body, rc, err))
    finally:
        d.close()


def test_rrt_james_corpus_loads():
    root = os.environ.get("JAMES_CONF") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "james-conf")
    if not os.path.isdir(root):
        raise lib.TestSkipped("James corpus not found at %s" % root)
    n = 0
    for sub in sorted(os.listdir(root)):
        src = os.path.join(root, sub, "recipientrewritetable.xml")
        if not os.path.exists(src):
            continue
        d = Daemon()
        try:
            with open(src) as f:
                d.write("recipientrewritetable.xml", f.read())
            rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
            check(rc == 0 and "recipientrewritetable" not in err, (src, rc, err))
            n += 1
        finally:
            d.close()
    check(n >= 5, "only %d recipientrewritetable.xml files" % n)
