//! Issue 3: killed runners and runners sharing a group lose no event.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::harness::{ok, on, require_docker, wait_until, Dev, Event, Project, Rng, VerbServer};

#[test]
fn killing_the_runner_at_random_moments_loses_no_event() {
    require_docker();
    // A verb slower than the producer, so kills land while events flow.
    let server = VerbServer::start(|_, _| {
        std::thread::sleep(Duration::from_millis(8));
        (200, String::new())
    });
    let p = Project::single_subscription(&server.url("/v"), "partitions: 8, key: /u", "");
    let total = 5000;
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    // Events flow (about 1000/s for 5 s) while the runner is killed and
    // restarted; each kill lands after the new runner delivered something.
    let producer =
        p.kafka()
            .produce_keyed_in_background("shop.t", total, 50, 50, Duration::from_millis(100));
    let mut rng = Rng::new();
    let mut dev = Some(dev);
    for kill in 0..6 {
        let before = server.count();
        wait_until("the runner to deliver", Duration::from_secs(60), || {
            server.count() > before || server.count() >= total
        });
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let d = dev.take().unwrap();
        d.signal("KILL");
        eprintln!("kill {kill}: SIGKILL after {} deliveries", server.count());
        drop(d);
        let d = p.dev();
        d.wait_ready();
        dev = Some(d);
    }
    producer.join().unwrap();
    let dev = dev.take().unwrap();
    wait_until(
        "every event to be delivered",
        Duration::from_secs(120),
        || {
            let ids: HashSet<i64> = server
                .requests()
                .iter()
                .map(|r| r.json()["id"].as_i64().unwrap())
                .collect();
            ids.len() == total
        },
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    let reqs = server.requests();
    let ids: HashSet<i64> = reqs
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    let lost: Vec<i64> = (0..total as i64).filter(|i| !ids.contains(i)).collect();
    eprintln!(
        "crash test: {} events, {} deliveries, {} duplicates, {} lost",
        total,
        reqs.len(),
        reqs.len() - ids.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "lost {lost:?}");
}

/// Partitions a runner's log says it delivered from.
/// The partitions whose events this runner delivered.
fn partitions_delivered(dev: &Dev, sub: &str) -> HashSet<i32> {
    dev.events()
        .iter()
        .filter_map(|e| match e {
            Event::Delivery(d) if d.subscription == sub => Some(d.partition),
            _ => None,
        })
        .collect()
}

#[test]
fn two_runners_split_partitions_and_take_over_on_stop_and_after_a_crash() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::single_subscription(&server.url("/v"), "partitions: 4, key: /u", "");
    let kafka_events = |from: usize, n: usize| -> Vec<(String, String)> {
        (from..from + n)
            .map(|id| (format!("u{}", id % 40), format!("{{\"id\":{id}}}")))
            .collect()
    };
    let produce = |p: &Project, events: Vec<(String, String)>| {
        p.kafka().produce(
            "shop.t",
            &events
                .iter()
                .map(|(k, v)| (Some(k.as_str()), v.clone()))
                .collect::<Vec<_>>(),
        );
    };
    let a = p.dev();
    a.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(60),
    );
    let b = p.dev();
    b.wait(on!(Event::ListenFailed { .. }), Duration::from_secs(60));
    b.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(60),
    );
    std::thread::sleep(Duration::from_secs(2));
    produce(&p, kafka_events(0, 400));
    wait_until("400 events", Duration::from_secs(60), || {
        server.requests().len() >= 400
    });
    std::thread::sleep(Duration::from_millis(500));
    let pa = partitions_delivered(&a, "shop.s");
    let pb = partitions_delivered(&b, "shop.s");
    assert!(
        !pa.is_empty() && !pb.is_empty(),
        "both runners deliver: {pa:?} {pb:?}"
    );
    assert!(pa.is_disjoint(&pb), "partitions are split: {pa:?} {pb:?}");

    // SIGTERM: b leaves the group, a takes its partitions at once.
    let assigned_before =
        a.count(&on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"));
    let stopped = Instant::now();
    let (code, log) = b.stop();
    assert_eq!(code, 0, "{log}");
    a.wait_nth(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        assigned_before + 1,
        Duration::from_secs(15),
    );
    eprintln!("takeover after SIGTERM: {:?}", stopped.elapsed());
    produce(&p, kafka_events(400, 200));
    wait_until("600 events", Duration::from_secs(60), || {
        server
            .requests()
            .iter()
            .map(|r| r.json()["id"].as_i64().unwrap())
            .collect::<HashSet<_>>()
            .len()
            >= 600
    });

    // SIGKILL a runner, start a new one: the group recovers.
    let c = p.dev();
    c.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(60),
    );
    c.signal("KILL");
    drop(c);
    let d = p.dev();
    d.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(60),
    );
    produce(&p, kafka_events(600, 200));
    wait_until("800 events", Duration::from_secs(90), || {
        server
            .requests()
            .iter()
            .map(|r| r.json()["id"].as_i64().unwrap())
            .collect::<HashSet<_>>()
            .len()
            >= 800
    });
    let ids: HashSet<i64> = server
        .requests()
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 800, "0 lost");
    d.stop();
    a.stop();
}
