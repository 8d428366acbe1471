import ArachneCore
import ArachneCrawl
import ArachneStore
import ArachneURL
import Foundation

/// What the frontier admitted from one batch of records, for the coordinator's scheduler: the job's key count now,
/// the new keys' URLs to lease, the new keys that already have their (skip) record, and how many accepted results
/// had their discoveries settled.
struct FrontierDelta: Sendable {
    var urlCount: Int
    var added: [(index: Int, url: String)]
    var skipped: [Int]
    var settled: Int
    /// With `--per-ip`: the politeness group (address) of each host met for the first time in this delta.
    var hostGroups: [String: String] = [:]
}

/// Where a discovered link goes: the coordinator's crawl frontier for one job, on the job recorder's thread.
///
/// For each page a worker reported, it takes the page's in-scope links, drops those whose identity the crawl has
/// seen (a fingerprint set in memory up to a budget, the store's unique index beyond it), and gives each new URL the
/// next key index. `FrontierAdmission` then admits it for fetching or names the limit or trap that skips it; either
/// way the URL is stored (durably, with the page's record when the store is the coordinator's), and a skipped one
/// gets its one record at once. The admitted keys go to the scheduler (`FrontierDelta`), which leases them.
///
/// Confined to the recorder's thread.
final class CrawlFrontier {
    let store: FrontierStore
    private var admission: FrontierAdmission
    /// Key indices handed out: the next URL gets this one.
    private(set) var nextIndex: Int
    /// Admitted URLs without a record yet: what their records' crawl fields come from.
    private var pending: [Int: FrontierEntry] = [:]
    /// Fingerprints seen, while they fit the budget; past it the store's index answers.
    private var seen: Set<UInt64> = []
    private var seenIsComplete: Bool
    static let seenBudget = 4_000_000
    /// With `--per-ip`: each host's address, looked up as the host is first admitted.
    var groups: PolitenessGroups?
    /// The crawl's link counts so far, stored with every batch so a resumed crawl's report keeps them.
    private(set) var linkCounts = CrawlLinkCounts()

    /// A new crawl: the seeds are keys 0..<seeds.count, depth 0.
    init(store: FrontierStore, options: CrawlOptionsSpec, seeds: [String]) throws {
        self.store = store
        admission = FrontierAdmission(options: options)
        nextIndex = 0
        seenIsComplete = true
        try store.transaction {
            for (index, seed) in seeds.enumerated() {
                let canonical = (try? WebURL.parse(seed)).map(URLIdentity.canonical) ?? seed
                let fingerprint = URLIdentity.fingerprint(canonical)
                let host = URLAuthority.of(seed) ?? ""
                _ = admission.decide(depth: 0, host: host)
                // Seeds come de-duplicated by identity (the CLI drops a second spelling), so every insert is new.
                _ = try store.insert(index: index, fingerprint: fingerprint, url: seed, depth: 0, parent: nil,
                                     via: .seed, host: host, skip: nil)
                seen.insert(fingerprint)
                pending[index] = FrontierEntry(index: index, url: seed, depth: 0, parentURL: nil, via: .seed)
            }
        }
        nextIndex = seeds.count
    }

    /// A resumed crawl: everything comes from the store; `isRecorded` says which keys have their record.
    init(resuming store: FrontierStore, options: CrawlOptionsSpec, isRecorded: (Int) -> Bool) throws {
        self.store = store
        let counts = try store.admittedCounts()
        admission = FrontierAdmission(options: options, admitted: counts.total, admittedPerHost: counts.perHost)
        nextIndex = try store.count()
        seenIsComplete = false
        linkCounts = try store.loadCounts()
        for entry in try store.unfinished(isRecorded: isRecorded) { pending[entry.index] = entry }
    }

    /// Adds a batch's link counts and stores the total (inside the batch's transaction).
    func count(_ counts: CrawlLinkCounts) throws {
        guard !counts.isEmpty else { return }
        linkCounts.merge(counts)
        try store.saveCounts(linkCounts)
    }

