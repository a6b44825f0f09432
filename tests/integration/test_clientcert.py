"""TLS client certificates: <tls><clientAuth> with a truststore, and
<enableOCSPCRLChecks> (revocation against the truststore's CRLs).

Each test makes a throwaway CA with `openssl req` / `openssl x509` /
`openssl ca`, client certificates signed by it, a self-signed "rogue"
client certificate, and (for revocation) a CRL.
"""
import os
import shutil
import socket
import ssl
import subprocess

from lib import Client, Daemon, TestFailure, check, run, running, wait_for
from test_tls import make_cert, need, tls_xml

CA_CNF = """[ca]
default_ca = testca
[testca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
crlnumber = {dir}/crlnumber
default_md = sha256
default_crl_days = 7
policy = anything
[anything]
commonName = supplied
"""


def openssl(*args):
    rc, out, err = run(["openssl"] + list(args))
    check(rc == 0, "openssl %s failed: %s" % (args[0], err))
    return out


class PKI:
    """A throwaway CA in dir with helpers to issue, revoke and list."""

    def __init__(self, dir):
        need("openssl")
        self.dir = os.path.join(dir, "pki")
        os.makedirs(self.dir)
        self.ca_key = self.path("ca.key")
        self.ca = self.path("ca.pem")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-days", "30", "-subj", "/CN=mailetd test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-keyout", self.ca_key, "-out", self.ca)
        open(self.path("index.txt"), "w").close()
        with open(self.path("crlnumber"), "w") as f:
            f.write("01\n")
        with open(self.path("ca.cnf"), "w") as f:
            f.write(CA_CNF.format(dir=self.dir))

    def path(self, name):
        return os.path.join(self.dir, name)

    def client(self, name, signed=True):
        """A client key + certificate (signed by the CA, or self-signed)."""
        key, cert, csr = self.path(name + ".key"), self.path(name + ".pem"), self.path(name + ".csr")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        if not signed:
            openssl("req", "-x509", *ec, "-days", "30", "-subj", "/CN=" + name,
                    "-keyout", key, "-out", cert)
            return cert, key
        openssl("req", "-new", *ec, "-subj", "/CN=" + name, "-keyout", key, "-out", csr)
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", cert)
        return cert, key

    def crl(self, revoked=()):
        """A CRL of the CA listing the given certificates; returns its path."""
        cnf = self.path("ca.cnf")
        for cert in revoked:
            openssl("ca", "-config", cnf, "-keyfile", self.ca_key, "-cert", self.ca,
                    "-revoke", cert)
        out = self.path("ca.crl")
        openssl("ca", "-config", cnf, "-keyfile", self.ca_key, "-cert", self.ca,
                "-gencrl", "-out", out)
        return out


def concat(out, *files):
    with open(out, "w") as f:
        for p in files:
            f.write(open(p).read())
    return out


def client_auth_xml(truststore=None, ttype=None, secret=None, ocsp=None):
    parts = []
    if truststore:
        parts.append("<truststore>%s</truststore>" % truststore)
    if ttype:
        parts.append("<truststoreType>%s</truststoreType>" % ttype)
    if secret is not None:
        parts.append("<truststoreSecret>%s</truststoreSecret>" % secret)
    more = "<clientAuth>%s</clientAuth>" % "".join(parts)
    if ocsp is not None:
        more += "\n      <enableOCSPCRLChecks>%s</enableOCSPCRLChecks>" % ocsp
    return more


def prepared(mode, **kw):
    """A Daemon with TLS and clientAuth; its PKI is d.pki. kw go to client_auth_xml;
    truststore names a file made by the caller after construction (see below)."""
    d = Daemon(extra=tls_xml(mode, more=client_auth_xml(**kw)), timeout=10)
    make_cert(d.conf, "mx.mailetd.test")
    d.pki = PKI(d.dir)
    return d


