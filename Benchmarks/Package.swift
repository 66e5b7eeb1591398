// swift-tools-version:6.1
// A separate package so the main package's builds and CI never pay for the benchmark stack.
// Run with `make bench` (or `swift package --disable-sandbox benchmark` here).
import Foundation
import PackageDescription

// A path dependency's identity is its folder's name, which depends on where the repo was cloned.
let sluiceIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "SluiceBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "GraphBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SluiceKit", package: sluiceIdentity),
            ],
            path: "Benchmarks/GraphBench",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
