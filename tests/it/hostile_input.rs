//! Issue 25: bad input never changes meaning. Each case was tried as a
//! hostile user would, and once changed what `ftl` did without saying so.

use std::path::Path;
use std::time::Duration;

use crate::harness::{on, require_docker, Event, Project};

/// The next `reload_rejected` (the `n`th): its problems and how many
/// subscriptions still run.
fn rejected(dev: &crate::harness::Dev, n: usize) -> (String, usize) {
    dev.wait_nth(
        on!(Event::ReloadRejected { problems, running } => (problems.clone(), *running)),
        n,
        Duration::from_secs(30),
    )
}

/// Sends `text` as it is on a new connection; everything the runner
/// answers until it closes or 5 s pass.
fn raw(addr: &str, text: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(text.as_bytes()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Puts a symlink to `target` at `link`, replacing what is there at once.
#[cfg(unix)]
fn symlink_over(target: &str, link: &Path) {
    let tmp = link.with_extension("link~");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).unwrap();
    std::fs::rename(&tmp, link).unwrap();
}

#[test]
fn a_nul_byte_in_a_project_file_is_an_error_at_its_position_not_the_end_of_the_file() {
    let p = Project::new().without_broker();
    p.write(
        "m/ftl.yaml",
        "module: m\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  t: {}\n\0subscriptions:\n  s: {topic: t, verb: v}\n",
    );
    p.run(&["schema"])
        .fails_with(2)
        .says("error: the file holds a NUL byte (U+0000), which YAML does not allow")
        .says("--> m/ftl.yaml:6:1");
    p.write(
        "m/ftl.yaml",
        "module: m\ntopics:\n  t: {event: \"A\u{1b}]0;pwned\u{7}\"}\n",
    );
    let out = p.run(&["schema"]);
    out.fails_with(2)
        .says("the file holds an escape character (U+001B)")
        .says("--> m/ftl.yaml:3:16");
    // The source line shown under the problem does not carry it either.
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
}

#[cfg(unix)]
#[test]
fn a_module_file_that_cannot_be_used_is_an_error_naming_it_and_never_opened() {
    let p = Project::new().without_broker();
    let file = p.path().join("m/ftl.yaml");
    std::fs::create_dir_all(p.path().join("m")).unwrap();
    type Make<'a> = Box<dyn Fn() + 'a>;
    let cases: Vec<(&str, Make)> = vec![
        (
            "it is a symlink loop",
            Box::new(|| symlink_over("ftl.yaml", &file)),
        ),
        (
            "it is a symlink to `gone.yaml`, which does not exist",
            Box::new(|| symlink_over("gone.yaml", &file)),
        ),
        (
            "it is a device, not a file; it was not opened",
            Box::new(|| symlink_over("/dev/zero", &file)),
        ),
        (
            "it is a named pipe (FIFO), not a file; it was not opened",
            Box::new(|| {
                let _ = std::fs::remove_file(&file);
                assert!(std::process::Command::new("mkfifo")
                    .arg(&file)
                    .status()
                    .unwrap()
                    .success());
            }),
        ),
        (
            "it is a folder, not a file",
            Box::new(|| {
                let _ = std::fs::remove_file(&file);
                std::fs::create_dir(&file).unwrap();
            }),
        ),
    ];
    for (why, make) in cases {
        make();
        p.run(&["schema"])
            .fails_with(2)
            .says(&format!("error: `m/ftl.yaml` cannot be used: {why}"));
    }
    let _ = std::fs::remove_dir(&file);
    std::fs::write(&file, "module: m\n").unwrap();
    p.run(&["schema"]).succeeds();
    // A module folder this user cannot look into (root reads everything).
    use std::os::unix::fs::PermissionsExt;
    let folder = p.path().join("m");
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&folder).is_err() {
        p.run(&["schema"])
            .fails_with(2)
            .says("`m/ftl.yaml` cannot be used: permission denied");
    }
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn a_running_dev_keeps_its_subscriptions_when_a_file_gets_a_nul_byte_or_becomes_unusable() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let file = p.path().join("shop/ftl.yaml");
    let good = std::fs::read_to_string(&file).unwrap();
    let cut = good.replace("subscriptions:", "\0subscriptions:");
    assert_ne!(cut, good);
    p.write("shop/ftl.yaml", &cut);
    let (problems, running) = rejected(&dev, 1);
    assert_eq!(running, 1, "{problems}");
    assert!(problems.contains("NUL byte"), "{problems}");
    symlink_over("gone.yaml", &file);
    let (problems, running) = rejected(&dev, 2);
    assert_eq!(running, 1, "{problems}");
    assert!(
        problems.contains("symlink to `gone.yaml`, which does not exist"),
        "{problems}"
    );
    // A FIFO does not stall the watch: the good file comes back and is read.
    std::fs::remove_file(&file).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(&file)
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_secs(1));
    std::fs::remove_file(&file).unwrap();
    p.write("shop/ftl.yaml", &format!("{good}\n# edited\n"));
    p.run(&["pubsub", "status"]).succeeds().prints("shop.s");
    assert_eq!(
        dev.count(&on!(Event::ReloadApplied { .. })),
        0,
        "{}",
        dev.log()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("\"stopped\":[\"shop.s\"]"), "{log}");
}