def implicit_session(port, cert=None, key=None):
    """Implicit TLS with an optional client certificate; returns the greeting
    code, or raises ssl.SSLError / ConnectionError when the server refuses."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    c = Client.__new__(Client)
    c.sock = ctx.wrap_socket(raw, server_hostname="mx.mailetd.test")
    c.buf = b""
    code, _ = c.read_reply()
    return c, code


def refused(port, cert=None, key=None):
    """True when the server refuses the handshake (nothing readable comes back)."""
    try:
        c, code = implicit_session(port, cert, key)
    except (ssl.SSLError, ConnectionError, TestFailure, socket.timeout):
        return True
    c.close()
    return False


def test_client_auth_pem_truststore_implicit_tls():
    d = prepared("implicit", truststore="file://conf/trust.pem")
    good_cert, good_key = d.pki.client("alice")
    rogue_cert, rogue_key = d.pki.client("mallory", signed=False)
    concat(os.path.join(d.conf, "trust.pem"), d.pki.ca)
    with running(d):
        c, code = implicit_session(d.port, good_cert, good_key)
        check(code == 220, "greeting %d with a good certificate" % code)
        c.cmd("EHLO client.example", 250)
        c.cmd("MAIL FROM:<alice@example.org>", 250)
        c.cmd("RCPT TO:<postmaster@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.cmd("Subject: with a client certificate\r\n\r\nhi\r\n.", 250)
        c.cmd("QUIT", 221)
        c.close()
        check(refused(d.port), "no client certificate: the handshake must fail")
        check(refused(d.port, rogue_cert, rogue_key),
              "a certificate from an unknown CA: the handshake must fail")
        # The client sees the refusal before the daemon has logged it.
        check(wait_for(lambda: d.log().count("event=tls-failed") >= 2, 5), d.log()[-3000:])
        check('client_cert="/CN=alice"' in d.log(), d.log()[-3000:])


def test_client_auth_starttls_swaks_and_openssl_s_client():
    need("swaks")
    d = prepared("starttls", truststore="file://conf/trust.pem", ttype="PEM")
    good_cert, good_key = d.pki.client("bob")
    concat(os.path.join(d.conf, "trust.pem"), d.pki.ca)
    with running(d):
        swaks = ["swaks", "--tls", "--server", "127.0.0.1", "--port", str(d.port),
                 "--from", "bob@example.org", "--to", "postmaster@mailetd.test",
                 "--helo", "client.example"]
        rc, out, err = run(swaks + ["--tls-cert", good_cert, "--tls-key", good_key])
        check(rc == 0 and "250 2.6.0" in out, "swaks with a client certificate: %s %s"
              % (out[-1500:], err))
        rc, out, err = run(swaks)
        check(rc != 0 and "250 2.6.0" not in out, "swaks without a client certificate: %s"
              % out[-1500:])
        check(wait_for(lambda: "event=tls-failed" in d.log(), 5), d.log()[-2000:])
        # openssl s_client: the server names its CA as acceptable
        # (certificate_authorities), and the handshake with the certificate works.
        base = ["openssl", "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:%d" % d.port,
                "-servername", "mx.mailetd.test"]
        r = subprocess.run(base + ["-cert", good_cert, "-key", good_key],
                           input=b"QUIT\r\n", capture_output=True, timeout=30)
        out = r.stdout.decode("utf-8", "replace")
        check("Acceptable client certificate CA names" in out and "mailetd test CA" in out,
              out[:3000])
        check("Cipher is" in out and "Cipher is (NONE)" not in out, out[:3000])
        fails = d.log().count("event=tls-failed")
        r = subprocess.run(base, input=b"QUIT\r\n", capture_output=True, timeout=30)
        check(wait_for(lambda: d.log().count("event=tls-failed") > fails, 5),
              "s_client without a certificate: " + d.log()[-2000:])


def test_client_auth_pkcs12_truststore_and_errors():
    d = prepared("implicit", truststore="file://conf/trust.p12", ttype="PKCS12",
                 secret="trustpass")
    good_cert, good_key = d.pki.client("carol")
    openssl("pkcs12", "-export", "-nokeys", "-in", d.pki.ca, "-out",
            os.path.join(d.conf, "trust.p12"), "-passout", "pass:trustpass")
    ca_pem = open(d.pki.ca).read()
    with running(d):
        c, code = implicit_session(d.port, good_cert, good_key)
        check(code == 220, "greeting %d" % code)
        c.close()
        check(refused(d.port), "no client certificate accepted with a PKCS#12 truststore")
    # A wrong truststore password or a missing file stops start-up with file:line.
    for xml, want in (
            (client_auth_xml("file://conf/trust.p12", "PKCS12", "wrong"),
             "<truststoreSecret>: wrong password for the truststore"),
            (client_auth_xml("file://conf/missing.pem"),
             "<truststore>: cannot read"),
            (client_auth_xml("file://conf/trust.p12", "PKCS12", "trustpass", ocsp="true"),
             "<enableOCSPCRLChecks>: the truststore"),
            (client_auth_xml(ocsp="true"), "<enableOCSPCRLChecks>: needs <clientAuth><truststore>")):
        bad = Daemon(extra=tls_xml("implicit", more=xml))
        make_cert(bad.conf, "mx.mailetd.test")
        with open(os.path.join(bad.conf, "ca.pem"), "w") as f:
            f.write(ca_pem)
        openssl("pkcs12", "-export", "-nokeys", "-in", os.path.join(bad.conf, "ca.pem"), "-out",
                os.path.join(bad.conf, "trust.p12"), "-passout", "pass:trustpass")
        rc, out, err = run([__import__("lib").MAILETD, "-t", "-c", bad.conf])
        text = out + err
        check(rc != 0 and want in text and "smtpserver.xml:" in text, "%s: rc %d: %s"
              % (want, rc, text))
        bad.close(ok=False)


def test_revocation_checks_with_truststore_crl():
    d = prepared("implicit", truststore="file://conf/trust.pem", ocsp="true")
    good_cert, good_key = d.pki.client("dave")
    bad_cert, bad_key = d.pki.client("eve")
    crl = d.pki.crl(revoked=[bad_cert])
    concat(os.path.join(d.conf, "trust.pem"), d.pki.ca, crl)
    trust_text = open(os.path.join(d.conf, "trust.pem")).read()
    keep = os.path.join(os.path.dirname(d.dir), os.path.basename(d.dir) + "-eve")
    os.makedirs(keep)
    bad_cert = shutil.copy(bad_cert, keep)
    bad_key = shutil.copy(bad_key, keep)
    with running(d):
        c, code = implicit_session(d.port, good_cert, good_key)
        check(code == 220, "greeting %d for a certificate that is not revoked" % code)
        c.close()
        check(refused(d.port, bad_cert, bad_key), "a revoked certificate was accepted")
        check(wait_for(lambda: "event=client-certificate-refused depth=0 subject=\"/CN=eve\" "
                       "reason=\"certificate revoked\"" in d.log(), 5), d.log()[-2000:])
    # Without revocation checks the same revoked certificate is accepted,
    # so the refusal above is the CRL's doing.
    d2 = Daemon(extra=tls_xml("implicit", more=client_auth_xml("file://conf/trust.pem")),
                timeout=10)
    make_cert(d2.conf, "mx.mailetd.test")
    with open(os.path.join(d2.conf, "trust.pem"), "w") as f:
        f.write(trust_text)
    try:
        with running(d2):
            c, code = implicit_session(d2.port, bad_cert, bad_key)
            check(code == 220, "greeting %d" % code)
            c.close()
    finally:
        shutil.rmtree(keep, ignore_errors=True)


def test_client_auth_applies_to_sni_certificates():
    """A certificate chosen by SNI has its own TLS context: it must require the
    client certificate too."""
    sni = """<sni>
        <certificate hostname="other.example">
          <privateKey>file://conf/other.key</privateKey>
          <certificates>file://conf/other.pem</certificates>
        </certificate>
      </sni>
      """ + client_auth_xml("file://conf/trust.pem")
    d = Daemon(extra=tls_xml("implicit", more=sni), timeout=10)
    make_cert(d.conf, "mx.mailetd.test")
    make_cert(d.conf, "other.example", "other.key", "other.pem")
    d.pki = PKI(d.dir)
    good_cert, good_key = d.pki.client("frank")
    concat(os.path.join(d.conf, "trust.pem"), d.pki.ca)

    def sni_session(cert=None, key=None):
        # Verifies that the server answers with the SNI certificate.
        ctx = ssl.create_default_context(cafile=os.path.join(d.conf, "other.pem"))
        if cert:
            ctx.load_cert_chain(cert, key)
        raw = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        c = Client.__new__(Client)
        c.sock = ctx.wrap_socket(raw, server_hostname="other.example")
        c.buf = b""
        return c

    with running(d):
        c = sni_session(good_cert, good_key)
        c.expect(220)
        c.cmd("EHLO client.example", 250)
        c.close()
        try:
            c = sni_session()
            c.read_reply()
            raise TestFailure("SNI context greeted a client without a certificate")
        except (ssl.SSLError, ConnectionError, socket.timeout):
            pass
        except TestFailure as e:
            if "without a certificate" in str(e):
                raise
