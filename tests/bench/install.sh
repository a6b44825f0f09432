#!/bin/sh
# install.sh - installs what the benchmark needs (Debian packages), without
# leaving a system Postfix running: postfix is preseeded to "No
# configuration", and if its service started anyway it is stopped.
# Postfix itself now comes with build-aux/install-deps.sh (the LMTP tests
# need it too); this script runs that first and adds gnuplot.
set -eu
sh "$(dirname "$0")/../../build-aux/install-deps.sh"
pkgs="postfix gnuplot-nox python3 procps"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# A package's postinst may start the system instance; the benchmark runs its
# own, so the system one must not hold port 25.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet postfix 2>/dev/null; then
	$SUDO systemctl stop postfix || true
fi
if [ -e /var/spool/postfix/pid/master.pid ] && command -v postfix >/dev/null 2>&1; then
	$SUDO postfix stop 2>/dev/null || true
fi
exit 0
