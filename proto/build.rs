//! Compiles `proto/*.proto` with protox (a pure-Rust protobuf compiler), so no system `protoc` is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/plugin.proto",
        "proto/bus.proto",
        "proto/kv.proto",
        "proto/ingester.proto",
        "proto/examples.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .bytes(".mimir.ingester.v1.LabelPair")
        .compile_fds(descriptors)?;
    Ok(())
}
