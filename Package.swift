// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "arachne",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "arachne", targets: ["arachne"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // The Prometheus text format for `arachne coordinator --metrics` (rendering only; the listener is ours).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries and Linux calls, each behind a thin module map.
        .systemLibrary(name: "CArachneLinux", path: "Sources/CArachneLinux"),
        .systemLibrary(name: "CArachneZMQ", path: "Sources/CArachneZMQ"),
        .systemLibrary(name: "CArachneCurl", path: "Sources/CArachneCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CArachneZlib", path: "Sources/CArachneZlib"),
        .systemLibrary(name: "CArachneSQLite", path: "Sources/CArachneSQLite"),
        .systemLibrary(name: "CArachneISAL", path: "Sources/CArachneISAL"),
        .systemLibrary(name: "CArachneCrypto", path: "Sources/CArachneCrypto"),
        .systemLibrary(name: "CArachneIDN2", path: "Sources/CArachneIDN2"),
        .systemLibrary(name: "CArachneXML2", path: "Sources/CArachneXML2", pkgConfig: "libxml-2.0"),
        .systemLibrary(name: "CArachnePSL", path: "Sources/CArachnePSL"),
        .systemLibrary(name: "CArachnePCRE2", path: "Sources/CArachnePCRE2"),

        // Pure modules: values, state machines, encodings. No C, no I/O.
        .target(name: "ArachneCore"),
        .target(name: "ArachneProtocol", dependencies: ["ArachneCore"]),
        .target(name: "ArachneScheduling", dependencies: ["ArachneCore"]),
        // The WHATWG URL parser; its only C is libidn2 for internationalized domain names.
        .target(name: "ArachneURL", dependencies: ["CArachneIDN2"]),
        .target(
            name: "ArachneReport",
            dependencies: ["ArachneCore", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),

        // Machinery: system calls, the event loop, libcurl, ZeroMQ, files.
        .target(name: "ArachneSystem", dependencies: ["CArachneLinux"]),
        .target(name: "ArachneEventLoop", dependencies: ["ArachneCore", "ArachneSystem", "CArachneLinux"]),
        .target(
            name: "ArachneFetch",
            dependencies: ["ArachneCore", "ArachneEventLoop", "ArachneSystem", "CArachneCurl", "CArachneZlib"]),
        .target(name: "ArachneZMQ", dependencies: ["ArachneCore", "ArachneEventLoop", "CArachneZMQ"]),
        .target(
            name: "ArachneArchive", dependencies: ["ArachneCore", "ArachneReport", "CArachneISAL", "CArachneCrypto"]),
        .target(name: "ArachneStore", dependencies: ["ArachneCore", "CArachneSQLite"]),
        .target(name: "ArachneSite", dependencies: ["ArachneCore", "ArachneEventLoop", "ArachneSystem", "CArachneZlib"]),
        .target(name: "ArachneLinks", dependencies: ["CArachneXML2", "CArachneZlib"]),
        // Crawl rules: scope, filters, traps. Pure values, with libpsl and PCRE2 behind one wrapper file each.
        .target(name: "ArachneCrawl", dependencies: ["ArachneCore", "ArachneURL", "ArachneLinks", "CArachnePSL", "CArachnePCRE2"]),

        // The product: cluster, IO-model ladder, command line.
        .target(
            name: "ArachneCluster",
            dependencies: [
                "ArachneCore", "ArachneProtocol", "ArachneScheduling", "ArachneReport", "ArachneArchive",
                "ArachneStore", "ArachneFetch", "ArachneZMQ", "ArachneEventLoop", "ArachneCrawl", "ArachneURL", "ArachneLinks",
                "ArachneSystem",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(
            name: "ArachneLadder",
            dependencies: [
                "ArachneCore", "ArachneSystem", "ArachneFetch", "ArachneEventLoop", "ArachneCluster", "ArachneArchive",
            ]
        ),
        .target(
            name: "ArachneCLI",
            dependencies: [
                "ArachneCore", "ArachneFetch", "ArachneReport", "ArachneArchive", "ArachneCluster", "ArachneSite",
                "ArachneLadder", "ArachneEventLoop", "ArachneCrawl", "ArachneURL", "ArachneLinks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // tcmalloc's per-thread caches: libcurl and the Swift runtime allocate on every request, and glibc's malloc
        // cost 5–8% more CPU per request in `arachne fetch` (docs/performance.md).
        .executableTarget(
            name: "arachne", dependencies: ["ArachneCLI"], linkerSettings: [.linkedLibrary("tcmalloc_minimal")]),

        .testTarget(name: "ArachneCoreTests", dependencies: ["ArachneCore"]),
        .testTarget(name: "ArachneProtocolTests", dependencies: ["ArachneProtocol", "ArachneTestSupport"]),
        .testTarget(name: "ArachneSchedulingTests", dependencies: ["ArachneScheduling", "ArachneTestSupport"]),
        .testTarget(
            name: "ArachneReportTests", dependencies: ["ArachneReport", "ArachneArchive", "ArachneTestSupport"]),
        .testTarget(name: "ArachneEventLoopTests", dependencies: ["ArachneEventLoop", "ArachneSystem"]),
        .testTarget(name: "ArachneSiteTests", dependencies: ["ArachneSite", "ArachneEventLoop", "ArachneSystem"]),
        .testTarget(name: "ArachneFetchTests", dependencies: ["ArachneFetch", "ArachneSite", "ArachneEventLoop"]),
        .testTarget(name: "ArachneZMQTests", dependencies: ["ArachneZMQ", "ArachneEventLoop"]),
        .testTarget(name: "ArachneStoreTests", dependencies: ["ArachneStore"]),
        .testTarget(name: "ArachneURLTests", dependencies: ["ArachneURL", "ArachneTestSupport"]),
        .testTarget(name: "ArachneLinksTests", dependencies: ["ArachneLinks", "CArachneZlib"]),
        .testTarget(name: "ArachneCrawlTests", dependencies: ["ArachneCrawl", "ArachneCore", "ArachneLinks"]),
        .testTarget(name: "ArachneLadderTests", dependencies: ["ArachneLadder", "ArachneSite"]),
        // Integration tests run the real `arachne` binary: depending on it makes `swift test` build it.
        .target(
            name: "ArachneTestSupport",
            dependencies: ["ArachneSite", "ArachneArchive", "ArachneReport", "ArachneEventLoop", "ArachneSystem"],
            path: "Tests/ArachneTestSupport"),
        // The polite-crawl test site (Tests/Fixtures/polite_site.py) and its Swift helpers, tested.
        .testTarget(name: "ArachneTestSupportTests", dependencies: ["ArachneTestSupport", "ArachneLinks"]),
        .testTarget(
            name: "ArachneClusterTests", dependencies: ["ArachneCluster", "ArachneSite", "ArachneTestSupport", "arachne"]),
        .testTarget(
            name: "ArachneCLITests", dependencies: ["ArachneCLI", "ArachneArchive", "ArachneTestSupport", "arachne"]),
        // Hosts made of network namespaces on a bridge: needs root (CI); skipped, saying so, elsewhere.
        .testTarget(
            name: "ArachneMultiHostTests",
            dependencies: ["ArachneCluster", "ArachneArchive", "ArachneReport", "ArachneTestSupport", "arachne"]),
    ]
)

// Release builds carry the Swift runtime and Foundation inside the binary (decision 0024): compiled against the
// static modules and linked with `-static-stdlib`, so `swift run -c release` and `swift build -c release` make it
// without extra options. Debug builds (the tests) stay dynamic: the test bundle cannot link statically.
for target in package.targets where (target.type == .regular || target.type == .executable)
    && !(target.path ?? "").hasPrefix("Tests/")
{
    let staticInRelease = ["-static-stdlib"]
    target.swiftSettings = (target.swiftSettings ?? [])
        + [.unsafeFlags(staticInRelease, .when(configuration: .release))]
    if target.type == .executable {
        target.linkerSettings = (target.linkerSettings ?? [])
            + [.unsafeFlags(staticInRelease, .when(configuration: .release))]
    }
}
