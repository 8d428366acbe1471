#!/usr/bin/env python3
"""The aiohttp baseline for bench/compare: one ClientSession, C tasks, TCPConnector(limit=C).

Fetches N requests in total (cycling over the given URLs), reads every body, counts responses by status and prints
one JSON line: {"requests", "ok", "failed", "status", "bytes", "seconds", "requests_per_second"}.
Exit status 1 if any request failed or the run exceeded --timeout.
"""

import argparse
import asyncio
import json
import socket
import sys
import time

import aiohttp
from aiohttp.abc import AbstractResolver


class PinnedResolver(AbstractResolver):
    """Resolves every host name to one address, like curl's --resolve for all names (loopback benchmarks only)."""

    def __init__(self, address):
        self.address = address

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [{"hostname": host, "host": self.address, "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self):
        pass


async def run(args, urls):
    connector = aiohttp.TCPConnector(
        limit=args.concurrency,
        limit_per_host=0,
        force_close=args.close,
        ssl=False if args.insecure else None,
        resolver=PinnedResolver(args.resolve_all) if args.resolve_all else None,
    )
    counts = {"ok": 0, "failed": 0, "bytes": 0}
    statuses = {}
    errors = {}
    next_index = 0

    async def lane(session):
        nonlocal next_index
        while next_index < args.requests:
            url = urls[next_index % len(urls)]
            next_index += 1
            try:
                async with session.get(url) as response:
                    body = await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                    counts["bytes"] += len(body)
                    counts["ok" if response.status == 200 else "failed"] += 1
            except Exception as error:  # every failure is counted, never hidden
                counts["failed"] += 1
                name = type(error).__name__
                errors[name] = errors.get(name, 0) + 1

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(lane(session) for _ in range(args.concurrency))), args.timeout)
        seconds = time.perf_counter() - started
    done = counts["ok"] + counts["failed"]
    return {
        "requests": done,
        "ok": counts["ok"],
        "failed": counts["failed"],
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
        "bytes": counts["bytes"],
        "seconds": round(seconds, 6),
        "requests_per_second": round(done / seconds, 1) if seconds > 0 else 0.0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="*", help="URLs to fetch, cycled")
    parser.add_argument("--url-file", help="a file of URLs, one per line")
    parser.add_argument("-n", "--requests", type=int, default=20000)
    parser.add_argument("-c", "--concurrency", type=int, default=64)
    parser.add_argument("--close", action="store_true", help="Connection: close (TCPConnector force_close)")
    parser.add_argument("--insecure", action="store_true", help="do not verify TLS certificates (ssl=False)")
    parser.add_argument("--resolve-all", metavar="ADDR", help="resolve every host name to ADDR")
    parser.add_argument("--timeout", type=float, default=300, help="abort the run after this many seconds")
    args = parser.parse_args()
    urls = list(args.urls)
    if args.url_file:
        with open(args.url_file) as f:
            urls += [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if not urls:
        parser.error("give at least one URL or --url-file")
    try:
        result = asyncio.run(run(args, urls))
    except asyncio.TimeoutError:
        print(json.dumps({"error": f"timed out after {args.timeout} s"}))
        return 1
    print(json.dumps(result))
    return 0 if result["failed"] == 0 and result["requests"] == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
