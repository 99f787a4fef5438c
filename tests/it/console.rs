//! Issue 12: the console in a real browser (headless Chromium through
//! WebDriver) against a real `ftl dev` and broker. Screenshots of each view
//! land in `<target>/tmp/console-screenshots/`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::browser::Browser;
use crate::harness::{on, require_docker, Event, Project, VerbServer};

/// A project whose verb fails events with `"fail": true` while `broken`.
fn shop(broken: Arc<AtomicBool>) -> (Project, VerbServer) {
    let server = VerbServer::start(move |r, _| {
        let fail = serde_json::from_slice::<serde_json::Value>(&r.body)
            .map(|v| v["fail"] == true)
            .unwrap_or(false);
        let slow = serde_json::from_slice::<serde_json::Value>(&r.body)
            .map(|v| v["slow"] == true)
            .unwrap_or(false);
        if slow {
            std::thread::sleep(Duration::from_secs(4));
        }
        if fail && broken.load(Ordering::SeqCst) {
            (500, "the oven is cold".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::new();
    p.module("shop")
        .http_verb("cook", &server.url("/cook"))
        .topic("orders", "partitions: 2, key: /user")
        .subscription(
            "kitchen",
            "topic: orders, verb: cook, deadletter: true, retry: {count: 1, min_backoff: 50ms, max_backoff: 50ms}",
        )
        .write();
    (p, server)
}

fn bodies(server: &VerbServer) -> Vec<serde_json::Value> {
    server.requests().iter().map(|r| r.json()).collect()
}

#[test]
fn the_console_shows_deliveries_and_replays_a_dead_letter() {
    if crate::first_hour_2::no_browser() {
        return;
    }
    require_docker();
    let broken = Arc::new(AtomicBool::new(true));
    let (p, server) = shop(broken.clone());
    let dev = p.dev();
    let url = match dev.wait_ready() {
        Event::Ready {
            console: Some(url), ..
        } => url,
        e => panic!("ready names the console: {e:?}"),
    };
    assert_eq!(url, format!("http://{}/", p.listen));
    dev.wait_assigned("shop.kitchen", 1);

    let b = Browser::start("light");
    b.goto(&url);
    // Overview: the stream is live and the subscription runs.
    b.wait_for(
        "the event stream",
        crate::harness::browser::PAGE_OPEN,
        "return document.querySelector('#live-pill').textContent === 'live'",
    );
    b.wait_for(
        "the subscription's row",
        Duration::from_secs(10),
        "const r = document.querySelector('tr[data-sub=\"shop.kitchen\"]'); return r && r.innerText.includes('running')",
    );
    b.wait_for(
        "the topic's row",
        Duration::from_secs(10),
        "return document.querySelector('#topics').innerText.includes('shop.orders')",
    );

    // Publish from the page, and from the command line.
    b.click("#tab-publish");
    b.wait_for(
        "the topic in the publish form",
        Duration::from_secs(5),
        "return document.querySelector('#publish-form select').value === 'shop.orders'",
    );
    b.type_into(
        "#publish-form textarea",
        r#"{"user":"from-page","pizza":"margherita"}"#,
    );
    let published = Instant::now();
    b.click("#publish-form button[type=submit]");
    b.wait_for(
        "the publish result",
        Duration::from_secs(5),
        "return document.querySelector('#publish-result').textContent.startsWith('published to shop.orders')",
    );
    p.run(&[
        "pubsub",
        "publish",
        "shop.orders",
        r#"{"user":"from-cli","pizza":"diavola"}"#,
    ])
    .succeeds();
    b.click("#tab-deliveries");
    b.wait_for(
        "both deliveries in Live deliveries",
        Duration::from_secs(2),
        "const t = document.querySelector('#deliveries tbody').innerText; return t.includes('from-page') && t.includes('from-cli')",
    );
    let seen = published.elapsed();
    assert!(seen < Duration::from_secs(3), "{seen:?}");
    let keys: Vec<String> = bodies(&server)
        .iter()
        .map(|v| v["user"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        keys.contains(&"from-page".into()) && keys.contains(&"from-cli".into()),
        "{keys:?}"
    );
    // A row opens its event as the topic holds it; Enter opens it too.
    b.click("#deliveries tbody tr");
    b.wait_for(
        "the event of the row",
        Duration::from_secs(5),
        "return document.querySelector('#delivery-detail').innerText.includes('\"pizza\"')",
    );

    // A failing event: retried, then dead-lettered, live.
    p.run(&[
        "pubsub",
        "publish",
        "shop.orders",
        r#"{"user":"cold","fail":true}"#,
    ])
    .succeeds();
    b.wait_for(
        "the dead-lettered delivery",
        Duration::from_secs(10),
        "return document.querySelector('#deliveries tbody').innerText.includes('dead_lettered')",
    );
    b.screenshot("deliveries");
    b.type_into("#delivery-filters input[name=key]", "cold");
    b.wait_for(
        "the key filter",
        Duration::from_secs(2),
        "const rows = [...document.querySelectorAll('#deliveries tbody tr')]; return rows.length === 2 && rows.every(r => r.innerText.includes('cold'))",
    );

    // Dead letters: listed with the error; replayed with the button once
    // the verb works again.
    b.click("#tab-deadletters");
    b.wait_for(
        "the dead letter",
        Duration::from_secs(10),
        "return document.querySelector('#dls tbody').innerText.includes('the oven is cold')",
    );
    b.screenshot("deadletters");
    broken.store(false, Ordering::SeqCst);
    let before = server.count();
    b.click("#dls tbody tr button:not([aria-expanded])");
    b.wait_for(
        "the replay's result",
        Duration::from_secs(10),
        "return document.querySelector('#dl-result').textContent.includes('1 ok')",
    );
    let after = bodies(&server);
    assert_eq!(after.len(), before + 1, "the verb got the dead letter once");
    assert_eq!(after.last().unwrap()["user"], "cold");
    dev.wait(
        on!(Event::DeadletterReplayDone { subscription, .. } if subscription == "shop.kitchen"),
        Duration::from_secs(5),
    );
    b.wait_for(
        "no pending dead letter",
        Duration::from_secs(5),
        "return document.querySelector('#dl-stats').textContent.startsWith('0 pending')",
    );

    // Topic browser: the three events from the beginning, with headers.
    b.click("#tab-topics");
    b.find("#browse-form select[name=mode]");
    b.eval("const s = document.querySelector('#browse-form select[name=mode]'); s.value = 'beginning'; s.dispatchEvent(new Event('change')); return true");
    b.click("#browse-form button[type=submit]");
    b.wait_for(
        "three events",
        Duration::from_secs(5),
        "return document.querySelector('#browse-stats').textContent === '3 events'",
    );
    assert!(b.text("#records").contains("margherita"));
    b.screenshot("topics");

    // Replay from the beginning: the confirmation says how many events.
    b.click("#tab-overview");
    b.click("tr[data-sub=\"shop.kitchen\"] button");
    b.wait_for(
        "the replay preview",
        Duration::from_secs(5),
        "return document.querySelector('#replay-preview').textContent.includes('This hands 3 events to cook again')",
    );
    b.screenshot("replay");
    let before = server.count();
    b.click("#replay-confirm");
    dev.wait(
        on!(Event::ReplayDone { subscription, .. } if subscription == "shop.kitchen"),
        Duration::from_secs(10),
    );
    let got = server.wait_for(before + 3, Duration::from_secs(10));
    assert_eq!(
        got.len(),
        before + 3,
        "the replay delivered the three again"
    );
    b.wait_for(
        "the counters",
        Duration::from_secs(5),
        "return document.querySelector('tr[data-sub=\"shop.kitchen\"]').innerText.includes('5 / 1 / 1')",
    );
    b.screenshot("overview");

    // Keyboard: the tabs follow the arrow keys.
    b.eval("document.querySelector('#tab-overview').focus(); return true");
    b.keys("\u{E014}"); // ArrowRight
    b.wait_for(
        "the next tab",
        Duration::from_secs(2),
        "return document.activeElement.id === 'tab-deliveries' && !document.querySelector('#view-deliveries').hidden",
    );
    // No console asset came from another host.
    let foreign = b.eval(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))",
    );
    assert_eq!(foreign, json!([]));
    dev.stop();
}

#[test]
fn the_console_follows_the_dark_preference_and_a_foreign_page_cannot_use_the_runner() {
    if crate::first_hour_2::no_browser() {
        return;
    }
    require_docker();
    let (p, _server) = shop(Arc::new(AtomicBool::new(false)));
    let dev = p.dev();
    let Event::Ready {
        console: Some(url), ..
    } = dev.wait_ready()
    else {
        panic!("ready names the console:\n{}", dev.log())
    };
    let b = Browser::start("dark");
    b.goto(&url);
    b.wait_for(
        "the subscription's row",
        crate::harness::browser::PAGE_OPEN,
        "const r = document.querySelector('tr[data-sub=\"shop.kitchen\"]'); return r && r.innerText.includes('running')",
    );
    let bg = b.eval("return getComputedStyle(document.body).backgroundColor");
    assert_eq!(bg, "rgb(20, 22, 26)", "dark background");
    // The event a verb is stuck on shows with its age and attempt.
    p.run(&[
        "pubsub",
        "publish",
        "shop.orders",
        r#"{"user":"sloth","slow":true}"#,
    ])
    .succeeds();
    b.wait_for(
        "the event in flight",
        Duration::from_secs(5),
        "const r = document.querySelector('tr[data-sub=\"shop.kitchen\"]'); return r && r.innerText.includes('sloth #1')",
    );
    b.wait_for(
        "the topic with its event",
        Duration::from_secs(5),
        "return document.querySelector('#topics').innerText.includes('shop.orders')",
    );
    b.screenshot("overview-dark");

    // Another origin on this machine (a page the developer visits): it can
    // neither read the runner nor change anything, even with `no-cors`.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in other.incoming().map_while(Result::ok) {
            let mut s = s;
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let page = "<!doctype html><title>elsewhere</title><p>elsewhere</p>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    b.goto(&format!("http://localhost:{other_port}/"));
    let tried = b.eval(&format!(
        r#"const base = {};
        const out = {{}};
        try {{ const r = await fetch(base + 'admin/status'); out.read = 'read ' + r.status; }} catch (e) {{ out.read = 'blocked'; }}
        try {{ await fetch(base + 'admin/subscriptions/shop.kitchen/replay', {{method: 'POST', mode: 'no-cors', headers: {{'Content-Type': 'text/plain'}}, body: '{{"from":"beginning"}}'}}); out.simple = 'sent'; }} catch (e) {{ out.simple = 'blocked'; }}
        try {{ await fetch(base + 'admin/subscriptions/shop.kitchen/replay', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body: '{{"from":"beginning"}}'}}); out.json = 'sent'; }} catch (e) {{ out.json = 'blocked'; }}
        try {{ await fetch(base + 'topics/shop.orders', {{method: 'POST', mode: 'no-cors', headers: {{'Content-Type': 'text/plain'}}, body: '{{"user":"evil"}}'}}); }} catch (e) {{}}
        return out;"#,
        json!(url)
    ));
    assert_eq!(tried["read"], "blocked", "{tried}");
    assert_eq!(tried["json"], "blocked", "{tried}");
    // The no-cors requests reach the runner and are refused there.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        dev.count(&on!(Event::ReplayStarted { .. })),
        0,
        "{}",
        dev.log()
    );
    let (_, status) = p.http("GET", "/admin/overview", None);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        v["topics"][0]["events"], 1,
        "only the test's own event: {v}"
    );
    // And it cannot frame the console.
    let page = crate::harness::request(&p.listen, "GET", "/", &[], "");
    assert_eq!(page.header("x-frame-options"), "DENY", "{page:?}");
    assert!(
        page.header("content-security-policy")
            .contains("frame-ancestors 'none'"),
        "{page:?}"
    );
    dev.stop();
}
