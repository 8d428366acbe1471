import Testing

@testable import ArachneProtocol

@Suite("Binary field encoding")
struct WireTests {
    @Test("integers round-trip at their edges, signed ones zigzag-encoded")
    func integers() throws {
        let unsigned: [UInt64] = [0, 1, 127, 128, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max - 1, .max]
        let signed: [Int64] = [0, 1, -1, 63, -64, 64, -65, Int64(Int32.min), .max, .min]
        var writer = WireWriter(.credit)
        unsigned.forEach { writer.uvarint($0) }
        signed.forEach { writer.int64($0) }
        var reader = WireReader(writer.bytes, message: "test")
        for value in unsigned { #expect(try reader.uvarint("u") == value) }
        for value in signed { #expect(try reader.int64("s") == value) }
        try reader.finish()
    }

    @Test("small values take one byte")
    func compact() {
        var writer = WireWriter(.credit)
        writer.uvarint(127)
        writer.int64(-64)
        writer.int64(63)
        #expect(writer.bytes.count == MessageHeader.size + 3)
    }

    @Test("doubles, booleans, strings and blobs round-trip")
    func otherFields() throws {
        var writer = WireWriter(.credit)
        writer.double(-0.1)
        writer.double(.infinity)
        writer.bool(true)
        writer.bool(false)
        writer.string("")
        writer.string("héllo ✓ 🕷️")
        writer.blob([0, 255, 10])
        var reader = WireReader(writer.bytes, message: "test")
        #expect(try reader.double("d") == -0.1)
        #expect(try reader.double("d") == .infinity)
        #expect(try reader.bool("b") == true)
        #expect(try reader.bool("b") == false)
        #expect(try reader.string("s") == "")
        #expect(try reader.string("s") == "héllo ✓ 🕷️")
        #expect(try reader.blob("b") == [0, 255, 10])
        try reader.finish()
    }

    @Test("a varint longer than 64 bits is rejected")
    func varintOverflow() {
        var frame = WireWriter(.credit).bytes
        frame += Array(repeating: 0xFF, count: 10) + [0x01]
        var reader = WireReader(frame, message: "test")
        #expect(throws: ProtocolError.self) { try reader.uvarint("n") }
    }

    @Test("a string longer than the frame is 'truncated', naming the field")
    func longString() {
        var writer = WireWriter(.credit)
        writer.uvarint(1_000_000)
        var reader = WireReader(writer.bytes + [0x41], message: "hello")
        do {
            _ = try reader.string("worker id")
            Issue.record("decoded a string past the end of the frame")
        } catch {
            #expect(error.code == .truncated)
            #expect(error.message.contains("worker id"))
            #expect(error.message.contains("1000000"))
        }
    }

    @Test("invalid UTF-8 is rejected")
    func badUTF8() {
        var frame = WireWriter(.credit).bytes
        frame += [2, 0xC3, 0x28]
        var reader = WireReader(frame, message: "test")
        do {
            _ = try reader.string("host")
            Issue.record("decoded invalid UTF-8")
        } catch {
            #expect(error.code == .invalidValue)
            #expect(error.message.contains("UTF-8"))
        }
    }

    @Test("a count larger than the remaining bytes could hold is rejected before allocating")
    func hugeCount() {
        var writer = WireWriter(.credit)
        writer.uvarint(UInt64(Int.max))
        var reader = WireReader(writer.bytes, message: "lease")
        #expect(throws: ProtocolError.self) { try reader.count("item count", minElementSize: 3) }
    }
}
