import ArachneTestSupport
import ArachneCluster
import ArachneCore
import ArachneProtocol
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// `arachne coordinator --metrics HOST:PORT`: a real coordinator scraped over loopback while a job runs and after.

@Suite("Prometheus metrics", .serialized)
struct MetricsEndpointTests {
    @Test("/metrics: valid exposition text; jobs, workers, requests by class (cancelled apart), kind, bytes, process")
    func scrapeWhileAJobRuns() async throws {
        try await withServiceCoordinator(extra: ["--metrics", "127.0.0.1:0"]) { site, _, coordinator in
            let port = try #require(metricsPort(coordinator.log), "no metrics line in \(coordinator.log)")
            let idle = try Exposition(scrape(port: port))
            #expect(idle["arachne_workers_connected"] == 2 || idle["arachne_workers_connected"] == 0
                || idle["arachne_workers_connected"] == 1)
            try checkWithPromtool(idle.text)

            // A job of 40 slow pages, 10 not-found and 5 whose connection is reset.
            let slow = site.urls(40, path: "/delay/150", tag: "m")
            let missing = site.urls(10, path: "/status/404", tag: "m")
            let reset = site.urls(5, path: "/broken/reset", tag: "m")
            let job = try await coordinator.submit(JobSpec(urls: slow + missing + reset))
            try await coordinator.waitFor(job) { $0.done > 0 && $0.done < 55 }
            let running = try Exposition(scrape(port: port))
            try checkWithPromtool(running.text)
            #expect(running["arachne_jobs{state=\"running\"}"] == 1, "\(running.text)")
            #expect(running["arachne_workers_connected"] == 2)

            try await coordinator.waitFor(job, timeout: 30) { $0.state == .completed }
            let finished = try Exposition(scrape(port: port))
            try checkWithPromtool(finished.text)
            #expect(finished["arachne_jobs{state=\"completed\"}"] == 1)
            #expect(finished["arachne_jobs{state=\"running\"}"] == 0)
            #expect(finished["arachne_requests_total{class=\"2xx\"}"] == 40, "\(finished.text)")
            #expect(finished["arachne_requests_total{class=\"4xx\"}"] == 10)
            #expect(finished["arachne_requests_total{class=\"error\"}"] == 5)
            #expect(finished["arachne_request_errors_total{kind=\"reset\"}"] ?? 0
                + (finished["arachne_request_errors_total{kind=\"protocol\"}"] ?? 0)
                + (finished["arachne_request_errors_total{kind=\"io\"}"] ?? 0) == 5)
            // Durations of the 50 responses; the slow ones take at least 150 ms.
            #expect(finished["arachne_request_duration_seconds_count"] == 50)
            #expect(finished["arachne_request_duration_seconds_bucket{le=\"0.1\"}"] ?? 99 <= 10)
            #expect(finished["arachne_request_duration_seconds_bucket{le=\"+Inf\"}"] == 50)
            #expect((finished["arachne_received_bytes_total"] ?? 0) > 0)
            #expect((finished["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect((finished["process_cpu_seconds_total"] ?? 0) > 0)
            // Monotonic counters.
            for (name, value) in running.samples where name.contains("_total") {
                #expect((finished[name] ?? -1) >= value, "\(name) went down")
            }
            // Bounded labels: no URL or host ever becomes one.
            #expect(!finished.text.contains("127.0.0.1") && !finished.text.contains("http"))
            // Cancelled requests are a class of their own, never errors (decision 0018, as in the report).
            #expect(finished["arachne_requests_total{class=\"cancelled\"}"] == 0)
            #expect(finished["arachne_request_errors_total{kind=\"cancelled\"}"] == nil)

            // A second job, cancelled while it runs: its never-fetched requests (and those whose results never
            // came) count as cancelled, the error class does not move.
            let slowJob = try await coordinator.submit(
                JobSpec(urls: site.urls(60, path: "/delay/300", tag: "c"), repeatCount: 1, concurrency: 4))
            try await coordinator.waitFor(slowJob) { $0.done >= 8 }
            _ = try await coordinator.client().send(.cancel(job: slowJob))
            let cancelled = try await coordinator.waitFor(slowJob, timeout: 30) { $0.state == .cancelled }
            #expect(cancelled.cancelled > 0 && cancelled.done == 60, "\(cancelled)")
            let afterCancel = try Exposition(scrape(port: port))
            try checkWithPromtool(afterCancel.text)
            #expect(afterCancel["arachne_requests_total{class=\"cancelled\"}"] == Double(cancelled.cancelled),
                    "\(afterCancel.text)")
            #expect(afterCancel["arachne_requests_total{class=\"2xx\"}"] == Double(40 + 60 - cancelled.cancelled))
            #expect(afterCancel["arachne_requests_total{class=\"error\"}"] == 5)
            #expect(afterCancel["arachne_request_errors_total{kind=\"cancelled\"}"] == nil)

            // Anything but /metrics is a 404.
            #expect(try scrape(port: port, path: "/").hasPrefix("HTTP/1.1 404"))
        }
    }
}

