import ArachneEventLoop
import ArachneSite
import ArgumentParser
import Dispatch
import Foundation
import Glibc

/// `arachne site`: serves the demo site on one event loop until SIGINT or SIGTERM.
public struct SiteCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Serve the built-in demo site on loopback.",
        discussion: """
            Prints the site's base URL, then serves until interrupted (Ctrl-C) or terminated. \
            The routes are listed in docs/demo-site.md.
            """
    )

    @Option(help: "The IPv4 address to listen on.")
    public var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 lets the system pick a free one.")
    public var port: UInt16 = 8080

    @Option(help: "How many pages the site has: /page/0 … /page/N-1 (10 to 10000000).")
    public var pages: Int = DemoSite.defaultPageCount

    public init() {}

    public func validate() throws {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else {
            throw ValidationError("--host must be an IPv4 address such as 127.0.0.1, not \"\(host)\"")
        }
        guard DemoSite.pageCountRange.contains(pages) else {
            throw ValidationError("--pages must be from 10 to 10000000, not \(pages)")
        }
    }

    public func run() async throws {
        let (signals, signalContinuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { signalContinuation.yield(number) }
            source.resume()
            return source
        }
        defer { sources.forEach { $0.cancel() } }

        let loop = try EventLoop(name: "arachne-site")
        let site: DemoSite
        do {
            site = try DemoSite.start(on: loop, host: host, port: port, pageCount: pages)
        } catch {
            loop.shutdown()
            throw error
        }
        Self.say("Serving the demo site at \(site.baseURL)/ (Ctrl-C to stop)")

        var iterator = signals.makeAsyncIterator()
        let received = await iterator.next() ?? SIGTERM
        site.stop()
        loop.shutdown()
        let name = received == SIGINT ? "SIGINT" : "SIGTERM"
        Self.say("Stopped on \(name): \(site.requestsServed) requests on \(site.connectionsAccepted) connections.")
    }

    /// Writes a line to standard output at once, so a script reading the URL from a pipe sees it.
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
