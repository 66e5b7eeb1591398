// swift-tools-version:6.1
import PackageDescription

// Layout and import rules: Docs/architecture.md and STYLE.md.
let package = Package(
    name: "sluice",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sluiced", targets: ["sluiced"]),
        .executable(name: "sluice", targets: ["sluice"]),
        // For the Benchmarks/ package.
        .library(name: "SluiceKit", targets: ["SluiceSystem", "Graph", "Nodes", "TextFormats", "PulseWire", "SluiceDaemon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // C one-liners Swift cannot call (memfd, seals, cmsg, sched, epoll headers). No logic.
        .target(name: "CSluiceShim"),
        // libsndfile: WAV file source/sink nodes and test analysis.
        .systemLibrary(name: "CSndfile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CAsound", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        // libsoxr: sample-rate conversion for pulse streams, and variable-rate resampling for sound
        // cards that follow another clock (chosen by measurement: Docs/dependencies.md).
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        // Test-only malloc interposer; never a dependency of a shipping target.
        .target(name: "CAllocCounter"),

        .target(name: "SluiceSystem", dependencies: [
            "CSluiceShim",
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "TextFormats"),
        .target(name: "Graph", dependencies: [
            "SluiceSystem",
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "Nodes", dependencies: [
            "Graph", "SluiceSystem", "CSndfile", "CAsound", "CSoxr",
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "PulseWire"),
        .target(name: "CompatPulse", dependencies: [
            "PulseWire", "Graph", "SluiceSystem", "CSoxr",
            .product(name: "Atomics", package: "swift-atomics"),
        ]),
        .target(name: "Session", dependencies: ["Graph"]),
        .target(name: "SluiceControl", dependencies: ["TextFormats"]),
        .target(name: "SluiceDaemon", dependencies: [
            "Graph", "Nodes", "Session", "CompatPulse", "SluiceSystem", "SluiceControl", "TextFormats",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "sluiced", dependencies: ["SluiceDaemon"]),
        .executableTarget(name: "sluice", dependencies: [
            "SluiceControl", "TextFormats", "SluiceSystem",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Shared by the test targets: the RT allocation harness, the fake card's build, a seeded RNG.
        .target(name: "TestSupport", dependencies: ["Graph", "SluiceSystem", "CAllocCounter", .product(name: "Atomics", package: "swift-atomics")],
                path: "Tests/TestSupport"),
        .testTarget(name: "SluiceSystemTests", dependencies: ["SluiceSystem"]),
        .testTarget(name: "TextFormatsTests", dependencies: ["TextFormats", "TestSupport"]),
        .testTarget(name: "GraphTests", dependencies: ["Graph", "Nodes", "CAllocCounter", "TestSupport"]),
        .testTarget(name: "AlsaTests", dependencies: ["Graph", "Nodes", "CAsound", "CAllocCounter", "SluiceSystem", "TestSupport", .product(name: "Atomics", package: "swift-atomics")], resources: [.copy("Fixtures")]),
        .testTarget(name: "PulseWireTests", dependencies: ["PulseWire", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CompatPulseTests", dependencies: ["CompatPulse", "Graph", "Nodes", "SluiceSystem", "TestSupport", .product(name: "Atomics", package: "swift-atomics")]),
        .testTarget(name: "IntegrationTests", dependencies: ["SluiceSystem", "CSndfile", "TextFormats", "CSluiceShim", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
