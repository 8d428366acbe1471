import ArachneCore
import ArachneProtocol
import Foundation

/// Why a chunked submission did not end with a job id. The message says what the user can do, and, when the
/// coordinator stopped answering, that no job runs until the submission is ended, with the id that resumes it.
public struct SubmissionError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// The coordinator never answered the first message: nothing was stored.
        case unreachable
        /// The coordinator stopped answering mid-way: URLs may be stored, no job was created.
        case interrupted
        /// The last message (`submitEnd`) got no answer: the job may or may not have been created.
        case outcomeUnknown
        /// The coordinator refused the submission (its message says why).
        case refused
        /// The URL list could not be read.
        case input
    }

    public var kind: Kind
    public var description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// Streams a URL list to the coordinator as a chunked submission (docs/protocol.md, "Chunked submission"):
/// `submitBegin`, then chunks of at most `chunkURLs` URLs or `chunkBytes` bytes, at most `window` of them
/// unacknowledged, then `submitEnd`. Holds only the chunks not yet acknowledged. When answers stop coming it asks
/// again with `submitBegin` (the coordinator says how many chunks it holds) and resends from there, for up to
/// `patience` seconds: retries never make a second job, since every step is idempotent under `submission`.
public struct SubmissionUploader: Sendable {
    public var submission: String
    public var spec: JobSpec
    public var chunkURLs = 10_000
    public var chunkBytes = 1 << 20
    public var window = 2
    public var patience = 60.0

    public init(submission: String, spec: JobSpec) {
        self.submission = submission
        self.spec = spec
    }

    /// A fresh submission id: "s-" and a random UUID.
    public static func newSubmissionID() -> String { "s-" + UUID().uuidString.lowercased() }

