import ArachneCore
import ArachneCrawl
import ArachneEventLoop
import ArachneFetch
import ArachneLinks
import ArachneURL
import ArgumentParser
import Foundation

/// `arachne links`: the links a page yields, resolved as a crawl resolves them, and why any is dropped.
struct LinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Print the links a page yields, resolved by the WHATWG URL Standard, in document order.",
        discussion: """
            FILE is read from disk ('-' for standard input) and resolved against --base (default: the file's \
            file: URL); a URL is fetched (redirects followed) and resolved against where it ended. Standard output \
            has one line per followable http(s) link: its href without the fragment, duplicates included. Links \
            that are dropped (nofollow, other schemes, unparsable, and with --scope: out of scope or filtered) are \
            counted on standard error; --json prints every link with its raw href, element, line, resolved URL, \
            canonical identity, and why it was dropped.
            """)

    @Argument(help: ArgumentHelp("An HTML file, '-' for standard input, or an http(s) URL.", valueName: "file|url"))
    var source: String

    @Option(help: ArgumentHelp("The document's URL, to resolve relative links against.", valueName: "url"))
    var base: String?

    @Option(help: ArgumentHelp("The page's charset, as a Content-Type header would give it (default: detected).",
                               valueName: "name"))
    var charset: String?

    @Option(help: ArgumentHelp(
        "Also judge each link by a crawl's scope from the base URL: host, domain, prefix or any.",
        valueName: "host|domain|prefix|any"))
    var scope: CrawlScopeKind?

    @Flag(help: "One JSON object per link (JSON Lines), with the canonical identity and any reason for dropping it.")
    var json = false

    @OptionGroup(title: "Fetch options (for a URL)") var fetch: FetchSettingsOptions

    func run() async throws {
        let (body, documentURL, contentType) = try await load()
        let document: WebURL
        do {
            document = try WebURL.parse(documentURL)
        } catch {
            throw ValidationError("--base '\(documentURL)' is not a URL: \(error)")
        }
        let page = LinkExtractor.extract(from: body, charset: charset ?? LinkExtractor.charset(contentType: contentType))
        var options = CrawlOptionsSpec(scope: scope ?? .any)
        options.trapDefences = true
        let seeds = CrawlURL(document).map { [$0] } ?? []
        let rules = try LinkRules(options: options, seeds: seeds)
        let harvester = PageHarvester(rules: rules, followNofollow: false, agent: "arachne")
        let judged = harvester.judge(page, documentURL: document)
        var output = ""
        var dropped: [String: Int] = [:]
        for link in judged {
            let kept = link.drop == nil || link.drop == .duplicateOnPage
            if json {
                output += Self.jsonLine(link) + "\n"
            } else if kept, let url = link.url {
                output += url + "\n"
            }
            if !kept, let drop = link.drop { dropped[drop.name, default: 0] += 1 }
        }
        FileHandle.standardOutput.write(Data(output.utf8))
        if !json && !dropped.isEmpty {
            let parts = dropped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
            Terminal.warn("dropped: \(parts.joined(separator: ", ")) (--json says which and why)")
        }
        if page.truncatedAtLinkCap {
            Terminal.warn("the page has more than \(LinkExtractor.defaultLinkCap) links; the rest were not read")
        }
    }

    /// The page's bytes, the URL links resolve against, and a Content-Type if one came with it.
    private func load() async throws -> ([UInt8], String, String?) {
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            var settings = fetch.settings
            settings.keepBodies = true
            let loop = try EventLoop(name: "arachne-links")
            defer { loop.shutdown() }
            let fetcher = Fetcher(loop: loop, maxConnections: 1)
            let outcome = await fetcher.fetch(source, profile: FetchProfile(settings: settings))
            await fetcher.close()
            if let failure = outcome.failure { throw JobCannotRun("cannot fetch \(source): \(failure.message)") }
            let finalURL = outcome.finalURL.isEmpty ? source : outcome.finalURL
            return (outcome.body, base ?? finalURL, ResponseHead.value(of: "content-type", in: outcome.rawHeader))
        }
        let bytes = try InputFile.read(source, kind: "an HTML file")
        let absolute = source == "-" ? "file:///dev/stdin"
            : "file://" + URL(fileURLWithPath: source).standardizedFileURL.path
        return (bytes, base ?? absolute, nil)
    }

    static func jsonLine(_ link: JudgedLink) -> String {
        var fields: [String] = [
            "\"href\":\(quoted(link.link.href))", "\"element\":\(quoted(link.link.element))",
            "\"line\":\(link.link.line)",
            "\"url\":\(link.url.map(quoted) ?? "null")", "\"canonical\":\(link.canonical.map(quoted) ?? "null")",
            "\"followed\":\(link.drop == nil || link.drop == .duplicateOnPage)",
        ]
        fields.append("\"dropped\":\(link.drop.map { quoted($0.name) } ?? "null")")
        fields.append("\"reason\":\(link.drop.map { quoted($0.detail) } ?? "null")")
        fields.append("\"trap\":\(link.trap.map { quoted($0.rawValue) } ?? "null")")
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func quoted(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
        return String(array.dropFirst().dropLast())
    }
}
