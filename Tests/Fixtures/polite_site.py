#!/usr/bin/env python3
"""A configurable multi-host HTTP/1.1 test site that logs every request, for politeness tests (per-host limits,
delays, robots.txt, Retry-After, sitemaps).

Usage: polite_site.py CONFIG.json

It listens on every configured host (an IPv4 address and port; port 0 lets the kernel pick), prints one JSON line to
standard output when all are listening ({"ready": true, "pid": ..., "hosts": {"a": "http://127.0.0.2:PORT", ...}}),
and serves until SIGTERM or SIGINT (or standard input closing, with "exit_on_stdin_eof": true), then stops accepting,
gives the requests in progress up to a second to be answered and logged, and exits 0.

One thread runs one selector loop over every listener and connection (keep-alive, HTTP/1.1; pipelined requests are
answered in order; delays are timers, so a slow response holds up only its own connection). Because every timestamp
is taken by that one thread in processing order, the log is causal: a request sent after a response was received
logs a later start than that response's end, on any connection (a thread per connection, with the GIL, logged ends
milliseconds late and showed overlaps that never happened). The log (CONFIG "log", one JSON object per line, flushed
per line) has:
  {"kind": "open",  "conn": N, "host": NAME, "local": "ADDR:PORT", "peer": "ADDR:PORT", "t_us": T}
  {"kind": "request", "conn": N, "host": NAME, "local": ..., "peer": ..., "seq": K (0-based on the connection),
   "start_us": T0, "end_us": T1, "arrived_us": T, "method": "GET", "path": "/x", "host_header": "...",
   "status": 200, "bytes": B}
  {"kind": "close", "conn": N, "host": NAME, "t_us": T}
Times are CLOCK_MONOTONIC microseconds (time.monotonic_ns), but arrived_us: when the kernel received the bytes that
completed the request head (SO_TIMESTAMPNS, CLOCK_REALTIME µs) — what a crawler's spacing is judged by, since it
does not wait for this loop to get round to the socket on a loaded machine. start_us is when the loop read the
complete request head
(for a pipelined request: when the previous response was done); end_us is when the last byte of the response was
handed to the kernel, or when that became impossible ("error" then says why: the client left, the site stopped).
Every connection logs "close", the ones still open when the site stops included.

Configuration (JSON; every field optional except hosts[].name and hosts[].address):
  {"log": PATH, "exit_on_stdin_eof": BOOL,
   "hosts": [{"name": "a", "address": "127.0.0.2", "port": 0, "latency_ms": 0,
              "robots": RESPONSE,                       # /robots.txt; absent: 404
              "pages": {"count": N, "links": K, "link_hosts": ["b"], "page_bytes": 0},
              "sitemaps": [{"path": "/sitemap.xml.gz", "gzip": true,
                            "pages": true | "urls": [URL...] | "index": [URL...]}],
              "routes": {"/path": [RESPONSE, ...]}}]}
RESPONSE: {"status": 200, "body": "...", "body_size": N (pad the body with '#' lines to N bytes),
           "content_type": "text/plain", "headers": [["Name", "value"], ...], "delay_ms": 0,
           "retry_after": "2", "location": URL (status defaults to 301), "gzip": BOOL (the body as a gzip file),
           "close": BOOL (close the connection after it), "pass": BOOL (serve the generated content instead)}
A route's list is a sequence: the k-th request for that path on that host gets entry min(k, len - 1).
"{host:NAME}" in bodies, headers, locations and sitemap URLs becomes that host's base URL (http://ADDR:PORT).

Generated content: /page/N (N < count) is an HTML page whose link i (i < K) points to page (N + i + 1) % count of
host [self] + link_hosts at i % (1 + len(link_hosts)) (so link 0 chains every page of a host from /page/0); / links
to /page/0; a sitemap lists the host's pages ("pages"), the given URLs, or other sitemaps ("index"). Anything else is
404. "latency_ms" delays every response of the host.
"""

import gzip
import heapq
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from http import HTTPStatus


