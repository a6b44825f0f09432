#!/bin/sh
# install-deps.sh - installs the Debian packages mailetd needs to build and
# test. Idempotent: does nothing when everything is already installed.
# Needs root (or sudo) only when something is missing.
set -eu

pkgs="gcc make autoconf pkg-config libevent-dev libssl-dev libxml2-dev libcrypt-dev libunbound-dev check
clang libclang-rt-14-dev swaks libnet-ssleay-perl libio-socket-ssl-perl curl python3 openssl
procps nmap postfix haproxy default-jdk-headless libmail-java spamd"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		# clang's runtime package is versioned; any clang runtime will do.
		case "$p" in
		libclang-rt-*-dev)
			if dpkg-query -W -f='${Package} ${Status}\n' 'libclang-rt-*-dev' 2>/dev/null |
				grep -q 'install ok installed'; then
				continue
			fi
			;;
		esac
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "install-deps: not root; run: apt-get install$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix is a test tool here (tests/integration/test_lmtp.py and the
# benchmark run private instances): preseed "No configuration" so that
# installing it configures no system mail service.
case " $missing " in
*" postfix "*)
	echo "postfix postfix/main_mailer_type select No configuration" |
		$SUDO debconf-set-selections
	;;
esac
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# A postinst may still start the system instance; the tests run their own.
case " $missing " in
*" postfix "*)
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postfix 2>/dev/null; then
		$SUDO systemctl stop postfix || true
	fi
	if [ -e /var/spool/postfix/pid/master.pid ]; then
		$SUDO postfix stop 2>/dev/null || true
	fi
	;;
esac
