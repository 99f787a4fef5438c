//! FTL's own gRPC messages and services (`xyz.block.ftl.*`): the runner
//! calls `VerbService` on module servers and serves `PublishService`.

pub mod v1 {
    tonic::include_proto!("xyz.block.ftl.v1");
}

pub mod pubsub {
    pub mod v1 {
        tonic::include_proto!("xyz.block.ftl.pubsub.v1");
    }
}
