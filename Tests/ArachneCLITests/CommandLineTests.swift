import ArachneTestSupport
import ArachneArchive
import ArachneCore
import Foundation
import Testing

@Suite(.serialized) struct CommandLineTests {
    @Test func rootHelpListsEveryCommand() throws {
        let result = try runArachne(["--help"])
        #expect(result.status == 0)
        // Compared whole, so a changed abstract or a missing command shows up here.
        #expect(result.stdout.trimmingCharacters(in: .newlines) == Self.expectedHelp.trimmingCharacters(in: .newlines))
    }

    @Test func usageErrorsExitWithTwoAndSayWhatIsWrong() throws {
        let noURL = try runArachne(["fetch"])
        #expect(noURL.status == 2)
        #expect(noURL.stderr.contains("give at least one URL"))
        let badRepeat = try runArachne(["fetch", "--repeat", "0", "http://127.0.0.1:1/"])
        #expect(badRepeat.status == 2)
        #expect(badRepeat.stderr.contains("--repeat must be at least 1"))
        let unknown = try runArachne(["frobnicate"])
        #expect(unknown.status == 2)
    }

    @Test func aJobWithNoUsableURLCannotRun() throws {
        let result = try runArachne(["fetch", "ftp://example.com/", "not a url", "--out", temporaryDirectory("none")])
        #expect(result.status == 1)
        #expect(result.stderr.contains("argument:1: unsupported scheme 'ftp'"))
        #expect(result.stderr.contains("no usable URL"))
    }

