import ArachneCore
import ArachneReport
import Foundation

extension Fixtures {
    /// A crawl record: a page (or a skip when `skip` is given) at `depth`, found on `parent` by `via`.
    static func crawlRecord(
        _ url: String, depth: Int, parent: String?, via: CrawlVia = .link, status: Int = 200,
        contentType: String? = "text/html", links: Int? = 3, location: String? = nil, skip: FetchErrorKind? = nil,
        worker: String = "w1", second: Double = 0.5, urlIndex: Int = 0
    ) -> FetchRecord {
        let isSkip = skip != nil
        return FetchRecord(
            url: url, urlIndex: urlIndex, repetition: 0, worker: isSkip ? "coordinator" : worker,
            attempts: isSkip ? 0 : 1, status: isSkip ? 0 : status, bytes: isSkip ? 0 : 1000, finalURL: url, redirects: 0,
            timings: isSkip ? .zero : PhaseTimings(total: 2000),
            error: skip.map { FetchFailure(kind: $0, message: "skipped: \($0.rawValue)") }, body: nil,
            finishedAt: jobStart + second, depth: depth, parent: parent, via: via,
            links: isSkip ? nil : links, contentType: isSkip ? nil : contentType, location: location)
    }

    /// A small crawl: a seed on a.test, pages at depths 1–3 over three hosts, a redirect, a 404, a failure
    /// without a response, and six skips; URL indices in discovery order.
    static func crawlRecords() -> [FetchRecord] {
        let records = [
            crawlRecord("http://a.test/", depth: 0, parent: nil, via: .seed, links: 4, second: 0.2),
            crawlRecord("http://a.test/1", depth: 1, parent: "http://a.test/", second: 1.1),
            crawlRecord("http://a.test/2", depth: 1, parent: "http://a.test/", status: 301, contentType: "text/html",
                        links: nil, location: "http://a.test/2/", worker: "w2", second: 1.2),
            crawlRecord("http://b.test:8080/", depth: 1, parent: "http://a.test/", worker: "w2", second: 1.3),
            crawlRecord("http://a.test/2/", depth: 1, parent: "http://a.test/2", via: .redirect, second: 2.1),
            crawlRecord("http://a.test/logo.png", depth: 2, parent: "http://a.test/1", contentType: "image/png",
                        links: nil, second: 2.2),
            crawlRecord("http://b.test:8080/gone", depth: 2, parent: "http://b.test:8080/", status: 404,
                        worker: "w2", second: 2.3),
            FetchRecord(
                url: "http://c.test/", repetition: 0, worker: "w1", attempts: 1, status: 0, bytes: 0,
                finalURL: "http://c.test/", redirects: 0, timings: PhaseTimings(total: 500),
                error: FetchFailure(kind: .connect, message: "refused"), body: nil, finishedAt: jobStart + 2.4,
                depth: 2, parent: "http://a.test/1", via: .link),
            crawlRecord("http://a.test/3", depth: 3, parent: "http://a.test/2/", second: 3.5),
            crawlRecord("http://a.test/deep/1", depth: 4, parent: "http://a.test/3", skip: .maxDepth, second: 3.6),
            crawlRecord("http://a.test/deep/2", depth: 4, parent: "http://a.test/3", skip: .maxDepth, second: 3.6),
            crawlRecord("http://a.test/deep/3", depth: 4, parent: "http://a.test/3", skip: .maxDepth, second: 3.7),
            crawlRecord("http://a.test/private", depth: 2, parent: "http://a.test/1", skip: .robots, second: 3.7),
            crawlRecord("http://b.test:8080/x", depth: 2, parent: "http://b.test:8080/", skip: .robots, second: 3.8),
            crawlRecord("http://a.test/" + String(repeating: "x", count: 3000), depth: 2, parent: "http://a.test/1",
                        skip: .urlTooLong, second: 3.9),
        ]
        return records.enumerated().map { index, record in
            var numbered = record
            numbered.urlIndex = index
            return numbered
        }
    }

    /// Link counts consistent with `crawlRecords()`.
    static let crawlLinks = CrawlLinkCounts(
        found: 16, new: 12, duplicate: 2, outOfScope: 1, nofollow: 2, filtered: ["exclude:/cal/": 1])

    /// The frontier as the coordinator sampled it: it grows to 7 and drains.
    static let frontierSamples: [(second: Double, size: Int, discovered: Int)] = [
        (0.0, 1, 1), (0.9, 4, 4), (1.5, 7, 8), (2.95, 5, 10), (3.2, 4, 15), (3.99, 0, 15),
    ]

    static func crawlAggregator(_ records: [FetchRecord] = crawlRecords()) -> ReportAggregator {
        var aggregator = ReportAggregator()
        for record in records { aggregator.add(record) }
        aggregator.addLinks(crawlLinks)
        for sample in frontierSamples {
            aggregator.noteFrontier(size: sample.size, at: jobStart + sample.second, discovered: sample.discovered)
        }
        return aggregator
    }

    static func crawlReport(state: ReportJobState = .completed, outputDir: String = "/tmp/crawl") -> Report {
        var aggregator = crawlAggregator()
        aggregator.setWorkerInfo(id: "w1", host: "box-a", pid: 4242, busySeconds: 3.5)
        return aggregator.makeReport(job: jobInfo(state: state, outputDir: outputDir))
    }
}
