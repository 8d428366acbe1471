#!/bin/sh
# The coordinator's health check: `arachne status` over its own control endpoint, with a client key of its own
# (the control socket is tcp:// with CURVE, so even the health check must be in clients/). Exit 0: it answers.
#   ARACHNE_CONTROL_PORT      default 5556
#   ARACHNE_HEALTHCHECK_KEYS  a client pair and coordinator.key             default /run/secrets/healthcheck-keys
#   ARACHNE_BIN               default arachne (on PATH)
set -eu
exec "${ARACHNE_BIN:-arachne}" status \
    --control "tcp://127.0.0.1:${ARACHNE_CONTROL_PORT:-5556}" \
    --keys "${ARACHNE_HEALTHCHECK_KEYS:-/run/secrets/healthcheck-keys}" >/dev/null
