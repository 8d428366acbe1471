import ArachneEventLoop
import ArachneZMQ
import Synchronization
import Testing

/// Holds a channel created on a loop; touched only on that loop.
final class ChannelBox: @unchecked Sendable {
    var channel: ZMQChannel?
}

@Suite struct ZMQChannelTests {
    /// A DEALER sends many multipart messages to a ROUTER on another loop, which echoes each back: every message
    /// must arrive (no stall from the edge-triggered ZMQ_FD), with its raw body frame intact.
    @Test func routerAndDealerOnTwoLoopsExchangeEveryMessage() async throws {
        let context = ZMQContext()
        let serverLoop = try EventLoop(name: "zmq-router")
        let clientLoop = try EventLoop(name: "zmq-dealer")
        defer {
            serverLoop.shutdown()
            clientLoop.shutdown()
        }
        let server = ChannelBox()
        let client = ChannelBox()
        let endpoint: String = try await serverLoop.submit {
            let socket = try ZMQSocket(context: context, type: .router)
            try socket.bind("tcp://127.0.0.1:*")
            server.channel = try ZMQChannel(socket: socket, loop: serverLoop) { frames in
                // Echo: [peer, header, body] back to the same peer.
                try? server.channel?.send(frames)
            }
            return try socket.lastEndpoint()
        }
        let total = 5_000
        let body = (0..<4096).map { UInt8(truncatingIfNeeded: $0) }
        let received: Int = try await withCheckedThrowingContinuation { continuation in
            clientLoop.execute {
                do {
                    let socket = try ZMQSocket(context: context, type: .dealer)
                    try socket.setRoutingID("worker-1")
                    try socket.connect(endpoint)
                    var count = 0
                    var corrupted = false
                    client.channel = try ZMQChannel(socket: socket, loop: clientLoop) { frames in
                        if frames.count != 2 || frames[1] != body { corrupted = true }
                        count += 1
                        if count == total {
                            client.channel?.close()
                            continuation.resume(returning: corrupted ? -1 : count)
                        }
                    }
                    for index in 0..<total {
                        try client.channel?.send([Array("msg-\(index)".utf8), body])
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        #expect(received == total)
        try await serverLoop.submit { server.channel?.close() }
    }

    @Test func bindingABadEndpointNamesIt() throws {
        let context = ZMQContext()
        let socket = try ZMQSocket(context: context, type: .router)
        #expect {
            try socket.bind("nonsense://nowhere")
        } throws: { error in
            "\(error)".contains("nonsense://nowhere")
        }
    }
}
