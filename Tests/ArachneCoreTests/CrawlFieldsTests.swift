import ArachneCore
import Foundation
import Testing

@Suite struct CrawlFieldsTests {
    @Test func skipKindsAreExactlyTheCrawlsDecisions() {
        let skips = Set(FetchErrorKind.allCases.filter(\.isSkip).map(\.rawValue))
        #expect(skips == [
            "max-depth", "max-pages", "max-pages-per-host", "url-too-long", "too-many-segments", "repeated-segments",
            "robots", "blocked-address",
        ])
        #expect(!FetchErrorKind.timeout.isSkip && !FetchErrorKind.cancelled.isSkip)
    }

    @Test func viaNamesAreTheContractsWords() {
        #expect(CrawlVia.allCases.map(\.rawValue) == ["seed", "link", "redirect", "sitemap"])
    }

    @Test func aRecordIsASkipOnlyForASkipKind() {
        var record = FetchRecord(
            url: "http://a/", repetition: 0, worker: "w1", attempts: 1, status: 0, bytes: 0, finalURL: "http://a/",
            redirects: 0, timings: .zero, error: FetchFailure(kind: .maxDepth, message: "depth 4 > 3"), body: nil,
            finishedAt: 1, depth: 4, parent: "http://a/p", via: .link)
        #expect(record.skipped && !record.succeeded && record.hasCrawlFields)
        record.error = FetchFailure(kind: .dns, message: "no such host")
        #expect(!record.skipped)
        record.depth = nil
        record.parent = nil
        record.via = nil
        #expect(!record.hasCrawlFields)
    }

    @Test func crawlFieldsEncodeWithContractKeysAndRoundTrip() throws {
        let record = FetchRecord(
            url: "http://a/x", repetition: 0, worker: "w1", attempts: 1, status: 301, bytes: 0, finalURL: "http://a/x",
            redirects: 0, timings: .zero, error: nil, body: nil, finishedAt: 1, depth: 2, parent: "http://a/",
            via: .link, links: 0, contentType: "text/html", location: "http://a/y")
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any])
        #expect(object["content_type"] as? String == "text/html")
        #expect(object["via"] as? String == "link")
        #expect(object["depth"] as? Int == 2 && object["location"] as? String == "http://a/y")
        #expect(try JSONDecoder().decode(FetchRecord.self, from: JSONEncoder().encode(record)) == record)
    }

    @Test func linkCountsAddAndMerge() {
        var worker = CrawlLinkCounts()
        worker.addFound(12)
        worker.addNofollow()
        var coordinator = CrawlLinkCounts()
        coordinator.addNew(4)
        coordinator.addDuplicate(3)
        coordinator.addOutOfScope()
        coordinator.addFiltered(by: "exclude:/cal/")
        coordinator.addFiltered(by: "include")
        #expect(CrawlLinkCounts().isEmpty && !worker.isEmpty)

        var total = worker
        total.merge(coordinator)
        total.merge(CrawlLinkCounts(found: 1, new: 1, filtered: ["include": 2]))
        #expect(total == CrawlLinkCounts(
            found: 13, new: 5, duplicate: 3, outOfScope: 1, nofollow: 1, filtered: ["exclude:/cal/": 1, "include": 3]))
        #expect(total.filteredTotal == 4)
        // Every found link ends in exactly one bucket.
        #expect(total.found == total.new + total.duplicate + total.outOfScope + total.filteredTotal)
    }

    @Test func linkCountsUseTheReportsKeys() throws {
        let json = String(decoding: try JSONEncoder().encode(CrawlLinkCounts(outOfScope: 2)), as: UTF8.self)
        #expect(json.contains("\"out_of_scope\":2"))
        #expect(try JSONDecoder().decode(CrawlLinkCounts.self, from: Data(json.utf8)) == CrawlLinkCounts(outOfScope: 2))
    }
}