    @Test func badLinesOfAURLFileAreReportedByNumberAndTheRestIsFetched() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let directory = temporaryDirectory("urlfile")
        let file = directory + "/urls.txt"
        try """
        # three good, two bad
        \(site.url("/bytes/10"))
        gopher://old.example/
        \(site.url("/bytes/20"))

        http://
        \(site.url("/status/404"))
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let out = directory + "/out"
        let result = try runArachne(["fetch", "--url-file", file, "--repeat", "3", "--out", out])
        #expect(result.status == 0)
        #expect(result.stderr.contains("urls.txt:3: unsupported scheme 'gopher'"))
        #expect(result.stderr.contains("urls.txt:6:"))
        #expect(result.stdout.contains("spend time"))
        let records = try RecordsReader.readAll(path: out + "/records.ndjson")
        #expect(records.count == 9)
        #expect(records.filter { $0.status == 404 }.count == 3)
        try expectValidReport(out + "/report.json")
        // The job is named fetch-yyyyMMdd-HHmmss-PID, in UTC, within a minute of now.
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let id = try #require(((report as? [String: Any])?["job"] as? [String: Any])?["id"] as? String)
        let parts = id.split(separator: "-")
        #expect(parts.count == 4 && parts[0] == "fetch" && parts[1].count == 8 && parts[2].count == 6, "\(id)")
        let stamp = DateFormatter()
        stamp.locale = Locale(identifier: "en_US_POSIX")
        stamp.timeZone = TimeZone(identifier: "UTC")
        stamp.dateFormat = "yyyyMMdd-HHmmss"
        let named = try #require(stamp.date(from: parts.count == 4 ? "\(parts[1])-\(parts[2])" : ""), "\(id)")
        #expect(abs(named.timeIntervalSinceNow) < 60, "\(id)")
    }

    @Test func urlsCanComeFromStandardInput() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let out = temporaryDirectory("stdin")
        let result = try runArachne(["fetch", "--url-file", "-", "--out", out, "--no-bodies"],
                                    stdin: site.url("/page/1") + "\n" + site.url("/page/2") + "\n")
        #expect(result.status == 0)
        let report = try ReportReader.read(out + "/report.json").report
        #expect(report.summary.requests == 2)
        #expect(report.bodies.isEmpty)
    }

    @Test func runReadsALargeURLFileInWindowsAndRecordsEachURLOnce() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let directory = temporaryDirectory("run-large")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let urls = (0..<200_000).map { site.url("/page/\($0 % 1000)?u=\($0)") }
        let file = directory + "/urls.txt"
        // A bad line deep in the file keeps its number: the file is read in windows, not whole.
        let lines = ["# 200,000 URLs"] + urls[..<150_000] + ["gopher://old.example/"] + urls[150_000...]
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let out = directory + "/out"
        let result = try runArachne(["run", "--url-file", file, "--workers", "2", "--concurrency", "32",
                                     "--no-bodies", "--out", out], timeout: 600)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("urls.txt:150002: unsupported scheme 'gopher'"), "\(result.stderr)")
        let report = try ReportReader.read(out + "/report.json").report
        #expect(report.summary.requests == 200_000 && report.summary.succeeded == 200_000)
        #expect(report.job.options.urlCount == 200_000)
        try expectExactlyOnce(directory: out, urls: urls, repeatCount: 1)
    }

    @Test func fetchReadsStandardInputInWindowsForEveryRepetition() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let out = temporaryDirectory("fetch-stdin-large")
        defer { try? FileManager.default.removeItem(atPath: out) }
        // More than one window (8,192 URLs), fetched twice: the second pass reads the copy of standard input again.
        let urls = (0..<10_000).map { site.url("/page/\($0 % 100)?s=\($0)") }
        let text = urls[..<9_000].joined(separator: "\n") + "\nnot a url\n" + urls[9_000...].joined(separator: "\n")
        let result = try runArachne(["fetch", site.url("/page/1?arg"), "--url-file", "-", "--repeat", "2",
                                     "--no-bodies", "--out", out], timeout: 300, stdin: text)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("<stdin>:9001: URL contains white space"), "\(result.stderr)")
        try expectExactlyOnce(directory: out, urls: [site.url("/page/1?arg")] + urls, repeatCount: 2)
    }

    @Test func runWritesAReportThatValidatesAgainstTheSchema() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let out = temporaryDirectory("run")
        let result = try runArachne(["run", site.url("/gzip/3000"), site.url("/redirect/2"), "--repeat", "50",
                                     "--workers", "2", "--concurrency", "8", "--out", out])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try ReportReader.read(out + "/report.json").report
        #expect(report.summary.requests == 100)
        #expect(report.summary.succeeded == 100)
        try expectValidReport(out + "/report.json")
        // The workers archive each body as WARC members; the coordinator appends them. Response headers reach the
        // records, digests hold (warcio, when installed), and every record's reference cuts out its own response.
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", """
            import gzip, json, sys, zlib
            path, records = sys.argv[1], [json.loads(line) for line in open(sys.argv[2])]
            data = open(path, "rb").read()
            text = gzip.decompress(data)
            if b"WARC-Type: response" not in text or b"Server: arachne-site" not in text: sys.exit(1)
            if text.count(b"WARC-Type: response") != 100 or text.count(b"WARC-Type: request") != 100: sys.exit(2)
            for record in records:
                body = record["body"]
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                member = inflater.decompress(data[body["offset"]:body["offset"] + body["length"]])
                if not (inflater.eof and inflater.unused_data == b""): sys.exit(3)
                if not member.startswith(b"WARC/1.1\\r\\nWARC-Type: response\\r\\n"): sys.exit(4)
                if ("WARC-Target-URI: " + record["final_url"] + "\\r\\n").encode() not in member: sys.exit(5)
                if ("WARC-Payload-Digest: " + body["digest"] + "\\r\\n").encode() not in member: sys.exit(6)
            try:
                from warcio.archiveiterator import ArchiveIterator
            except ImportError:
                sys.exit(0)
            count = sum(1 for _ in ArchiveIterator(open(path, "rb"), check_digests="raise"))
            sys.exit(0 if count == 201 else 7)
            """, out + "/" + (report.bodies.first ?? "missing"), out + "/records.ndjson"]
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "WARC records from the workers' members are whole and referenced")
    }

    @Test func reportAndDiffReadRealReports() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let a = temporaryDirectory("diff-a")
        let b = temporaryDirectory("diff-b")
        #expect(try runArachne(["fetch", site.url("/bytes/100"), "--repeat", "40", "--out", a]).status == 0)
        #expect(try runArachne(["fetch", site.url("/status/503"), "--repeat", "20", "--out", b]).status == 0)
        let summary = try runArachne(["report", a])
        #expect(summary.status == 0)
        #expect(summary.stdout.contains("spend time"))
        #expect(summary.stdout.contains("40 succeeded"))
        let json = try runArachne(["report", a, "--json"])
        #expect(json.stdout.contains("\"schema\" : \"arachne.report/2\"")
            || json.stdout.contains("\"arachne.report/2\""))
        let diff = try runArachne(["diff", a, b])
        #expect(diff.status == 0)
        #expect(diff.stdout.contains("requests"))
        #expect(diff.stdout.contains("status 503"))
        let missing = try runArachne(["diff", a, b + "/nowhere"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nowhere"))
    }

    @Test func outRefusesADirectoryHoldingAReportUnlessForced() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let out = temporaryDirectory("out-again")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let first = try runArachne(["fetch", site.url("/bytes/100"), "--repeat", "3", "--out", out])
        #expect(first.status == 0, "\(first.stderr)")
        let records = try String(contentsOfFile: out + "/records.ndjson", encoding: .utf8)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files.contains { $0.hasPrefix("bodies-") }, "\(files)")

        // Again into the same directory: refused as a usage error, the earlier report untouched.
        for command in ["fetch", "run"] {
            let again = try runArachne([command, site.url("/bytes/7"), "--no-bodies", "--out", out])
            #expect(again.status == 2, "\(command): \(again.stdout) \(again.stderr)")
            #expect(again.stderr.contains("--out \(out) already holds a report"), "\(again.stderr)")
            #expect(again.stderr.contains("--force"))
            #expect(try String(contentsOfFile: out + "/records.ndjson", encoding: .utf8) == records)
            #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == files)
        }

        // --force replaces it whole: no WARC of the earlier job is left beside the new report.
        let forced = try runArachne(["fetch", site.url("/bytes/7"), "--no-bodies", "--force", "--out", out])
        #expect(forced.status == 0, "\(forced.stderr)")
        let after = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(!after.contains { $0.hasPrefix("bodies-") }, "\(after)")
        try expectExactlyOnce(directory: out, urls: [site.url("/bytes/7")], repeatCount: 1)
        try expectValidReport(out + "/report.json")
    }

    @Test func ctrlCDuringFetchOrRunExits130AndSaysWhereThePartialReportIs() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        for command in ["fetch", "run"] {
            let out = temporaryDirectory("interrupted-\(command)")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let job = try RunningArachne(
                [command, site.url("/delay/300"), "--repeat", "200", "--concurrency", "2", "--no-bodies", "--out", out]
                    + (command == "run" ? ["--workers", "1"] : []))
            // Interrupt once the site has answered some of its requests: the job is under way.
            let servedBefore = site.site.requestsServed
            let started = waitUntil(timeout: 20) { site.site.requestsServed >= servedBefore + 2 }
            #expect(started, "\(command) wrote no record")
            job.signal(SIGINT)
            let result = job.wait()
            #expect(result.status == 130, "\(command): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("interrupted by Ctrl-C"), "\(result.stderr)")
            #expect(result.stderr.contains("partial report is in \(out)/report.json"), "\(result.stderr)")
            #expect(result.stdout.contains("(cancelled)"))
            try expectValidReport(out + "/report.json")
        }
    }

    @Test func misnamedFilesAndBadNumbersAreNamedInPlainWordsWithTheDocumentedExitCode() throws {
        let directory = temporaryDirectory("plain-errors")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/a-file"
        try Data("x\n".utf8).write(to: URL(fileURLWithPath: file))
        let url = "http://127.0.0.1:1/"
        let cases: [(arguments: [String], status: Int32, says: String)] = [
            (["fetch", "--url-file", directory], 1, "cannot read URL file '\(directory)': it is a directory"),
            (["fetch", url, "--out", file], 2, "--out \(file) is a file"),
            (["run", url, "--out", file], 2, "--out \(file) is a file"),
            (["report", directory, "--html", directory], 2, "--html \(directory) is a directory"),
            (["fetch", "--repeat", "-1", url], 2, "--repeat must be at least 1 (got -1)"),
            (["fetch", "--concurrency", "-5", url], 2, "--concurrency must be between 1 and 100000 (got -5)"),
            (["help", "bogus"], 2, "no command 'bogus'"),
        ]
        for (arguments, status, says) in cases {
            let result = try runArachne(arguments, timeout: 20)
            let shown = arguments.joined(separator: " ")
            #expect(result.status == status, "\(shown): \(result.stderr)")
            #expect(result.stderr.contains(says), "\(shown): \(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain") && !result.stderr.contains("permission denied"),
                    "\(shown): \(result.stderr)")
        }
        #expect(try runArachne(["help", "fetch"]).status == 0)
    }

    @Test func theHTMLPageOfAJobShorterThanASecondHasSubSecondBuckets() throws {
        let site = try SiteFixture()
        defer { site.stop() }
        let out = temporaryDirectory("short-job")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let fetched = try runArachne(["fetch", site.url("/bytes/10"), "--repeat", "20", "--no-bodies", "--out", out])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let report = try ReportReader.read(out).report
        try #require(report.summary.wallSeconds < 1, "the job took \(report.summary.wallSeconds) s")
        let page = out + "/page.html"
        #expect(try runArachne(["report", out, "--html", page]).status == 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("id=\"timeline-fine\""))
    }

    static let expectedHelp = """
OVERVIEW: Crawl and load-test HTTP sites with a coordinator and worker
processes over ZeroMQ.

Exit codes: 0 the job completed (failed fetches are in the report), 1 the job
could not run, 2 usage error, 130 interrupted by Ctrl-C (the partial report is
kept).

USAGE: arachne <subcommand>

OPTIONS:
  --version               Show the version.
  -h, --help              Show help information.

SUBCOMMANDS:
  crawl                   Crawl from seed URLs with local worker processes,
                          following links, write the report, and exit.
  fetch                   Fetch URLs in this process (no cluster) and write a
                          report.
  run                     Run one job on a coordinator with local worker
                          processes, write its report, and exit.
  demo                    Start the built-in demo site on loopback and crawl it
                          with a local cluster.
  links                   Print the links a page yields, resolved by the WHATWG
                          URL Standard, in document order.
  robots                  Check URLs against a robots.txt (RFC 9309) and print
                          the rule that decides each.
  worker                  Run a worker that fetches batches leased by a
                          coordinator.
  coordinator             Run a long-running coordinator with local workers;
                          submit jobs to it with `arachne submit`.
  submit                  Submit a job to the running coordinator and print its
                          id.
  jobs                    List the coordinator's jobs, newest first.
  workers                 List the workers connected to the coordinator.
  status                  Show a job's state and progress, or every job's.
  cancel                  Cancel a job: nothing more is fetched, and requests
                          never fetched end as cancelled records.
  report                  Show a job's report: a terminal summary, the raw
                          JSON, or an HTML page with charts.
  diff                    Compare two reports: throughput, latency percentiles,
                          failures and bytes, with their change.
  ladder                  Fetch one URL N times under each IO model and compare
                          the times.
  site                    Serve the built-in demo site on loopback.
  keys                    Make CURVE key pairs for coordinators, remote workers
                          and clients.

  See 'arachne help <subcommand>' for detailed help.
"""
}
