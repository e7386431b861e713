// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sluice",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SluiceCore", targets: ["SluiceCore"]),
        .library(name: "SluiceQL", targets: ["SluiceQL"]),
        .library(name: "SluiceRuntime", targets: ["SluiceRuntime"]),
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "SluiceCore"),
        .target(name: "SluiceQL", dependencies: ["SluiceCore"]),
        .target(name: "SluiceRuntime", dependencies: ["SluiceCore", "SluiceQL"]),
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
            name: "SluiceRuntimeTests",
            dependencies: ["SluiceRuntime"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
