//! The integration suite: the real `ftl` binary against the real Docker
//! Engine and a real Kafka-compatible broker (Tansu; see TEST-BROKER notes
//! in the README). One binary, modules per area.
#![allow(clippy::unwrap_used)]

mod broker_follow;
mod cli;
mod console;
mod contract;
mod crashes;
mod deadletters;
mod editing;
mod events;
mod faults;
mod faults_broker;
mod first_hour;
mod first_hour_2;
mod grpc_verbs;
mod harness;
mod hostile;
mod hostile_input;
mod keyed;
mod publisher_api;
mod pubsub;
mod runner;
mod settings;
mod shutdown;
mod skeleton;
mod time_lookup;
mod trace;
mod typed;