    /// Admitted URLs without a record.
    var remaining: Int { pending.count }

    /// The URLs to lease after a resume, by key index.
    var unfinishedURLs: [(index: Int, url: String)] { pending.values.map { ($0.index, $0.url) } }

    /// The crawl fields of key `index`'s record; forgets the key (it is terminal once recorded).
    func takeEntry(_ index: Int) -> FrontierEntry? {
        pending.removeValue(forKey: index)
    }

    /// Admits the links of one page (`parent`, the page's own entry), appending skip records to `records` and the
    /// admitted keys to `delta`. Returns the page's new/duplicate counts.
    func admit(
        _ links: [DiscoveredLink], foundOn parent: FrontierEntry,
        records: inout [(RequestKey, FetchRecord)], delta: inout FrontierDelta
    ) throws -> CrawlLinkCounts {
        var counts = CrawlLinkCounts()
        let now = Date().timeIntervalSince1970
        for link in links {
            let fingerprint = URLIdentity.fingerprint(link.canonical)
            var known = seen.contains(fingerprint)
            if !known && !seenIsComplete { known = try store.contains(fingerprint: fingerprint) }
            if known {
                counts.addDuplicate()
                continue
            }
            if seen.count < Self.seenBudget { seen.insert(fingerprint) } else { seenIsComplete = false }
            counts.addNew()
            // Sitemap entries are depth 1 wherever the sitemap was found; a redirect keeps its page's depth.
            let depth = link.via == .sitemap ? 1 : link.via == .redirect ? parent.depth : parent.depth + 1
            let host = URLAuthority.of(link.url) ?? ""
            let skip = admission.decide(depth: depth, host: host, trap: link.trap)
            let index = nextIndex
            nextIndex += 1
            _ = try store.insert(index: index, fingerprint: fingerprint, url: link.url, depth: depth,
                                 parent: parent.index >= 0 ? parent.index : nil, via: link.via, host: host,
                                 skip: skip)
            if let skip {
                let record = FetchRecord(
                    url: link.url, urlIndex: index, repetition: 0, worker: "", attempts: 0, status: 0, bytes: 0,
                    finalURL: link.url, redirects: 0, timings: .zero,
                    error: FetchFailure(kind: skip, message: admission.message(for: skip, depth: depth, host: host)),
                    body: nil, finishedAt: now, depth: depth, parent: parent.url, via: link.via)
                records.append((RequestKey(urlIndex: index, repetition: 0), record))
                delta.skipped.append(index)
            } else {
                pending[index] = FrontierEntry(index: index, url: link.url, depth: depth, parentURL: parent.url,
                                               via: link.via)
                delta.added.append((index, link.url))
                noteGroup(of: link.url, into: &delta.hostGroups)
            }
        }
        delta.urlCount = nextIndex
        return counts
    }
}

extension CrawlFrontier {
    /// With `--per-ip`, records the group of `url`'s host the first time the host is met.
    func noteGroup(of url: String, into hostGroups: inout [String: String]) {
        guard let groups, let host = URLAuthority.host(of: url)?.lowercased() else { return }
        let (group, isNew) = groups.group(of: host)
        if isNew { hostGroups[host] = group }
    }

    /// With `--per-ip`: the groups of the hosts of `urls` (a new or resumed crawl's first keys).
    func hostGroups(of urls: [(index: Int, url: String)]) -> [String: String] {
        guard let groups else { return [:] }
        var result: [String: String] = [:]
        for (_, url) in urls {
            guard let host = URLAuthority.host(of: url)?.lowercased() else { continue }
            result[host] = groups.group(of: host).group
        }
        return result
    }
}

/// Carries a frontier made on the writer thread to the recorder on that thread.
final class FrontierBox: @unchecked Sendable {
    // Safety: made and used on the recorder's writer thread only; the box just crosses the `submit` boundary.
    let frontier: CrawlFrontier
    init(_ frontier: CrawlFrontier) { self.frontier = frontier }
}
