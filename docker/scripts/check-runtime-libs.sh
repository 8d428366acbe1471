#!/bin/sh
# Checks that docker/packages/runtime.txt provides every shared library BINARY loads (ldd), by asking dpkg which
# package owns each one: what the image's slim run stage would be missing shows up here, without Docker.
set -eu
binary=${1:?usage: check-runtime-libs.sh BINARY}
list=$(dirname "$0")/../packages/runtime.txt
wanted=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
# The C library and the loader are in every Debian image.
base="libc6 libgcc-s1 libstdc++6"
missing=0
if ldd "$binary" | grep -q 'not found'; then
    ldd "$binary" | grep 'not found' >&2
    exit 1
fi
for library in $(ldd "$binary" | awk '/=>/ { print $3 } !/=>/ && /^\t\// { print $1 }'); do
    real=$(readlink -f "$library")
    owner=$(dpkg -S "$real" 2>/dev/null || dpkg -S "$library" 2>/dev/null || true)
    package=$(echo "$owner" | head -1 | cut -d: -f1)
    if [ -z "$package" ]; then
        echo "no Debian package owns $library" >&2
        missing=1
        continue
    fi
    if echo "$base" | tr ' ' '\n' | grep -qx "$package"; then continue; fi
    if ! echo "$wanted" | grep -qx "$package"; then
        echo "$library comes from $package, which docker/packages/runtime.txt does not list" >&2
        missing=1
    fi
done
[ "$missing" -eq 0 ] && echo "runtime.txt covers every library $binary loads"
exit "$missing"
