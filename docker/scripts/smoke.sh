#!/bin/sh
# What the compose file runs, without Docker: the same scripts (make-keys, coordinator, worker, healthcheck) with
# the same key layout, on this machine's loopback, with ports and paths of its own. CI runs it on the release
# binary that docker/scripts/build.sh staged. Starts a demo site, the coordinator, two workers; waits for the
# health check; submits a job with the operator's key and checks it completes; checks that an unknown worker key
# and a keyless client are refused. Stops every process it started, by pid.
#   smoke.sh BINARY
set -eu
bin=$(readlink -f "${1:?usage: smoke.sh BINARY}")
scripts=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/arachne-smoke-XXXXXX)
pids=""
cleanup() {
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
fail() { echo "smoke: $*" >&2; for log in "$work"/*.log; do echo "--- $log" >&2; cat "$log" >&2; done; exit 1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

export ARACHNE_BIN="$bin" ARACHNE_WORKER_PORT=$(port) ARACHNE_CONTROL_PORT=$(port)
site_port=$(port)
ARACHNE_BIN="$bin" "$scripts/make-keys.sh" "$work/keys" >/dev/null

"$bin" site --port "$site_port" >"$work/site.log" 2>&1 & pids="$pids $!"
ARACHNE_KEYS="$work/keys/coordinator" ARACHNE_DATA_DIR="$work/data" "$scripts/coordinator.sh" \
    --heartbeat-ms 200 --lease-timeout-ms 2000 >"$work/coordinator.log" 2>&1 & pids="$pids $!"
for n in 1 2; do
    ARACHNE_COORDINATOR=127.0.0.1 ARACHNE_KEYS="$work/keys/worker" ARACHNE_CONCURRENCY=8 "$scripts/worker.sh" \
        --id "worker-$n" >"$work/worker-$n.log" 2>&1 & pids="$pids $!"
done

healthy=no
for _ in $(seq 1 50); do
    if ARACHNE_HEALTHCHECK_KEYS="$work/keys/healthcheck" "$scripts/healthcheck.sh"; then healthy=yes; break; fi
    sleep 0.2
done
[ "$healthy" = yes ] || fail "the health check never passed"

control="tcp://127.0.0.1:$ARACHNE_CONTROL_PORT"
urls=$(for i in $(seq 0 49); do echo "http://127.0.0.1:$site_port/bytes/$((100 + i))"; done)
# shellcheck disable=SC2086
"$bin" submit --control "$control" --keys "$work/keys/operator" --repeat 4 --wait $urls >"$work/submit.log" 2>&1 \
    || fail "submit --wait failed"
grep -q "200 succeeded, 0 failed" "$work/submit.log" || fail "the job did not complete 200 requests"

# A worker key the coordinator does not know, and a client with no key: refused, exit 1.
"$bin" keys generate "$work/keys/stranger" --name stranger >/dev/null
cp "$work/keys/coordinator/coordinator.key" "$work/keys/stranger/"
if ARACHNE_COORDINATOR=127.0.0.1 ARACHNE_KEYS="$work/keys/stranger" timeout 20 "$scripts/worker.sh" \
    >"$work/stranger.log" 2>&1; then fail "an unknown worker key was accepted"; fi
grep -q "is not allowed" "$work/stranger.log" || fail "the refused worker did not say why"
if "$bin" jobs --control "$control" >"$work/anonymous.log" 2>&1; then fail "a keyless client was answered"; fi
grep -q "requires CURVE" "$work/anonymous.log" || fail "the keyless client was not told why"
echo "smoke: coordinator, 2 workers, health check, a 200-request job, refusals: ok"
