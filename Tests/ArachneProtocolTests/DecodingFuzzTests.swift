import ArachneCore
import ArachneTestSupport
import Testing

@testable import ArachneProtocol

/// Decoding is total: whatever bytes arrive, every decoder returns a message or throws a `ProtocolError`; it never
/// traps.
@Suite("Decoding never traps")
struct DecodingFuzzTests {
    /// Runs all four decoders on the frames; the point is that this returns at all.
    private func decodeAll(_ frames: [[UInt8]]) -> Int {
        var decoded = 0
        if (try? WorkerMessage.decode(frames)) != nil { decoded += 1 }
        if (try? CoordinatorMessage.decode(frames)) != nil { decoded += 1 }
        if (try? ControlRequest.decode(frames)) != nil { decoded += 1 }
        if (try? ControlReply.decode(frames)) != nil { decoded += 1 }
        return decoded
    }

    private static func validMessages() -> [[[UInt8]]] {
        var all: [[[UInt8]]] = []
        all.append(WorkerMessage.hello(WorkerHello(workerID: "w-1", host: "h", pid: 9, capacity: 64)).encode())
        all.append(WorkerMessage.credit(300).encode())
        all.append(WorkerMessage.results((0..<4).map { sampleResult(index: $0, failed: $0 == 2) }).encode())
        all.append(WorkerMessage.results([archivedResult(index: 5), sampleResult(index: 6)]).encode())
        all.append(WorkerMessage.batchDone(batch: 123_456).encode())
        all.append(WorkerMessage.goodbye(reason: "bye").encode())
        all += CoordinatorMessageTests.messages.map { $0.encode() }
        all += ControlMessageTests.requests.map { $0.encode() }
        all += ControlMessageTests.replies.map { $0.encode() }
        return all
    }

    @Test("every truncation of every valid message is rejected or decodes, never traps")
    func truncations() {
        for frames in Self.validMessages() {
            for length in 0..<frames[0].count {
                var cut = frames
                cut[0] = Array(frames[0].prefix(length))
                _ = decodeAll(cut)
            }
            // Dropping trailing frames as well.
            for count in 0..<frames.count {
                _ = decodeAll(Array(frames.prefix(count)))
            }
        }
    }

    @Test("a truncated frame 0 of a worker message is a ProtocolError, never a wrong message")
    func truncatedWorkerMessagesFail() {
        let frames = WorkerMessage.results([sampleResult(index: 1)]).encode()
        for length in 0..<frames[0].count {
            var cut = frames
            cut[0] = Array(frames[0].prefix(length))
            #expect(throws: ProtocolError.self) { try WorkerMessage.decode(cut) }
        }
    }

    @Test("random bytes after a valid header never trap", arguments: 0..<8)
    func randomPayloads(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) &* 0x1234_5678_9ABC)
        let types: [UInt8] = Array(0x00...0x7F)
        for _ in 0..<2_000 {
            var frame: [UInt8] = [0x41, 0x52, 0x04, 0x00, types.randomElement(using: &rng)!]
            let length = Int.random(in: 0..<64, using: &rng)
            frame += (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let extra = Int.random(in: 0..<3, using: &rng)
            _ = decodeAll([frame] + Array(repeating: [1, 2], count: extra))
        }
    }

    @Test("random bit flips in valid messages never trap", arguments: 0..<4)
    func bitFlips(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) + 99)
        let messages = Self.validMessages()
        for _ in 0..<3_000 {
            var frames = messages.randomElement(using: &rng)!
            let flips = Int.random(in: 1...4, using: &rng)
            for _ in 0..<flips {
                let index = Int.random(in: 0..<frames[0].count, using: &rng)
                frames[0][index] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
            }
            _ = decodeAll(frames)
        }
    }

    @Test("fully random frames never trap")
    func randomFrames() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<5_000 {
            let count = Int.random(in: 0..<4, using: &rng)
            let frames = (0..<count).map { _ in
                (0..<Int.random(in: 0..<24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            #expect(decodeAll(frames) <= 1)
        }
    }
}
