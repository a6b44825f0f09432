"""The handler chain: every James smtpserver/lmtpserver file of the corpus
resolves to the expected chain (mailetd -t -v), a bad <handler> stops
start-up, and each shipped handler decides through a real session
(reference/james.md 1b).
"""
import os
import socket
import time

import lib
from lib import Client, Daemon, check, run, running, wait_for
from test_auth import PASSWORD, add_user, auth_daemon, plain, spooled, tls_client
from test_config import JAMES, tls_material


def check_dir(files):
    """mailetd -t -v on a directory holding files [(source, name)]."""
    import shutil
    import tempfile
    tmp = tempfile.mkdtemp(prefix="mailetd-t-")
    try:
        for src, name in files:
            shutil.copy(src, os.path.join(tmp, name))
            if name == "smtpserver.xml":
                tls_material(tmp, src)
        return run([lib.MAILETD, "-t", "-v", "-c", tmp])
    finally:
        shutil.rmtree(tmp)


def tls_ehlo(d):
    """A client after STARTTLS and EHLO client.example."""
    c = tls_client(d)
    c.cmd("EHLO client.example", 250)
    return c

# Expected chains of the corpus, written from the files (configured
# handlers in document order, then the core set of coreHandlersPackage;
# James classes mailetd does not run are listed as skipped).
EXPECTED = {
    'demo/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'distributed-app/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'distributed-pop3-app/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'example-custom-james-assembly/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'example-custom-smtp-command/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.examples.MyCmdHandlerLoader']),
    ],
    'example-custom-smtp-hooks/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.examples.LoggingRcptHook']),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.examples.LoggingRcptHook']),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.examples.LoggingRcptHook']),
    ],
    'example-oidc/smtpserver.xml': [
        ('smtpserver', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'jpa-app/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'jpa-smtp-app/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'memory-app-tests/smtpserver-gssapi.xml': [
        ('smtpserver-gssapi', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'memory-app-tests/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.smtpserver.DKIMHook']),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'memory-app-tests/smtpserver2.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-ssl', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'memory-app/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-default/smtpserver.xml': [
        ('smtpserver', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-EnforceHeader.xml': [
        ('smtpserver1', 'EnforceHeaderLimitationsMessageHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-advancedSecurity.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-allowed-unauthenticated-sender-allow-null.xml': [
        ('smtpserver1', 'AllowedUnauthenticatedSender MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-allowed-unauthenticated-sender.xml': [
        ('smtpserver1', 'AllowedUnauthenticatedSender MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-authAnnounceAlways.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-authAnnounceNever.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-authAnnounceSometimeMatching.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-authAnnounceSometimeNotMatching.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-configured-auth.xml': [
        ('smtpserver1', 'SetMailAttributeMessageHook ConfigurationAuthHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.protocols.smtp.core.esmtp.AuthCmdHandler']),
    ],
    'protocols-smtp-tests/smtpserver-disabled-auth.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-disabled-feature.xml': [
        ('smtpserver1', 'FutureReleaseEHLOHook FutureReleaseMailParameterHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-dsn.xml': [
        ('smtpserver1', 'DSNEhloHook DSNMailParameterHook DSNRcptParameterHook DSNMessageHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-futurerelease.xml': [
        ('smtpserver1', 'FutureReleaseEHLOHook FutureReleaseMailParameterHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-logout.xml': [
        ('smtpserver1', 'MaxConnectionLifespanHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-mtPriority.xml': [
        ('smtpserver1', 'SmtpMtPriorityEhloHook SmtpMtPriorityParameterHook SmtpMtPriorityMessageHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-no-plain.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-noauth.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-proxy.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-requireSSL.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-requireTls.xml': [
        ('smtpserver1', 'SmtpRequireTlsEhloHook SmtpRequireTlsParameterHook SmtpRequireTlsMessageHook MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-tls.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'protocols-smtp-tests/smtpserver-utf8.xml': [
        ('smtpserver1', 'MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.smtpserver.smtputf8.SmtpUtf8MailHook', 'org.apache.james.smtpserver.smtputf8.SmtpUtf8RcptHook']),
    ],
    'scaling-pulsar-smtp/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'spring-app/smtpserver.xml': [
        ('smtpserver', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'third-party-crowdsec/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.crowdsec.CrowdsecEhloHook']),
        ('smtpserver-TLS', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.crowdsec.CrowdsecEhloHook']),
        ('smtpserver-authenticated', 'ValidRcptHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         ['org.apache.james.crowdsec.CrowdsecEhloHook']),
    ],
    'third-party-spamassassin/smtpserver.xml': [
        ('smtpserver-global', 'ValidRcptHandler SpamAssassinHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-TLS', 'ValidRcptHandler SpamAssassinHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
        ('smtpserver-authenticated', 'ValidRcptHandler SpamAssassinHandler MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook ReceivedDataLineFilter AddDefaultAttributesMessageHook',
         []),
    ],
    'distributed-app/lmtpserver.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'distributed-pop3-app/lmtpserver.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'jpa-app/lmtpserver.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'memory-app-tests/lmtpserver.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         ['org.apache.james.lmtpserver.MailetContainerHandler']),
    ],
    'protocols-lmtp-default/lmtpserver.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'protocols-lmtp-tests/lmtp.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'protocols-lmtp-tests/lmtpdsn.xml': [
        ('lmtpserver', 'DSNEhloHook DSNMailParameterHook DSNRcptParameterHook DSNMessageHook ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'protocols-lmtp-tests/lmtpmailet.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'protocols-lmtp-tests/lmtpnormaldsn.xml': [
        ('lmtpserver', 'DSNEhloHook DSNMailParameterHook DSNRcptParameterHook DSNMessageHook ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
    'spring-app/lmtpserver.xml': [
        ('lmtpserver', 'ValidRcptHandler MailSizeEsmtpExtension AuthRequiredToRelayRcptHook PostmasterAbuseRcptHook ReceivedDataLineFilter',
         []),
    ],
}


def parse_chains(out):
    """[(name, chain text, [skipped classes])] from mailetd -t -v output."""
    res = []
    for line in out.splitlines():
        if line.startswith("server "):
            res.append([line.split()[1], None, []])
        elif line.startswith("  chain:") and res:
            res[-1][1] = line[len("  chain:"):].strip()
        elif line.startswith("  skipped:") and res:
            for item in line[len("  skipped:"):].split(", "):
                res[-1][2].append(item.strip().split(" ")[0])
    return [tuple(r) for r in res]


def test_corpus_chains():
    if not os.path.isdir(JAMES):
        raise lib.TestSkipped("James corpus not found at %s (set JAMES_CONF)" % JAMES)
    for rel, want in sorted(EXPECTED.items()):
        name = "lmtpserver.xml" if os.path.basename(rel).startswith("lmtp") else "smtpserver.xml"
        rc, out, err = check_dir([(os.path.join(JAMES, rel), name)])
        check(rc == 0 and "configuration OK" in out, "%s: %s %s" % (rel, out, err))
        got = parse_chains(out)
        check(got == [(n, c, s) for n, c, s in want],
              "%s:\n got  %r\n want %r" % (rel, got, want))
        for n, c, skipped in want:
            for cls in skipped:  # each skipped class is named in a warning
                check(cls in err, "%s: no warning for %s: %s" % (rel, cls, err))
    # Every corpus file is listed above (a new file must be added here).
    import glob
    files = set(os.path.relpath(f, JAMES) for f in
                glob.glob(os.path.join(JAMES, "*", "smtpserver*.xml")) +
                glob.glob(os.path.join(JAMES, "*", "lmtp*.xml"))
                if "mailet-integration-testing" not in f)
    check(files == set(EXPECTED), "corpus and EXPECTED differ: %r" % (files ^ set(EXPECTED)))


def chain_daemon(handlers, core=None, **kw):
    attr = ' coreHandlersPackage="%s"' % core if core else ""
    extra = kw.pop("extra", "") + "<handlerchain%s>%s</handlerchain>" % (attr, handlers)
    return Daemon(extra=extra, **kw)


def test_unknown_class_stops_startup():
    d = chain_daemon('\n<handler class="com.example.NoSuchHook"/>')
    rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
    check(rc == 1, "status %d: %s" % (rc, err))
    want = "%s/smtpserver.xml:18: <handler>: unknown class \"com.example.NoSuchHook\"" % d.conf
    check(want in err, err)
    check("known: ValidRcptHandler, MaxRcptHandler" in err, err)
    rc, out, err = run([lib.MAILETD, "-c", d.conf])
    check(rc == 1 and "not starting" in err, err)
    # A James class mailetd does not run: a warning naming it, and -v shows it.
    d = chain_daemon('<handler class="org.apache.james.crowdsec.CrowdsecEhloHook">'
                     '<uriRblServers><server>bl.example</server></uriRblServers></handler>')
    rc, out, err = run([lib.MAILETD, "-t", "-v", "-c", d.conf])
    check(rc == 0, err)
    check("CrowdsecEhloHook: not supported yet; it does not run" in err, err)
    check("skipped: org.apache.james.crowdsec.CrowdsecEhloHook" in out, out)
    check("chain: MailSizeEsmtpExtension UsersRepositoryAuthHook AuthRequiredToRelayRcptHook "
          "SenderAuthIdentifyVerificationHook AuthRequiredHook PostmasterAbuseRcptHook "
          "ReceivedDataLineFilter AddDefaultAttributesMessageHook" in out, out)


def mail_from(c, sender="a@example.org"):
    c.cmd("MAIL FROM:<%s>" % sender, 250)


def test_max_rcpt_handler():
    with running(chain_daemon('<handler class="org.apache.james.smtpserver.fastfail.'
                              'MaxRcptHandler"><maxRcpt>2</maxRcpt></handler>')) as d:
        c = lib.greet(d.port)
        mail_from(c)
        c.cmd("RCPT TO:<a@mailetd.test>", 250)
        c.cmd("RCPT TO:<b@mailetd.test>", 250)
        code, lines = c.cmd("RCPT TO:<c@mailetd.test>", 452)
        check(lines == ["452 4.5.3 Requested action not taken: max recipients reached"], lines)
        c.cmd("RSET", 250)
        mail_from(c)
        c.cmd("RCPT TO:<c@mailetd.test>", 250)
        c.close()


def test_max_unknown_cmd_handler():
    with running(chain_daemon('<handler class="MaxUnknownCmdHandler">'
                              '<maxUnknownCmdCount>2</maxUnknownCmdCount></handler>')) as d:
        c = lib.greet(d.port)
        c.cmd("FOO", 500)
        c.cmd("BAR", 500)
        c.cmd("RSET", 250)  # a new transaction: a new count
        c.cmd("FOO", 500)
        c.cmd("BAR", 500)
        code, lines = c.cmd("BAZ", 521)
        check(lines == ["521 Closing connection as too many unknown commands received"], lines)
        check(c.closed(), "not closed after 521")


def test_valid_rcpt_handler():
    d = chain_daemon('<handler class="org.apache.james.smtpserver.fastfail.ValidRcptHandler"/>')
    add_user(d, "bob")
    with running(d):
        c = lib.greet(d.port)
        mail_from(c)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("RCPT TO:<bob+news@local.test>", 250)
        code, lines = c.cmd("RCPT TO:<nobody@mailetd.test>", 550)
        check(lines == ["550 5.1.1 Unknown user: nobody@mailetd.test"], lines)
        c.cmd("RCPT TO:<postmaster@mailetd.test>", 250)
        c.cmd("RCPT TO:<x@remote.example>", 550)  # the relay hook, as before
        # The lookups ran on the worker pool: the hook answered PENDING.
        check("event=hook-pending hook=%d handler=ValidRcptHandler" % 4 in d.log(),
              d.log()[-3000:])
        # Pipelined: every reply in order, each after its own lookup.
        c.cmd("RSET", 250)
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<nobody@mailetd.test>\r\n"
               "RCPT TO:<bob@mailetd.test>\r\nRCPT TO:<none2@local.test>\r\n"
               "DATA\r\nSubject: p\r\n\r\nx\r\n.\r\nQUIT\r\n")
        codes = [c.read_reply()[0] for _ in range(7)]
        check(codes == [250, 550, 250, 550, 354, 250, 221], codes)
        c.close()
        # A client that leaves while a lookup is pending: the session waits for it.
        for _ in range(5):
            c = lib.greet(d.port)
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<bob@mailetd.test>\r\n")
            c.close()
        c = lib.greet(d.port)
        c.cmd("NOOP", 250)
        c.close()


def test_spam_trap_handler():
    with running(chain_daemon('<handler class="SpamTrapHandler"><spamTrapRecip>'
                              'trap@mailetd.test</spamTrapRecip></handler>')) as d:
        c = lib.greet(d.port)
        mail_from(c)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        code, lines = c.cmd("RCPT TO:<trap@mailetd.test>", 554)
        check(lines == ["554 Email rejected"], lines)
        c.close()
        c = lib.greet(d.port)  # blocked in a new session too
        mail_from(c)
        c.cmd("RCPT TO:<bob@mailetd.test>", 554)
        c.close()
        c = lib.greet(d.port, source="127.0.0.2")  # another address is not
        mail_from(c)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.close()


def test_allowed_unauthenticated_sender():
    d = chain_daemon('<handler class="org.apache.james.smtpserver.fastfail.'
                     'AllowedUnauthenticatedSender"><allowNullSender>false</allowNullSender>'
                     '<allowedSenders><allowedSender>allowed@example.com</allowedSender>'
                     '<allowedSender fromIps="172.34.56.0/24">ip-restricted@example.com'
                     '</allowedSender></allowedSenders></handler>')
    with running(d):
        # 127.0.0.2 is in authorizedAddresses: the handler applies.
        c = lib.greet(d.port, source="127.0.0.2")
        c.cmd("MAIL FROM:<allowed@example.com>", 250)
        c.cmd("RSET", 250)
        code, lines = c.cmd("MAIL FROM:<other@example.com>", 550)
        check(lines == ["550 5.7.1 Sender <other@example.com> is not allowed for "
                        "unauthenticated connection from 127.0.0.2"], lines)
        c.cmd("MAIL FROM:<ip-restricted@example.com>", 550)
        c.cmd("MAIL FROM:<>", 550)
        c.close()
        # 127.0.0.1 may not relay: the handler does not apply.
        c = lib.greet(d.port)
        c.cmd("MAIL FROM:<other@example.com>", 250)
        c.close()


def send_message(c, body, rcpt="bob@mailetd.test", sender="a@example.org"):
    c.cmd("MAIL FROM:<%s>" % sender, 250)
    c.cmd("RCPT TO:<%s>" % rcpt, 250)
    c.cmd("DATA", 354)
    c.send(body + ".\r\n")
    return c.read_reply()


def test_enforce_header_limitations():
    with running(chain_daemon('<handler class="org.apache.james.smtpserver.'
                              'EnforceHeaderLimitationsMessageHook"><maxLines>3</maxLines>'
                              '<maxSize>1K</maxSize></handler>')) as d:
        c = lib.greet(d.port)
        code, lines = send_message(c, "A: 1\r\nB: 2\r\nC: 3\r\n folded\r\n\r\nD: body\r\n")
        check(code == 250, lines)
        code, lines = send_message(c, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nbody\r\n")
        check(lines == ["552 Header Lines are too many"], lines)
        code, lines = send_message(c, "A: " + "x" * 1100 + "\r\n\r\nbody\r\n")
        check(lines == ["552 Header size is too large"], lines)
        # BDAT goes through the same capture.
        c.cmd("MAIL FROM:<a@example.org>", 250)
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        msg = "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\nbody\r\n"
        c.send("BDAT %d LAST\r\n%s" % (len(msg), msg))
        code, lines = c.read_reply()
        check(lines == ["552 Header Lines are too many"], lines)
        c.close()
        check(len(d.spool_ids()) == 1, d.spool_ids())


def test_max_connection_lifespan():
    with running(chain_daemon('<handler class="org.apache.james.smtpserver.netty.'
                              'MaxConnectionLifespanHandler"><duration>1s</duration></handler>')) as d:
        c = lib.greet(d.port)
        t = time.time()
        check(c.closed(timeout=5), "not closed")
        check(0.5 < time.time() - t < 4, "closed after %.1fs" % (time.time() - t))
        check("event=lifespan-over" in d.log(), d.log()[-2000:])


def test_set_mail_attribute():
    with running(chain_daemon('<handler class="org.apache.james.smtpserver.'
                              'SetMailAttributeMessageHook"><name>org.example.tag</name>'
                              '<value>tagged-by-chain</value></handler>')) as d:
        c = lib.greet(d.port)
        code, lines = send_message(c, "Subject: x\r\n\r\nbody\r\n")
        check(code == 250, lines)
        c.close()
        from test_auth import envelope_has
        check(wait_for(lambda: envelope_has(d, b"org.example.tag")), "attribute name missing")
        check(envelope_has(d, b"tagged-by-chain"), "attribute value missing")


def test_rcpt_parameter_not_declared_is_504():
    with running(chain_daemon("")) as d:
        c = lib.greet(d.port)
        mail_from(c)
        code, lines = c.cmd("RCPT TO:<bob@mailetd.test> NOTIFY=NEVER", 504)
        check(lines == ["504 5.5.4 Unrecognized or unsupported option: NOTIFY"], lines)
        c.close()


def test_verify_identity_strict():
    with auth_daemon(users=("bob", "carol")) as d:
        # Unauthenticated, local sender: 530 at MAIL.
        c = tls_ehlo(d)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test>", 530)
        check(lines == ["530 5.7.1 Authentication Required"], lines)
        c.cmd("MAIL FROM:<someone@remote.example>", 250)  # a remote sender may send in
        c.cmd("RCPT TO:<bob@mailetd.test>", 250)
        c.cmd("RSET", 250)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        code, lines = c.cmd("MAIL FROM:<carol@mailetd.test>", 503)
        check(lines == ["503 5.7.1 Incorrect Authentication for Specified Email Address"], lines)
        c.cmd("MAIL FROM:<bob@remote.example>", 503)
        # Own address, wrong From: header: 503 at the end of data.
        code, lines = send_message(c, "From: carol@mailetd.test\r\n\r\nx\r\n",
                                   rcpt="x@remote.example", sender="bob@mailetd.test")
        check(lines == ["503 5.7.1 Incorrect Authentication for Specified Email Address"], lines)
        code, lines = send_message(c, "Subject: no from\r\n\r\nx\r\n",
                                   rcpt="x@remote.example", sender="bob@mailetd.test")
        check(lines == ["503 5.5.4 Missing From header"], lines)
        # Group syntax with another user in it.
        code, lines = send_message(c, "From: team: bob@mailetd.test, carol@mailetd.test;\r\n"
                                   "\r\nx\r\n", rcpt="x@remote.example", sender="bob@mailetd.test")
        check(code == 503, lines)
        # Null sender with a correct From: accepted; own address accepted.
        code, lines = send_message(c, "From: Bob <bob@mailetd.test>\r\n\r\nx\r\n",
                                   rcpt="x@remote.example", sender="")
        check(code == 250, lines)
        code, lines = send_message(c, "From: \"Bob B.\" <BOB@local.test>\r\n\r\nx\r\n",
                                   rcpt="x@remote.example", sender="bob+tag@mailetd.test")
        check(code == 250, lines)
        c.close()
        check(len(wait_for(lambda: len(d.spool_ids()) == 2 and d.spool_ids())) == 2,
              d.spool_ids())


def test_verify_identity_relaxed_and_disabled():
    with auth_daemon(more="<verifyIdentity>relaxed</verifyIdentity>") as d:
        c = tls_ehlo(d)  # EHLO client.example: a dotted name, the MX heuristic
        c.cmd("MAIL FROM:<bob@mailetd.test>", 250)
        c.close()
        c = Client(d.port)
        c.expect(220)
        c.cmd("EHLO appleclient", 250)
        c.cmd("MAIL FROM:<bob@mailetd.test>", 530)
        c.close()
    with auth_daemon(more="<verifyIdentity>false</verifyIdentity>",
                     users=("bob", "carol")) as d:
        c = tls_ehlo(d)
        c.cmd("MAIL FROM:<carol@mailetd.test>", 250)
        c.cmd("RSET", 250)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        code, lines = send_message(c, "From: carol@mailetd.test\r\n\r\nx\r\n",
                                   rcpt="x@remote.example", sender="carol@mailetd.test")
        check(code == 250, lines)
        c.close()
    d = Daemon(extra="<verifyIdentity>sometimes</verifyIdentity>")
    rc, out, err = run([lib.MAILETD, "-t", "-c", d.conf])
    check(rc == 1 and "smtpserver.xml:17: <verifyIdentity>: \"sometimes\" is not valid" in err,
          err)


MT_PRIORITY = ('<handler class="org.apache.james.smtpserver.priority.SmtpMtPriorityEhloHook"/>'
               '<handler class="org.apache.james.smtpserver.priority.SmtpMtPriorityParameterHook"/>'
               '<handler class="org.apache.james.smtpserver.priority.SmtpMtPriorityMessageHook"/>')


def send_with(c, mail, body="Subject: t\r\n\r\nx\r\n", rcpt="bob@mailetd.test"):
    """MAIL (the whole command line given), RCPT, DATA; returns the final reply."""
    c.cmd(mail, 250)
    c.cmd("RCPT TO:<%s>" % rcpt, 250)
    c.cmd("DATA", 354)
    c.send(body + ".\r\n")
    return c.read_reply()


def envelope_count(d, needle):
    """How many files of the data directory hold needle."""
    n = 0
    for root, _, files in os.walk(d.data):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                n += needle in fh.read()
    return n


def test_mt_priority_hooks():
    with running(chain_daemon(MT_PRIORITY)) as d:
        c = Client(d.port)
        c.expect(220)
        code, lines = c.cmd("EHLO client.example", 250)
        check("250-MT-PRIORITY" in lines or "250 MT-PRIORITY" in lines, lines)
        code, lines = c.cmd("MAIL FROM:<a@example.org> MT-PRIORITY=10", 501)
        check(lines == ["501 Incorrect syntax when handling MT-PRIORITY mail parameter"], lines)
        c.cmd("MAIL FROM:<a@example.org> MT-PRIORITY=x", 501)
        code, lines = c.cmd("MAIL FROM:<a@example.org> MT-PRIORITY=1 MT-PRIORITY=2", 501)
        check(lines == ["501 The Mail parameter cannot contain more than one MT-PRIORITY "
                        "parameter at the same time"], lines)
        code, lines = send_with(c, "MAIL FROM:<a@example.org> MT-PRIORITY=-4")
        check(code == 250, lines)
        # Unauthenticated: a positive priority becomes 0.
        code, lines = send_with(c, "MAIL FROM:<b@example.org> MT-PRIORITY=5")
        check(code == 250, lines)
        code, lines = send_with(c, "MAIL FROM:<c@example.org>")  # no attribute
        check(code == 250, lines)
        c.close()
        check(wait_for(lambda: len(d.spool_ids()) == 3), d.spool_ids())
        check(envelope_count(d, b"attr MAIL_PRIORITY=-4") == 1, "MAIL_PRIORITY=-4")
        check(envelope_count(d, b"attr MAIL_PRIORITY=0") == 1, "MAIL_PRIORITY=0")
        check(envelope_count(d, b"attr MAIL_PRIORITY=") == 2, "an attribute too many")


def test_require_tls_hooks():
    from test_tls import make_cert, starttls, tls_xml
    d = chain_daemon('<handler class="org.apache.james.smtpserver.tls.SmtpRequireTlsEhloHook"/>'
                     '<handler class="org.apache.james.smtpserver.tls.'
                     'SmtpRequireTlsParameterHook"/>'
                     '<handler class="org.apache.james.smtpserver.tls.'
                     'SmtpRequireTlsMessageHook"/>', extra=tls_xml("starttls"))
    make_cert(d.conf, "mx.mailetd.test")
    with running(d):
        c = Client(d.port)
        c.expect(220)
        code, lines = c.cmd("EHLO client.example", 250)
        check("250-REQUIRETLS" not in lines and "250 REQUIRETLS" not in lines, lines)
        code, lines = send_with(c, "MAIL FROM:<a@example.org> REQUIRETLS")  # clear: ignored
        check(code == 250, lines)
        starttls(c)
        code, lines = c.cmd("EHLO client.example", 250)
        check("250-REQUIRETLS" in lines or "250 REQUIRETLS" in lines, lines)
        code, lines = c.cmd("MAIL FROM:<a@example.org> REQUIRETLS REQUIRETLS", 501)
        check(lines == ["501 The Mail parameter cannot contain more than one REQUIRETLS "
                        "parameter at the same time"], lines)
        code, lines = send_with(c, "MAIL FROM:<b@example.org> REQUIRETLS")
        check(code == 250, lines)
        code, lines = send_with(c, "MAIL FROM:<c@example.org>",
                                body="TLS-Required: No\r\nSubject: t\r\n\r\nx\r\n")
        check(code == 250, lines)
        c.close()
        check(wait_for(lambda: len(d.spool_ids()) == 3), d.spool_ids())
        check(envelope_count(d, b"attr REQUIRETLS=true") == 1, "REQUIRETLS=true")
        check(envelope_count(d, b"attr REQUIRETLS=false") == 1, "REQUIRETLS=false")


DSN = ''.join('<handler class="org.apache.james.smtpserver.dsn.%s"/>' % h for h in
              ("DSNEhloHook", "DSNMailParameterHook", "DSNRcptParameterHook", "DSNMessageHook"))


def test_dsn_hooks():
    with running(chain_daemon(DSN)) as d:
        c = Client(d.port)
        c.expect(220)
        code, lines = c.cmd("EHLO client.example", 250)
        check("250-DSN" in lines or "250 DSN" in lines, lines)
        code, lines = c.cmd("MAIL FROM:<a@example.org> ENVID=QQ+zz", 501)
        check(lines == ["501 5.5.4 Invalid ENVID parameter value"], lines)
        c.cmd("MAIL FROM:<a@example.org> RET=HDRS ENVID=QQ314159", 250)
        c.cmd("RCPT TO:<bob@mailetd.test> NOTIFY=SUCCESS,FAILURE,DELAY "
              "ORCPT=rfc822;bob@mailetd.test", 250)
        code, lines = c.cmd("RCPT TO:<carol@mailetd.test> NOTIFY=BOGUS", 501)
        check(lines == ["501 5.5.4 Invalid NOTIFY or ORCPT parameter value"], lines)
        c.cmd("RCPT TO:<carol@mailetd.test> NOTIFY=NEVER,SUCCESS", 501)
        c.cmd("RCPT TO:<carol@mailetd.test> NOTIFY=NEVER", 250)
        c.cmd("RCPT TO:<dave@mailetd.test>", 250)
        c.cmd("DATA", 354)
        c.send("Subject: dsn\r\n\r\nx\r\n.\r\n")
        c.expect(250)
        # RET with another value is ignored, as James does.
        code, lines = send_with(c, "MAIL FROM:<b@example.org> RET=BOTH")
        check(code == 250, lines)
        c.close()
        check(wait_for(lambda: len(d.spool_ids()) == 2), d.spool_ids())
        check(envelope_count(d, b"attr dsn-ret=HDRS") == 1, "dsn-ret")
        check(envelope_count(d, b"attr dsn-ret=") == 1, "RET=BOTH recorded")
        check(envelope_count(d, b"attr dsn-envid=QQ314159") == 1, "dsn-envid")
        check(envelope_count(d, b"NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;bob@mailetd.test")
              == 1, "dsn-rcpt bob")
        check(envelope_count(d, b"<carol@mailetd.test> NOTIFY=NEVER") == 1, "dsn-rcpt carol")
        check(envelope_count(d, b"attr dsn-arrival-date=") == 2, "dsn-arrival-date")
    # Without the DSN hooks NOTIFY is refused (no handler declares it).
    with running(chain_daemon("")) as d:
        c = lib.greet(d.port)
        c.cmd("MAIL FROM:<a@example.org> RET=HDRS", 250)  # unknown MAIL parameters: ignored
        c.cmd("RCPT TO:<bob@mailetd.test> NOTIFY=NEVER", 504)
        c.close()


FUTURE_RELEASE = ''.join('<handler class="org.apache.james.smtpserver.futurerelease.%s"/>' % h
                         for h in ("FutureReleaseEHLOHook", "FutureReleaseMailParameterHook"))


BOB_BODY = "From: bob@mailetd.test\r\nSubject: t\r\n\r\nx\r\n"


def test_future_release_hooks():
    """RFC 4865 as James: the keyword and the parameters for authenticated
    clients only, James's replies, the hold recorded in the envelope."""
    import calendar
    with auth_daemon(more="<handlerchain>%s</handlerchain>" % FUTURE_RELEASE) as d:
        c = tls_client(d)
        code, lines = c.cmd("EHLO client.example", 250)
        check(not any("FUTURERELEASE" in l for l in lines), lines)
        code, lines = c.cmd("MAIL FROM:<a@example.org> HOLDFOR=60", 554)
        check(lines == ["554 Needs to be logged in in order to use future release extension"],
              lines)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        code, lines = c.cmd("EHLO client.example", 250)
        kw = [l[4:] for l in lines if l[4:].startswith("FUTURERELEASE ")]
        check(len(kw) == 1, lines)
        parts = kw[0].split()
        check(parts[1] == "86400", kw)
        until = calendar.timegm(time.strptime(parts[2], "%Y-%m-%dT%H:%M:%SZ"))
        check(abs(until - time.time() - 86400) < 5, kw)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test> HOLDFOR=86401", 501)
        check(lines == ["501 HoldFor is greater than max-future-release-interval or holdUntil "
                        "exceeded max-future-release-date-time"], lines)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test> HOLDFOR=-5", 501)
        check(lines == ["501 HoldFor value is negative or holdUntil value is before now"], lines)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test> HOLDUNTIL=tomorrow", 501)
        check(lines == ["501 Incorrect syntax when handling FUTURE-RELEASE mail parameter"],
              lines)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test> HOLDUNTIL=2000-01-01T00:00:00Z", 501)
        check(lines == ["501 HoldFor value is negative or holdUntil value is before now"], lines)
        code, lines = c.cmd("MAIL FROM:<bob@mailetd.test> HOLDFOR=60 HOLDUNTIL=%s" %
                            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600)),
                            554)
        check(lines == ["554 Mail parameter cannot contains both holdFor and holdUntil "
                        "parameters"], lines)
        code, lines = send_with(c, "MAIL FROM:<bob@mailetd.test> HOLDFOR=3600", body=BOB_BODY)
        check(code == 250, lines)
        release = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + 7200))
        code, lines = send_with(c, "MAIL FROM:<bob@mailetd.test> HOLDUNTIL=%s:00Z" % release,
                                body=BOB_BODY)
        check(code == 250, lines)
        code, lines = send_with(c, "MAIL FROM:<bob@mailetd.test>", body=BOB_BODY)
        check(code == 250, lines)
        c.close()
        check(wait_for(lambda: len(d.spool_ids()) == 3), d.spool_ids())
        check(envelope_count(d, b"attr futurerelease-hold-for=3600") == 1, "HOLDFOR=3600")
        check(envelope_count(d, b"attr futurerelease-release-at=%s:00Z" %
                             release.encode()) == 1, "HOLDUNTIL")
        check(envelope_count(d, b"attr futurerelease-hold-for=0") == 1, "no hold")
        check(envelope_count(d, b"attr futurerelease-release-at=") == 2, "release-at")


def test_default_attributes_handler():
    """AddDefaultAttributesMessageHook (a core handler) tags each message:
    TLS protocol and cipher, the AUTH user and SMTPIsAuthNetwork after AUTH;
    a plain unauthenticated message gets none of them."""
    with auth_daemon(users=("bob",)) as d:
        c = lib.greet(d.port)
        c.cmd("EHLO client.example", 250)
        code, lines = send_message(c, "Subject: plain\r\n\r\nx\r\n")
        check(code == 250, lines)
        c.close()
        check(wait_for(lambda: len(d.spool_ids()) == 1), d.spool_ids())
        for name in (b"SMTPIsAuthNetwork", b"SMTPAuthUser", b"ssl.protocol", b"ssl.cipher"):
            check(envelope_count(d, name) == 0, "unexpected %r" % name)
        c = tls_ehlo(d)
        c.cmd("AUTH PLAIN " + plain("bob", PASSWORD), 235)
        code, lines = send_message(c, "From: bob@mailetd.test\r\n\r\nx\r\n",
                                   rcpt="x@remote.example", sender="bob@mailetd.test")
        check(code == 250, lines)
        c.close()
        check(wait_for(lambda: len(d.spool_ids()) == 2), d.spool_ids())
        check(envelope_count(d, b"attr org.apache.james.SMTPIsAuthNetwork=true") == 1,
              "SMTPIsAuthNetwork")
        check(envelope_count(d, b"attr org.apache.james.SMTPAuthUser=bob") == 1, "SMTPAuthUser")
        check(envelope_count(d, b"attr org.apache.james.ssl.protocol=TLSv1.") == 1,
              "ssl.protocol")
        check(envelope_count(d, b"attr org.apache.james.ssl.cipher=") == 1, "ssl.cipher")
