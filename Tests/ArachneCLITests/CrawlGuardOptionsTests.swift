import ArachneCore
@testable import ArachneCLI
import Testing

/// The crawl options build the private-address guard: on by default, the seeds' hosts allowed, adjusted by
/// `--allow`, `--deny` and `--allow-private`.
@Suite struct CrawlGuardOptionsTests {
    static func policy(_ arguments: [String], seeds: [String]) throws -> AddressPolicy? {
        let options = try CrawlOptions.parse(arguments)
        return options.jobSpec(seeds: seeds, concurrency: 4, settings: FetchSettings()).settings.addressPolicy
    }

    @Test func onByDefaultWithTheSeedsHostsAllowed() throws {
        let seeds = ["http://LocalHost:8080/a", "http://0x7f.1/", "https://[::1]/"]
        let policy = try #require(try Self.policy([], seeds: seeds))
        #expect(policy.allowedHosts == ["localhost", "0x7f.1", "127.0.0.1", "::1"])
        #expect(!policy.allowPrivate && policy.allow.isEmpty && policy.deny.isEmpty)
        let loopback = try #require(IPAddress("127.0.0.1"))
        #expect(policy.verdict(for: loopback, host: "localhost") == .allowed)
        #expect(policy.verdict(for: loopback, host: "127.0.0.1") == .allowed)
        #expect(policy.verdict(for: loopback, host: "elsewhere.test") == .blocked(reason: "loopback 127.0.0.0/8"))
    }

    @Test func flagsAdjustTheGuard() throws {
        let policy = try #require(try Self.policy(
            ["--allow-private", "--allow", "10.1.0.0/16", "--allow", "fd00::/8", "--deny", "10.0.0.0/8"],
            seeds: ["http://example.test/"]))
        #expect(policy.allowPrivate)
        #expect(policy.allow.map(\.description) == ["10.1.0.0/16", "fd00::/8"])
        #expect(policy.deny.map(\.description) == ["10.0.0.0/8"])
    }

    @Test(arguments: [
        (["--allow", "10.0.0.1/8"],
         "--allow '10.0.0.1/8' has address bits set past its prefix length: did you mean 10.0.0.0/8?"),
        (["--deny", "localhost"], "--deny 'localhost' is not a CIDR range"),
        (["--deny", "::/200"], "--deny '::/200': the prefix length must be a number from 0 to 128 for an IPv6 range"),
    ])
    func badRangesAreUsageErrors(arguments: [String], message: String) {
        do {
            _ = try CrawlOptions.parse(arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            #expect(CrawlOptions.message(for: error).hasPrefix(message), "\(CrawlOptions.message(for: error))")
        }
    }
}
