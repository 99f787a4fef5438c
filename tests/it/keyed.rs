//! Key-ordered concurrency (`concurrency: {per: key, max: N}`) against the
//! real broker: events of different keys of one partition reach the verb at
//! once, the events of one key one at a time in offset order (retries and
//! dead letters included), and the committed offsets reach the end.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::harness::{require_docker, wait_until, Project, Request, VerbServer};

/// One call as the verb saw it.
#[derive(Debug, Clone)]
struct Call {
    partition: i32,
    offset: i64,
    key: String,
    id: i64,
    attempt: u32,
    at: Instant,
}

fn calls(server: &VerbServer) -> Vec<Call> {
    server.requests().iter().map(call).collect()
}

fn call(r: &Request) -> Call {
    Call {
        partition: r.header("Ftl-Partition").parse().expect("partition"),
        offset: r.header("Ftl-Offset").parse().expect("offset"),
        key: r.header("Ftl-Key").to_string(),
        id: r.json()["id"].as_i64().expect("id"),
        attempt: r.header("Ftl-Attempt").parse().expect("attempt"),
        at: r.at,
    }
}

fn keyed_events(total: usize, keys: usize) -> Vec<(Option<String>, String)> {
    (0..total)
        .map(|id| {
            let u = format!("u{}", id % keys);
            (Some(u.clone()), format!("{{\"id\":{id},\"u\":\"{u}\"}}"))
        })
        .collect()
}

