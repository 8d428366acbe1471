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

    /// The politeness figures a worker session reported for some of a crawl's hosts (cumulative per host, so each
    /// replaces that host's previous figures from the worker): into the report, and into the store about once a
    /// second.
    func noteAudits(worker: String, _ audits: [HostAudit]) {
        onWriterThread { recorder in
            for audit in audits { recorder.auditsByWorker[worker, default: [:]][audit.host] = audit }
            let merged = audits.map { recorder.mergedAudit(of: $0.host) }
            recorder.updateFigures { figures in for audit in merged { figures.setPoliteness(audit) } }
            let now = Date().timeIntervalSince1970
            guard now - recorder.lastAuditSave >= 1, let frontier = recorder.frontierForPoliteness else { return }
            recorder.lastAuditSave = now
            try? frontier.store.saveAudits(recorder.auditsByWorker.mapValues { Array($0.values) })
        }
    }

    /// One host's figures merged over every worker session that reported it (writer thread).
    func mergedAudit(of host: String) -> HostAudit {
        var merged: HostAudit?
        for byHost in auditsByWorker.values {
            guard let audit = byHost[host] else { continue }
            if merged == nil { merged = audit } else { merged!.merge(audit) }
        }
        return merged ?? HostAudit(host: host)
    }

    /// The robots.txt files a resumed crawl fetched in the last 24 hours, and its audits so far (into the report).
    func resumePoliteness() async throws -> [StoredRobots] {
        try await onWriterThreadReturning { recorder in
            guard let frontier = recorder.frontierForPoliteness else { return [] }
            let audits = try frontier.store.loadAudits()
            if !audits.isEmpty {
                // Earlier worker sessions keep their names apart from the new ones.
                for (worker, figures) in audits {
                    recorder.auditsByWorker["before restart: " + worker] =
                        Dictionary(figures.map { ($0.host, $0) }, uniquingKeysWith: { $1 })
                }
                let all = recorder.auditsByWorker.mapValues { Array($0.values) }
                recorder.updateFigures { $0.notePoliteness(all) }
            }
            return try frontier.store.loadRobots(since: Date().timeIntervalSince1970 - 24 * 3600)
        }
    }
}
