import ArachneEventLoop
import ArachneSite
import ArachneSystem
import Foundation
import Glibc
import Testing

/// Starting, stopping, descriptor hygiene and load.
extension SiteSocketTests {
    @Test func stopClosesTheListenerAndEveryConnection() async throws {
        let loop = try EventLoop(name: "site-stop")
        defer { loop.shutdown() }
        let descriptorsBefore = Syscall.openDescriptorCount()
        let site = try DemoSite.start(on: loop)
        let port = site.port

        // Connections in every state: idle keep-alive, delayed, stalled, streaming endlessly.
        let clients = try await onThread { () -> SendableBox<[BlockingClient]> in
            var clients: [BlockingClient] = []
            for path in ["/page/1", "/delay/60000", "/broken/stall", "/broken/endless"] {
                let client = try BlockingClient(port: port)
                try client.request(path)
                clients.append(client)
            }
            _ = try clients[0].readResponse()
            _ = try clients[3].readHead()
            return SendableBox(clients)
        }
        #expect(site.openConnections == 4)
        #expect(socketsWithLocalPort(port) == 5)

        site.stop()
        #expect(site.openConnections == 0)
        #expect(socketsWithLocalPort(port) == 0)
        site.stop()  // idempotent

        // Every client sees its connection end.
        let ended = try await onThread {
            try clients.value.map { client in
                do {
                    while try client.fill() > 0 {}
                    return true
                } catch let error as SystemError where error.errno == ECONNRESET {
                    return true  // the endless stream had unsent data: closing it resets
                }
            }
        }
        #expect(ended == [true, true, true, true])
        for client in clients.value { client.close() }

        // The process's descriptor count is back where it started. Other suites in this process may open
        // descriptors meanwhile, so wait (bounded) for the count to settle before comparing.
        var descriptorsAfter = Syscall.openDescriptorCount()
        for _ in 0..<200 where descriptorsAfter != descriptorsBefore {
            try await Task.sleep(for: .milliseconds(10))
            descriptorsAfter = Syscall.openDescriptorCount()
        }
        #expect(descriptorsAfter == descriptorsBefore)
    }

    @Test func refusesANonIPv4HostAndABusyPort() throws {
        let loop = try EventLoop(name: "site-errors")
        defer { loop.shutdown() }
        #expect(throws: DemoSiteError.self) { try DemoSite.start(on: loop, host: "localhost") }

        let site = try DemoSite.start(on: loop)
        defer { site.stop() }
        let error = try #require(throws: DemoSiteError.self) { try DemoSite.start(on: loop, port: site.port) }
        #expect(error.description.contains("127.0.0.1:\(site.port)"))
        #expect(error.description.contains("in use"))
    }

    @Test func startsAndStopsFromTheLoopThread() async throws {
        let loop = try EventLoop(name: "site-on-loop")
        defer { loop.shutdown() }
        let site = try await loop.submit { try DemoSite.start(on: loop) }
        let response = try await onThread {
            let client = try BlockingClient(port: site.port)
            try client.request("/bytes/3")
            return try client.readResponse()
        }
        #expect(response.text == "ABC")
        try await loop.submit { site.stop() }
        #expect(socketsWithLocalPort(site.port) == 0)
    }

    @Test func sixtyFourKeepAliveConnectionsTimesTwoHundredRequests() async throws {
        try await withSite { fixture in
            let connections = 64
            let requestsEach = 200
            let expected = DemoSite.body(count: 2048)
            let port = fixture.port
            // Each connection's outcome: how many responses were right, or what went wrong.
            let outcomes = await withTaskGroup(of: Result<Int, ClientError>.self) { group in
                for index in 0..<connections {
                    group.addTask {
                        do {
                            return .success(try await onThread {
                                let client = try BlockingClient(port: port)
                                for request in 0..<requestsEach {
                                    let path = request % 2 == 0 ? "/bytes/2048" : "/page/\(index)"
                                    try client.request(path)
                                    let response = try client.readResponse()
                                    let ok = request % 2 == 0
                                        ? response.body == expected : response.text == DemoSite.pageHTML(index)
                                    guard response.status == 200, ok else {
                                        throw ClientError("connection \(index) request \(request): bad response")
                                    }
                                }
                                return requestsEach
                            })
                        } catch {
                            return .failure(ClientError("\(error)"))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let failures = outcomes.compactMap { outcome -> String? in
                if case .failure(let error) = outcome { return error.description }
                return nil
            }
            #expect(failures == [])
            let answered = outcomes.reduce(0) { total, outcome in
                if case .success(let count) = outcome { return total + count }
                return total
            }
            #expect(answered == connections * requestsEach)
            #expect(fixture.site.connectionsAccepted == connections)
            #expect(fixture.site.requestsServed == connections * requestsEach)
        }
    }
}
