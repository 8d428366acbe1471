import ArachneCore
import ArgumentParser
import Foundation

/// Where a job's URLs come from and how often and how hard to fetch them.
struct JobInputOptions: ParsableArguments {
    @Argument(help: "URLs to fetch (http or https).")
    var urls: [String] = []

    @Option(name: .customLong("url-file"), help: ArgumentHelp(
        "A file of URLs, one per line; blank lines and # comments are skipped. '-' reads standard input.",
        valueName: "file"))
    var urlFile: String?

    // `.unconditional`: "--repeat -1" is a bad count to name, not a missing value.
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Fetch each URL this many times.")
    var repeatCount: Int = 1

    @Option(parsing: .unconditional, help: "Requests in flight at once (per worker in a cluster).")
    var concurrency: Int = 64

    func validate() throws {
        guard repeatCount >= 1 else { throw ValidationError("--repeat must be at least 1 (got \(repeatCount))") }
        guard (1...100_000).contains(concurrency) else {
            throw ValidationError("--concurrency must be between 1 and 100000 (got \(concurrency))")
        }
        guard !urls.isEmpty || urlFile != nil else {
            throw ValidationError("give at least one URL, or --url-file FILE")
        }
    }

    /// Reads and checks every URL. Bad lines are reported on standard error with their line numbers and skipped;
    /// a job with no usable URL cannot run.
    func loadURLs() throws -> [TargetURL] {
        try Self.loadURLs(arguments: urls, urlFile: urlFile)
    }

    /// The URLs as a stream: the arguments, then the URL file (or standard input, for "-") read as it goes.
    func urlStream() throws -> InputURLs {
        var arguments: [String] = []
        var problems: [BadURLLine] = []
        for (index, url) in urls.enumerated() {
            do {
                arguments.append(try TargetURL(validating: url).string)
            } catch {
                problems.append(BadURLLine(source: "argument", line: index + 1, text: url, reason: error.reason))
            }
        }
        var file: URLStream?
        if let urlFile {
            if urlFile == "-" {
                file = URLStream(fileDescriptor: STDIN_FILENO, source: "<stdin>")
            } else {
                try Self.refuseDirectory(urlFile)
                let descriptor = open(urlFile, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    throw JobCannotRun("cannot read URL file '\(urlFile)': \(String(cString: strerror(errno)))")
                }
                file = URLStream(fileDescriptor: descriptor, source: urlFile)
            }
        }
        return InputURLs(arguments: arguments, argumentProblems: problems, file: file)
    }

    /// The URLs of a one-shot job (`run`, `fetch`). The arguments are held; a URL file (or standard input, for "-")
    /// is checked in one pass and left on disk — standard input copied to an unlinked temporary file — for the job
    /// to read back in windows, so memory does not grow with the list. Bad lines are reported on standard error with
    /// their numbers and skipped; a job with no usable URL cannot run.
    func jobURLs() throws -> JobURLs {
        guard let urlFile else { return JobURLs(inline: try loadURLs().map(\.string), list: nil) }
        var arguments: [String] = []
        var argumentProblems: [BadURLLine] = []
        for (index, url) in urls.enumerated() {
            do {
                arguments.append(try TargetURL(validating: url).string)
            } catch {
                argumentProblems.append(BadURLLine(source: "argument", line: index + 1, text: url,
                                                   reason: error.reason))
            }
        }
        var descriptor = STDIN_FILENO
        if urlFile != "-" {
            try Self.refuseDirectory(urlFile)
            descriptor = open(urlFile, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                let reason = switch errno {
                case ENOENT: "no such file"
                case EACCES: "permission denied"
                default: String(cString: strerror(errno))
                }
                throw JobCannotRun("cannot read URL file '\(urlFile)': \(reason)")
            }
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        let list: URLFileList
        do {
            list = try URLFileList(leading: arguments, fileDescriptor: descriptor,
                                   source: urlFile == "-" ? "<stdin>" : urlFile)
        } catch {
            throw JobCannotRun("\(error)")
        }
        let problems = argumentProblems + list.problems
        let rejected = argumentProblems.count + list.problemCount
        for problem in problems.prefix(50) { Terminal.warn("skipping \(problem)") }
        if rejected > 50 { Terminal.warn("… and \(rejected - 50) more bad lines") }
        guard list.count > 0 else { throw JobCannotRun("no usable URL (\(rejected) rejected)") }
        return JobURLs(inline: [], list: list)
    }

    /// A directory given as a URL file is named as such (opening one succeeds, reading it fails).
    static func refuseDirectory(_ urlFile: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: urlFile, isDirectory: &isDirectory), isDirectory.boolValue {
            throw JobCannotRun("cannot read URL file '\(urlFile)': it is a directory, not a file of URLs")
        }
    }

    /// Reads and checks URLs given as arguments and in a URL file (or standard input, for "-").
    static func loadURLs(arguments urls: [String], urlFile: String?) throws -> [TargetURL] {
        var list = URLList()
        for (index, url) in urls.enumerated() { list.add(url, source: "argument", line: index + 1) }
        if let urlFile {
            let text: String
            if urlFile == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                try refuseDirectory(urlFile)
                guard let data = FileManager.default.contents(atPath: urlFile) else {
                    let exists = FileManager.default.fileExists(atPath: urlFile)
                    throw JobCannotRun("cannot read URL file '\(urlFile)': "
                        + (!exists ? "no such file" : FileManager.default.isReadableFile(atPath: urlFile)
                            ? "reading it failed" : "permission denied"))
                }
                text = String(decoding: data, as: UTF8.self)
            }
            list.addLines(text, source: urlFile == "-" ? "<stdin>" : urlFile)
        }
        for problem in list.problems.prefix(50) { Terminal.warn("skipping \(problem)") }
        if list.problems.count > 50 { Terminal.warn("… and \(list.problems.count - 50) more bad lines") }
        guard !list.urls.isEmpty else {
            throw JobCannotRun("no usable URL (\(list.problems.count) rejected)")
        }
        return list.urls
    }
}