    /// Uploads every URL `next` gives (nil: the end) and returns the job id. `progress` hears the URLs acknowledged.
    /// Run again with the same submission id and URL list, it resumes: chunks the coordinator holds are not sent
    /// again, and a submission already ended returns its job.
    public func upload(
        with client: ControlClient, next: () throws -> String?, progress: (Int) -> Void = { _ in }
    ) async throws(SubmissionError) -> String {
        var inFlight: [(seq: Int, urls: [String], reply: PendingReply)] = []
        var acknowledged = 0
        var sent = 0
        var seq = 0

        // Begin: the first answer tells whether anything is there at all.
        let state = try await begin(client, firstContact: true)
        if let job = state.job { return job }
        // Resuming (the same id and list, run again): the chunks the coordinator holds are read, not sent.
        let held = state.chunks

        /// Waits for the oldest chunk's acknowledgement; on silence, finds out what the coordinator holds and
        /// sends again what it lacks.
        func settleOldest() async throws(SubmissionError) {
            let oldest = inFlight[0]
            let reply: ControlReply
            do {
                reply = try await oldest.reply.reply()
            } catch {
                try await resynchronise(error)
                return
            }
            switch reply {
            case .submission(let held) where held.chunks > oldest.seq:
                inFlight.removeFirst()
                acknowledged += oldest.urls.count
                progress(acknowledged)
            case .submission:
                // An answer to a message sent before the coordinator restarted, say: ask where it stands.
                try await resynchronise(ControlClientError(.badReply, "a stale acknowledgement"))
            case .error(let message):
                throw SubmissionError(.refused, "the coordinator refused submission \(submission): \(message)")
            default:
                throw SubmissionError(
                    .refused, "the coordinator answered chunk \(oldest.seq) of submission \(submission) with "
                        + "\(reply) instead of its acknowledgement")
            }
        }

        func resynchronise(_ cause: ControlClientError) async throws(SubmissionError) {
            let held = try await begin(client, firstContact: false, cause: cause)
            inFlight.removeAll { $0.seq < held.chunks }
            acknowledged = held.count
            progress(acknowledged)
            guard inFlight.first.map({ $0.seq == held.chunks }) ?? (held.chunks == seq) else {
                throw SubmissionError(
                    .refused, "submission \(submission): the coordinator holds \(held.chunks) chunks, which does "
                        + "not match the \(seq) sent; start again with a new --submission-id")
            }
            inFlight = inFlight.map { chunk in
                (chunk.seq, chunk.urls, client.enqueue(.submitChunk(submission: submission, seq: chunk.seq,
                                                                     urls: chunk.urls)))
            }
        }

        var chunk: [String] = []
        var chunkSize = 0
        func flush() async throws(SubmissionError) {
            guard !chunk.isEmpty else { return }
            if seq < held {
                seq += 1
                sent += chunk.count
                acknowledged += chunk.count
                chunk.removeAll(keepingCapacity: true)
                chunkSize = 0
                return
            }
            while inFlight.count >= window { try await settleOldest() }
            inFlight.append((seq, chunk, client.enqueue(.submitChunk(submission: submission, seq: seq,
                                                                      urls: chunk))))
            seq += 1
            sent += chunk.count
            chunk.removeAll(keepingCapacity: true)
            chunkSize = 0
        }
        while true {
            let url: String?
            do {
                url = try next()
            } catch {
                throw SubmissionError(.input, "\(error) (submission \(submission) not ended: no job was created)")
            }
            guard let url else { break }
            if chunkSize + url.utf8.count + 1 > chunkBytes { try await flush() }
            chunk.append(url)
            chunkSize += url.utf8.count + 1
            if chunk.count >= chunkURLs { try await flush() }
        }
        try await flush()
        while !inFlight.isEmpty { try await settleOldest() }
        guard sent > 0 else { throw SubmissionError(.input, "no usable URL") }

        // End: retried while unanswered; an end that stays unanswered leaves the outcome unknown.
        let deadline = Date().addingTimeInterval(patience)
        var delay = 0.1
        while true {
            let reply: ControlReply
            do {
                reply = try await client.send(.submitEnd(submission: submission, chunks: seq, count: sent))
            } catch {
                if Date() > deadline {
                    throw SubmissionError(
                        .outcomeUnknown, "cannot tell whether the job was accepted: the coordinator at "
                            + "\(client.endpoint) took all \(sent) URLs of submission \(submission) but did not "
                            + "answer its end (\(error.description)). Run the same command with --submission-id "
                            + "\(submission) to get its job id; that never makes a second job")
                }
                try? await Task.sleep(for: .seconds(delay))
                delay = min(delay * 2, 2)
                continue
            }
            switch reply {
            case .submitted(let job): return job
            case .error(let message):
                throw SubmissionError(.refused, "the coordinator refused submission \(submission): \(message)")
            default:
                throw SubmissionError(.refused, "the coordinator answered the end of submission \(submission) "
                    + "with \(reply) instead of a job id")
            }
        }
    }

    /// `submitBegin`, retried for `patience` seconds while unanswered.
    private func begin(_ client: ControlClient, firstContact: Bool, cause: ControlClientError? = nil)
        async throws(SubmissionError) -> SubmissionState
    {
        let deadline = Date().addingTimeInterval(firstContact ? 0 : patience)
        var delay = 0.1
        var lastError = cause
        while true {
            do {
                let reply = try await client.send(.submitBegin(submission: submission, spec: spec))
                switch reply {
                case .submission(let state): return state
                case .error(let message):
                    throw SubmissionError(.refused, "the coordinator refused submission \(submission): \(message)")
                default:
                    throw SubmissionError(.refused, "the coordinator answered the start of submission "
                        + "\(submission) with \(reply)")
                }
            } catch let error as ControlClientError {
                lastError = error
            } catch let error as SubmissionError {
                throw error
            } catch {
                preconditionFailure("unexpected error \(error)")
            }
            if Date() > deadline {
                let why = lastError?.description ?? "no answer"
                if firstContact { throw SubmissionError(.unreachable, why + " (no job was submitted)") }
                throw SubmissionError(
                    .interrupted, "the coordinator at \(client.endpoint) stopped answering during submission "
                        + "\(submission) (\(why)). No job was created: a job runs only once all its URLs are in. "
                        + "Run the same command with --submission-id \(submission) to resume it")
            }
            try? await Task.sleep(for: .seconds(delay))
            delay = min(delay * 2, 2)
        }
    }
}
