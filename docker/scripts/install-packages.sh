#!/bin/sh
# Installs the Debian packages named in a list file (one per line; blank lines and # comments skipped), without
# recommended packages. Used by the Dockerfile (both stages) and by .ci/run, so the image and CI install the same.
set -eu
list=${1:?usage: install-packages.sh LIST}
packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr '\n' ' ')
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq
# shellcheck disable=SC2086
run apt-get install -y -qq --no-install-recommends $packages >/dev/null
echo "installed: $packages"
