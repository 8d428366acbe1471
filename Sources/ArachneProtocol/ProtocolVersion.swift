/// The version of Arachne's wire protocol. Every message carries it at a fixed position of frame 0 (see
/// `MessageHeader`), so a peer speaking another version is recognised and refused with both versions named.
public struct ProtocolVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    public init(_ rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The version this build speaks. Version 2: `results` carries two frames (metadata, then every body and
    /// archived WARC member), and a worker that keeps bodies sends them archived (docs/protocol.md).
    public static let current = ProtocolVersion(4)

    public static func < (a: ProtocolVersion, b: ProtocolVersion) -> Bool { a.rawValue < b.rawValue }

    public var description: String { String(rawValue) }
}
