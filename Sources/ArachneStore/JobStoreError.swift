/// Why the job store refused a request or could not read what it holds. Compare `kind` to react; show `message`.
public struct JobStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of failure.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Code: String, Sendable, Hashable {
            case unknownJob = "unknown job"
            case corruptJob = "corrupt job"
            case invalidSpec = "invalid spec"
            case invalidRecord = "invalid record"
            case illegalTransition = "illegal state change"
            case notAStore = "not an arachne store"
            case schemaTooNew = "store too new"
            case submission = "submission refused"
            case chunkOutOfOrder = "chunk out of order"
        }

        private let code: Code
        private init(_ code: Code) { self.code = code }

        /// No job has the given id.
        public static let unknownJob = Kind(.unknownJob)
        /// A stored job or record cannot be read back (its spec blob is not a spec, a state is unknown, ...).
        public static let corruptJob = Kind(.corruptJob)
        /// A spec given to `createJob` cannot be stored (no URLs, repeat below 1, ...).
        public static let invalidSpec = Kind(.invalidSpec)
        /// A record given to `appendRecords` does not fit its job (key out of range, repetition mismatch).
        public static let invalidRecord = Kind(.invalidRecord)
        /// A state change out of a terminal state.
        public static let illegalTransition = Kind(.illegalTransition)
        /// The database file belongs to something else.
        public static let notAStore = Kind(.notAStore)
        /// The database was written by a newer Arachne with a schema this one does not know.
        public static let schemaTooNew = Kind(.schemaTooNew)
        /// A chunked submission's step does not fit what the store holds (a chunk out of order, a count that
        /// differs, an id reused for another spec).
        public static let submission = Kind(.submission)
        /// A submission's chunk came before the one the store expects next (nothing was stored).
        public static let chunkOutOfOrder = Kind(.chunkOutOfOrder)

        public var description: String { code.rawValue }
    }

    public var kind: Kind
    /// The job concerned, when there is one.
    public var jobID: String?
    /// What went wrong, naming the job and what to do where possible.
    public var message: String

    public init(_ kind: Kind, jobID: String? = nil, _ message: String) {
        self.kind = kind
        self.jobID = jobID
        self.message = message
    }

    public var description: String { message }
}
