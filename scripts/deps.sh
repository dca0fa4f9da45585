#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need,
# only those that are missing. Safe to run repeatedly.
set -e
PKGS="build-essential pkg-config libsodium-dev libjansson-dev libfuse3-dev fuse3 \
libncurses-dev tmux iproute2 bc procps psmisc clang jq groff-base util-linux musl-tools"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