#[test]
fn events_of_different_keys_overlap_and_each_key_keeps_its_order() {
    require_docker();
    const VERB_MS: u64 = 50;
    let server = VerbServer::start(|_, _| {
        std::thread::sleep(Duration::from_millis(VERB_MS));
        (200, String::new())
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "partitions: 2, key: /u",
        "concurrency: {per: key, max: 16}",
    );
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let (total, keys) = (600, 40);
    let events = keyed_events(total, keys);
    let started = Instant::now();
    p.kafka().produce(
        "shop.t",
        &events
            .iter()
            .map(|(k, v)| (k.as_deref(), v.clone()))
            .collect::<Vec<_>>(),
    );
    // While it runs, the runner's status shows several events of a
    // partition at the verb.
    let mut most_in_flight = 0;
    while server.count() < total && started.elapsed() < Duration::from_secs(60) {
        let (code, body) = p.http("GET", "/admin/status", None);
        if code == 200 {
            let status: serde_json::Value = serde_json::from_str(&body).unwrap();
            for c in status["subscriptions"]["shop.s"]["in_flight_per_partition"]
                .as_array()
                .into_iter()
                .flatten()
            {
                most_in_flight = most_in_flight.max(c["events"].as_u64().unwrap_or(0));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let got = calls(&server);
    let ids: HashSet<i64> = got.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), total, "every event delivered");
    // One at a time per partition would take total × 50 ms / 2 partitions.
    let one_at_a_time = Duration::from_millis(total as u64 * VERB_MS / 2);
    assert!(
        elapsed < one_at_a_time / 3,
        "{elapsed:?}: not faster than one event at a time per partition ({one_at_a_time:?})"
    );
    assert!(
        (2..=16).contains(&most_in_flight),
        "the status showed at most {most_in_flight} events of a partition in flight"
    );

    let mut by_key: HashMap<&str, Vec<&Call>> = HashMap::new();
    for c in &got {
        by_key.entry(&c.key).or_default().push(c);
    }
    for (key, mut cs) in by_key {
        cs.sort_by_key(|c| c.at);
        for w in cs.windows(2) {
            assert!(
                w[0].offset < w[1].offset && w[0].id < w[1].id,
                "key {key}: offset {} reached the verb after {}",
                w[1].offset,
                w[0].offset
            );
            // The next call of a key starts only after the last answered.
            assert!(
                w[1].at.duration_since(w[0].at) >= Duration::from_millis(VERB_MS),
                "key {key}: offsets {} and {} were at the verb at once",
                w[0].offset,
                w[1].offset
            );
        }
    }
    // Several calls of one partition overlapped in time, never more than
    // `max`.
    let mut by_partition: BTreeMap<i32, Vec<Instant>> = BTreeMap::new();
    for c in &got {
        by_partition.entry(c.partition).or_default().push(c.at);
    }
    for (partition, mut at) in by_partition {
        at.sort();
        let window = Duration::from_millis(VERB_MS);
        let overlap = (0..at.len())
            .map(|i| {
                at[i..]
                    .iter()
                    .take_while(|t| t.duration_since(at[i]) < window)
                    .count()
            })
            .max()
            .unwrap_or(0);
        assert!(
            (4..=16).contains(&overlap),
            "partition {partition}: at most {overlap} calls within {VERB_MS} ms"
        );
    }
    // Everything finished is committed: the group is at the end.
    let mut ends = [0i64; 2];
    for c in &got {
        ends[c.partition as usize] = ends[c.partition as usize].max(c.offset + 1);
    }
    wait_until(
        "the commit reaches the end",
        Duration::from_secs(20),
        || p.kafka().committed("shop.s", "shop.t", 2) == vec![Some(ends[0]), Some(ends[1])],
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    assert_eq!(server.count(), total, "nothing delivered twice");
}

#[test]
fn a_retrying_event_holds_the_later_events_of_its_key_only() {
    require_docker();
    // Event 0 (key u0) fails every attempt: retried twice, then dead
    // lettered. Every other event takes 10 ms.
    let server = VerbServer::start(|r, _| {
        if r.json()["id"] == 0 {
            return (500, "not now".into());
        }
        std::thread::sleep(Duration::from_millis(10));
        (200, String::new())
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "partitions: 1, key: /u",
        "deadletter: true, retry: {count: 2, min_backoff: 400ms, max_backoff: 400ms}, concurrency: {per: key, max: 4}",
    );
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let (total, keys) = (60, 5);
    let events = keyed_events(total, keys);
    p.kafka().produce(
        "shop.t",
        &events
            .iter()
            .map(|(k, v)| (k.as_deref(), v.clone()))
            .collect::<Vec<_>>(),
    );
    // 3 attempts of event 0, then every other event once.
    wait_until("every event at the verb", Duration::from_secs(60), || {
        server.count() >= total + 2
    });
    let got = calls(&server);
    let attempts: Vec<&Call> = got.iter().filter(|c| c.id == 0).collect();
    assert_eq!(
        attempts.iter().map(|c| c.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let last_attempt = attempts[2].at;
    for c in got.iter().filter(|c| c.id != 0) {
        if c.key == "u0" {
            assert!(
                c.at > last_attempt,
                "u0's event {} reached the verb while event 0 of u0 was still retrying",
                c.id
            );
        } else {
            assert!(
                c.at < last_attempt,
                "{}'s event {} waited for u0's retries",
                c.key,
                c.id
            );
        }
    }
    // Key u0 kept its order after the dead letter.
    let u0: Vec<i64> = got
        .iter()
        .filter(|c| c.key == "u0" && c.id != 0)
        .map(|c| c.id)
        .collect();
    assert!(u0.windows(2).all(|w| w[0] < w[1]), "{u0:?}");
    assert_eq!(u0.len(), total / keys - 1);
    wait_until("the dead letter", Duration::from_secs(20), || {
        p.kafka().read_all("shop.sFailed").len() == 1
    });
    wait_until(
        "the commit reaches the end",
        Duration::from_secs(20),
        || p.kafka().committed("shop.s", "shop.t", 1) == vec![Some(total as i64)],
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_shutdown_abandoning_one_key_commits_below_it_and_its_later_events_come_again() {
    require_docker();
    // Event 0 (key u0) takes longer than the grace period (5 s); the rest
    // are quick and all finish before the Ctrl-C.
    let server = VerbServer::start(|r, _| {
        if r.json()["id"] == 0 {
            std::thread::sleep(Duration::from_secs(8));
        }
        (200, String::new())
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "partitions: 1, key: /u",
        "concurrency: {per: key, max: 4}",
    );
    let mut dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let (total, keys) = (20, 4);
    let events = keyed_events(total, keys);
    p.kafka().produce(
        "shop.t",
        &events
            .iter()
            .map(|(k, v)| (k.as_deref(), v.clone()))
            .collect::<Vec<_>>(),
    );
    // Every key but u0 done: 15 events, and event 0 at the verb.
    let others = total - total / keys;
    server.wait_for(others + 1, Duration::from_secs(30));
    assert_eq!(server.count(), others + 1, "u0's later events waited");
    dev.signal("INT");
    let (code, log) = dev.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");
    // Offsets 1.. finished, 0 did not: nothing past 0 is committed.
    let committed = p.kafka().committed("shop.s", "shop.t", 1);
    assert!(
        matches!(committed[..], [None] | [Some(0)]),
        "committed {committed:?} past the abandoned event 0"
    );
    // Started again: event 0 and everything after it come again, u0's in
    // order.
    let before = server.count();
    let dev = p.dev();
    server.wait_for(before + total, Duration::from_secs(60));
    let again: Vec<Call> = calls(&server)[before..].to_vec();
    let ids: HashSet<i64> = again.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), total, "every event from 0 on delivered again");
    let u0: Vec<i64> = again
        .iter()
        .filter(|c| c.key == "u0")
        .map(|c| c.id)
        .collect();
    assert!(u0.windows(2).all(|w| w[0] < w[1]), "{u0:?}");
    dev.stop();
}
