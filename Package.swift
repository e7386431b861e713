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
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // The generated code in Sources/SluiceWire/Generated comes from this release's plugin.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
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
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
    ],
    swiftLanguageModes: [.v6]
)
