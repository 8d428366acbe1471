#!/bin/sh
# A worker as the image runs it: connects to the coordinator with CURVE keys. It exits 1, saying why, if the
# coordinator refuses its key; while the coordinator is unreachable it keeps retrying and says so every 30 s.
#   ARACHNE_COORDINATOR   the coordinator's host name or address             default coordinator
#   ARACHNE_WORKER_PORT   its worker port                                    default 5555
#   ARACHNE_KEYS          this worker's pair and coordinator.key             default /run/secrets/worker-keys
#   ARACHNE_CONCURRENCY   requests in flight                                 default 64
#   ARACHNE_BIN           the arachne binary                                 default arachne (on PATH)
set -eu
exec "${ARACHNE_BIN:-arachne}" worker \
    --connect "tcp://${ARACHNE_COORDINATOR:-coordinator}:${ARACHNE_WORKER_PORT:-5555}" \
    --keys "${ARACHNE_KEYS:-/run/secrets/worker-keys}" \
    --concurrency "${ARACHNE_CONCURRENCY:-64}" "$@"
