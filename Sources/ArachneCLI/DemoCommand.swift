import ArachneCluster
import ArachneCore
import ArachneEventLoop
import ArachneReport
import ArachneSite
import ArgumentParser
import Foundation

/// `arachne demo`: the main job with no internet.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start the built-in demo site on loopback and crawl it with a local cluster.")

    @Option(help: "Local worker processes.")
    var workers: Int = 2

    @Option(name: .customLong("repeat"), help: "Fetch each demo URL this many times.")
    var repeatCount: Int = 20

    @Option(help: "Requests in flight per worker.")
    var concurrency: Int = 32

    @Option(help: "The report directory (default: ./arachne-out/demo-TIMESTAMP).")
    var out: String?

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1") }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1…10000") }
    }

    func run() async throws {
        let loop = try EventLoop(name: "arachne-site")
        defer { loop.shutdown() }
        let site = try DemoSite.start(on: loop)
        defer { site.stop() }
        let base = site.baseURL
        // A mix that shows what reports hold: pages, sizes, a redirect chain, gzip, chunked, errors, a slow page.
        let paths = (0..<20).map { "/page/\($0)" } + [
            "/", "/bytes/512", "/bytes/16384", "/gzip/8192", "/chunked/4096", "/redirect/3", "/status/404",
            "/status/503", "/delay/50", "/robots.txt",
        ]
        let spec = JobSpec(urls: paths.map { base + $0 }, repeatCount: repeatCount, concurrency: concurrency,
                           settings: FetchSettings(totalTimeoutMs: 10_000))
        let id = JobNaming.localID(prefix: "demo")
        print("demo site: \(base)  (\(paths.count) URLs × \(repeatCount), \(workers) workers)")
        let report = try await ClusterCommandSupport.run(
            ClusterRun.Options(id: id, spec: spec, outputDirectory: out ?? "arachne-out/\(id)", workers: workers))
        print(ReportRenderer.summaryText(report), terminator: "")
        print("report: \(report.job.outputDir)/report.json  (view: arachne report \(report.job.outputDir))")
    }
}
