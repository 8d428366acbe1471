import ArachneCluster
import ArachneCore
import ArachneReport
import ArgumentParser
import Foundation

/// `arachne crawl`: a one-shot cluster crawl that follows links from the seeds.
struct CrawlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crawl",
        abstract: "Crawl from seed URLs with local worker processes, following links, write the report, and exit.",
        discussion: """
            Links are extracted on the workers (libxml2), resolved as a browser resolves them (WHATWG URL \
            Standard), de-duplicated by canonical identity at the coordinator, and fetched once each. Every URL \
            the crawl discovers in scope ends with exactly one record: fetched, failed, skipped by a limit or trap \
            rule (error kind says which), or cancelled. Out-of-scope, filtered and nofollow links are counted in \
            the report's crawl section, not recorded. Redirects are not followed inside a fetch: the response is \
            recorded with its Location, and the target enters the frontier. --workers 0 crawls in this process.
            """)

    @Argument(help: "Seed URLs (http or https).")
    var seeds: [String] = []

    @Option(name: .customLong("url-file"), help: ArgumentHelp(
        "A file of seed URLs, one per line; blank lines and # comments are skipped. '-' reads standard input.",
        valueName: "file"))
    var urlFile: String?

    @Option(help: "Requests in flight at once per worker.")
    var concurrency: Int = 64

    @OptionGroup(title: "Crawl options") var crawl: CrawlOptions
    @OptionGroup(title: "Fetch options") var fetch: FetchSettingsOptions

    @Option(help: "Local worker processes (0: crawl in this process).")
    var workers: Int = 2

    @Option(help: ArgumentHelp("Also accept workers from other machines here, e.g. tcp://0.0.0.0:5555.",
                               valueName: "endpoint"))
    var listen: [String] = []

    @OptionGroup var security: ClusterSecurityOptions

    @Option(help: "The report directory (default: ./arachne-out/crawl-TIMESTAMP).")
    var out: String?

    @Flag(help: "Replace a report already in --out DIR (its report.json, records.ndjson and WARC files).")
    var force = false

    func validate() throws {
        try OutputDirectory.check(out, force: force)
        guard (0...256).contains(workers) else { throw ValidationError("--workers must be between 0 and 256") }
        guard (1...100_000).contains(concurrency) else {
            throw ValidationError("--concurrency must be between 1 and 100000 (got \(concurrency))")
        }
        guard !seeds.isEmpty || urlFile != nil else { throw ValidationError("give at least one seed URL, or --url-file FILE") }
        try security.check(listen: listen)
    }

    func run() async throws {
        let urls = try JobInputOptions.loadURLs(arguments: seeds, urlFile: urlFile)
        let spec = crawl.jobSpec(seeds: CrawlOptions.uniqueSeeds(urls), concurrency: concurrency,
                                 settings: fetch.settings)
        let id = JobNaming.localID(prefix: "crawl")
        let directory = out ?? "arachne-out/\(id)"
        try OutputDirectory.prepare(directory, force: force)
        var options = ClusterRun.Options(id: id, spec: spec, outputDirectory: directory, workers: workers,
                                         listen: listen)
        options.inProcessWorker = workers == 0
        options.security = try security.load()
        let stop = StopSignal()
        let report = try await ClusterCommandSupport.run(options, stop: stop)
        print(ReportRenderer.summaryText(report), terminator: "")
        print("report: \(report.job.outputDir)/report.json")
        try Interruption.check(stop, report: report)
    }
}
