// swift-tools-version:6.1
import PackageDescription

// `.package(path: "..")` gets its identity from the folder the Sluice checkout lives in
// ("main" here), so derive it instead of hard-coding it: a clone in another folder still builds.
let sluice: String = {
    let parts = Context.packageDirectory.split(separator: "/")
    return parts.count >= 2 ? String(parts[parts.count - 2]) : "main"
}()

let package = Package(
    name: "SluicePerf",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // The workloads (data, apps, drivers), shared by the benchmarks and the profiling executable.
        .target(
            name: "Workloads",
            dependencies: [
                .product(name: "SluiceCore", package: sluice),
                .product(name: "SluiceRuntime", package: sluice),
                .product(name: "SluiceClient", package: sluice),
            ],
            path: "Sources/Workloads"
        ),
        .executableTarget(
            name: "RuntimeBenchmarks",
            dependencies: [
                "Workloads",
                .product(name: "SluiceCore", package: sluice),
                .product(name: "SluiceRuntime", package: sluice),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RuntimeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "WireBenchmarks",
            dependencies: [
                "Workloads",
                .product(name: "SluiceCore", package: sluice),
                .product(name: "SluiceWire", package: sluice),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/WireBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Send → subscriber latency through a node on loopback (issue 3's p99 goal).
        .executableTarget(
            name: "LatencyProbe",
            dependencies: [
                .product(name: "SluiceCore", package: sluice),
                .product(name: "SluiceServer", package: sluice),
                .product(name: "SluiceClient", package: sluice),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/LatencyProbe"
        ),
        // The peers' job (make bench-peers) in the embedded engine.
        .executableTarget(
            name: "PeerJob",
            dependencies: [
                .product(name: "SluiceCore", package: sluice),
                .product(name: "SluiceRuntime", package: sluice),
                .product(name: "SluiceClient", package: sluice),
            ],
            path: "Sources/PeerJob"
        ),
        // A plain executable (no benchmark harness, no malloc interposer) to run one workload
        // under valgrind --tool=callgrind.
        .executableTarget(
            name: "ProfileRuntime",
            dependencies: ["Workloads", .product(name: "SluiceWire", package: sluice)],
            path: "Sources/ProfileRuntime"
        ),
    ],
    swiftLanguageModes: [.v6]
)
