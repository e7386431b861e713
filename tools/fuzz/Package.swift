// swift-tools-version:5.3
// libFuzzer harnesses for Sluice's decoders. A separate package because a libFuzzer binary
// supplies its own `main`: each target's main.swift is compiled with `-parse-as-library`, so it
// only defines `LLVMFuzzerTestOneInput`. Build and run through `make fuzz` (see README.md).
import PackageDescription

let package = Package(
    name: "SluiceFuzz",
    dependencies: [
        .package(name: "Sluice", path: "../.."),
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
    ]
)
