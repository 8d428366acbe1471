import ArachneEventLoop
import ArachneSystem
import Dispatch

/// Resolves host names for the native HTTP/1.1 client without blocking its loop: `getaddrinfo` runs on a few
/// background queues, answers come back on the loop, and are kept for a minute (as curl's DNS cache keeps them).
/// Only IPv4 answers are used. A name without one, or whose lookup failed, is left to libcurl: it speaks IPv6, and it
/// reports a failed lookup as a `dns` failure with its own message.
///
/// Not thread-safe: every method runs on the loop thread.
final class HostResolver {
    /// What a name resolved to.
    enum Answer: Sendable {
        case address(IPv4Address)
        /// No IPv4 address (none, or the lookup failed): libcurl fetches the name.
        case elsewhere
    }

    private enum Entry {
        case known(Answer, expires: UInt64)
        case pending([(Answer) -> Void])
    }

    private let loop: EventLoop
    private var entries: [String: Entry] = [:]
    /// Lookups run on these serial queues, chosen by name: a few at a time, never on the loop.
    private let queues: [DispatchQueue]
    private var nextQueue = 0
    /// How long addresses are kept; names left to libcurl are kept briefly, so they are not looked up twice for
    /// every request.
    static let answerLifetime: UInt64 = 60_000_000_000
    static let failureLifetime: UInt64 = 5_000_000_000
    private static let entryLimit = 10_000

    init(loop: EventLoop, concurrency: Int = 4) {
        self.loop = loop
        queues = (0..<max(1, concurrency)).map { DispatchQueue(label: "arachne-resolver-\($0)") }
    }

    /// The cached answer for `host`, or nil when it must be looked up.
    func cached(_ host: String) -> Answer? {
        guard case .known(let answer, let expires)? = entries[host] else { return nil }
        guard EventLoop.now() < expires else {
            entries[host] = nil
            return nil
        }
        return answer
    }

    /// Calls `completion` on the loop with the answer for `host`: at once when it is cached, else after a lookup
    /// (one lookup per name, however many transfers wait for it).
    func resolve(_ host: String, completion: @escaping (Answer) -> Void) {
        if let answer = cached(host) {
            completion(answer)
            return
        }
        if case .pending(var waiters)? = entries[host] {
            waiters.append(completion)
            entries[host] = .pending(waiters)
            return
        }
        if entries.count >= Self.entryLimit { dropExpired() }
        entries[host] = .pending([completion])
        let queue = queues[nextQueue % queues.count]
        nextQueue &+= 1
        let loop = loop
        let resolver = LoopBound(self)
        queue.async {
            let answer: Answer
            do {
                answer = .address(try Syscall.resolveIPv4(host: host, port: 0))
            } catch {
                answer = .elsewhere
            }
            loop.executeIfRunning { resolver.value.finish(host, answer) }
        }
    }

    private func finish(_ host: String, _ answer: Answer) {
        guard case .pending(let waiters)? = entries[host] else { return }
        let lifetime: UInt64
        if case .elsewhere = answer { lifetime = Self.failureLifetime } else { lifetime = Self.answerLifetime }
        entries[host] = .known(answer, expires: EventLoop.now() &+ lifetime)
        for waiter in waiters { waiter(answer) }
    }

    private func dropExpired() {
        let now = EventLoop.now()
        entries = entries.filter { _, entry in
            if case .known(_, let expires) = entry { return now < expires }
            return true
        }
    }
}
