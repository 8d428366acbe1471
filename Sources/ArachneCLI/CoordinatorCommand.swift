import ArachneCluster
import ArachneProtocol
import ArachneScheduling
import ArgumentParser
import Foundation

/// `arachne coordinator`: the long-running coordinator with N local workers, a control socket, and the durable store.
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run a long-running coordinator with local workers; submit jobs to it with `arachne submit`.",
        discussion: """
            Defaults, shared with submit, jobs, status, cancel and report so that they find each other on one \
            machine with no flags: the data dir is $ARACHNE_DATA_DIR or ~/.arachne; it holds the job store \
            (arachne.sqlite), the lock file (coordinator.lock: one coordinator per data dir), and each job's report \
            in jobs/JOB/. The control endpoint is $ARACHNE_CONTROL or ipc://DATA_DIR/control.sock. Its local \
            workers connect to a socket of its own (DATA_DIR/local-PID.sock); other workers connect to \
            ipc://DATA_DIR/workers.sock or to a --listen endpoint (arachne worker --connect tcp://HOST:PORT). \
            With --keys DIR every tcp:// endpoint (--listen, --control) uses CURVE: only the public keys in \
            DIR/workers/ may join as workers and only those in DIR/clients/ may use the control socket (both \
            folders are read again when they change); a tcp:// endpoint off loopback needs --keys or --insecure. \
            Unfinished jobs resume at start, after any crash. \
            SIGTERM or SIGINT stops gracefully: no new leases, a short grace for requests in flight, reports and \
            store flushed, workers stopped, exit 0.
            """)

    @Option(help: "Local worker processes (0: only workers that connect, to ipc://DATA_DIR/workers.sock or --listen).")
    var workers: Int = 2

    @Option(help: "Requests in flight per local worker.")
    var concurrency: Int = 64

    @Option(help: ArgumentHelp("Also accept workers here, e.g. tcp://0.0.0.0:5555 (repeatable).",
                               valueName: "endpoint"))
    var listen: [String] = []

    @Option(help: ArgumentHelp("Where the CLI reaches this coordinator (default: $ARACHNE_CONTROL or "
                                   + "ipc://DATA_DIR/control.sock).", valueName: "endpoint"))
    var control: String?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "Job store, job reports and sockets (default: $ARACHNE_DATA_DIR or ~/.arachne).", valueName: "dir"))
    var dataDir: String?

    @Option(name: .customLong("drain-grace"), help: "Seconds a graceful stop waits for requests in flight.")
    var drainGrace: Double = 5

    @OptionGroup var security: CoordinatorSecurityOptions

    @Option(help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (port 0 picks one).",
        valueName: "host:port"))
    var metrics: String?

    @Option(name: .customLong("heartbeat-ms"), help: .hidden)
    var heartbeatMs: Int64?

    @Option(name: .customLong("lease-timeout-ms"), help: .hidden)
    var leaseTimeoutMs: Int64?

    func validate() throws {
        guard (0...256).contains(workers) else { throw ValidationError("--workers must be between 0 and 256") }
        guard (1...100_000).contains(concurrency) else {
            throw ValidationError("--concurrency must be between 1 and 100000 (got \(concurrency))")
        }
        guard drainGrace >= 0 else { throw ValidationError("--drain-grace cannot be negative") }
        for endpoint in listen + (control.map { [$0] } ?? []) {
            if let problem = CoordinatorDefaults.validate(endpoint: endpoint) { throw ValidationError(problem) }
        }
        try security.check(listen: listen, control: control)
        if let metrics {
            let parts = metrics.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, UInt16(parts[1]) != nil,
                  parts[0].split(separator: ".").count == 4 || parts[0].isEmpty
            else {
                throw ValidationError("--metrics '\(metrics)' must be HOST:PORT with an IPv4 host, e.g. 127.0.0.1:9464")
            }
        }
        let heartbeat = heartbeatMs ?? 1_000
        guard heartbeat > 0, (leaseTimeoutMs ?? max(5_000, heartbeat + 1)) > heartbeat else {
            throw ValidationError("--lease-timeout-ms must exceed --heartbeat-ms")
        }
    }

    func run() async throws {
        let stop = StopSignal()
        let signals = stop.installProcessSignalHandlers()
        defer { _ = signals }
        let heartbeat = heartbeatMs ?? 1_000
        let security = try self.security.load()
        let options = CoordinatorService.Options(
            dataDirectory: dataDir ?? CoordinatorDefaults.dataDirectory(), workers: workers, concurrency: concurrency,
            listen: listen, controlEndpoint: control,
            scheduling: Scheduler.Configuration(heartbeatIntervalMs: heartbeat,
                                                leaseTimeoutMs: leaseTimeoutMs ?? max(5_000, heartbeat * 5)),
            drainGrace: drainGrace, security: security, metrics: metrics)
        let log: @Sendable (String) -> Void = { message in
            FileHandle.standardError.write(Data("arachne coordinator: \(message)\n".utf8))
        }
        let service: CoordinatorService
        do {
            service = try await CoordinatorService.start(options, log: log)
        } catch {
            throw JobCannotRun("\(error)")
        }
        let resumed = await service.resumedJobs
        let plural = workers == 1 ? "" : "s"
        log("data dir \(service.dataDirectory); control \(service.controlEndpoint); workers connect to "
            + service.workerEndpoints.dropFirst().joined(separator: ", ") + "; \(workers) local worker\(plural)"
            + (resumed.isEmpty ? "" : "; resumed \(resumed.joined(separator: ", "))"))
        log("ready (pid \(getpid())); stop with SIGTERM or Ctrl-C")
        await service.run(until: stop)
        log("stopped")
    }
}

