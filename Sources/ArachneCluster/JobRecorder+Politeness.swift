import ArachneCore
import ArachneProtocol
import ArachneStore
import Foundation

extension JobRecorder {
    /// A crawl's worker fetched an origin's robots.txt: keep it in the store (a resumed crawl uses it for its 24
    /// hours) and admit the in-scope URLs of its `Sitemap:` lines to the frontier, at depth 1, `via: sitemap`.
    func robotsFetched(_ report: RobotsReport) {
        onWriterThread { recorder in
            guard let frontier = recorder.frontierForPoliteness else { return }
            do {
                if report.isAnswer {
                    try frontier.store.saveRobots(StoredRobots(
                        origin: report.origin, fetchedAt: report.fetchedAt, status: report.status,
                        redirects: report.redirects, failure: report.failure, body: report.body))
                }
                guard let sitemaps = report.sitemaps, !sitemaps.links.isEmpty else { return }
                try recorder.admitListed(sitemaps, listedBy: report.origin + "/robots.txt", frontier: frontier)
            } catch {
                recorder.log("cannot keep robots.txt of \(report.origin): \(error)")
            }
        }
    }

    /// The politeness figures a worker session reported for a crawl's hosts (cumulative): into the report, and
    /// into the store about once a second.
    func noteAudits(worker: String, _ audits: [HostAudit]) {
        onWriterThread { recorder in
            recorder.auditsByWorker[worker] = audits
            recorder.updateFigures { $0.notePoliteness(recorder.auditsByWorker) }
            let now = Date().timeIntervalSince1970
            guard now - recorder.lastAuditSave >= 1, let frontier = recorder.frontierForPoliteness else { return }
            recorder.lastAuditSave = now
            try? frontier.store.saveAudits(recorder.auditsByWorker)
        }
    }

    /// The robots.txt files a resumed crawl fetched in the last 24 hours, and its audits so far (into the report).
    func resumePoliteness() async throws -> [StoredRobots] {
        try await onWriterThreadReturning { recorder in
            guard let frontier = recorder.frontierForPoliteness else { return [] }
            let audits = try frontier.store.loadAudits()
            if !audits.isEmpty {
                // Earlier worker sessions keep their names apart from the new ones.
                for (worker, figures) in audits { recorder.auditsByWorker["before restart: " + worker] = figures }
                recorder.updateFigures { $0.notePoliteness(recorder.auditsByWorker) }
            }
            return try frontier.store.loadRobots(since: Date().timeIntervalSince1970 - 24 * 3600)
        }
    }
}
