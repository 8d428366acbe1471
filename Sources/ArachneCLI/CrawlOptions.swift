import ArachneCore
import ArachneCrawl
import ArachneURL
import ArgumentParser

/// How a crawl follows links: scope, filters, limits, traps, nofollow. Shared by `crawl` and `submit --crawl`.
struct CrawlOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Which links to follow: host (the seeds' scheme, host and port), domain (the seeds' registrable domains by "
            + "the Public Suffix List), prefix (under a seed's directory), any.",
        valueName: "host|domain|prefix|any"))
    var scope: CrawlScopeKind = .host

    @Option(help: ArgumentHelp(
        "Follow only links whose absolute URL matches this PCRE2 pattern (repeatable: any may match).",
        valueName: "regex"))
    var include: [String] = []

    @Option(help: ArgumentHelp(
        "Do not follow links whose absolute URL matches this PCRE2 pattern (repeatable).", valueName: "regex"))
    var exclude: [String] = []

    @Option(name: .customLong("max-depth"), help: "Links to follow from a seed (seeds are depth 0).")
    var maxDepth: Int = 20

    @Option(name: .customLong("max-pages"), help: "Pages fetched in the whole crawl at most (default: no limit).")
    var maxPages: Int?

    @Option(name: .customLong("max-pages-per-host"), help: "Pages fetched from one host at most (default: no limit).")
    var maxPagesPerHost: Int?

    @Flag(name: .customLong("no-trap-defences"), help: ArgumentHelp(
        "Fetch URLs the trap rules would skip (longer than 2,048 bytes, more than 20 path segments, a run of "
            + "segments repeated 3 times)."))
    var noTrapDefences = false

    @Flag(name: .customLong("follow-nofollow"), help: ArgumentHelp(
        "Follow rel=nofollow links and links of pages whose robots meta tag or X-Robots-Tag says nofollow."))
    var followNofollow = false

    @Option(name: .customLong("delay"), help: ArgumentHelp(
        "Seconds between the starts of two requests to one host (a robots.txt Crawl-delay is a floor this does not "
            + "lower).", valueName: "seconds"))
    var delay: Double = 0.25

    @Option(name: .customLong("max-crawl-delay"), help: ArgumentHelp(
        "The longest robots.txt Crawl-delay honoured, in seconds; a host asking more is skipped and reported.",
        valueName: "seconds"))
    var maxCrawlDelay: Double = 30

    @Flag(name: .customLong("per-ip"), help: ArgumentHelp(
        "Hosts that resolve to one IP address share one --per-host and --delay budget (the coordinator looks each "
            + "host up once; --resolve pins count)."))
    var perIP = false

    @Flag(name: .customLong("no-robots"), help: ArgumentHelp(
        "Do not fetch or obey robots.txt (a warning says so and the report records it)."))
    var noRobots = false

    @Option(name: .customLong("robots-retry"), help: ArgumentHelp(
        "Seconds before an unreachable robots.txt (5xx, no answer) is tried again, doubled per failure; after four "
            + "failures the origin's pages are given up.", valueName: "seconds", visibility: .hidden))
    var robotsRetry: Double = 60

    @Flag(name: .customLong("no-sitemaps"), help: ArgumentHelp(
        "Do not read the Sitemap: lines of robots.txt."))
    var noSitemaps = false

    @Flag(name: .customLong("allow-private"), help: ArgumentHelp(
        "Let the crawl connect to loopback, private, link-local and other special-purpose addresses (--deny still "
            + "applies). Without it only the seeds' hosts may resolve to them."))
    var allowPrivate = false

    @Option(name: .customLong("allow"), help: ArgumentHelp(
        "Let the crawl connect to addresses in this CIDR range, e.g. 10.1.0.0/16 (repeatable).", valueName: "cidr"))
    var allow: [String] = []

    @Option(name: .customLong("deny"), help: ArgumentHelp(
        "Never connect to addresses in this CIDR range, seeds included (repeatable; the longer of a matching "
            + "--allow and --deny wins).", valueName: "cidr"))
    var deny: [String] = []

    var spec: CrawlOptionsSpec {
        CrawlOptionsSpec(
            scope: scope, include: include, exclude: exclude, maxDepth: maxDepth, maxPages: maxPages,
            maxPagesPerHost: maxPagesPerHost, trapDefences: !noTrapDefences, followNofollow: followNofollow,
            perHost: 2, delayMs: Self.milliseconds(delay), maxCrawlDelayMs: Self.milliseconds(maxCrawlDelay),
            robots: !noRobots, sitemaps: !noSitemaps, perIP: perIP,
            robotsRetryMs: max(1, Self.milliseconds(robotsRetry)))
    }

    /// Seconds as whole milliseconds; negative and non-finite values become -1 so validation names them.
    static func milliseconds(_ seconds: Double) -> Int {
        guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return -1 }
        return Int((seconds * 1_000).rounded())
    }

    func validate() throws {
        for text in allow + deny {
            do {
                _ = try AddressRange(parsing: text)
            } catch {
                throw ValidationError("--\(allow.contains(text) ? "allow" : "deny") \(error.description)")
            }
        }
        do {
            try spec.validate()
        } catch {
            throw ValidationError(
                error.description.replacingOccurrences(of: "crawl option ", with: "--")
                    .replacingOccurrences(of: "max_depth", with: "max-depth")
                    .replacingOccurrences(of: "max_pages_per_host", with: "max-pages-per-host")
                    .replacingOccurrences(of: "max_pages", with: "max-pages")
                    .replacingOccurrences(of: "per_host", with: "per-host")
                    .replacingOccurrences(of: "max_crawl_delay_ms", with: "max-crawl-delay (in milliseconds)")
                    .replacingOccurrences(of: "delay_ms", with: "delay (in milliseconds)"))
        }
    }

    /// The seeds de-duplicated by URL identity (a second spelling of a seed is dropped with a warning), so each
    /// seed is one key of the crawl.
    static func uniqueSeeds(_ urls: [TargetURL]) -> [String] {
        var seen: Set<String> = []
        var seeds: [String] = []
        for url in urls {
            let identity = (try? WebURL.parse(url.string)).map(URLIdentity.canonical) ?? url.string
            if seen.insert(identity).inserted {
                seeds.append(url.string)
            } else {
                Terminal.warn("seed \(url.string) is the same URL as an earlier seed; crawled once")
            }
        }
        return seeds
    }

    /// The private-address guard of a crawl: on, with the seeds' hosts allowed (the user chose them) and the
    /// `--allow`, `--deny` and `--allow-private` adjustments. `validate()` has checked the ranges.
    func addressPolicy(seeds: [String]) -> AddressPolicy {
        var policy = AddressPolicy(
            allow: allow.compactMap { try? AddressRange(parsing: $0) },
            deny: deny.compactMap { try? AddressRange(parsing: $0) }, allowPrivate: allowPrivate)
        for seed in seeds {
            // As typed, and as the WHATWG parser writes it (the form links to it take: "0x7f.1" is "127.0.0.1").
            if let host = URLAuthority.host(of: seed) { policy.allowHost(host) }
            if let host = (try? WebURL.parse(seed))?.host { policy.allowHost(host) }
        }
        return policy
    }

    /// The job spec of a crawl: redirects are not followed inside a fetch (their targets enter the frontier), and
    /// the private-address guard is on.
    func jobSpec(seeds: [String], concurrency: Int, settings: FetchSettings, name: String? = nil) -> JobSpec {
        if noRobots {
            Terminal.warn("--no-robots: robots.txt is neither fetched nor obeyed; every host's audit row says so")
        }
        var settings = settings
        var spec = spec
        // `--per-host` (a fetch option) is, in a crawl, the cluster-wide limit per host; a crawl's default is 2.
        if settings.perHostConnections > 0 { spec.perHost = settings.perHostConnections }
        settings.maxRedirects = 0
        settings.addressPolicy = addressPolicy(seeds: seeds)
        return JobSpec(urls: seeds, repeatCount: 1, concurrency: concurrency, settings: settings, name: name,
                       crawl: spec)
    }
}

extension CrawlScopeKind: ExpressibleByArgument {}
