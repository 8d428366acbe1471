#!/bin/sh
# Makes the key directories docker-compose.yml mounts as secrets, under DIR (default: docker/keys):
#   DIR/coordinator/  the coordinator's pair; workers/worker.key; clients/operator.key and clients/healthcheck.key
#   DIR/worker/       the pair every replica of the worker service shares, and coordinator.key
#   DIR/operator/     your CLI's pair (arachne submit ... --keys DIR/operator), and coordinator.key
#   DIR/healthcheck/  the coordinator container's health check client, and coordinator.key
# Never overwrites: an existing DIR is left alone (remove it to start over).
#   ARACHNE_BIN  how to run arachne (default: arachne on PATH), e.g. "docker run --rm -u $(id -u) -v $PWD:$PWD arachne"
set -eu
dir=${1:-$(dirname "$0")/../keys}
arachne=${ARACHNE_BIN:-arachne}
if [ -e "$dir" ]; then echo "$dir exists; not touching it" >&2; exit 1; fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
$arachne keys generate "$dir/coordinator" --name coordinator >/dev/null
mkdir -p "$dir/coordinator/workers" "$dir/coordinator/clients"
chmod 700 "$dir/coordinator/workers" "$dir/coordinator/clients"
for peer in worker operator healthcheck; do
    $arachne keys generate "$dir/$peer" --name "$peer" >/dev/null
    cp "$dir/coordinator/coordinator.key" "$dir/$peer/coordinator.key"
done
cp "$dir/worker/worker.key" "$dir/coordinator/workers/worker.key"
cp "$dir/operator/operator.key" "$dir/healthcheck/healthcheck.key" "$dir/coordinator/clients/"
echo "keys in $dir: coordinator, worker, operator, healthcheck"
