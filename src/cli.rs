//! The command line: clap types only. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Local PubSub for FTL projects: a Docker-managed Kafka-compatible broker,
/// topics, and one runner that delivers every subscription to its verb.
#[derive(Debug, Parser)]
#[command(name = "ftl", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project directory (holding ftl-project.yaml)
    #[arg(
        short = 'C',
        long = "project",
        value_name = "DIR",
        global = true,
        env = "FTL_PROJECT"
    )]
    pub project: Option<PathBuf>,

    /// Machine-readable output: one JSON object per line
    #[arg(long, global = true)]
    pub json: bool,

    /// More output (-v debug, -vv trace)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Only errors and data
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to color output
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Broker kind, overriding `pubsub.broker.kind` of the project
    #[arg(
        long,
        value_enum,
        global = true,
        env = "FTL_BROKER_KIND",
        value_name = "KIND"
    )]
    pub broker_kind: Option<BrokerKindArg>,

    /// Broker image, overriding `pubsub.broker.image` and the preset's default
    #[arg(long, global = true, env = "FTL_BROKER_IMAGE", value_name = "IMAGE")]
    pub broker_image: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrokerKindArg {
    Redpanda,
    Kafka,
    Tansu,
    External,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new project from the example template
    Init {
        /// Where to create it (default: the current directory)
        dir: Option<PathBuf>,
        /// Project name (default: the directory's name)
        #[arg(long)]
        name: Option<String>,
    },
    /// Add something to the project
    New {
        #[command(subcommand)]
        command: NewCommand,
    },
    /// Start the broker when needed, create topics, run every subscription
    Dev {
        /// Project directory (default: -C or the current directory)
        dir: Option<PathBuf>,
        /// Where the Publisher and admin API listen, overriding
        /// `runner.listen` (a loopback address; port 0 picks a free one)
        #[arg(long, env = "FTL_LISTEN", value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Open the console in the default browser once ready
        #[arg(long)]
        open: bool,
    },
    /// Print the resolved schema
    Schema {
        /// Output format
        #[arg(long, value_enum, default_value_t = SchemaFormat::Ftl)]
        format: SchemaFormat,
    },
    /// Look inside the local PubSub and drive it
    Pubsub {
        #[command(subcommand)]
        command: PubsubCommand,
    },
    /// Show the resolved settings and where each value came from
    ///
    /// Layers, highest first: flags, environment, ftl-project.yaml, the user
    /// settings file (`$XDG_CONFIG_HOME/ftl/config.yaml` or
    /// `~/.config/ftl/config.yaml`, with the keys of `pubsub.broker`), defaults.
    Settings,
    /// Print shell completions
    Completions {
        /// The shell to generate completions for
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum NewCommand {
    /// Add a module folder with an example ftl.yaml
    Module {
        /// Module name (a letter, then letters, digits, `_` or `-`)
        name: String,
        /// How its example verb is called: over HTTP, or FTL's gRPC
        /// VerbService on a module server built with FTL's SDKs
        #[arg(long, value_enum, default_value_t = VerbKindArg::Http)]
        verb: VerbKindArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerbKindArg {
    Http,
    Grpc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Ftl,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum PubsubCommand {
    /// Broker, topics with end offsets, subscriptions with lag, dead letters
    Status {
        /// Also read each typed topic from its beginning and count the
        /// events that do not match its type
        #[arg(long)]
        check: bool,
    },
    /// Publish one event, or NDJSON lines from stdin with `-`
    Publish {
        /// Topic: module.topic, or a unique bare name
        topic: String,
        /// The event as JSON, or `-` for NDJSON on stdin
        event: Option<String>,
        /// Partition key (default: from the topic's `key` pointer)
        #[arg(long)]
        key: Option<String>,
        /// The request the events belong to (`ftl.request_key`); default: a
        /// new request per event
        #[arg(long, value_name = "KEY")]
        request_key: Option<String>,
    },
    /// Print events as they arrive
    Tail {
        /// Topic: module.topic, or a unique bare name
        topic: String,
        /// beginning | latest | OFFSET | -N (last N per partition) | TIME (RFC 3339 or -10m)
        #[arg(long, allow_hyphen_values = true, default_value = "latest")]
        from: String,
        /// Only this partition (repeatable)
        #[arg(long = "partition", short = 'p')]
        partitions: Vec<i32>,
        /// Stop after N events
        #[arg(short = 'n', long = "limit")]
        limit: Option<u64>,
        /// Stop at the current end instead of waiting for more
        #[arg(long)]
        no_follow: bool,
    },
    /// Move a subscription's offsets so its verb processes events again
    Replay {
        /// Subscription: module.subscription, or a unique bare name
        subscription: String,
        /// beginning | latest | TIME (RFC 3339 or -10m)
        #[arg(long, allow_hyphen_values = true, default_value = "beginning")]
        from: String,
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Show one request's way through every topic, as the running `ftl dev` saw it
    Trace {
        /// A request key (`ftl.request_key`), or an event as TOPIC@PARTITION:OFFSET
        request: String,
        /// Keep printing the tree as the request goes on
        #[arg(long, short = 'f')]
        follow: bool,
    },
    /// List a subscription's failed events
    Deadletters {
        /// Subscription: module.subscription, or a unique bare name
        subscription: String,
        /// At most N events
        #[arg(short = 'n', long = "limit")]
        limit: Option<u64>,
        /// Include events already replayed successfully
        #[arg(long)]
        all: bool,
    },
    /// Hand failed events back to the subscription's verb
    ReplayDeadletter {
        /// Subscription: module.subscription, or a unique bare name
        subscription: String,
        /// Show what would be replayed
        #[arg(long)]
        dry_run: bool,
        /// At most N events
        #[arg(short = 'n', long = "limit")]
        limit: Option<u64>,
        /// Do not ask for confirmation (it never asks: accepted so that
        /// scripts can pass it to every command that changes something)
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Manage the broker container
    Broker {
        #[command(subcommand)]
        command: BrokerCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Start the broker (create it if absent)
    Start,
    /// Stop the broker container (its data is kept, except with `tansu`,
    /// whose test preset keeps it in memory)
    Stop {
        /// Do not ask for confirmation when a running `ftl dev` uses the broker
        #[arg(long)]
        yes: bool,
    },
    /// Print the broker's logs
    Logs {
        /// Keep printing new lines
        #[arg(short, long)]
        follow: bool,
        /// Only the last N lines
        #[arg(long, value_name = "N")]
        tail: Option<u64>,
    },
    /// Delete the broker container and its volume: all topics, groups and events
    Reset {
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