/// Where the client commands find the coordinator: `--data-dir` and `--control`, with the coordinator's defaults.
struct ControlOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp(
        "The coordinator's data dir (default: $ARACHNE_DATA_DIR or ~/.arachne).", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("The coordinator's control endpoint (default: $ARACHNE_CONTROL or "
                                   + "ipc://DATA_DIR/control.sock).", valueName: "endpoint"))
    var control: String?

    @Option(help: ArgumentHelp(
        "CURVE keys for a tcp:// control endpoint: this client's key pair and the coordinator's public key.",
        valueName: "dir"))
    var keys: String?

    var dataDirectory: String { CoordinatorDefaults.absolute(dataDir ?? CoordinatorDefaults.dataDirectory()) }

    var endpoint: String { control ?? CoordinatorDefaults.controlEndpoint(dataDirectory: dataDirectory) }

    func validate() throws {
        if let control, let problem = CoordinatorDefaults.validate(endpoint: control) {
            throw ValidationError(problem)
        }
    }

    /// A connection to the coordinator; fails at once, naming the data dir, when its lock shows no coordinator runs
    /// there (for the default endpoint).
    func session(timeout: Double = 3) throws -> ControlSession {
        let implicit = control == nil && (ProcessInfo.processInfo.environment["ARACHNE_CONTROL"] ?? "").isEmpty
        if implicit, DataDirectoryLock.isHeld(dataDirectory: dataDirectory) == false {
            throw JobCannotRun("cannot reach the coordinator at \(endpoint): no coordinator is running on data dir "
                + "\(dataDirectory) (start one with `arachne coordinator --data-dir \(dataDirectory)`)")
        }
        var peerKeys: PeerKeys?
        if let keys, endpoint.hasPrefix("tcp://") {
            do {
                peerKeys = try PeerKeys(directory: keys)
            } catch {
                throw JobCannotRun("--keys: \(error)")
            }
        }
        do {
            return ControlSession(client: try ControlClient(endpoint: endpoint, timeout: timeout, keys: peerKeys))
        } catch {
            throw JobCannotRun("cannot start a control client: \(error)")
        }
    }
}

/// One CLI command's conversation with the coordinator; errors become exit status 1 with a clear message.
struct ControlSession {
    let client: ControlClient

    var endpoint: String { client.endpoint }

    /// The reply, or exit 1 when the coordinator cannot be reached.
    func send(_ request: ControlRequest) async throws -> ControlReply {
        do {
            return try await client.send(request)
        } catch where error.kind == .refused {
            throw JobCannotRun("the coordinator at \(client.endpoint) refused this client: \(error.description)")
        } catch {
            throw JobCannotRun("cannot reach the coordinator at \(client.endpoint): \(error.description)")
        }
    }

    /// The reply, or exit 1 when the coordinator cannot be reached or answers with an error.
    func expect(_ request: ControlRequest) async throws -> ControlReply {
        let reply = try await send(request)
        if case .error(let message) = reply { throw JobCannotRun(message) }
        return reply
    }

    /// Job statuses, for `status`, `jobs` and `submit --wait`.
    func statuses(_ job: String?) async throws -> [JobStatus] {
        let reply = try await expect(.status(job: job))
        guard case .status(let jobs) = reply else { throw unexpected(reply, for: "status") }
        return jobs
    }

    func unexpected(_ reply: ControlReply, for request: String) -> JobCannotRun {
        JobCannotRun("the coordinator at \(client.endpoint) answered '\(request)' with \(reply)")
    }
}
