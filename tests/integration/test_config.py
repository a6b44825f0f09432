"""mailetd -t: James's own files load; broken files are named with file:line."""
import glob
import os
import shutil
import tempfile

from lib import check, run
import lib

JAMES = os.environ.get("JAMES_CONF") or os.path.normpath(
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "james-conf"))


def tls_material(tmp, xml_path):
    """The key files James's samples name (file://conf/keystore,
    classpath://keystore, private.key with private.csr), made with the
    file's own <secret>: mailetd checks TLS key material at load, as James
    does at start."""
    import re
    with open(xml_path, encoding="utf-8", errors="replace") as f:
        m = re.search(r"<secret>([^<]*)</secret>", f.read())
    secret = m.group(1) if m else ""
    key, crt = os.path.join(tmp, "private.key"), os.path.join(tmp, "private.csr")
    rc, out, err = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                        "-subj", "/CN=localhost", "-keyout", key, "-out", crt])
    check(rc == 0, "openssl req: " + err)
    rc, out, err = run(["openssl", "pkcs12", "-export", "-inkey", key, "-in", crt,
                        "-passout", "pass:" + secret, "-out", os.path.join(tmp, "keystore")])
    check(rc == 0, "openssl pkcs12: " + err)


def check_dir(files):
    tmp = tempfile.mkdtemp(prefix="mailetd-t-")
    try:
        for src, name in files:
            shutil.copy(src, os.path.join(tmp, name))
            if name == "smtpserver.xml":
                tls_material(tmp, src)
        return run([lib.MAILETD, "-t", "-c", tmp])
    finally:
        shutil.rmtree(tmp)


def test_james_corpus_passes_config_test():
    if not os.path.isdir(JAMES):
        raise lib.TestSkipped("James corpus not found at %s (set JAMES_CONF)" % JAMES)
    smtp = sorted(glob.glob(os.path.join(JAMES, "*", "smtpserver*.xml")))
    doms = sorted(glob.glob(os.path.join(JAMES, "*", "domainlist.xml")))
    dnss = sorted(glob.glob(os.path.join(JAMES, "*", "dnsservice.xml")))
    check(len(smtp) >= 20 and doms and len(dnss) >= 5, "corpus looks empty")
    for f in smtp:
        if "mailet-integration-testing" in f:
            continue  # a Mustache template, not XML
        rc, out, err = check_dir([(f, "smtpserver.xml")])
        check(rc == 0 and "configuration OK" in out, "%s: %s %s" % (f, out, err))
    for f in doms:
        rc, out, err = check_dir([(f, "domainlist.xml")])
        check(rc == 0 and "configuration OK" in out, "%s: %s %s" % (f, out, err))
    for f in dnss:
        rc, out, err = check_dir([(f, "dnsservice.xml")])
        check(rc == 0 and "configuration OK" in out, "%s: %s %s" % (f, out, err))
        check("dnsservice.xml" not in err, "%s: warnings: %s" % (f, err))


def test_james_lmtp_corpus_passes_config_test():
    if not os.path.isdir(JAMES):
        raise lib.TestSkipped("James corpus not found at %s (set JAMES_CONF)" % JAMES)
    lmtp = sorted(glob.glob(os.path.join(JAMES, "*", "lmtpserver.xml")) +
                  glob.glob(os.path.join(JAMES, "protocols-lmtp-tests", "*.xml")))
    check(len(lmtp) >= 10, "LMTP corpus looks small: %r" % lmtp)
    for f in lmtp:
        rc, out, err = check_dir([(f, "lmtpserver.xml")])
        check(rc == 0 and "configuration OK" in out, "%s: %s %s" % (f, out, err))
    # The mailet-container chain is accepted and named as not supported yet.
    rc, out, err = check_dir([(os.path.join(JAMES, "memory-app-tests", "lmtpserver.xml"),
                               "lmtpserver.xml")])
    check(rc == 0 and "mailet container is not supported yet" in err and
          "lmtpserver.xml:" in err, err)
    # Whole app directories: smtpserver.xml and lmtpserver.xml side by side.
    for app in ("distributed-app", "jpa-app", "postgres-app", "distributed-pop3-app"):
        d = os.path.join(JAMES, app)
        files = [(os.path.join(d, n), n) for n in ("smtpserver.xml", "lmtpserver.xml",
                                                   "domainlist.xml")
                 if os.path.isfile(os.path.join(d, n))]
        if len(files) < 2:
            continue
        rc, out, err = check_dir(files)
        check(rc == 0 and "configuration OK" in out, "%s: %s %s" % (app, out, err))


