/// Builds frame 0 of a message: the header, then fields in a compact binary form. Integers are LEB128 varints
/// (signed ones zigzag-encoded), doubles are 8 bytes little-endian, strings and byte blobs are a varint length then
/// the bytes.
struct WireWriter {
    private(set) var bytes: [UInt8]

    init(_ type: MessageType, version: ProtocolVersion = .current, reserving capacity: Int = 32) {
        bytes = []
        bytes.reserveCapacity(MessageHeader.size + capacity)
        bytes.append(MessageHeader.magic.0)
        bytes.append(MessageHeader.magic.1)
        bytes.append(UInt8(truncatingIfNeeded: version.rawValue))
        bytes.append(UInt8(truncatingIfNeeded: version.rawValue >> 8))
        bytes.append(type.rawValue)
    }

    mutating func uvarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func int64(_ value: Int64) {
        uvarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func int(_ value: Int) {
        int64(Int64(value))
    }

    mutating func bool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    mutating func double(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift)))
        }
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            uvarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func blob(_ value: [UInt8]) {
        uvarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}
