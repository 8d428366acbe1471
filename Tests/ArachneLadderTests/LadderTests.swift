import ArachneCore
@testable import ArachneLadder
import ArachneSystem
import Foundation
import Testing

@Suite struct LadderOptionTests {
    @Test func requestCountsTakeCommaListsAndRepeats() throws {
        #expect(try Ladder.requestCounts(["10,20,300", "10000"]) == [10, 20, 300, 10_000])
        #expect(try Ladder.requestCounts(["20", "20", " 5 "]) == [20, 5])
        #expect(try Ladder.requestCounts(["10_000"]) == [10_000])
    }

    @Test func badRequestCountsAreUsageErrors() {
        for bad in [["0"], ["ten"], ["10,,20"], ["-5"], ["2000000"], []] {
            #expect(throws: LadderUsageError.self, "\(bad)") { try Ladder.requestCounts(bad) }
        }
    }

    @Test func modelsAreSelectedInLadderOrder() throws {
        let registry = ModelRegistry.tutorial
        #expect(registry.names == ["blocking", "threads", "nonblocking", "callbacks", "coroutines"])
        #expect(try registry.select([]).map(\.name) == registry.names)
        #expect(try registry.select(["coroutines,blocking", "Blocking"]).map(\.name) == ["blocking", "coroutines"])
    }

    @Test func unknownModelNamesTheValidOnes() {
        #expect {
            try ModelRegistry.tutorial.select(["blocking", "gevent"])
        } throws: { error in
            "\(error)" == "unknown model 'gevent'; valid models: blocking, threads, nonblocking, callbacks, coroutines"
        }
    }

    @Test func urlsAreValidatedForTheChosenModels() throws {
        let models = ModelRegistry.tutorial.models
        #expect(try Ladder.target("http://127.0.0.1:8080/x", models: models).port == 8080)
        #expect(throws: LadderUsageError.self) { try Ladder.target("ftp://example.com/", models: models) }
        #expect(throws: LadderUsageError.self) { try Ladder.target("not a url", models: models) }
        #expect {
            try Ladder.target("https://example.com/", models: models)
        } throws: { error in
            "\(error)".contains("cannot fetch https")
        }
    }

    @Test func theRequestIsOneGetWithConnectionClose() throws {
        let url = try TargetURL(validating: "http://Example.com:8080/a%20b/c?x=1&y=2")
        let head = String(decoding: LadderJob.requestHead(for: url), as: UTF8.self)
        #expect(head == "GET /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: arachne-ladder\r\n"
            + "Accept: */*\r\nConnection: close\r\n\r\n")
        let rootURL = try TargetURL(validating: "http://a.test")
        let root = String(decoding: LadderJob.requestHead(for: rootURL), as: UTF8.self)
        #expect(root.hasPrefix("GET / HTTP/1.1\r\nHost: a.test\r\n"))
    }

}

/// `Ladder.prepare` and `Ladder.run` against a loopback server.
extension LoopbackTests {
    @Suite struct LadderRunTests {
        @Test func resolvingANumericHostNeedsNoLookup() throws {
            #expect(try Syscall.resolveIPv4(host: "127.0.0.1", port: 99) == IPv4Address.loopback(port: 99))
            #expect(try Syscall.resolveIPv4(host: "localhost", port: 80).address >> 24 == 127)
            #expect(throws: ResolutionError.self) { try Syscall.resolveIPv4(host: "no-such-host.invalid", port: 80) }
        }
        @Test func prepareProbesTheURLAndLearnsTheBodyLength() async throws {
            let server = try TestHTTPServer(.init(bodyLength: 777))
            defer { server.stop() }
            let url = try TargetURL(validating: server.baseURL)
            let prepared = try await Ladder.prepare(url: url, concurrency: 3, workers: 2)
            #expect(prepared.warning == nil)
            #expect(prepared.job.expectedBodyLength == 777)
            #expect(prepared.job.address == .loopback(port: server.port))
            #expect(server.requests == 1)
        }

        @Test func prepareWarnsAboutAFailingStatus() async throws {
            let server = try TestHTTPServer(.init(status: 503, bodyLength: 5))
            defer { server.stop() }
            let url = try TargetURL(validating: server.baseURL)
            let prepared = try await Ladder.prepare(url: url, concurrency: 3, workers: 2)
            #expect(prepared.warning?.contains("503") == true)
            #expect(prepared.job.expectedBodyLength == nil)
        }

        @Test func anUnreachableURLIsAnError() async throws {
            let port = try closedLoopbackPort()
            let url = try TargetURL(validating: "http://127.0.0.1:\(port)/")
            await #expect(throws: LadderError.self) {
                try await Ladder.prepare(url: url, concurrency: 1, workers: 1)
            }
        }

        @Test func runGoesThroughEveryCountAndModel() async throws {
            let server = try TestHTTPServer(.init(bodyLength: 64))
            defer { server.stop() }
            let url = try TargetURL(validating: server.baseURL)
            let prepared = try await Ladder.prepare(url: url, concurrency: 4, workers: 2)
            let models = try ModelRegistry.tutorial.select(["blocking", "callbacks"])
            var seen: [String] = []
            let runs = await Ladder.run(prepared.job, counts: [3, 7], models: models, budget: .seconds(30)) {
                seen.append("\($0.model)/\($0.requests)")
            }
            #expect(seen == ["blocking/3", "callbacks/3", "blocking/7", "callbacks/7"])
            #expect(runs.map(\.succeeded) == [3, 3, 7, 7])
            #expect(server.requests == 1 + 20)
        }
    }
}
