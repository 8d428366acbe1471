import ArachneCore
import Testing

@testable import ArachneProtocol

@Suite("Message header and versions")
struct MessageHeaderTests {
    @Test("every message starts with the magic, the version and the type")
    func layout() {
        let frames = WorkerMessage.heartbeat.encode()
        #expect(frames[0] == [0x41, 0x52, 0x04, 0x00, 0x05])
    }

    @Test("a hello from a worker of another version is recognised and refused with both versions named")
    func helloFromNewerWorker() throws {
        let frames = withVersion(
            5, WorkerMessage.hello(WorkerHello(workerID: "w", host: "h", pid: 1, capacity: 8)).encode()
        )
        #expect(try MessageHeader(frame: frames[0]).version == ProtocolVersion(5))
        guard let error = decodeError(WorkerMessage.decode, frames) else { return }
        #expect(error.code == .versionMismatch)
        #expect(error.peerVersion == ProtocolVersion(5))
        #expect(error.message.contains("version 5"))
        #expect(error.message.contains("speaks 4"))
        let refusal = CoordinatorMessage.refusal(peerVersion: error.peerVersion!)
        #expect(refusal == .refuse(reason: "protocol version 5 not supported; this coordinator speaks 4"))
    }

    @Test("a newer peer's message of a type this version does not know is still a version mismatch, not garbage")
    func unknownTypeFromNewerPeer() {
        var frames = withVersion(5, WorkerMessage.heartbeat.encode())
        frames[0][4] = 0x1E
        #expect(decodeError(WorkerMessage.decode, frames)?.code == .versionMismatch)
    }

    @Test("garbage is named as not an Arachne message, with the bytes found")
    func garbage() {
        guard let error = decodeError(WorkerMessage.decode, [Array("GET / HTTP/1.1\r\n".utf8)]) else { return }
        #expect(error.code == .badMagic)
        #expect(error.message.contains("0x47 0x45 0x54 0x20"))
    }

    @Test("no frames, and a frame too short for a header")
    func tooShort() {
        #expect(decodeError(WorkerMessage.decode, [])?.code == .noFrames)
        #expect(decodeError(WorkerMessage.decode, [[0x41, 0x52, 0x01]])?.code == .truncated)
        #expect(decodeError(WorkerMessage.decode, [[]])?.code == .truncated)
    }

    @Test("an unknown type of this version is named with its byte")
    func unknownType() {
        guard let error = decodeError(WorkerMessage.decode, [[0x41, 0x52, 0x04, 0x00, 0x7F]]) else { return }
        #expect(error.code == .unknownType)
        #expect(error.message.contains("0x7f"))
    }
}
