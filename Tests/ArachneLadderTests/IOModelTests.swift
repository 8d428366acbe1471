import ArachneCore
import ArachneLadder
import ArachneSystem
import Testing

/// Tests that open sockets, one at a time: the open-descriptor count they check is per process, so nothing else may
/// open descriptors while one runs.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LoopbackTests {}

/// Every raw-socket model against a real server on loopback.
extension LoopbackTests {
    @Suite struct IOModelTests {
        static let models = ModelRegistry.tutorial.names

        func job(port: UInt16, requests: Int, concurrency: Int = 8, expectedBodyLength: Int? = nil) throws
            -> LadderJob
        {
            let url = try TargetURL(validating: "http://127.0.0.1:\(port)/page?q=1")
            return LadderJob(
                url: url, address: .loopback(port: port), requests: requests, concurrency: concurrency,
                expectedBodyLength: expectedBodyLength)
        }

        @Test("every request succeeds with the right body, and no descriptor is left open", arguments: models)
        func succeeds(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let server = try TestHTTPServer(.init(bodyLength: 5000))
            defer { server.stop() }
            let descriptors = Syscall.openDescriptorCount()
            let run = await model.run(
                try job(port: server.port, requests: 50, expectedBodyLength: 5000), budget: .seconds(30))
            #expect(run.model == model.name)
            #expect(run.requests == 50)
            #expect(run.succeeded == 50)
            #expect(run.failed == 0, "\(run.firstError ?? "")")
            #expect(!run.overBudget)
            #expect(run.bytesReceived == 50 * 5000)
            #expect(server.requests == 50)
            #expect(Syscall.openDescriptorCount() == descriptors)
        }

        @Test("chunked bodies are de-chunked and measured", arguments: models)
        func readsChunkedBodies(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let server = try TestHTTPServer(.init(bodyLength: 70_000, chunked: true))
            defer { server.stop() }
            let run = await model.run(
                try job(port: server.port, requests: 12, expectedBodyLength: 70_000), budget: .seconds(30))
            #expect(run.succeeded == 12, "\(run.firstError ?? "")")
            #expect(run.bytesReceived == 12 * 70_000)
        }

        @Test("a closed port makes every request fail, quickly and without leaks", arguments: models)
        func closedPortFailsEveryRequest(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let port = try closedLoopbackPort()
            let descriptors = Syscall.openDescriptorCount()
            let run = await model.run(try job(port: port, requests: 20, concurrency: 4), budget: .seconds(30))
            #expect(run.succeeded == 0)
            #expect(run.failed == 20)
            #expect(run.errors == ["connect": 20])
            #expect(run.firstError?.contains("refused") == true, "\(run.firstError ?? "nil")")
            #expect(!run.overBudget)
            #expect(Syscall.openDescriptorCount() == descriptors)
        }

        @Test("bad statuses and bodies of the wrong length count as failures", arguments: models)
        func checksStatusAndLength(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let missing = try TestHTTPServer(.init(status: 404, bodyLength: 10))
            let notFound = await model.run(try job(port: missing.port, requests: 6), budget: .seconds(30))
            missing.stop()
            #expect(notFound.failed == 6)
            #expect(notFound.firstError?.contains("HTTP status 404") == true)

            let uneven = try TestHTTPServer(.init(bodyLength: 300, shortEvery: 4))
            let run = await model.run(
                try job(port: uneven.port, requests: 12, expectedBodyLength: 300), budget: .seconds(30))
            uneven.stop()
            #expect(run.succeeded == 9)
            #expect(run.failed == 3)
            #expect(run.firstError?.contains("299 bytes") == true, "\(run.firstError ?? "nil")")
        }

        @Test("a server that stops answering: the model stops at its budget and says how many it completed",
              arguments: models)
        func stopsAtBudget(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let descriptors = Syscall.openDescriptorCount()
            let server = try TestHTTPServer(.init(bodyLength: 100, stallAfter: 3))
            let run = await model.run(
                try job(port: server.port, requests: 10, concurrency: 4, expectedBodyLength: 100),
                budget: .milliseconds(400))
            server.stop()
            #expect(run.overBudget)
            #expect(run.succeeded == 3)
            #expect(run.failed == 0, "\(run.firstError ?? "")")
            #expect(run.completed == 3)
            #expect(Syscall.openDescriptorCount() == descriptors)
        }
    }
}
