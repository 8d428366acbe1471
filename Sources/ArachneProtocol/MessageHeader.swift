/// The fixed start of frame 0 of every Arachne message, in every protocol version:
///
/// | bytes | content |
/// |---|---|
/// | 0–1 | magic `0x41 0x52` ("AR") |
/// | 2–3 | protocol version, UInt16 little-endian |
/// | 4 | message type |
///
/// The rest of frame 0 is the message's fields; frames 1… are raw bodies. Peek at the header to tell a peer of
/// another version from garbage before decoding anything else.
public struct MessageHeader: Hashable, Sendable {
    /// The protocol version the sender speaks.
    public var version: ProtocolVersion
    /// The message type byte (see docs/protocol.md for the table).
    public var type: UInt8

    /// Bytes the header takes at the start of frame 0.
    public static let size = 5
    static let magic: (UInt8, UInt8) = (0x41, 0x52)

    public init(version: ProtocolVersion, type: UInt8) {
        self.version = version
        self.type = type
    }

    /// Reads the header of a frame 0, checking only the magic bytes and the length.
    public init(frame: [UInt8]) throws(ProtocolError) {
        guard frame.count >= MessageHeader.size else {
            if frame.count >= 2, frame[0] != MessageHeader.magic.0 || frame[1] != MessageHeader.magic.1 {
                throw ProtocolError.badMagic(frame)
            }
            throw ProtocolError(
                .truncated,
                "frame 0 is \(frame.count) byte\(frame.count == 1 ? "" : "s") long; a message header needs "
                    + "\(MessageHeader.size) (magic, version, type)"
            )
        }
        guard frame[0] == MessageHeader.magic.0, frame[1] == MessageHeader.magic.1 else {
            throw ProtocolError.badMagic(frame)
        }
        self.version = ProtocolVersion(UInt16(frame[2]) | UInt16(frame[3]) << 8)
        self.type = frame[4]
    }
}

/// Message type bytes. Ranges by direction: worker→coordinator 0x01–0x1F, coordinator→worker 0x21–0x3F,
/// control requests 0x41–0x5F, control replies 0x61–0x7F. `hello`, `refuse` and the control `error` reply keep
/// their number and layout in every version, so peers of different versions can always refuse each other legibly.
enum MessageType: UInt8 {
    case hello = 0x01
    case credit = 0x02
    case results = 0x03
    case batchDone = 0x04
    case workerHeartbeat = 0x05
    case goodbye = 0x06
    case robots = 0x07
    case hostAudits = 0x08

    case welcome = 0x21
    case refuse = 0x22
    case jobSettings = 0x23
    case lease = 0x24
    case cancelJob = 0x25
    case coordinatorHeartbeat = 0x26
    case shutdown = 0x27
    case error = 0x28
    case robotsCached = 0x29

    case submit = 0x41
    case status = 0x42
    case cancel = 0x43
    case report = 0x44
    case submitBegin = 0x45
    case submitChunk = 0x46
    case submitEnd = 0x47
    case workers = 0x48
    case removeJobs = 0x49
    case pruneJobs = 0x4A

    case submitted = 0x61
    case statusReply = 0x62
    case cancelled = 0x63
    case reportReply = 0x64
    case errorReply = 0x65
    case submission = 0x66
    case workersReply = 0x67
    case removed = 0x68

    /// The name used in docs/protocol.md and in error messages.
    var name: String {
        switch self {
        case .hello: "hello"
        case .credit: "credit"
        case .results: "results"
        case .batchDone: "batchDone"
        case .workerHeartbeat, .coordinatorHeartbeat: "heartbeat"
        case .goodbye: "goodbye"
        case .robots: "robots"
        case .hostAudits: "hostAudits"
        case .robotsCached: "robotsCached"
        case .welcome: "welcome"
        case .refuse: "refuse"
        case .jobSettings: "jobSettings"
        case .lease: "lease"
        case .cancelJob: "cancelJob"
        case .shutdown: "shutdown"
        case .error: "error"
        case .submit: "submit"
        case .status: "status"
        case .cancel: "cancel"
        case .report: "report"
        case .submitBegin: "submitBegin"
        case .submitChunk: "submitChunk"
        case .submitEnd: "submitEnd"
        case .submission: "submission"
        case .workers: "workers"
        case .removeJobs: "removeJobs"
        case .pruneJobs: "pruneJobs"
        case .workersReply: "workers reply"
        case .removed: "removed"
        case .submitted: "submitted"
        case .statusReply: "status reply"
        case .cancelled: "cancelled"
        case .reportReply: "report reply"
        case .errorReply: "error reply"
        }
    }
}

/// Which of the four message families a decoder expects; used to name the side in errors.
enum Direction: String {
    case fromWorker = "worker message"
    case fromCoordinator = "coordinator message"
    case controlRequest = "control request"
    case controlReply = "control reply"

    var typeRange: ClosedRange<UInt8> {
        switch self {
        case .fromWorker: 0x01...0x1F
        case .fromCoordinator: 0x21...0x3F
        case .controlRequest: 0x41...0x5F
        case .controlReply: 0x61...0x7F
        }
    }
}

extension ProtocolError {
    static func badMagic(_ frame: [UInt8]) -> ProtocolError {
        let shown = frame.prefix(4).map { byte in
            let hex = String(byte, radix: 16)
            return "0x" + (hex.count == 1 ? "0" + hex : hex)
        }.joined(separator: " ")
        return ProtocolError(
            .badMagic,
            "not an Arachne message: frame 0 starts with \(shown.isEmpty ? "nothing" : shown), "
                + "expected 0x41 0x52 (\"AR\")"
        )
    }

    static func versionMismatch(peer: ProtocolVersion, _ direction: Direction) -> ProtocolError {
        ProtocolError(
            .versionMismatch,
            "\(direction.rawValue) in protocol version \(peer), which is not supported; this side speaks "
                + "\(ProtocolVersion.current)",
            peerVersion: peer
        )
    }
}

/// Checks frame 0's header for a decoder: frames present, magic, version (unless the type is one whose layout is frozen
/// across versions), and a type of the expected direction.
func readHeader(_ frames: [[UInt8]], _ direction: Direction, versionFree: Set<MessageType> = [])
    throws(ProtocolError) -> MessageType
{
    guard let first = frames.first else {
        throw ProtocolError(.noFrames, "empty \(direction.rawValue): no frames")
    }
    let header = try MessageHeader(frame: first)
    let type = MessageType(rawValue: header.type)
    if header.version != .current {
        if let type, direction.typeRange.contains(type.rawValue), versionFree.contains(type) {
            return type
        }
        throw ProtocolError.versionMismatch(peer: header.version, direction)
    }
    guard let type else {
        let hex = String(header.type, radix: 16)
        throw ProtocolError(.unknownType, "unknown message type 0x\(hex.count == 1 ? "0" + hex : hex)")
    }
    guard direction.typeRange.contains(type.rawValue) else {
        let actual = [Direction.fromWorker, .fromCoordinator, .controlRequest, .controlReply]
            .first { $0.typeRange.contains(type.rawValue) }
        throw ProtocolError(
            .unknownType,
            "got '\(type.name)', a \(actual?.rawValue ?? "message") of another kind, where a \(direction.rawValue) "
                + "was expected"
        )
    }
    return type
}
