/// A message that could not be decoded, with what was wrong with it. Decoding never traps: garbage, truncated frames,
/// unknown message types and peers of another protocol version all end here.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem it was; compare against the static members (`error.code == .versionMismatch`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case noFrames = "no frames"
            case badMagic = "not an Arachne message"
            case versionMismatch = "protocol version mismatch"
            case unknownType = "unknown message type"
            case truncated = "truncated"
            case invalidValue = "invalid value"
            case frameCount = "wrong number of frames"
            case trailingBytes = "trailing bytes"
            case invalidJSON = "invalid JSON payload"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The message had no frames at all.
        public static let noFrames = Code(.noFrames)
        /// Frame 0 does not start with the Arachne magic bytes.
        public static let badMagic = Code(.badMagic)
        /// The peer speaks another protocol version (`peerVersion` says which).
        public static let versionMismatch = Code(.versionMismatch)
        /// The type byte names no message this side knows (in this direction).
        public static let unknownType = Code(.unknownType)
        /// A frame ended in the middle of a field.
        public static let truncated = Code(.truncated)
        /// A field held a value that is not allowed (bad UTF-8, a negative count, an unknown enum case, ...).
        public static let invalidValue = Code(.invalidValue)
        /// The number of frames does not match what frame 0 announces.
        public static let frameCount = Code(.frameCount)
        /// Frame 0 has bytes left over after the last field.
        public static let trailingBytes = Code(.trailingBytes)
        /// A JSON payload (control messages, job settings) did not decode.
        public static let invalidJSON = Code(.invalidJSON)

        public var description: String { base.rawValue }
    }

    /// What kind of problem it was.
    public let code: Code
    /// A sentence naming what was wrong and where, fit to show a user or to send back in an `error` message.
    public let message: String
    /// For `.versionMismatch`: the version the peer speaks.
    public let peerVersion: ProtocolVersion?

    init(_ code: Code, _ message: String, peerVersion: ProtocolVersion? = nil) {
        self.code = code
        self.message = message
        self.peerVersion = peerVersion
    }

    public var description: String { message }
}
