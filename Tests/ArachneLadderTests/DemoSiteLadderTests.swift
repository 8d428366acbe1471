import ArachneCore
import ArachneEventLoop
import ArachneLadder
import ArachneSite
import ArachneSystem
import Testing

/// Every raw-socket model against the project's demo site: its byte, chunked, stalling and broken routes.
extension LoopbackTests {
    @Suite struct DemoSiteLadderTests {
        static let models = ModelRegistry.tutorial.names

        /// The demo site on a loop of its own; `stop()` closes the site, then the loop.
        struct RunningSite {
            let loop: EventLoop
            let site: DemoSite

            init() throws {
                loop = try EventLoop(name: "ladder-test-site")
                do {
                    site = try DemoSite.start(on: loop)
                } catch {
                    loop.shutdown()
                    throw error
                }
            }

            func job(_ path: String, requests: Int, concurrency: Int = 8, expectedBodyLength: Int? = nil) throws
                -> LadderJob
            {
                LadderJob(
                    url: try TargetURL(validating: site.baseURL + path), address: .loopback(port: site.port),
                    requests: requests, concurrency: concurrency, expectedBodyLength: expectedBodyLength)
            }

            func stop() {
                site.stop()
                loop.shutdown()
            }
        }

        @Test("bodies from /bytes/N arrive whole, and no descriptor is left open", arguments: models)
        func fetchesBytes(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let running = try RunningSite()
            defer { running.stop() }
            let descriptors = Syscall.openDescriptorCount()
            let run = await model.run(
                try running.job("/bytes/4096", requests: 40, expectedBodyLength: 4096), budget: .seconds(30))
            #expect(run.succeeded == 40, "\(run.firstError ?? "")")
            #expect(run.failed == 0)
            #expect(run.bytesReceived == 40 * 4096)
            #expect(running.site.requestsServed == 40)
            // The site closes its side before the client reads the end of the response: only the client's count.
            #expect(Syscall.openDescriptorCount() == descriptors)
        }

        @Test("chunked bodies from /chunked/N are de-chunked", arguments: models)
        func fetchesChunked(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let running = try RunningSite()
            defer { running.stop() }
            let run = await model.run(
                try running.job("/chunked/100000", requests: 10, expectedBodyLength: 100_000), budget: .seconds(30))
            #expect(run.succeeded == 10, "\(run.firstError ?? "")")
            #expect(run.bytesReceived == 10 * 100_000)
        }

        @Test("broken responses are counted as failures of the right kind", arguments: models)
        func countsBrokenResponses(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let running = try RunningSite()
            defer { running.stop() }
            let cases: [(path: String, kind: String)] = [
                ("/broken/truncated", "reset"), ("/broken/reset", "reset"), ("/broken/garbage", "protocol"),
                ("/broken/bad-status", "protocol"), ("/status/503", "other"),
            ]
            for (path, kind) in cases {
                let run = await model.run(try running.job(path, requests: 4, concurrency: 2), budget: .seconds(30))
                #expect(run.succeeded == 0, "\(path)")
                #expect(run.failed == 4, "\(path)")
                #expect(run.errors == [kind: 4], "\(path): \(run.firstError ?? "")")
            }
        }

        @Test("a stalled route stops the model at its budget, with nothing left open", arguments: models)
        func stopsOnStall(name: String) async throws {
            let model = try #require(ModelRegistry.tutorial.model(named: name))
            let descriptors = Syscall.openDescriptorCount()
            let running = try RunningSite()
            let run = await model.run(
                try running.job("/broken/stall", requests: 6, concurrency: 3), budget: .milliseconds(300))
            running.stop()
            #expect(run.overBudget)
            #expect(run.completed == 0)
            #expect(running.site.openConnections == 0)
            // The loop's descriptors close when it is freed, which its thread may still be doing: give it a moment.
            var open = Syscall.openDescriptorCount()
            for _ in 0..<100 where open != descriptors {
                try await Task.sleep(for: .milliseconds(10))
                open = Syscall.openDescriptorCount()
            }
            #expect(open == descriptors)
        }
    }
}