/// How requests are made: timeouts, redirects, bodies, TLS, name pinning.
struct FetchSettingsOptions: ParsableArguments {
    @Option(name: .customLong("timeout"), help: "Whole-request timeout in seconds.")
    var timeout: Double = 30

    @Option(name: .customLong("connect-timeout"), help: "Connect timeout in seconds.")
    var connectTimeout: Double = 10

    @Option(name: .customLong("max-redirects"), help: "Redirects to follow; 0 does not follow.")
    var maxRedirects: Int = 10

    @Option(name: .customLong("user-agent"), help: "The User-Agent header.")
    var userAgent: String = "arachne/0.1"

    @Option(name: [.customShort("H"), .customLong("header")], help: "An extra request header, 'Name: value'.")
    var headers: [String] = []

    @Option(name: .customLong("resolve"), help: ArgumentHelp(
        "Pin a host name to an address, as curl's --resolve.", valueName: "host:port:addr"))
    var resolve: [String] = []

    @Option(name: .customLong("per-host"), help: ArgumentHelp(
        "Connections to one host at most (0: no limit); in a cluster, on each worker. In a crawl, requests in "
            + "flight to one host at most across the whole cluster (default 2).", valueName: "n"))
    var perHost: Int = 0

    @Option(name: .customLong("body-cap"), help: "Body bytes kept per response; the rest is counted, not kept.")
    var bodyCap: Int = 1 << 20

    @Option(name: .customLong("max-response"), help: "Responses larger than this many bytes fail as too-large.")
    var maxResponse: Int64 = 64 << 20

    @Flag(name: .customLong("no-bodies"), help: "Do not keep bodies (no WARC files).")
    var noBodies = false

    @Option(name: .customLong("accept-encoding"), help: ArgumentHelp(
        "Encodings to accept and decode; 'identity' asks for none. Default: all curl supports.",
        valueName: "list"))
    var acceptEncoding: String = ""

    @Flag(name: [.customShort("k"), .customLong("insecure")], help: "Do not verify TLS certificates.")
    var insecure = false

    @Option(name: .customLong("cacert"), help: "Verify servers with this CA bundle.")
    var caCert: String?

    @Flag(name: .customLong("no-keepalive"), help: "A new connection for every request (Connection: close).")
    var noKeepAlive = false

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be positive") }
        guard maxRedirects >= 0 else { throw ValidationError("--max-redirects cannot be negative") }
        guard bodyCap >= 0 else { throw ValidationError("--body-cap cannot be negative") }
        guard perHost >= 0 else { throw ValidationError("--per-host cannot be negative") }
        for entry in resolve where entry.split(separator: ":").count < 3 {
            throw ValidationError("--resolve '\(entry)' is not HOST:PORT:ADDRESS")
        }
        for header in headers where !header.contains(":") {
            throw ValidationError("--header '\(header)' is not 'Name: value'")
        }
        if let caCert, !FileManager.default.fileExists(atPath: caCert) {
            throw ValidationError("--cacert '\(caCert)': no such file")
        }
    }

    var settings: FetchSettings {
        FetchSettings(
            connectTimeoutMs: Int(connectTimeout * 1000), totalTimeoutMs: Int(timeout * 1000),
            maxRedirects: maxRedirects, userAgent: userAgent, acceptEncoding: acceptEncoding,
            perHostConnections: perHost, bodyCap: bodyCap, maxResponseBytes: maxResponse, keepBodies: !noBodies,
            resolve: resolve, insecure: insecure, caCertPath: caCert, headers: headers, forbidReuse: noKeepAlive)
    }
}

/// The URLs of a one-shot job: held (`inline`) when they all came as arguments, else a list on disk read in windows.
struct JobURLs {
    var inline: [String]
    var list: URLFileList?

    /// The job's spec: the URLs inline, or only their count (`storedURLCount`) when they stay on disk.
    func spec(repeatCount: Int, concurrency: Int, settings: FetchSettings) -> JobSpec {
        var spec = JobSpec(urls: inline, repeatCount: repeatCount, concurrency: concurrency, settings: settings)
        if let list { spec.storedURLCount = list.count }
        return spec
    }
}

/// The job could not run: bad input, nothing to fetch, cannot write the output. Exit code 1.
struct JobCannotRun: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A job's URLs as they are read: the arguments, then a URL file's lines. Bad lines are counted and the first
/// 50 kept, for `reportProblems`.
final class InputURLs {
    private var arguments: [String]
    private let argumentProblems: [BadURLLine]
    private let file: URLStream?

    init(arguments: [String], argumentProblems: [BadURLLine], file: URLStream?) {
        self.arguments = arguments.reversed()
        self.argumentProblems = argumentProblems
        self.file = file
    }

    func next() throws -> String? {
        if let url = arguments.popLast() { return url }
        return try file?.next()
    }

    /// Bad lines so far.
    var problemCount: Int { argumentProblems.count + (file?.problemCount ?? 0) }

    /// Warns about the bad lines on standard error, with their numbers.
    func reportProblems() {
        let problems = argumentProblems + (file?.problems ?? [])
        let count = argumentProblems.count + (file?.problemCount ?? 0)
        for problem in problems.prefix(50) { Terminal.warn("skipping \(problem)") }
        if count > 50 { Terminal.warn("… and \(count - 50) more bad lines") }
    }
}