extension MetricsEndpointTests {
    @Test("a running crawl shows its frontier and pages; they leave the gauges when it ends")
    func crawlGauges() async throws {
        try await withServiceCoordinator(extra: ["--metrics", "127.0.0.1:0"]) { site, _, coordinator in
            let port = try #require(metricsPort(coordinator.log), "no metrics line in \(coordinator.log)")
            // 30 ms between requests to the one host, 60 pages: about two seconds of crawling.
            let spec = JobSpec(urls: ["\(site.site.baseURL)/"], repeatCount: 1, concurrency: 4,
                               crawl: CrawlOptionsSpec(maxDepth: 20, maxPages: 60, delayMs: 30))
            let job = try await coordinator.submit(spec)
            try await coordinator.waitFor(job) { $0.done >= 10 && $0.total > $0.done + 5 }
            try await Task.sleep(for: .milliseconds(300))  // the service's progress tick
            let running = try Exposition(scrape(port: port))
            try checkWithPromtool(running.text)
            #expect((running["arachne_crawl_pages"] ?? 0) >= 10, "\(running.text)")
            #expect((running["arachne_crawl_frontier_urls"] ?? 0) > 0, "\(running.text)")
            try await coordinator.waitFor(job, timeout: 30) { $0.state == .completed }
            let finished = try Exposition(scrape(port: port))
            #expect(finished["arachne_crawl_pages"] == 0 && finished["arachne_crawl_frontier_urls"] == 0)
            #expect(finished["arachne_jobs{state=\"completed\"}"] == 1)
        }
    }
}

/// The port of "metrics on http://127.0.0.1:PORT/metrics" in a coordinator's log.
private func metricsPort(_ log: String) -> UInt16? {
    guard let range = log.range(of: "metrics on http://127.0.0.1:") else { return nil }
    return UInt16(log[range.upperBound...].prefix { $0.isNumber })
}

/// `GET path` over loopback; the whole response (head and body) for a path other than /metrics, else the body.
private func scrape(port: UInt16, path: String = "/metrics") throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw ServiceTestTimeout(description: "cannot connect to the metrics port \(port)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        response += buffer[0..<n]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard path == "/metrics" else { return text }
    guard text.hasPrefix("HTTP/1.1 200"), text.contains("Content-Type: text/plain; version=0.0.4"),
          let split = text.range(of: "\r\n\r\n")
    else { throw ServiceTestTimeout(description: "bad scrape: \(text.prefix(500))") }
    return String(text[split.upperBound...])
}

/// Samples of an exposition text, by name with labels as written.
private struct Exposition {
    let text: String
    let samples: [String: Double]

    init(_ text: String) throws {
        self.text = text
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw ServiceTestTimeout(description: "not a sample line: \(line)")
            }
            samples[String(line[..<space])] = value
        }
        self.samples = samples
    }

    subscript(_ name: String) -> Double? { samples[name] }
}

/// `promtool check metrics` on the text (Debian's `prometheus` package). Without promtool the test still parses
/// every line (`Exposition`) and checks that each sample's family has HELP and TYPE lines.
private func checkWithPromtool(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    guard let promtool else {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            let family = ["_bucket", "_count", "_sum"].reduce(String(name)) { name, suffix in
                name.hasSuffix(suffix) && text.contains("# TYPE \(name.dropLast(suffix.count)) histogram")
                    ? String(name.dropLast(suffix.count)) : name
            }
            #expect(text.contains("# TYPE \(family) ") && text.contains("# HELP \(family) "),
                    "no HELP/TYPE for \(family)", sourceLocation: sourceLocation)
        }
        return
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: promtool)
    process.arguments = ["check", "metrics"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "promtool check metrics: \(said)\n\(text)", sourceLocation: sourceLocation)
}
