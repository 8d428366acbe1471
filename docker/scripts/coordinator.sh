#!/bin/sh
# The coordinator as the image runs it: no local workers, workers and control on tcp:// with CURVE keys.
#   ARACHNE_KEYS          its key directory (its pair, workers/, clients/)   default /run/secrets/coordinator-keys
#   ARACHNE_DATA_DIR      job store and reports                              default /var/lib/arachne
#   ARACHNE_WORKER_PORT   where workers connect                              default 5555
#   ARACHNE_CONTROL_PORT  where `arachne submit/status/...` connect          default 5556
#   ARACHNE_BIN           the arachne binary                                 default arachne (on PATH)
# Extra arguments go to `arachne coordinator` (e.g. --workers 2 for local workers in the same container).
set -eu
exec "${ARACHNE_BIN:-arachne}" coordinator --workers 0 \
    --listen "tcp://0.0.0.0:${ARACHNE_WORKER_PORT:-5555}" \
    --control "tcp://0.0.0.0:${ARACHNE_CONTROL_PORT:-5556}" \
    --keys "${ARACHNE_KEYS:-/run/secrets/coordinator-keys}" \
    --data-dir "${ARACHNE_DATA_DIR:-/var/lib/arachne}" "$@"
