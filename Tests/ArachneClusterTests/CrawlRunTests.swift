import ArachneArchive
import ArachneCore
import ArachneEventLoop
import ArachneReport
import ArachneSite
import ArachneTestSupport
import Foundation
import Testing

/// `arachne crawl` end to end: the real binary, its worker processes, the demo site on loopback.
@Suite(.serialized) struct CrawlRunTests {
    /// What one crawl left in its output directory.
    struct Crawl {
        var base: String
        var records: [FetchRecord]
        var report: Report
        var stderr: String

        func path(_ url: String) -> String {
            url.hasPrefix(base) ? String(url.dropFirst(base.count)) : url
        }

        var fetched: [FetchRecord] { records.filter { $0.error == nil } }
        var fetchedPaths: Set<String> { Set(fetched.map { path($0.url) }) }
        func skips(_ kind: FetchErrorKind) -> [FetchRecord] { records.filter { $0.error?.kind == kind } }
    }

    /// Crawls the site from `/` with `arguments` added.
    static func crawl(_ site: SiteFixture, _ arguments: [String], label: String) throws -> Crawl {
        let out = temporaryDirectory("crawl-\(label)")
        // The demo site is ours: no pacing between requests (politeness has tests of its own).
        let result = try runArachne(
            ["crawl", site.url("/"), "--out", out, "--no-bodies", "--delay", "0", "--per-host", "16"] + arguments,
            timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let records = try RecordsReader.readAll(path: out + "/records.ndjson")
        let report = try ReportReader.read(out + "/report.json").report
        return Crawl(base: site.url(""), records: records, report: report, stderr: result.stderr)
    }

    /// The canonical paths a correct crawl follows from the response at `path`, in document order, each once: a
    /// redirect's Location, or an HTML page's followed links on the site (none for a nofollow page or a CSV file).
    static func followedTargets(of path: String) -> [String] {
        guard let resource = DemoSite.crawlResource(at: path) else { return [] }
        if resource.status == 301 { return resource.location.map { [$0] } ?? [] }
        guard resource.contentType?.hasPrefix("text/html") == true, !resource.metaRobotsNofollow else { return [] }
        var seen: Set<String> = []
        return resource.links.compactMap { link -> String? in
            guard link.placement.isFollowed, case .path(let target) = link.target else { return nil }
            return seen.insert(target).inserted ? target : nil
        }
    }

    /// Exactly one record per URL, and every record's depth, via and parent tell how the crawl got there: the seed
    /// at depth 0 with no parent, every other URL linked (or redirected to) from its parent, a page the crawl
    /// fetched, one link deeper (a redirect target at its source's depth).
    static func expectConsistentLineage(_ crawl: Crawl, sourceLocation: SourceLocation = #_sourceLocation) {
        let byURL = Dictionary(crawl.records.map { ($0.url, [$0]) }, uniquingKeysWith: +)
        let repeated = byURL.filter { $0.value.count > 1 }.keys
        #expect(repeated.isEmpty, "URLs with more than one record: \(repeated.prefix(5))", sourceLocation: sourceLocation)
        let fetchedURLs = Set(crawl.fetched.map(\.url))
        for record in crawl.records {
            #expect(record.repetition == 0, sourceLocation: sourceLocation)
            if crawl.path(record.url) == "/" {
                #expect(record.depth == 0 && record.via == .seed && record.parent == nil, "\(record)",
                        sourceLocation: sourceLocation)
                continue
            }
            if record.via == .sitemap {
                // Listed by robots.txt's Sitemap: line or by /sitemap.xml: depth 1, the lister as parent.
                #expect(record.depth == 1, "\(record.url)", sourceLocation: sourceLocation)
                #expect(["/robots.txt", "/sitemap.xml"].contains(crawl.path(record.parent ?? "")), "\(record)",
                        sourceLocation: sourceLocation)
                continue
            }
            guard let parentURL = record.parent, let parent = byURL[parentURL]?.first else {
                Issue.record("\(record.url): parent \(record.parent ?? "nil") has no record", sourceLocation: sourceLocation)
                continue
            }
            #expect(fetchedURLs.contains(parentURL), "\(record.url): parent \(parentURL) was not fetched",
                    sourceLocation: sourceLocation)
            let parentPath = crawl.path(parentURL)
            #expect(followedTargets(of: parentPath).contains(crawl.path(record.url)),
                    "\(record.url) is not a followed link of its parent \(parentPath)", sourceLocation: sourceLocation)
            let redirect = DemoSite.crawlResource(at: parentPath)?.status == 301
            #expect(record.via == (redirect ? .redirect : .link), "\(record.url)", sourceLocation: sourceLocation)
            #expect(record.depth == (parent.depth ?? -100) + (redirect ? 0 : 1), "\(record.url)",
                    sourceLocation: sourceLocation)
        }
    }

    /// The report's crawl section adds up, and agrees with the records.
    static func expectConsistentReport(_ crawl: Crawl, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let report = crawl.report
        let section = try #require(report.crawl, sourceLocation: sourceLocation)
        let links = section.links
        #expect(links.found == links.new + links.duplicate + links.outOfScope + links.filteredTotal, "\(links)",
                sourceLocation: sourceLocation)
        // Every URL but the seed entered the frontier as a new link, and has its record.
        #expect(links.new == crawl.records.count - 1, "\(links)", sourceLocation: sourceLocation)
        #expect(section.frontier.discovered == crawl.records.count, sourceLocation: sourceLocation)
        #expect(section.frontier.remaining == 0, sourceLocation: sourceLocation)
        #expect(section.pagesByDepth.values.reduce(0, +) == report.summary.requests, sourceLocation: sourceLocation)
        #expect(report.summary.requests == crawl.fetched.count, sourceLocation: sourceLocation)
        #expect((report.summary.skipped ?? 0) == crawl.records.count - crawl.fetched.count,
                sourceLocation: sourceLocation)
        let depths = Dictionary(crawl.fetched.map { (String($0.depth ?? -1), 1) }, uniquingKeysWith: +)
        #expect(section.pagesByDepth == depths, sourceLocation: sourceLocation)
        let skipKinds = Dictionary(crawl.records.compactMap { $0.error.map { ($0.kind.rawValue, 1) } },
                                   uniquingKeysWith: +)
        #expect(section.skipped == skipKinds, sourceLocation: sourceLocation)
        #expect(report.job.state == .completed, sourceLocation: sourceLocation)
    }

    @Test(arguments: [2, 0])
    func aCrawlOfTheDemoSiteFetchesExactlyWhatACorrectCrawlFetches(workers: Int) throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let crawl = try Self.crawl(site, ["--workers", String(workers), "--concurrency", "16"], label: "full-\(workers)")
        let expected = DemoSite.crawlExpectation()
        #expect(crawl.records.count == expected.fetched.count)
        #expect(crawl.fetched.count == crawl.records.count, "\(crawl.records.filter { $0.error != nil }.prefix(3))")
        let paths = Set(crawl.records.map { crawl.path($0.url) })
        let difference = "missing \(expected.fetched.subtracting(paths).sorted().prefix(5)), "
            + "extra \(paths.subtracting(expected.fetched).sorted().prefix(5))"
        #expect(paths == expected.fetched, "\(difference)")
        #expect(paths.isDisjoint(with: expected.neverFetched), "\(paths.intersection(expected.neverFetched))")
        #expect(crawl.records.allSatisfy { $0.url.hasPrefix(site.url("/")) })
        // No page is found at a smaller depth than the shortest path to it.
        for record in crawl.records {
            // (A page the sitemap lists may be found through it first, at depth 1.)
            guard record.via != .sitemap else { continue }
            #expect((record.depth ?? -1) >= (expected.depths[crawl.path(record.url)] ?? .max), "\(record.url)")
        }
        Self.expectConsistentLineage(crawl)
        try Self.expectConsistentReport(crawl)
        let links = try #require(crawl.report.crawl?.links)
        #expect(links.outOfScope == 1, "http://example.invalid/ on /")
        #expect(links.nofollow == 4, "two rel=nofollow links on /crawl/hidden, two on the meta nofollow page")
        #expect(links.filtered.isEmpty)
        #expect(crawl.records.first { crawl.path($0.url) == "/moved/4" }?.status == 301)
        // --workers 0 crawls in this process: one in-process worker, `local-0`, and no worker process. With two
        // worker processes, the site's one host is held by one of them: it fetches every page.
        let workerIDs = workers == 0 ? ["local-0"] : ["local-1", "local-2"]
        let fetchedBy = Set(crawl.records.map(\.worker))
        #expect(fetchedBy.count == 1 && fetchedBy.isSubset(of: Set(workerIDs)), "\(fetchedBy)")
        #expect(crawl.report.workers.map(\.id) == Array(fetchedBy))
    }

    @Test func maxDepthOneFetchesTheSeedAndItsDirectLinksAndSkipsTheRestOnce() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let crawl = try Self.crawl(site, ["--max-depth", "1", "--workers", "2", "--no-sitemaps"], label: "depth1")
        let expected = DemoSite.crawlExpectation(maxDepth: 1, sitemaps: false)
        #expect(crawl.fetchedPaths == expected.fetched)
        #expect(expected.fetched == Set(["/"] + Self.followedTargets(of: "/")))
        // What the depth-1 pages link to that is not fetched ends as one max-depth skip each.
        var beyond: Set<String> = []
        for path in expected.fetched where path != "/" {
            beyond.formUnion(Self.followedTargets(of: path).filter { !expected.fetched.contains($0) })
        }
        let skipped = crawl.skips(.maxDepth)
        #expect(Set(skipped.map { crawl.path($0.url) }) == beyond)
        #expect(skipped.count == beyond.count)
        #expect(skipped.allSatisfy { $0.depth == 2 && $0.status == 0 && $0.attempts == 0 })
        #expect(crawl.records.count == crawl.fetched.count + skipped.count, "only max-depth skips")
        Self.expectConsistentLineage(crawl)
        try Self.expectConsistentReport(crawl)
        #expect(crawl.report.crawl?.skipped == ["max-depth": beyond.count])
    }

    @Test func maxPagesFetchesExactlyThatManyAndSkipsEveryOtherDiscoveredURLOnce() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let crawl = try Self.crawl(site, ["--max-pages", "50", "--workers", "2", "--concurrency", "4", "--no-sitemaps"], label: "pages50")
        #expect(crawl.fetched.count == 50)
        let skipped = crawl.skips(.maxPages)
        #expect(!skipped.isEmpty)
        #expect(crawl.records.count == 50 + skipped.count, "only max-pages skips")
        #expect(crawl.fetchedPaths.isSubset(of: DemoSite.crawlExpectation().fetched))
        // The records are exactly the seed and what the 50 fetched pages link to.
        var discovered: Set<String> = ["/"]
        for record in crawl.fetched { discovered.formUnion(Self.followedTargets(of: crawl.path(record.url))) }
        #expect(Set(crawl.records.map { crawl.path($0.url) }) == discovered)
        Self.expectConsistentLineage(crawl)
        try Self.expectConsistentReport(crawl)
        #expect(crawl.report.summary.requests == 50)
        #expect(crawl.report.crawl?.skipped == ["max-pages": skipped.count])
    }

    @Test func anExcludedPatternIsNeverFetchedNorRecordedAndIsCountedAsFiltered() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let pattern = "page/[0-9]*5$"
        let crawl = try Self.crawl(site, ["--exclude", pattern, "--workers", "2", "--no-sitemaps"], label: "exclude")
        let excluded = { (path: String) in path.range(of: "page/[0-9]*5$", options: .regularExpression) != nil }
        #expect(!crawl.records.contains { excluded(crawl.path($0.url)) })
        #expect(crawl.fetched.count == crawl.records.count, "no skips")
        // The pages reachable without passing through an excluded URL.
        var reachable: Set<String> = ["/"]
        var queue = ["/"]
        while let path = queue.popLast() {
            for target in Self.followedTargets(of: path) where !excluded(target) && reachable.insert(target).inserted {
                queue.append(target)
            }
        }
        #expect(crawl.fetchedPaths == reachable)
        // Each fetched page's links to excluded URLs are counted under the pattern.
        let filtered = crawl.fetched.reduce(0) { total, record in
            total + Self.followedTargets(of: crawl.path(record.url)).filter(excluded).count
        }
        #expect(filtered > 0)
        #expect(crawl.report.crawl?.links.filtered == ["exclude:\(pattern)": filtered])
        Self.expectConsistentLineage(crawl)
        try Self.expectConsistentReport(crawl)
    }

    @Test func fourWorkersCrawlingSixHostsFetchEachHostFromOneWorker() throws {
        // Six demo sites, each on a loopback address of its own: six hosts, crawled from their six index pages.
        let loop = try EventLoop(name: "test-sites")
        defer { loop.shutdown() }
        let pageCount = 50
        var sites: [DemoSite] = []
        defer { for site in sites { site.stop() } }
        for last in 2...7 {
            sites.append(try DemoSite.start(on: loop, host: "127.0.0.\(last)", port: 0, pageCount: pageCount))
        }
        let out = temporaryDirectory("crawl-hosts")
        let result = try runArachne(
            ["crawl"] + sites.map { $0.baseURL + "/" } + ["--out", out, "--no-bodies", "--workers", "4",
                                                         "--concurrency", "4", "--delay", "0", "--per-host", "4"],
            timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let records = try RecordsReader.readAll(path: out + "/records.ndjson")
        let expected = DemoSite.crawlExpectation(pageCount: pageCount).fetched
        let report = try ReportReader.read(out + "/report.json").report
        #expect(report.job.state == .completed)
        var workersByHost: [String: Set<String>] = [:]
        for site in sites {
            let crawl = Crawl(base: site.baseURL, records: records.filter { $0.url.hasPrefix(site.baseURL + "/") },
                              report: report, stderr: result.stderr)
            #expect(crawl.fetchedPaths == expected, "\(site.baseURL)")
            #expect(crawl.records.count == expected.count, "\(site.baseURL): one record per URL")
            workersByHost[site.host] = Set(crawl.records.map(\.worker))
        }
        #expect(records.count == sites.count * expected.count)
        // Each host's pages were all fetched by one worker; the hosts spread over several workers.
        for (host, workers) in workersByHost.sorted(by: { $0.key < $1.key }) {
            #expect(workers.count == 1, "\(host) was fetched by \(workers.sorted())")
        }
        let used = workersByHost.values.reduce(into: Set<String>()) { $0.formUnion($1) }
        #expect(used.count >= 2 && used.isSubset(of: ["local-1", "local-2", "local-3", "local-4"]), "\(used.sorted())")
    }

    @Test func aWorkerKilledMidCrawlIsReplacedAndEveryDiscoveredURLEndsOnce() async throws {
        // A bigger site, in a process of its own, so it can be paused while the kill lands.
        let site = try SiteProcess(pages: 20_000)
        defer { site.stop() }
        let out = temporaryDirectory("crawl-kill")
        let crawl = Process()
        crawl.executableURL = ArachneBinary.url
        crawl.arguments = ["crawl", site.url + "/", "--out", out, "--no-bodies", "--workers", "2", "--concurrency", "8",
                           "--max-pages", "5000", "--delay", "0", "--per-host", "8"]
        FileManager.default.createFile(atPath: out + "/crawl.out", contents: nil)
        FileManager.default.createFile(atPath: out + "/crawl.err", contents: nil)
        crawl.standardOutput = FileHandle(forWritingAtPath: out + "/crawl.out")
        crawl.standardError = FileHandle(forWritingAtPath: out + "/crawl.err")
        try crawl.run()
        defer {
            if crawl.isRunning { kill(crawl.processIdentifier, SIGKILL) }
            crawl.waitUntilExit()
        }
        // Wait until some records are on disk (the writer flushes every 256 KiB: some hundreds of records).
        let records = out + "/records.ndjson"
        var deadline = Date().addingTimeInterval(60)
        func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: records))?[.size] as? Int) ?? 0 }
        while crawl.isRunning && size() == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try #require(crawl.isRunning, "the crawl ended before the kill: make it bigger")
        // Pause the site so the worker holding its host has requests in flight, kill that worker (the one that
        // fetched the first records), and let the site go on.
        kill(site.pid, SIGSTOP)
        let workers = childProcesses(of: crawl.processIdentifier).filter { commandLine(of: $0).contains("worker") }
        #expect(workers.count == 2)
        let firstLine = try #require(try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n").first)
        let field = try #require(firstLine.range(of: #""worker":"[^"]+""#, options: .regularExpression))
        let holder = String(firstLine[field].dropFirst(#""worker":""#.count).dropLast())
        let victim = try #require(workers.first { commandLine(of: $0).contains(holder) }, "no worker process \(holder)")
        kill(victim, SIGKILL)
        try await Task.sleep(for: .milliseconds(200))
        kill(site.pid, SIGCONT)
        deadline = Date().addingTimeInterval(60)
        while crawl.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!crawl.isRunning, "the crawl did not finish within 60 s")
        if crawl.isRunning { return }
        let stderr = (try? String(contentsOfFile: out + "/crawl.err", encoding: .utf8)) ?? ""
        #expect(crawl.terminationStatus == 0, "\(stderr)")
        let all = try RecordsReader.readAll(path: records)
        let report = try ReportReader.read(out + "/report.json").report
        let result = Crawl(base: site.url, records: all, report: report, stderr: stderr)
        #expect(result.fetched.count == 5000)
        #expect(all.count == 5000 + result.skips(.maxPages).count, "only fetched pages and max-pages skips")
        let byURL = Dictionary(all.map { ($0.url, 1) }, uniquingKeysWith: +)
        #expect(byURL.count == all.count, "URLs with more than one record: \(byURL.filter { $0.value > 1 }.keys.prefix(5))")
        #expect(all.allSatisfy { $0.error == nil || $0.error?.kind == .maxPages }, "\(all.filter { $0.error != nil && $0.error?.kind != .maxPages }.prefix(3))")
        #expect(report.summary.reassignedBatches >= 1 || all.contains { $0.attempts > 1 },
                "\(report.summary.reassignedBatches) reassigned")
        #expect(report.crawl?.frontier.discovered == all.count)
        let links = try #require(report.crawl?.links)
        #expect(links.new == all.count - 1)
        #expect(links.found == links.new + links.duplicate + links.outOfScope + links.filteredTotal)
        #expect(report.job.state == .completed)
    }
}

/// `arachne site` as a child process of the test, on a port the system picks.
final class SiteProcess {
    let process = Process()
    let url: String
    var pid: Int32 { process.processIdentifier }

    init(pages: Int) throws {
        process.executableURL = ArachneBinary.url
        process.arguments = ["site", "--port", "0", "--pages", String(pages)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw SiteProcessError(message: "arachne site did not say where it serves: '\(text)'")
        }
        url = String(text[range])
    }

    func stop() {
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct SiteProcessError: Error {
    var message: String
}
