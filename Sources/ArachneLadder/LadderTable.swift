import ArachneSystem
import Foundation

/// The ladder's results as the user sees them: an aligned text table, or the same rows as JSON.
public struct LadderTable: Sendable {
    /// The model every speed-up is measured against.
    public static let baseline = "blocking"

    public var runs: [ModelRun]

    public init(runs: [ModelRun]) { self.runs = runs }

    /// How many times the model's throughput beats `blocking`'s at the same N, or nil without a blocking run.
    /// Throughput (completed requests per second) is the time ratio when both finished, and stays meaningful when
    /// one of them stopped at its budget.
    public func speedUp(of run: ModelRun) -> Double? {
        guard let base = runs.first(where: { $0.model == Self.baseline && $0.requests == run.requests }),
              base.requestsPerSecond > 0
        else { return nil }
        return run.requestsPerSecond / base.requestsPerSecond
    }

    /// Under the table, on a machine of 2 cores or fewer with the server on loopback and a cluster run in it: the
    /// cluster's worker and coordinator share the CPU with the server there, which, more than the model, is what
    /// limits that rung (docs/io-models.md explains it). Nil otherwise.
    public func sharedCoresNote(
        server: IPv4Address, cores: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> String? {
        let loopback = server.address >> 24 == 127
        guard cores <= 2, loopback, runs.contains(where: { $0.model == "cluster" }) else { return nil }
        return "note: on \(cores) core\(cores == 1 ? "" : "s") the cluster's worker and coordinator share the CPU "
            + "with the server on loopback, so that\nrung measures this contention as much as the model (see "
            + "docs/io-models.md, \"Why cluster stops near 7x on 2 cores\")."
    }

    /// What to say beside a run: budget overrun, first failure, the model's own note.
    public func note(for run: ModelRun) -> String {
        var parts: [String] = []
        if run.overBudget { parts.append("over budget: stopped after \(run.completed) of \(run.requests)") }
        if let error = run.firstError { parts.append("first failure: \(error)") }
        if let note = run.note { parts.append(note) }
        return parts.joined(separator: "; ")
    }

    static let headers = ["model", "N", "spend time", "req/s", "CPU s", "failures", "speed-up", "note"]

    /// The cells of each row, formatted.
    func cells(_ run: ModelRun) -> [String] {
        [
            run.model,
            "\(run.requests)",
            String(format: "%.3f s", run.wallSeconds),
            String(format: "%.0f", run.requestsPerSecond),
            String(format: "%.3f", run.cpuSeconds),
            "\(run.failed)",
            speedUp(of: run).map { String(format: "%.1fx", $0) } ?? "-",
            note(for: run),
        ]
    }

    /// The table: a header and one line per run, columns aligned (text left, numbers right), two spaces apart.
    public func render() -> String {
        let rows = [Self.headers] + runs.map(cells)
        let widths = Self.headers.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let leftAligned: Set<Int> = [0, Self.headers.count - 1]
        var lines: [String] = []
        for row in rows {
            var line = ""
            for (column, cell) in row.enumerated() {
                if column > 0 { line += "  " }
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                line += leftAligned.contains(column) ? cell + padding : padding + cell
            }
            while line.last == " " { line.removeLast() }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The same results as JSON (schema `arachne.ladder/1`), with what the job was.
    public func json(job: LadderJob, budget: Duration) throws -> String {
        let report = JSONReport(
            schema: "arachne.ladder/1", url: job.url.string, address: job.address.description,
            concurrency: job.concurrency, workers: job.workers,
            budgetSeconds: Double(budget.components.seconds) + Double(budget.components.attoseconds) / 1e18,
            expectedBodyLength: job.expectedBodyLength,
            runs: runs.map { run in
                JSONRun(
                    model: run.model, requests: run.requests, completed: run.completed, succeeded: run.succeeded,
                    failed: run.failed, wallSeconds: run.wallSeconds, requestsPerSecond: run.requestsPerSecond,
                    cpuSeconds: run.cpuSeconds, overBudget: run.overBudget, speedUp: speedUp(of: run),
                    bytesReceived: run.bytesReceived, errors: run.errors, firstError: run.firstError, note: run.note)
            })
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    private struct JSONReport: Encodable {
        var schema: String
        var url: String
        var address: String
        var concurrency: Int
        var workers: Int
        var budgetSeconds: Double
        var expectedBodyLength: Int?
        var runs: [JSONRun]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(schema, forKey: .schema)
            try container.encode(url, forKey: .url)
            try container.encode(address, forKey: .address)
            try container.encode(concurrency, forKey: .concurrency)
            try container.encode(workers, forKey: .workers)
            try container.encode(budgetSeconds, forKey: .budgetSeconds)
            try container.encode(expectedBodyLength, forKey: .expectedBodyLength)  // null when unknown
            try container.encode(runs, forKey: .runs)
        }

        enum CodingKeys: String, CodingKey {
            case schema, url, address, concurrency, workers, budgetSeconds, expectedBodyLength, runs
        }
    }

    private struct JSONRun: Encodable {
        var model: String
        var requests: Int
        var completed: Int
        var succeeded: Int
        var failed: Int
        var wallSeconds: Double
        var requestsPerSecond: Double
        var cpuSeconds: Double
        var overBudget: Bool
        var speedUp: Double?
        var bytesReceived: Int
        var errors: [String: Int]
        var firstError: String?
        var note: String?

        // Optional values are written as null, not left out: every row has every key.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(model, forKey: .model)
            try container.encode(requests, forKey: .requests)
            try container.encode(completed, forKey: .completed)
            try container.encode(succeeded, forKey: .succeeded)
            try container.encode(failed, forKey: .failed)
            try container.encode(wallSeconds, forKey: .wallSeconds)
            try container.encode(requestsPerSecond, forKey: .requestsPerSecond)
            try container.encode(cpuSeconds, forKey: .cpuSeconds)
            try container.encode(overBudget, forKey: .overBudget)
            try container.encode(speedUp, forKey: .speedUp)
            try container.encode(bytesReceived, forKey: .bytesReceived)
            try container.encode(errors, forKey: .errors)
            try container.encode(firstError, forKey: .firstError)
            try container.encode(note, forKey: .note)
        }

        enum CodingKeys: String, CodingKey {
            case model, requests, completed, succeeded, failed, wallSeconds, requestsPerSecond, cpuSeconds
            case overBudget, speedUp, bytesReceived, errors, firstError, note
        }
    }
}