def now_us():
    return time.monotonic_ns() // 1000


class Log:
    """One JSON object per line, flushed per line, so a reader sees every finished event."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.conn_ids = 0

    def next_conn(self):
        self.conn_ids += 1
        return self.conn_ids

    def write(self, record):
        if self.file is not None:
            self.file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.file.flush()


class Site:
    def __init__(self, config):
        self.config = config
        self.log = Log(config.get("log"))
        self.hosts = {}  # name -> host config
        self.base_urls = {}  # name -> http://addr:port
        self.route_counts = {}  # (host, path) -> requests so far
        self.listeners = []  # (socket, host)

    def substitute(self, text):
        if not isinstance(text, str) or "{host:" not in text:
            return text
        for name, base in self.base_urls.items():
            text = text.replace("{host:%s}" % name, base)
        return text

    def next_route_index(self, host, path):
        index = self.route_counts.get((host, path), 0)
        self.route_counts[(host, path)] = index + 1
        return index

    # Generated content

    def page_links(self, host, number):
        pages = host.get("pages") or {}
        targets = [host["name"]] + list(pages.get("link_hosts", []))
        links = []
        for i in range(int(pages.get("links", 0))):
            target = targets[i % len(targets)]
            count = int((self.hosts[target].get("pages") or {}).get("count", 0)) if target in self.hosts else 0
            if count <= 0:
                continue
            page = (number + i + 1) % count
            if target == host["name"]:
                links.append("/page/%d" % page)
            else:
                links.append("%s/page/%d" % (self.base_urls[target], page))
        return links

    def page(self, host, number):
        links = self.page_links(host, number)
        items = "".join('<li><a href="%s">%s</a></li>\n' % (link, link) for link in links)
        body = "<!DOCTYPE html>\n<html><head><title>%s page %d</title></head><body>\n<ul>\n%s</ul>\n" % (
            host["name"], number, items)
        padding = int((host.get("pages") or {}).get("page_bytes", 0)) - len(body) - len("</body></html>\n")
        if padding > 0:
            body += "<p>" + "x" * max(padding - 8, 0) + "</p>\n"
        body += "</body></html>\n"
        return 200, "text/html; charset=utf-8", body.encode(), []

    def sitemap(self, host, spec):
        if spec.get("index") is not None:
            entries = "".join("<sitemap><loc>%s</loc></sitemap>\n" % self.xml_url(host, u) for u in spec["index"])
            xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex '
                   'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n%s</sitemapindex>\n' % entries)
        else:
            if spec.get("urls") is not None:
                urls = [self.xml_url(host, u) for u in spec["urls"]]
            else:
                count = int((host.get("pages") or {}).get("count", 0))
                urls = ["%s/page/%d" % (self.base_urls[host["name"]], n) for n in range(count)]
            entries = "".join("<url><loc>%s</loc></url>\n" % u for u in urls)
            xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset '
                   'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n%s</urlset>\n' % entries)
        data = xml.encode()
        if spec.get("gzip"):
            return 200, "application/x-gzip", gzip.compress(data, mtime=0), []
        return 200, "application/xml", data, []

    def xml_url(self, host, url):
        url = self.substitute(url)
        if url.startswith("/"):
            url = self.base_urls[host["name"]] + url
        return url.replace("&", "&amp;").replace("<", "&lt;")

    def generated(self, host, path):
        plain = path.split("?", 1)[0]
        for spec in host.get("sitemaps", []):
            if spec.get("path") == plain:
                return self.sitemap(host, spec)
        if plain == "/":
            return 200, "text/html; charset=utf-8", b'<!DOCTYPE html>\n<a href="/page/0">start</a>\n', []
        if plain.startswith("/page/"):
            try:
                number = int(plain[len("/page/"):])
            except ValueError:
                number = -1
            if 0 <= number < int((host.get("pages") or {}).get("count", 0)):
                return self.page(host, number)
        return 404, "text/plain", b"not found\n", []

    def configured(self, host, spec):
        """A RESPONSE object: (status, content type, body, extra headers, delay seconds, close)."""
        headers = [(str(k), self.substitute(str(v))) for k, v in spec.get("headers", [])]
        location = spec.get("location")
        status = int(spec.get("status", 301 if location else 200))
        if location:
            headers.append(("Location", self.substitute(location)))
        if spec.get("retry_after") is not None:
            headers.append(("Retry-After", str(spec["retry_after"])))
        body = self.substitute(spec.get("body", "")).encode()
        size = int(spec.get("body_size", 0))
        if size > len(body):
            line = b"# padding to make the body bigger than a limit\n"
            missing = size - len(body)
            body += (line * (missing // len(line) + 1))[:missing]
        content_type = spec.get("content_type", "text/plain")
        if spec.get("gzip"):
            body = gzip.compress(body, mtime=0)
            content_type = spec.get("content_type", "application/x-gzip")
        return status, content_type, body, headers

    def respond(self, host, path):
        """(status, content type, body, headers, delay seconds, close) for a request of path on host."""
        delay = float(host.get("latency_ms", 0)) / 1000
        plain = path.split("?", 1)[0]
        sequence = host.get("routes", {}).get(plain)
        if sequence is None and plain == "/robots.txt" and host.get("robots") is not None:
            sequence = [host["robots"]]
        if sequence:
            spec = sequence[min(self.next_route_index(host["name"], plain), len(sequence) - 1)]
            delay += float(spec.get("delay_ms", 0)) / 1000
            if not spec.get("pass"):
                return self.configured(host, spec) + (delay, bool(spec.get("close")))
            return self.generated(host, path) + (delay, bool(spec.get("close")))
        return self.generated(host, path) + (delay, False)


MAX_HEAD = 64 * 1024
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value; Python names it only on some builds
MAX_BODY = 1024 * 1024


class Connection:
    """One accepted connection: requests are answered one at a time, in order (pipelined ones wait in the buffer);
    a response is written as the socket takes it."""

    def __init__(self, loop, sock, host):
        self.loop = loop
        self.sock = sock
        self.host = host
        self.id = loop.site.log.next_conn()
        self.local = "%s:%d" % sock.getsockname()[:2]
        self.peer = "%s:%d" % sock.getpeername()[:2]
        self.inbuf = bytearray()
        # (end offset in inbuf, kernel receive time in CLOCK_REALTIME µs) of each chunk read (SO_TIMESTAMPNS).
        self.arrivals = []
        self.outbuf = b""
        self.sent = 0
        self.seq = 0
        self.state = "idle"  # idle, waiting (a delay), writing, closed
        self.current = None  # the request being answered
        self.close_after = False
        self.peer_closed = False
        loop.site.log.write({"kind": "open", "conn": self.id, "host": host["name"], "local": self.local,
                             "peer": self.peer, "t_us": now_us()})

    def busy(self):
        return self.state in ("waiting", "writing")

    def on_readable(self):
        try:
            data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(16))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                seconds, nanoseconds = struct.unpack("qq", value[:16])
                # The end of this chunk in the buffer, and when the kernel received it.
                self.arrivals.append((len(self.inbuf) + len(data), seconds * 1_000_000 + nanoseconds // 1000))
        if not data:
            self.peer_closed = True
            if self.state == "idle":
                self.close()
            elif self.state == "waiting":
                # Nobody is left to answer; the request is logged as cut.
                self.finish(error="the client closed the connection before the response")
            else:
                self.loop.watch(self, read=False, write=True)
            return
        self.inbuf += data
        if self.state == "idle":
            self.process()

    def process(self):
        while self.state == "idle" and not self.peer_closed:
            end = self.inbuf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.inbuf) > MAX_HEAD:
                    self.refuse(431, "request head too large")
                return
            head = bytes(self.inbuf[:end]).decode("latin-1")
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                name, colon, value = line.partition(":")
                if colon:
                    headers.setdefault(name.strip().lower(), value.strip())
            if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
                self.refuse(400, "bad request line: %r" % lines[0][:100])
                return
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                self.refuse(400, "bad content-length")
                return
            if len(self.inbuf) < end + 4 + length:
                return  # the body is still arriving
            consumed = end + 4 + length
            arrived = next((t for chunk_end, t in self.arrivals if chunk_end >= end + 4), None)
            self.arrivals = [(chunk_end - consumed, t) for chunk_end, t in self.arrivals if chunk_end > consumed]
            del self.inbuf[:consumed]
            method, path, version = parts
            tokens = [t.strip().lower() for t in headers.get("connection", "").split(",")]
            keep = ("close" not in tokens) if version == "HTTP/1.1" else ("keep-alive" in tokens)
            self.current = {"start": now_us(), "arrived": arrived, "method": method, "path": path, "host_header": headers.get("host", "")}
            if method not in ("GET", "HEAD"):
                answer = (405, "text/plain", b"only GET and HEAD are served\n", [("Allow", "GET, HEAD")], 0.0, False)
            else:
                answer = self.loop.site.respond(self.host, path)
            status, content_type, body, extra, delay, close = answer
            self.close_after = close or not keep
            head_lines = ["HTTP/1.1 %d %s" % (status, reason(status)), "Content-Type: %s" % content_type,
                          "Content-Length: %d" % len(body)]
            head_lines += ["%s: %s" % pair for pair in extra]
            if self.close_after:
                head_lines.append("Connection: close")
            elif version == "HTTP/1.0":
                head_lines.append("Connection: keep-alive")
            data = ("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1")
            if method != "HEAD":
                data += body
            self.current["status"] = status
            self.outbuf, self.sent = data, 0
            if delay > 0:
                self.state = "waiting"
                self.loop.later(delay, self.start_writing)
            else:
                self.start_writing()

    def refuse(self, status, why):
        self.current = {"start": now_us(), "method": "", "path": "", "host_header": "", "status": status,
                        "error": why}
        self.close_after = True
        self.outbuf = ("HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                       % (status, reason(status))).encode("latin-1")
        self.sent = 0
        self.start_writing()

    def start_writing(self):
        if self.state == "closed":
            return
        self.state = "writing"
        self.on_writable()

    def on_writable(self):
        while self.sent < len(self.outbuf):
            try:
                self.sent += self.sock.send(memoryview(self.outbuf)[self.sent:])
            except (BlockingIOError, InterruptedError):
                self.loop.watch(self, read=not self.peer_closed, write=True)
                return
            except OSError as error:
                self.finish(error="send failed: %s" % error)
                return
        self.finish()

    def finish(self, error=None):
        """The response is handed to the kernel (or cannot be): log it, then go on or close."""
        request = self.current
        self.current = None
        if request is not None:
            entry = {"kind": "request", "conn": self.id, "host": self.host["name"], "local": self.local,
                     "peer": self.peer, "seq": self.seq, "start_us": request["start"], "end_us": now_us(),
                     "method": request["method"], "path": request["path"], "host_header": request["host_header"],
                     "status": request.get("status", 0), "bytes": self.sent if error is None else 0}
            if request.get("arrived") is not None:
                entry["arrived_us"] = request["arrived"]
            if error or request.get("error"):
                entry["error"] = error or request["error"]
            self.loop.site.log.write(entry)
            self.seq += 1
        self.outbuf, self.sent = b"", 0
        if error is not None or self.close_after or self.peer_closed:
            self.close()
            return
        self.state = "idle"
        self.loop.watch(self, read=True, write=False)
        self.process()

    def close(self):
        if self.state == "closed":
            return
        if self.current is not None:
            self.finish(error="the site stopped before the response")
            return
        self.state = "closed"
        self.loop.forget(self)
        try:
            self.sock.close()
        except OSError:
            pass
        self.loop.site.log.write({"kind": "close", "conn": self.id, "host": self.host["name"], "t_us": now_us()})


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


class Loop:
    """One thread, one selector: every timestamp is taken in processing order, so a request sent after a response
    was received always logs a later start than that response's end, whatever the connections."""

    def __init__(self, site, stop_on_stdin_eof):
        self.site = site
        self.selector = selectors.DefaultSelector()
        self.timers = []
        self.timer_seq = 0
        self.connections = set()
        self.stopping = False
        self.wake_read, self.wake_write = socket.socketpair()
        self.wake_read.setblocking(False)
        self.wake_write.setblocking(False)
        signal.set_wakeup_fd(self.wake_write.fileno())
        self.selector.register(self.wake_read, selectors.EVENT_READ, ("wake", None))
        if stop_on_stdin_eof:
            self.selector.register(sys.stdin.fileno(), selectors.EVENT_READ, ("stdin", None))

    def listen(self, sock, host):
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, ("listen", host))

    def watch(self, conn, read, write):
        events = (selectors.EVENT_READ if read else 0) | (selectors.EVENT_WRITE if write else 0)
        if events == 0:
            self.selector.unregister(conn.sock)
        else:
            self.selector.modify(conn.sock, events, ("conn", conn))

    def forget(self, conn):
        self.connections.discard(conn)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass

    def later(self, delay, callback):
        self.timer_seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.timer_seq, callback))

    def accept(self, listener, host):
        while True:
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(self, sock, host)
            self.connections.add(conn)
            self.selector.register(sock, selectors.EVENT_READ, ("conn", conn))

    def run(self, until):
        while not until():
            timeout = 0.5
            if self.timers:
                timeout = max(0.0, min(timeout, self.timers[0][0] - time.monotonic()))
            for key, mask in self.selector.select(timeout):
                kind, value = key.data
                if kind == "listen":
                    self.accept(key.fileobj, value)
                elif kind == "wake":
                    try:
                        while self.wake_read.recv(4096):
                            pass
                    except (BlockingIOError, InterruptedError):
                        pass
                elif kind == "stdin":
                    if not os.read(key.fd, 4096):
                        self.selector.unregister(key.fd)
                        self.stopping = True
                else:
                    conn = value
                    if conn.state == "closed":
                        continue
                    if mask & selectors.EVENT_READ:
                        conn.on_readable()
                    if mask & selectors.EVENT_WRITE and conn.state == "writing":
                        conn.on_writable()
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now:
                _, _, callback = heapq.heappop(self.timers)
                callback()

    def serve(self):
        self.run(lambda: self.stopping)
        # Stop accepting; requests being answered (a delay, a latency, a big body) get a second to finish.
        for listener, _ in self.site.listeners:
            self.selector.unregister(listener)
            listener.close()
        deadline = time.monotonic() + 1.0
        self.run(lambda: time.monotonic() >= deadline or not any(c.busy() for c in self.connections))
        for conn in list(self.connections):
            conn.close()


def main():
    if len(sys.argv) != 2:
        print("usage: polite_site.py CONFIG.json", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as file:
        config = json.load(file)
    site = Site(config)
    for host in config.get("hosts", []):
        site.hosts[host["name"]] = host
    # Bind every host first: pages and sitemaps name the others' ports.
    for host in config.get("hosts", []):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host["address"], int(host.get("port", 0))))
        # On the listener, before any connection: accepted sockets inherit it, and bytes that arrive before
        # accept() returns are timestamped too (set only after accept, an early request had none).
        listener.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        listener.listen(128)
        address, port = listener.getsockname()[:2]
        site.base_urls[host["name"]] = "http://%s:%d" % (address, port)
        site.listeners.append((listener, host))
    loop = Loop(site, bool(config.get("exit_on_stdin_eof")))
    for listener, host in site.listeners:
        loop.listen(listener, host)

    def stop(*_):
        loop.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent may start it with signals blocked (the mask is inherited across exec; Foundation's Process does not
    # reset it): SIGTERM would then wait forever.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    print(json.dumps({"ready": True, "pid": os.getpid(), "hosts": site.base_urls}), flush=True)
    loop.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
