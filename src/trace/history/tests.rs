use super::*;
use crate::events::Source;

const KEY: &str = "req-ingress-shop-a-1";

fn published(topic: &str, offset: i64, by: &str, failed: Option<Source>) -> Event {
    Event::Published(Published {
        topic: topic.into(),
        partition: 0,
        offset,
        key: None,
        request_key: KEY.into(),
        created_at: "2026-12-05T17:00:00.000000001Z".into(),
        by: by.into(),
        failed,
    })
}

fn started(h: &mut History, sub: &str, topic: &str, offset: i64, attempt: u32) {
    h.attempt_started(
        sub,
        &InFlight {
            partition: 0,
            offset,
            key: None,
            attempt,
            since_ms: 1_000 * i64::from(attempt),
            topic: Some(topic.into()),
            request_key: Some(KEY.into()),
            published_at: None,
            published_by: None,
        },
    );
}

fn attempt(sub: &str, topic: &str, offset: i64, attempt: u32, outcome: Outcome) -> Event {
    let mut d = match crate::events::delivery(outcome) {
        Event::Delivery(d) => d,
        _ => unreachable!(),
    };
    d.subscription = sub.into();
    d.topic = topic.into();
    d.partition = 0;
    d.offset = offset;
    d.attempt = attempt;
    d.verb = format!("{sub}Verb");
    d.request_key = Some(KEY.into());
    d.since_published_ms = Some(40);
    d.error = (outcome != Outcome::Ok).then(|| "HTTP 500: boom".to_string());
    if outcome == Outcome::DeadLettered {
        d.deadletter_topic = Some("shop.bFailed".into());
    }
    Event::Delivery(d)
}

fn none(_: &str) -> Vec<(String, String)> {
    Vec::new()
}

/// A publish to `a` from the CLI (seen only when delivered); `a`'s verb
/// publishes to `b` through the Publisher; `b`'s verb fails twice into a
/// dead letter.
fn chain() -> History {
    let mut h = History::new(Budget::default());
    started(&mut h, "shop.sa", "shop.a", 3, 1);
    h.record(&published("shop.b", 0, "http", None));
    h.record(&attempt("shop.sa", "shop.a", 3, 1, Outcome::Ok));
    started(&mut h, "shop.sb", "shop.b", 0, 1);
    h.record(&attempt("shop.sb", "shop.b", 0, 1, Outcome::Retry));
    started(&mut h, "shop.sb", "shop.b", 0, 2);
    let from = Source {
        subscription: "shop.sb".into(),
        topic: "shop.b".into(),
        partition: 0,
        offset: 0,
    };
    h.record(&published("shop.bFailed", 5, "deadletter", Some(from)));
    h.record(&attempt("shop.sb", "shop.b", 0, 2, Outcome::DeadLettered));
    h
}

#[test]
fn a_chain_of_three_topics_is_one_tree() {
    let h = chain();
    let t = h.trace(KEY, &none);
    assert!(t.found);
    assert_eq!(t.publishes.len(), 1, "{t:#?}");
    let a = &t.publishes[0];
    assert_eq!(
        (a.topic.as_str(), a.offset, a.by.as_deref()),
        ("shop.a", Some(3), None)
    );
    let sa = &a.deliveries[0];
    assert_eq!((sa.status, sa.attempts.len()), (Status::Ok, 1));
    let b = &sa.publishes[0];
    assert_eq!(
        (b.topic.as_str(), b.by.as_deref()),
        ("shop.b", Some("http"))
    );
    let sb = &b.deliveries[0];
    assert_eq!(sb.status, Status::DeadLettered);
    assert_eq!(
        sb.attempts
            .iter()
            .map(|a| a.outcome.as_str())
            .collect::<Vec<_>>(),
        ["retry", "dead_lettered"]
    );
    assert_eq!(
        sb.dead_letter,
        Some(At {
            topic: "shop.bFailed".into(),
            partition: 0,
            offset: 5
        })
    );
    assert_eq!(sb.publishes[0].by.as_deref(), Some("deadletter"));
    assert_eq!(
        h.key_of(&sb.dead_letter.clone().unwrap()).as_deref(),
        Some(KEY)
    );
    let text = super::super::render(&t);
    assert!(
        text.contains("shop.sb → shop.sbVerb: dead-lettered to shop.bFailed 0@5"),
        "{text}"
    );
}

#[test]
fn subscriptions_that_have_not_begun_show_as_pending() {
    let h = chain();
    let subs = |topic: &str| {
        if topic == "shop.bFailed" {
            vec![("shop.audit".to_string(), "audit".to_string())]
        } else {
            Vec::new()
        }
    };
    let t = h.trace(KEY, &subs);
    let dl = &t.publishes[0].deliveries[0].publishes[0].deliveries[0].publishes[0];
    assert_eq!(dl.deliveries[0].status, Status::Pending);
    assert_eq!(dl.deliveries[0].subscription, "shop.audit");
}

#[test]
fn an_attempt_running_now_is_in_flight_and_unknown_requests_say_what_is_kept() {
    let mut h = History::new(Budget::default());
    started(&mut h, "shop.sa", "shop.a", 3, 1);
    let t = h.trace(KEY, &none);
    assert_eq!(t.publishes[0].deliveries[0].status, Status::InFlight);
    let missing = h.trace("req-ingress-x-2", &none);
    assert!(!missing.found);
    assert_eq!(missing.kept.requests, 1);
}

#[test]
fn the_oldest_requests_go_first_when_the_budget_is_full() {
    let budget = Budget {
        requests: 3,
        steps: 1_000,
        bytes: 1 << 20,
        steps_per_request: 5,
    };
    let mut h = History::new(budget);
    for i in 0..5 {
        let mut p = match published("shop.a", i, "cli", None) {
            Event::Published(p) => p,
            _ => unreachable!(),
        };
        p.request_key = format!("req-{i}");
        h.record(&Event::Published(p));
    }
    let kept = h.kept();
    assert_eq!((kept.requests, kept.dropped), (3, 2));
    assert!(!h.trace("req-0", &none).found);
    assert!(h.trace("req-4", &none).found);
    // One request cannot keep more than its share.
    for i in 0..10 {
        h.record(&published("shop.a", 100 + i, "cli", None));
    }
    let t = h.trace(KEY, &none);
    assert!(t.truncated);
    assert_eq!(t.publishes.len(), 5);
    // Each step counts its fixed cost and its text, and no more than twice that.
    let bytes_per_step = h.kept().bytes / h.kept().steps;
    assert!(
        (STEP_BYTES..2 * STEP_BYTES).contains(&bytes_per_step),
        "{bytes_per_step}"
    );
}
