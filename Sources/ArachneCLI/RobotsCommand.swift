import ArachneCore
import ArachneCrawl
import ArachneEventLoop
import ArachneFetch
import ArachneURL
import ArgumentParser
import Foundation

/// `arachne robots`: whether a robots.txt lets a crawler fetch some URLs, and which line decided it.
struct RobotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robots",
        abstract: "Check URLs against a robots.txt (RFC 9309) and print the rule that decides each.",
        discussion: """
            FILE is read from disk ('-' for standard input); an http(s) URL is fetched as a crawl fetches \
            robots.txt: up to 5 redirects are followed, a 4xx answer means everything is allowed, and a 5xx, a 429 \
            or no answer means everything is disallowed for now (the output says so). Each URL to check may be \
            absolute or a path; its path and query are compared. Standard output has one line per URL: 'allowed' \
            or 'disallowed', the URL, and the deciding rule with its line number and its group's user-agent line; \
            --json prints one JSON object per URL instead. Lines of the file that were ignored or guessed at, the \
            agent's crawl-delay and the sitemaps go to standard error. Exits 0 whatever the verdicts, 1 when the \
            file cannot be read, 2 on a usage error.
            """)

    @Argument(help: ArgumentHelp("A robots.txt file, '-' for standard input, or an http(s) URL.",
                                 valueName: "file|url"))
    var source: String

    @Argument(help: ArgumentHelp("URLs or paths to check.", valueName: "url"))
    var urls: [String] = []

    @Option(help: ArgumentHelp(
        "The crawler's product token or user agent (default: from --user-agent); its letters, '_' and '-' up to "
            + "the first other character are matched.", valueName: "name"))
    var agent: String?

    @Flag(help: "One JSON object per URL (JSON Lines).")
    var json = false

    @OptionGroup(title: "Fetch options (for a URL)") var fetch: RobotsFetchOptions

    var productToken: String { RobotsRules.productToken(agent ?? fetch.userAgent) }

    func validate() throws {
        guard !urls.isEmpty else { throw ValidationError("give at least one URL or path to check") }
        guard !productToken.isEmpty else {
            throw ValidationError("--agent '\(agent ?? fetch.userAgent)' has no product token (letters, '_', '-')")
        }
    }

    func run() async throws {
        let isRemote = source.hasPrefix("http://") || source.hasPrefix("https://")
        // Checked URLs are parsed first, so a typo is a usage error before anything is fetched.
        let base = try WebURL.parse(isRemote ? source : "http://robots.invalid/")
        var targets: [(given: String, path: String)] = []
        for given in urls {
            guard let url = try? WebURL.parse(given, base: base) else {
                throw ValidationError("'\(given)' is neither a URL nor a path")
            }
            targets.append((given, RobotsRules.pathAndQuery(of: url)))
        }
        let state = isRemote ? await fetchState() : try fileState()
        let token = productToken
        var output = ""
        for target in targets {
            let verdict = state.verdict(forPath: target.path, agent: token)
            if json {
                output += Self.jsonLine(url: target.given, path: target.path, agent: token, verdict: verdict,
                                        crawlDelay: Self.crawlDelay(state, token)) + "\n"
            } else {
                let word = verdict.isAllowed ? "allowed   " : "disallowed"
                output += "\(word)  \(target.given)  \(verdict)\n"
            }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        report(state, token: token)
    }

    /// Reads the file and parses it.
    private func fileState() throws -> RobotsState {
        .rules(RobotsRules(parsing: try InputFile.read(source, kind: "a robots.txt file")), refreshAt: .infinity)
    }

    /// Fetches robots.txt and lets the crawl's policy say what it means.
    private func fetchState() async -> RobotsState {
        var policy = RobotsFetchPolicy()
        var settings = fetch.settings
        settings.maxRedirects = policy.maxRedirects
        let outcome: FetchOutcome
        do {
            let loop = try EventLoop(name: "arachne-robots")
            defer { loop.shutdown() }
            let fetcher = Fetcher(loop: loop, maxConnections: 1)
            outcome = await fetcher.fetch(source, profile: FetchProfile(settings: settings))
            await fetcher.close()
        } catch {
            outcome = .failed(.io, "\(error)", url: source)
        }
        return policy.decide(outcome: RobotsFetchOutcome(outcome), now: Date().timeIntervalSince1970)
    }

    /// Standard error: what the parse ignored or guessed, the agent's crawl-delay, the sitemaps.
    private func report(_ state: RobotsState, token: String) {
        guard case .rules(let rules, _) = state else { return }
        let summary = rules.summary
        for issue in summary.issues.prefix(10) { Terminal.warn("robots.txt \(issue)") }
        if summary.issueCount > 10 {
            Terminal.warn("robots.txt: \(summary.issueCount - 10) more lines ignored or guessed at")
        }
        var info = ""
        if let delay = rules.crawlDelay(for: token) { info += "crawl-delay for \(token): \(Self.seconds(delay)) s\n" }
        for sitemap in rules.sitemaps { info += "sitemap: \(sitemap)\n" }
        FileHandle.standardError.write(Data(info.utf8))
    }

    private static func crawlDelay(_ state: RobotsState, _ token: String) -> Double? {
        if case .rules(let rules, _) = state { return rules.crawlDelay(for: token) }
        return nil
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() && value < 1e15 ? String(Int(value)) : String(value)
    }

    static func jsonLine(url: String, path: String, agent: String, verdict: RobotsVerdict, crawlDelay: Double?)
        -> String
    {
        let quoted = LinksCommand.quoted
        var reason = ""
        var rule = "null"
        var group = "null"
        switch verdict.reason {
        case .rule(let matched, let agentLine):
            reason = "rule"
            rule = "{\"line\":\(matched.line),\"kind\":\"\(matched.kind.rawValue)\","
                + "\"pattern\":\(quoted(matched.pattern)),\"text\":\(quoted(matched.text))}"
            group = "{\"line\":\(agentLine.line),\"text\":\(quoted(agentLine.text))}"
        case .noRuleMatched(let agentLine):
            reason = "no-rule-matched"
            group = "{\"line\":\(agentLine.line),\"text\":\(quoted(agentLine.text))}"
        case .noGroup: reason = "no-group"
        case .robotsTxt: reason = "robots-txt"
        case .allowAll: reason = "allow-all"
        case .disallowAll: reason = "disallow-all"
        }
        let fields = [
            "\"url\":\(quoted(url))", "\"path\":\(quoted(path))", "\"agent\":\(quoted(agent))",
            "\"allowed\":\(verdict.isAllowed)", "\"reason\":\"\(reason)\"", "\"rule\":\(rule)", "\"group\":\(group)",
            "\"detail\":\(quoted(verdict.description))",
            "\"crawl_delay\":\(crawlDelay.map { String($0) } ?? "null")",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// How `arachne robots` fetches a robots.txt: the few fetch options that matter for one small request.
struct RobotsFetchOptions: ParsableArguments {
    @Option(name: .customLong("timeout"), help: "Whole-request timeout in seconds.")
    var timeout: Double = 30

    @Option(name: .customLong("connect-timeout"), help: "Connect timeout in seconds.")
    var connectTimeout: Double = 10

    @Option(name: .customLong("user-agent"), help: "The User-Agent header.")
    var userAgent: String = "arachne/0.1"

    @Option(name: .customLong("resolve"), help: ArgumentHelp(
        "Pin a host name to an address, as curl's --resolve.", valueName: "host:port:addr"))
    var resolve: [String] = []

    @Flag(name: [.customShort("k"), .customLong("insecure")], help: "Do not verify TLS certificates.")
    var insecure = false

    @Option(name: .customLong("cacert"), help: "Verify servers with this CA bundle.")
    var caCert: String?

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be positive") }
        for entry in resolve where entry.split(separator: ":").count < 3 {
            throw ValidationError("--resolve '\(entry)' is not HOST:PORT:ADDRESS")
        }
        if let caCert, !FileManager.default.fileExists(atPath: caCert) {
            throw ValidationError("--cacert '\(caCert)': no such file")
        }
    }

    /// Body cap: the parse limit is 500 KiB, but keeping up to 8 MiB lets the output say how much was ignored.
    var settings: FetchSettings {
        FetchSettings(
            connectTimeoutMs: Int(connectTimeout * 1000), totalTimeoutMs: Int(timeout * 1000), maxRedirects: 5,
            userAgent: userAgent, bodyCap: 8 << 20, keepBodies: true, resolve: resolve, insecure: insecure,
            caCertPath: caCert)
    }
}