def test_lmtp_config_errors_and_smtp_only_elements():
    tmp = tempfile.mkdtemp(prefix="mailetd-t-")
    try:
        with open(os.path.join(tmp, "lmtpserver.xml"), "w") as f:
            f.write('<?xml version="1.0"?>\n<lmtpservers>\n<lmtpserver>\n'
                    '<bind>unix:relative/sock</bind>\n'
                    '<maxmessagesize>12Q</maxmessagesize>\n'
                    '<authorizedAddresses>0.0.0.0/0</authorizedAddresses>\n'
                    '<bind>/' + "x" * 120 + '</bind>\n'
                    '</lmtpserver>\n</lmtpservers>\n')
        rc, out, err = run([lib.MAILETD, "-t", "-c", tmp])
        check(rc == 1, "status %d: %s" % (rc, err))
        for line, text in ((4, "<bind>: \"unix:relative/sock\": a UNIX socket needs an "
                               "absolute path"),
                           (5, "<maxmessagesize>"),
                           (6, "<authorizedAddresses>: has no effect on an LMTP server")):
            want = "%s/lmtpserver.xml:%d: %s" % (tmp, line, text)
            check(want in err, "missing %r in:\n%s" % (want, err))
        check("socket path too long" in err or "<bind>" in err, err)
        # A TCP and a UNIX bind shared with the SMTP server conflict.
        with open(os.path.join(tmp, "lmtpserver.xml"), "w") as f:
            f.write('<lmtpservers><lmtpserver><bind>127.0.0.1:2424, /tmp/x.sock</bind>'
                    '</lmtpserver></lmtpservers>')
        with open(os.path.join(tmp, "smtpserver.xml"), "w") as f:
            f.write('<smtpservers><smtpserver><bind>0.0.0.0:2424, unix:/tmp/x.sock</bind>'
                    '</smtpserver></smtpservers>')
        rc, out, err = run([lib.MAILETD, "-t", "-c", tmp])
        check(rc == 1 and "127.0.0.1:2424 conflicts with 0.0.0.0:2424" in err and
              "/tmp/x.sock conflicts with unix:/tmp/x.sock" in err, err)
    finally:
        shutil.rmtree(tmp)


def test_later_features_are_named():
    f = os.path.join(JAMES, "memory-app", "smtpserver.xml")
    if not os.path.isfile(f):
        print("SKIPPED: James corpus not found at %s (set JAMES_CONF)" % JAMES)
        return
    rc, out, err = check_dir([(f, "smtpserver.xml")])
    check(rc == 0, err)
    check("TLS is not yet supported" not in err, err)
    check("AUTH is not yet supported" not in err, err)
    check("verifyIdentity" not in err, err)  # implemented: no "not supported" warning
    check(not err.strip() or "smtpserver.xml:" in err, "warnings lack file:line: %s" % err)


def test_shipped_conf_passes():
    here = os.path.join(os.path.dirname(__file__), "..", "..", "conf")
    rc, out, err = run([lib.MAILETD, "-t", "-c", here])
    check(rc == 0 and "configuration OK" in out, out + err)


def test_broken_config_reports_every_error_with_line():
    tmp = tempfile.mkdtemp(prefix="mailetd-t-")
    try:
        with open(os.path.join(tmp, "smtpserver.xml"), "w") as f:
            f.write('<?xml version="1.0"?>\n<smtpservers>\n<smtpserver>\n'
                    '<bind>127.0.0.1:2525</bind>\n'
                    '<maxmessagesize>12Q</maxmessagesize>\n'
                    '<maxLineLength>10</maxLineLength>\n'
                    '<heloEhloEnforcement>maybe</heloEhloEnforcement>\n'
                    '</smtpserver>\n</smtpservers>\n')
        rc, out, err = run([lib.MAILETD, "-t", "-c", tmp])
        check(rc == 1, "status %d" % rc)
        for line, elem in ((5, "maxmessagesize"), (6, "maxLineLength"),
                           (7, "heloEhloEnforcement")):
            want = "%s/smtpserver.xml:%d: <%s>" % (tmp, line, elem)
            check(want in err, "missing %r in:\n%s" % (want, err))
        rc2, out2, err2 = run([lib.MAILETD, "-c", tmp])
        check(rc2 == 1 and "not starting" in err2, err2)
    finally:
        shutil.rmtree(tmp)


def test_malformed_xml_is_reported():
    tmp = tempfile.mkdtemp(prefix="mailetd-t-")
    try:
        with open(os.path.join(tmp, "smtpserver.xml"), "w") as f:
            f.write('<?xml version="1.0"?>\n<smtpservers>\n<smtpserver>\n</smtpservers>\n')
        rc, out, err = run([lib.MAILETD, "-t", "-c", tmp])
        check(rc == 1 and "smtpserver.xml:" in err, err)
    finally:
        shutil.rmtree(tmp)


def test_version_and_help():
    rc, out, err = run([lib.MAILETD, "-V"])
    check(rc == 0 and out.startswith("mailetd "), out)
    rc, out, err = run([lib.MAILETD, "-h"])
    check(rc == 0 and "-c CONFDIR" in out, out)
    rc, out, err = run([lib.MAILETD, "-x"])
    check(rc == 2, "bad option status %d" % rc)


def test_missing_config_directory_is_an_error():
    rc, out, err = run([lib.MAILETD, "-t", "-c", "/nonexistent/mailetd-conf"])
    check(rc == 1 and "not a configuration directory" in err, err)
    rc, out, err = run([lib.MAILETCTL, "-c", "/nonexistent/mailetd-conf", "spool", "list"])
    check(rc == 1 and "not a configuration directory" in err, err)


def test_dnsservice_errors_have_file_line():
    tmp = tempfile.mkdtemp(prefix="mailetd-t-")
    try:
        with open(os.path.join(tmp, "dnsservice.xml"), "w") as f:
            f.write('<?xml version="1.0"?>\n<dnsservice>\n<servers>\n'
                    '<server>127.0.0.1:5353</server>\n'
                    '<server>resolver.example</server>\n'
                    '</servers>\n<maxcachesize>lots</maxcachesize>\n</dnsservice>\n')
        rc, out, err = run([lib.MAILETD, "-t", "-c", tmp])
        check(rc == 1, "status %d" % rc)
        for line, elem in ((5, "server"), (7, "maxcachesize")):
            want = "%s/dnsservice.xml:%d: <%s>" % (tmp, line, elem)
            check(want in err, "missing %r in:\n%s" % (want, err))
        check(":4:" not in err, err)
    finally:
        shutil.rmtree(tmp)
