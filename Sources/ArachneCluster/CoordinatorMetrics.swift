import ArachneCore
import ArachneProtocol
import Foundation
import Prometheus
import Synchronization

/// The coordinator's Prometheus metrics (`arachne coordinator --metrics`). Counters and the request-duration
/// histogram are fed by the coordinator's loop as results are accepted (atomic adds, one short lock for the
/// histogram); gauges are set by the service when a scrape asks for a refresh. Every label has a fixed set of
/// values — outcome class, error kind, job state — never a URL, a host or a job id. Thread-safe: the registry and
/// its metrics are `Sendable`.
public final class CoordinatorMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// Conventional request-duration buckets, in seconds (those of Prometheus's client libraries).
    public static let durationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let requestsByClass: [String: Counter]
    private let errorsByKind: [FetchErrorKind: Counter]
    private let bytes: Counter
    private let duration: ValueHistogram
    private let jobsByState: [JobStatus.State: Gauge]
    private let workersConnected: Gauge
    private let frontier: Gauge
    private let crawlPages: Gauge
    private let writerBacklog: Gauge
    private let storeBacklog: Gauge
    private let cpuSeconds: Counter
    /// CPU seconds already added to `cpuSeconds`: the counter grows by the difference at each scrape.
    private let cpuCounted = Mutex<Double>(0)
    private let residentBytes: Gauge
    private let virtualBytes: Gauge
    private let openFDs: Gauge
    private let startTime: Gauge

    /// The outcome classes of the `class` label: an HTTP status class, `error` for a failed request, or
    /// `cancelled` for a request cancelled with its job (never fetched, or its result never came): not a failure,
    /// as in the report.
    public static let outcomeClasses = ["1xx", "2xx", "3xx", "4xx", "5xx", "error", "cancelled"]

    /// The kinds of the `kind` label of `arachne_request_errors_total`: every failure kind but `cancelled`.
    static let errorKinds = FetchErrorKind.allCases.filter { $0 != .cancelled }

    public init() {
        var classes: [String: Counter] = [:]
        for outcome in Self.outcomeClasses {
            classes[outcome] = registry.makeCounter(
                descriptor: Self.name("arachne", "requests", "total",
                                      "Terminal records of requests, by outcome class (HTTP status class, error, "
                                          + "or cancelled)."),
                labels: [("class", outcome)])
        }
        requestsByClass = classes
        var kinds: [FetchErrorKind: Counter] = [:]
        for kind in Self.errorKinds {
            kinds[kind] = registry.makeCounter(
                descriptor: Self.name("arachne", "request_errors", "total",
                                      "Failed requests, by error kind (the report's error kinds)."),
                labels: [("kind", kind.rawValue)])
        }
        errorsByKind = kinds
        bytes = registry.makeCounter(
            descriptor: Self.name("arachne", "received_bytes", "total", "Response bytes received."))
        duration = registry.makeValueHistogram(
            descriptor: Self.name("arachne", "request_duration", "seconds",
                                  "Time of a fetched request from its start to its last byte (curl's total)."),
            buckets: Self.durationBuckets)
        var states: [JobStatus.State: Gauge] = [:]
        for state in JobStatus.State.allCases {
            states[state] = registry.makeGauge(
                descriptor: Self.name("arachne", "jobs", "", "Jobs in the store, by state."),
                labels: [("state", state.rawValue)])
        }
        jobsByState = states
        workersConnected = registry.makeGauge(
            descriptor: Self.name("arachne", "workers_connected", "", "Workers with a session on this coordinator."))
        frontier = registry.makeGauge(
            descriptor: Self.name("arachne", "crawl_frontier", "urls",
                                  "URLs discovered by running crawls and not yet recorded."))
        crawlPages = registry.makeGauge(
            descriptor: Self.name("arachne", "crawl_pages", "",
                                  "Terminal records of running crawls (pages fetched or failed)."))
        writerBacklog = registry.makeGauge(
            descriptor: Self.name("arachne", "writer_backlog", "bytes",
                                  "Bytes of results accepted and not yet written by the store's writer thread."))
        storeBacklog = registry.makeGauge(
            descriptor: Self.name("arachne", "store_backlog", "records",
                                  "Records counted by the scheduler and not yet committed to the job store."))
        cpuSeconds = registry.makeCounter(
            descriptor: Self.name("process", "cpu_seconds", "total",
                                  "User and system CPU time of the coordinator process, in seconds."))
        residentBytes = registry.makeGauge(
            descriptor: Self.name("process", "resident_memory", "bytes", "Resident memory of the coordinator process."))
        virtualBytes = registry.makeGauge(
            descriptor: Self.name("process", "virtual_memory", "bytes", "Virtual memory of the coordinator process."))
        openFDs = registry.makeGauge(
            descriptor: Self.name("process", "open_fds", "", "Open file descriptors of the coordinator process."))
        startTime = registry.makeGauge(
            descriptor: Self.name("process", "start_time", "seconds",
                                  "Start time of the coordinator process, since the Unix epoch."))
        let bootTime = Date().timeIntervalSince1970 - ProcessInfo.processInfo.systemUptime
        startTime.set(bootTime + (ProcessStats.read()?.startedAfterBootSeconds ?? ProcessInfo.processInfo.systemUptime))
    }

    /// `NAMESPACE_METRIC_UNIT` (an empty unit is left out) with its help text.
    private static func name(_ namespace: String, _ metric: String, _ unit: String, _ help: String)
        -> MetricNameDescriptor
    {
        MetricNameDescriptor(namespace: namespace, metricName: metric, unitName: unit, helpText: help)
    }

    /// A terminal record accepted by the coordinator.
    func record(_ outcome: FetchOutcome) {
        if let failure = outcome.failure, failure.kind == .cancelled, outcome.status == 0 {
            // A worker stopped by the job's cancel: counted apart, as reports count cancelled requests.
            requestsByClass["cancelled"]?.increment()
        } else if let failure = outcome.failure {
            requestsByClass["error"]?.increment()
            errorsByKind[failure.kind]?.increment()
        } else {
            requestsByClass[Self.outcomeClass(status: outcome.status)]?.increment()
            duration.record(Double(max(0, outcome.timings.total)) / 1_000_000)
        }
        if outcome.bytesReceived > 0 { bytes.increment(by: outcome.bytesReceived) }
    }

    /// A terminal record the coordinator made itself (`worker-lost`, `cancelled`): no response. Cancelled requests
    /// count in their own class, not as errors.
    func recordFailure(_ kind: FetchErrorKind, count: Int) {
        guard count > 0 else { return }
        guard kind != .cancelled else {
            requestsByClass["cancelled"]?.increment(by: Int64(count))
            return
        }
        requestsByClass["error"]?.increment(by: Int64(count))
        errorsByKind[kind]?.increment(by: Int64(count))
    }

    static func outcomeClass(status: Int) -> String {
        switch status {
        case 100..<200: "1xx"
        case 200..<300: "2xx"
        case 300..<400: "3xx"
        case 400..<500: "4xx"
        case 500..<600: "5xx"
        default: "error"
        }
    }

    /// The service's view, set before each scrape.
    public struct Snapshot: Sendable {
        public var jobs: [JobStatus.State: Int] = [:]
        public var workers = 0
        public var frontierURLs = 0
        public var crawlPages = 0
        public var writerBacklogBytes = 0
        public var storeBacklogRecords = 0
        public init() {}
    }

    public func update(_ snapshot: Snapshot) {
        for (state, gauge) in jobsByState { gauge.set(Double(snapshot.jobs[state] ?? 0)) }
        workersConnected.set(Double(snapshot.workers))
        frontier.set(Double(snapshot.frontierURLs))
        crawlPages.set(Double(snapshot.crawlPages))
        writerBacklog.set(Double(snapshot.writerBacklogBytes))
        storeBacklog.set(Double(snapshot.storeBacklogRecords))
    }

    /// The exposition text: process figures read now, then every metric.
    public func render() -> [UInt8] {
        if let stats = ProcessStats.read() {
            let delta = cpuCounted.withLock { counted -> Double in
                let delta = max(0, stats.cpuSeconds - counted)
                counted += delta
                return delta
            }
            if delta > 0 { cpuSeconds.increment(by: delta) }
            residentBytes.set(Double(stats.residentBytes))
            virtualBytes.set(Double(stats.virtualBytes))
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        openFDs.set(Double(fds))
        return registry.emitToBuffer()
    }
}

/// CPU time and memory of this process, from /proc/self/stat.
struct ProcessStats {
    var cpuSeconds: Double
    var residentBytes: Int
    var virtualBytes: Int
    var startedAfterBootSeconds: Double

    static func read() -> ProcessStats? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, from field 3 (state): utime is field 14, stime 15, starttime 22,
        // vsize 23, rss 24 (pages).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 21, let utime = Double(fields[11]), let stime = Double(fields[12]),
              let start = Double(fields[19]), let vsize = Int(fields[20]), let rss = Int(fields[21])
        else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        return ProcessStats(cpuSeconds: (utime + stime) / ticks, residentBytes: rss * page, virtualBytes: vsize,
                            startedAfterBootSeconds: start / ticks)
    }
}
