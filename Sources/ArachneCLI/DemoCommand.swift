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

    @Option(help: "Requests in flight per worker.")
    var concurrency: Int = 32

    @Option(help: "The report directory (default: ./arachne-out/demo-TIMESTAMP).")
    var out: String?

    @Flag(help: "Replace a report already in --out DIR (its report.json, records.ndjson and WARC files).")
    var force = false

    func validate() throws {
        try OutputDirectory.check(out, force: force)
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
        guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1…10000") }
    }

    func run() async throws {
        let id = JobNaming.localID(prefix: "demo")
        let directory = out ?? "arachne-out/\(id)"
        try OutputDirectory.prepare(directory, force: force)
        let loop = try EventLoop(name: "arachne-site")
        defer { loop.shutdown() }
        let site = try DemoSite.start(on: loop)
        defer { site.stop() }
        let base = site.baseURL
        // A crawl from the home page: relative links, <base>, nofollow, a redirect, a CSV file, links hidden in
        // comments and scripts (docs/demo-site.md lists them), and the 1,000 linked pages.
        var settings = FetchSettings(totalTimeoutMs: 10_000)
        settings.maxRedirects = 0
        // Guarded like any crawl: the seed's host (loopback) is allowed, as for `crawl`.
        settings.addressPolicy = AddressPolicy(allowedHosts: [URLAuthority.host(of: base) ?? "127.0.0.1"])
        // robots.txt and its sitemap are obeyed as in any crawl; the site is our own, on loopback, so the demo
        // lifts the per-host pacing a real site gets (2 connections, 0.25 s apart) to show the cluster's speed.
        let options = CrawlOptionsSpec(perHost: concurrency, delayMs: 0)
        let spec = JobSpec(urls: [base + "/"], repeatCount: 1, concurrency: concurrency, settings: settings,
                           crawl: options)
        print("demo site: \(base)  (a crawl from /, \(workers) workers, robots.txt obeyed, no delay between requests)")
        let stop = StopSignal()
        let report = try await ClusterCommandSupport.run(
            ClusterRun.Options(id: id, spec: spec, outputDirectory: directory, workers: workers), stop: stop)
        print(ReportRenderer.summaryText(report), terminator: "")
        print("report: \(report.job.outputDir)/report.json  (view: arachne report \(report.job.outputDir))")
        try Interruption.check(stop, report: report)
    }
}
