// swift-tools-version:5.3
// libFuzzer harnesses for Sluice's decoders. A separate package because a libFuzzer binary
// supplies its own `main`: each target's main.swift is compiled with `-parse-as-library`, so it
// only defines `LLVMFuzzerTestOneInput`. Build and run through `make fuzz` (see README.md).
import PackageDescription

let package = Package(
    name: "SluiceFuzz",
    dependencies: [
        .package(name: "Sluice", path: "../.."),
        .package(name: "swift-nio", url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        .target(
            name: "FuzzEventLine",
            dependencies: [.product(name: "SluiceRuntime", package: "Sluice")]
        ),
        .target(
            name: "FuzzSiddhiQL",
            dependencies: [
                .product(name: "SluiceQL", package: "Sluice"),
                .product(name: "SluiceRuntime", package: "Sluice"),
            ]
        ),
        // The wire decoders: the frame layer (FrameCodec, then each payload's decoder) and the
        // columnar batch codec on its own. FuzzWireSupport holds their shared round-trip checks.
        .target(
            name: "FuzzWireSupport",
            dependencies: [
                .product(name: "SluiceWire", package: "Sluice"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "FuzzWireFrame",
            dependencies: [
                "FuzzWireSupport",
                .product(name: "SluiceWire", package: "Sluice"),
                .product(name: "SluiceCluster", package: "Sluice"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "FuzzWireBatch",
            dependencies: [
                "FuzzWireSupport",
                .product(name: "SluiceWire", package: "Sluice"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ]
)
