//! Generates the gRPC code (the Publisher, FTL's VerbService and
//! PublishService) from `proto/`. protox parses the .proto
//! in Rust, so a fresh machine needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(
        [
            "ftl/v1/publisher.proto",
            "xyz/block/ftl/v1/verb.proto",
            "xyz/block/ftl/pubsub/v1/publish.proto",
        ],
        ["proto"],
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
