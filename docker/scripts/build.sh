#!/bin/sh
# Builds the release binary as the Docker image ships it and stages it under DEST (default: .build/docker-stage):
#   DEST/usr/local/bin/arachne                          the binary, Swift runtime and Foundation linked in statically
#   DEST/usr/libexec/swift/linux/swift-backtrace-static the Swift backtracer, for crash reports (SWIFT_BACKTRACE)
# Used by the Dockerfile's build stage. Run from the repository root. Package.swift links the Swift runtime and
# Foundation statically into every release build (decision 0024), so no option here asks for it again.
set -eu
dest=${1:-.build/docker-stage}
swift build -c release --product arachne
bin=$(swift build -c release --show-bin-path)
mkdir -p "$dest/usr/local/bin" "$dest/usr/libexec/swift/linux"
install -m 0755 "$bin/arachne" "$dest/usr/local/bin/arachne"
# The backtracer lives beside the toolchain (/usr/libexec in the swift images, /opt/swift/... elsewhere).
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
install -m 0755 "$toolchain/libexec/swift/linux/swift-backtrace-static" \
    "$dest/usr/libexec/swift/linux/swift-backtrace-static"
"$dest/usr/local/bin/arachne" --version
echo "staged in $dest"
