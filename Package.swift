// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SluiceQL", targets: ["SluiceQL"]),
        .library(name: "SluiceRuntime", targets: ["SluiceRuntime"]),
        .library(name: "SluiceWire", targets: ["SluiceWire"]),
        .library(name: "SluiceTransport", targets: ["SluiceTransport"]),
        .library(name: "SluiceServer", targets: ["SluiceServer"]),
        .library(name: "SluiceClient", targets: ["SluiceClient"]),
        .library(name: "SluiceCluster", targets: ["SluiceCluster"]),
        .library(name: "SluiceStores", targets: ["SluiceStores"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // The generated code in Sources/SluiceWire/Generated comes from this release's plugin.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // The node's admin port, its metrics and its YAML config.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The HTTP sink (@sink(type='http', publisher.url=…)).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // @store(type='rdbms'): SQLite files (GRDB, over Debian's libsqlite3-dev) and PostgreSQL.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "SluiceCore"),
        .target(name: "SluiceQL", dependencies: ["SluiceCore"]),
        .target(name: "SluiceRuntime", dependencies: ["SluiceCore", "SluiceQL"]),
        // liblz4 from the system (Debian's liblz4-dev; `make deps` installs it).
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "SluiceWire",
            dependencies: [
                "SluiceCore",
                "CLZ4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "SluiceTransport",
            dependencies: [
                "SluiceCore",
                "SluiceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "SluiceServer",
            dependencies: [
                "SluiceCore",
                "SluiceQL",
                "SluiceRuntime",
                "SluiceWire",
                "SluiceTransport",
                "SluiceClient",
                "SluiceCluster",
                "SluiceStores",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The databases behind `@store` tables: the runtime sees them only as `TableStore`s.
        .target(
            name: "SluiceStores",
            dependencies: [
                "SluiceCore",
                "SluiceQL",
                "SluiceRuntime",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The HA group's protocol as pure state machines (no I/O, no NIO channels); the node wires it.
        .target(
            name: "SluiceCluster",
            dependencies: [
                "SluiceCore",
                "SluiceWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // The SDK: it must not import the runtime or the compiler.
        .target(
            name: "SluiceClient",
            dependencies: [
                "SluiceCore",
                "SluiceWire",
                "SluiceTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceRuntime",
                "SluiceServer",
                "SluiceClient",
                "SluiceCluster",
                "SluiceStores",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "SluiceCoreTests", dependencies: ["SluiceCore"]),
        .testTarget(name: "SluiceQLTests", dependencies: ["SluiceQL"]),
        .testTarget(
            name: "SluiceWireTests",
            dependencies: [
                "SluiceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "SluiceRuntimeTests",
            dependencies: ["SluiceRuntime"]
        ),
        .testTarget(
            name: "SluiceStoresTests",
            dependencies: [
                "SluiceStores", "SluiceRuntime", "SluiceQL", "SluiceCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SluiceTransportTests",
            dependencies: ["SluiceTransport", "SluiceWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SluiceClientTests",
            dependencies: [
                "SluiceClient",
                "SluiceTransport",
                "SluiceWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "SluiceClusterTests", dependencies: ["SluiceCluster", "SluiceWire", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(
            name: "SluiceServerTests",
            dependencies: ["SluiceServer", "SluiceClient", "SluiceRuntime", "SluiceWire", "SluiceTransport", "SluiceCluster"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