/// The keys no HTTP header or environment could hold as they are.
const HOSTILE_KEYS: [(&str, &str); 5] = [
    ("a%0Ab", "a%0Ab"),
    ("%7F", "%7F"),
    ("%01", "%01"),
    ("%00", "%00"),
    (
        "%1B%5B31mRED%1B%5D0%3Bpwned%07",
        "%1B%5B31mRED%1B%5D0%3Bpwned%07",
    ),
];

#[test]
fn keys_no_verb_could_take_as_they_are_reach_it_encoded_and_are_shown_escaped() {
    require_docker();
    let server = crate::harness::VerbServer::start(|_, _| (200, String::new()));
    let p = Project::new();
    p.write(
        "shop/verb.sh",
        "printf '%s|%s\\n' \"$FTL_KEY\" \"$FTL_KEY_ENCODING\" >> keys.txt\nexit 65\n",
    );
    p.module("shop")
        .http_verb("v", &server.url("/v"))
        .verb("x", "exec: [sh, verb.sh]")
        .topic("t", "")
        .subscription("s", "topic: t, verb: v")
        .subscription("e", "topic: t, verb: x, deadletter: true")
        .write();
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    dev.wait_assigned("shop.e", 1);
    for (query, _) in HOSTILE_KEYS {
        let (code, body) = p.http(
            "POST",
            &format!("/topics/shop.t?key={query}"),
            Some("{\"id\":1}"),
        );
        assert_eq!(code, 200, "{query}: {body}");
    }
    // The HTTP verb gets each key percent-encoded, and is told so.
    let got = server.wait_for(HOSTILE_KEYS.len(), Duration::from_secs(30));
    let keys: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            (
                r.header("ftl-key").to_string(),
                r.header("ftl-key-encoding").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = HOSTILE_KEYS
        .iter()
        .map(|(_, sent)| (sent.to_string(), "percent".to_string()))
        .collect();
    assert_eq!(keys, want);
    // The exec verb too (a NUL byte could not be in its environment); each
    // event failed on purpose and was dead-lettered, none dropped.
    crate::harness::wait_until("five dead letters", Duration::from_secs(60), || {
        p.run(&["pubsub", "deadletters", "e", "--json"])
            .stdout
            .lines()
            .count()
            == 5
    });
    let seen = std::fs::read_to_string(p.path().join("shop/keys.txt")).unwrap();
    let want: Vec<String> = HOSTILE_KEYS
        .iter()
        .map(|(_, sent)| format!("{sent}|percent"))
        .collect();
    assert_eq!(seen.lines().collect::<Vec<_>>(), want);
    // Text output shows control characters escaped; JSON is unchanged.
    for args in [
        &[
            "pubsub",
            "tail",
            "shop.t",
            "--from",
            "beginning",
            "--no-follow",
        ][..],
        &["pubsub", "deadletters", "e"][..],
    ] {
        let out = p.run(args);
        out.succeeds();
        assert!(!out.stdout.contains('\u{1b}'), "{args:?}: {}", out.stdout);
        assert!(!out.stdout.contains('\u{7}'), "{args:?}: {}", out.stdout);
        assert!(
            out.stdout.contains("key=\\x1b[31mRED\\x1b]0;pwned\\x07"),
            "{args:?}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("key=a\\nb"), "{args:?}: {}", out.stdout);
    }
    let json = p.run(&[
        "pubsub",
        "tail",
        "shop.t",
        "--from",
        "beginning",
        "--no-follow",
        "--json",
    ]);
    assert!(
        json.stdout
            .contains(r#""key":"\u001b[31mRED\u001b]0;pwned\u0007""#),
        "{}",
        json.stdout
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn the_admin_api_and_publisher_refuse_what_they_do_not_know() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "deadletter: true");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    for (path, body, field) in [
        (
            "/admin/subscriptions/shop.s/replay-deadletter",
            "{\"dryRun\": true}",
            "dryRun",
        ),
        (
            "/admin/subscriptions/shop.s/replay",
            "{\"from\":\"latest\",\"x\":1}",
            "`x`",
        ),
        ("/topics/shop.t?kye=a", "{\"id\":1}", "kye"),
    ] {
        let (code, text) = p.http("POST", path, Some(body));
        assert_eq!(code, 400, "{path}: {text}");
        assert!(text.contains(field), "{path}: {text}");
    }
    let (code, text) = p.http("GET", "/admin/topics/shop.t/events?form=beginning", None);
    assert_eq!(code, 400, "{text}");
    let started = std::time::Instant::now();
    let (code, text) = p.http(
        "GET",
        "/admin/subscriptions/shop.s/replay-preview?from=-9223372036854775808",
        None,
    );
    assert_eq!(code, 400, "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let (code, text) = p.http(
        "POST",
        "/admin/subscriptions/shop.s/replay",
        Some("{\"from\":{\"time\":-5}}"),
    );
    assert_eq!(code, 400, "{text}");
    // Nothing was published, replayed or moved.
    assert!(p.kafka().read_all("shop.t").is_empty());
    assert_eq!(
        dev.count(&on!(Event::ReplayStarted { .. }))
            + dev.count(&on!(Event::DeadletterReplayDone { .. })),
        0,
        "{}",
        dev.log()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

/// `ftl dev`'s resident memory in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// Reads until the server closes (true) or `within` passes (false).
fn closed_within(s: &mut std::net::TcpStream, within: Duration) -> bool {
    use std::io::Read;
    let until = std::time::Instant::now() + within;
    let mut buf = [0u8; 4096];
    while std::time::Instant::now() < until {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => {}
        }
    }
    false
}

#[test]
fn the_listener_refuses_ambiguous_huge_and_slow_requests_and_bounds_its_connections() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    let addr = p.listen.clone();
    // Two Host or two Origin headers: which one a check reads is a guess.
    for twice in [
        format!("Host: {addr}\r\nHost: evil.example"),
        format!("Host: {addr}\r\nOrigin: http://{addr}\r\nOrigin: http://evil.example"),
    ] {
        let text = raw(
            &addr,
            &format!("POST /topics/shop.t HTTP/1.1\r\n{twice}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{{}}"),
        );
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
        assert!(text.contains("more than one"), "{text}");
    }
    // A huge Content-Length: 413 at once, and the connection closed.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /topics/shop.t HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 100000000000\r\n\r\n{{"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(closed_within(&mut s, Duration::from_secs(2)), "{answer}");

    let before = rss_kb(dev.pid());
    // 3,000 idle connections and 200 slow ones (a header byte a second):
    // at most 1024 are served at once, each closed after 10 s without its
    // headers.
    let mut slow: Vec<TcpStream> = (0..200)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    for s in &mut slow {
        let _ = s.write_all(b"GET /admin/status HTTP/1.1\r\n");
    }
    let idle: Vec<TcpStream> = (0..3000)
        .filter_map(|_| {
            TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1)).ok()
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let held = rss_kb(dev.pid());
    let started = std::time::Instant::now();
    for _ in 0..11 {
        for s in &mut slow {
            let _ = s.write_all(b"X");
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let mut closed = 0;
    for s in &mut slow {
        if closed_within(s, Duration::from_millis(10)) {
            closed += 1;
        }
    }
    eprintln!(
        "{} idle + {} slow connections: rss {before} kB -> {held} kB; {closed} slow ones closed after {:?}",
        idle.len(),
        slow.len(),
        started.elapsed()
    );
    assert_eq!(closed, slow.len());
    assert!(held < before + 40_000, "rss {before} kB -> {held} kB");
    drop(idle);
    // Served again once they are gone.
    let (code, text) = p.http("GET", "/admin/status", None);
    assert_eq!(code, 200, "{text}");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_unary_grpc_call_carries_one_message_and_a_key_that_is_not_utf8_is_invalid() {
    use tonic::codegen::Service;
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = format!("http://{}", p.listen);
    let statuses = rt.block_on(async {
        let mut channel = tonic::transport::Channel::from_shared(url.clone())
            .unwrap()
            .connect()
            .await
            .unwrap();
        // ftl.v1.PublishRequest {topic: {module: "shop", name: "t"}, body: "{}"}.
        let message = "\u{a}\u{9}\u{a}\u{4}shop\u{12}\u{1}t\u{12}\u{2}{}";
        let frame = format!("\0\0\0\0{}{message}", char::from(message.len() as u8));
        let mut statuses = Vec::new();
        for body in [frame.clone(), frame.repeat(2)] {
            let request = tonic::codegen::http::Request::builder()
                .method("POST")
                .uri(format!("{url}/ftl.v1.Publisher/Publish"))
                .header("content-type", "application/grpc")
                .header("te", "trailers")
                .body(tonic::body::Body::new(body))
                .unwrap();
            std::future::poll_fn(|cx| channel.poll_ready(cx))
                .await
                .unwrap();
            let response = channel.call(request).await.unwrap();
            let status = tonic::Status::from_header_map(response.headers())
                .map(|s| s.code())
                .unwrap_or(tonic::Code::Ok);
            statuses.push(status);
        }
        // PublishEventRequest {topic: {name: "t", module: "shop"}, key: 0xff 0xfe}.
        let message: &[u8] = b"\x0a\x09\x12\x01t\x1a\x04shop\x1a\x02\xff\xfe";
        let mut frame = vec![0, 0, 0, 0, message.len() as u8];
        frame.extend_from_slice(message);
        let request = tonic::codegen::http::Request::builder()
            .method("POST")
            .uri(format!(
                "{url}/xyz.block.ftl.pubsub.v1.PublishService/PublishEvent"
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(tonic::body::Body::new(axum::body::Body::from(frame)))
            .unwrap();
        std::future::poll_fn(|cx| channel.poll_ready(cx))
            .await
            .unwrap();
        let response = channel.call(request).await.unwrap();
        let status = tonic::Status::from_header_map(response.headers()).map(|s| s.code());
        statuses.push(status.unwrap_or(tonic::Code::Ok));
        statuses
    });
    assert_eq!(
        statuses,
        vec![
            tonic::Code::Ok,
            tonic::Code::InvalidArgument,
            tonic::Code::InvalidArgument
        ]
    );
    // Only the one good call published.
    assert_eq!(p.kafka().read_all("shop.t").len(), 1);
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn tail_from_past_the_end_says_so_with_the_end_and_exits() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "partitions: 4, key: /k", "");
    let dev = p.dev();
    dev.wait_ready();
    for (key, id) in [("a", 1), ("a", 2), ("a", 3), ("b", 4), ("c", 5)] {
        p.run(&[
            "pubsub",
            "publish",
            "shop.t",
            &format!("{{\"id\":{id}}}"),
            "--key",
            key,
        ])
        .succeeds();
    }
    let records = p.kafka().read_all("shop.t");
    let a = records
        .iter()
        .find(|r| r.key.as_deref() == Some("a"))
        .unwrap()
        .partition;
    let end = records.iter().filter(|r| r.partition == a).count();
    let (a, end_text, two_before) = (a.to_string(), end.to_string(), (end - 2).to_string());
    p.run(&[
        "pubsub",
        "tail",
        "shop.t",
        "--from",
        "100000",
        "--partition",
        &a,
        "--no-follow",
    ])
    .fails_with(2)
    .says(&format!(
        "offset 100000 is past the end: partition {a} ends at {end}"
    ));
    // Other partitions have events, none as far as 7000.
    p.run(&[
        "pubsub",
        "tail",
        "shop.t",
        "--from",
        "7000",
        "-n",
        "2",
        "--no-follow",
    ])
    .fails_with(2)
    .says("offset 7000 is past the end: partition 0 ends at");
    // At the end exactly: nothing to show, and not an error.
    p.run(&[
        "pubsub",
        "tail",
        "shop.t",
        "--from",
        &end_text,
        "--partition",
        &a,
        "--no-follow",
    ])
    .succeeds()
    .says(&format!("no events in shop.t from `{end}`"));
    let out = p.run(&[
        "pubsub",
        "tail",
        "shop.t",
        "--from",
        &two_before,
        "--partition",
        &a,
        "--no-follow",
        "--json",
    ]);
    out.succeeds();
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn an_exec_verb_inherits_the_environment_unless_it_says_otherwise() {
    require_docker();
    let p = Project::new();
    p.write(
        "shop/verb.sh",
        "printf '%s|%s|%s|%s\\n' \"$1\" \"${AWS_SECRET_ACCESS_KEY-unset}\" \"${GREETING-unset}\" \"${PATH:+path}\" >> env-$1.txt\n",
    );
    p.module("shop")
        .verb("all", "exec: [sh, verb.sh, all]")
        .verb(
            "clean",
            "exec: [sh, verb.sh, clean], inherit_env: false, pass_env: [PATH], env: {GREETING: hi}",
        )
        .topic("t", "")
        .subscription("a", "topic: t, verb: all")
        .subscription("c", "topic: t, verb: clean")
        .write();
    let dev = p.dev_with(&[("AWS_SECRET_ACCESS_KEY", "s3cret")]);
    dev.wait_assigned("shop.a", 1);
    dev.wait_assigned("shop.c", 1);
    p.run(&["pubsub", "publish", "shop.t", "{}"]).succeeds();
    let read = |name: &str| {
        std::fs::read_to_string(p.path().join(format!("shop/env-{name}.txt"))).unwrap_or_default()
    };
    crate::harness::wait_until("both verbs ran", Duration::from_secs(30), || {
        !read("all").is_empty() && !read("clean").is_empty()
    });
    assert_eq!(read("all"), "all|s3cret|unset|path\n");
    assert_eq!(read("clean"), "clean|unset|hi|path\n");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
