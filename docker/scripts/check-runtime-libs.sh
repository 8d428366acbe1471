#!/bin/sh
# Checks that docker/packages/runtime.txt provides every shared library BINARY links against directly (its ELF
# NEEDED entries, resolved by ldd), by asking dpkg which package owns each one: what the image's slim run stage
# would be missing shows up here, without Docker. Libraries those load in turn come with the listed packages'
# dependencies (apt installs them); ldd must still resolve every one of them here.
set -eu
binary=${1:?usage: check-runtime-libs.sh BINARY}
list=$(dirname "$0")/../packages/runtime.txt
wanted=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
# The C library, the loader and the C++ runtime are in every Debian image.
base="libc6 libgcc-s1 libstdc++6"
missing=0
if ldd "$binary" | grep -q 'not found'; then
    ldd "$binary" | grep 'not found' >&2
    exit 1
fi
for name in $(readelf -d "$binary" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
    library=$(ldd "$binary" | awk -v name="$name" '$1 == name { print $3 } $1 ~ "/" name "$" { print $1 }' | head -1)
    [ -n "$library" ] || { echo "ldd does not resolve $name" >&2; missing=1; continue; }
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
