//! The commands and the Publisher: tail, publish from NDJSON, the
//! Publisher over HTTP and gRPC, publish → verb latency.

use std::time::{Duration, Instant, UNIX_EPOCH};

use crate::harness::VerbServer;
use crate::table::{quantile, row, Better, Row, Target};
use crate::{events, loops, module, now_us, parts, spin_until, Ctx};

pub fn run(c: &Ctx, rows: &mut Vec<Row>) {
    let (p, sink, n, plan, bootstrap) = (c.p, c.sink, c.n, c.plan, c.bootstrap.as_str());
    let wanted = |part: &str| c.wanted(part);
    // ---- tail of the 8-partition topic to /dev/null.
    if wanted("tail") {
        let (mut base, mut ftl) = (vec![], vec![]);
        for _ in 0..plan.reps {
            let (secs, got) = loops::raw_tail(bootstrap, "bench.t8");
            assert_eq!(got, n);
            base.push(secs);
            let t = Instant::now();
            let out = p
                .cmd()
                .args([
                    "pubsub",
                    "tail",
                    "bench.t8",
                    "--from",
                    "beginning",
                    "--no-follow",
                    "--json",
                ])
                .stdout(std::fs::File::create("/dev/null").unwrap())
                .status()
                .unwrap();
            assert!(out.success());
            ftl.push(t.elapsed().as_secs_f64());
            eprintln!(
                "  tail: raw {:.2}s, ftl {:.2}s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!("tail --from beginning --no-follow --json > /dev/null, {n} events"),
            "s",
            Better::Lower,
            ftl,
            Some(base),
            Target::Ratio(0.9),
        ));
    }

    // ---- publish NDJSON from stdin.
    if wanted("publish") {
        let lines = events(n);
        let file = p.path().join("events.ndjson");
        let text: String = lines.iter().map(|(_, v)| format!("{v}\n")).collect();
        std::fs::write(&file, text).unwrap();
        let (mut base, mut ftl, mut typed) = (vec![], vec![], vec![]);
        let publish = |topic: &str| {
            let t = Instant::now();
            let out = p
                .cmd()
                .args(["-q", "pubsub", "publish", topic, "-"])
                .stdin(std::fs::File::open(&file).unwrap())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            t.elapsed().as_secs_f64()
        };
        for _ in 0..plan.reps {
            base.push(loops::raw_publish(bootstrap, "bench.pub", &lines));
            ftl.push(publish("bench.pub"));
            typed.push(publish("bench.typed"));
            eprintln!(
                "  publish: raw {:.2}s, ftl {:.2}s, typed {:.2}s",
                base.last().unwrap(),
                ftl.last().unwrap(),
                typed.last().unwrap()
            );
        }
        rows.push(row(
            format!(
                "publish - typed topic (baseline: the same {n} lines to an `event: Any` topic)"
            ),
            "s",
            Better::Lower,
            typed,
            Some(ftl.clone()),
            Target::Ratio(0.9),
        ));
        rows.push(row(
            format!("publish - with {n} NDJSON lines of 1 KB"),
            "s",
            Better::Lower,
            ftl,
            Some(base),
            Target::Ratio(0.8),
        ));
    }

    // ---- the Publisher, 8 concurrent clients, HTTP and gRPC.
    if wanted("publisher") {
        p.write("bench/ftl.yaml", &module(sink, "", ""));
        let dev = p.dev();
        dev.wait_ready();
        // Warm, as the raw producer is: the runner's producer has its id.
        parts::publisher_http(&p.listen, "bench.pub", 1, 1);
        parts::publisher_grpc(&p.listen, "bench.pub", 1, 1);
        // (kind, events/s, p50, p99) of each repetition.
        type Samples = (&'static str, Vec<f64>, Vec<f64>, Vec<f64>);
        let mut runs: Vec<Samples> = vec![
            ("HTTP", vec![], vec![], vec![]),
            ("gRPC", vec![], vec![], vec![]),
            ("HTTP typed", vec![], vec![], vec![]),
            ("gRPC typed", vec![], vec![], vec![]),
            ("raw", vec![], vec![], vec![]),
        ];
        for _ in 0..plan.reps {
            for (kind, rate, p50, p99) in runs.iter_mut() {
                let (r, lat) = match *kind {
                    "HTTP" => parts::publisher_http(&p.listen, "bench.pub", 8, plan.each),
                    "gRPC" => parts::publisher_grpc(&p.listen, "bench.pub", 8, plan.each),
                    "HTTP typed" => parts::publisher_http(&p.listen, "bench.typed", 8, plan.each),
                    "gRPC typed" => parts::publisher_grpc(&p.listen, "bench.typed", 8, plan.each),
                    _ => loops::raw_acks(bootstrap, "bench.pub", 8, plan.each),
                };
                rate.push(r);
                p50.push(quantile(&lat, 0.5));
                p99.push(quantile(&lat, 0.99));
                eprintln!(
                    "  publisher {kind}: {r:.0}/s p50 {:.2} p99 {:.2} ms",
                    p50.last().unwrap(),
                    p99.last().unwrap()
                );
            }
        }
        dev.stop();
        let raw = runs.pop().unwrap();
        // Typed against `event: Any`, measured in the same repetitions.
        let typed_runs = runs.split_off(2);
        for ((kind, rate, _, _), (_, any_rate, _, _)) in typed_runs.iter().zip(&runs) {
            rows.push(row(
                format!("Publisher {kind}, 8 clients, events/s (baseline: the `event: Any` topic)"),
                "ev/s",
                Better::Higher,
                rate.clone(),
                Some(any_rate.clone()),
                Target::Ratio(0.9),
            ));
        }
        for (kind, rate, p50, p99) in runs {
            rows.push(row(
                format!("Publisher {kind}, 8 clients, events/s (baseline: raw producer, 8 tasks)"),
                "ev/s",
                Better::Higher,
                rate,
                Some(raw.1.clone()),
                Target::Reported,
            ));
            rows.push(row(
                format!("Publisher {kind}, publish→ack p50"),
                "ms",
                Better::Lower,
                p50,
                Some(raw.2.clone()),
                Target::Reported,
            ));
            rows.push(row(
                format!("Publisher {kind}, publish→ack p99"),
                "ms",
                Better::Lower,
                p99,
                Some(raw.3.clone()),
                Target::AtMost(10.0),
            ));
        }
    }

    // ---- publish→verb latency on an idle topic, max_wait 10ms.
    if wanted("latency") {
        let lat_server = VerbServer::start(|_, _| (200, String::new()));
        let raw = loops::raw_latency(bootstrap, "bench.lat", plan.latency_samples);
        p.write(
            "bench/ftl.yaml",
            &module(
                sink,
                &format!("  w: {{http: \"{}\"}}\n", lat_server.url("/lat")),
                "  l: {topic: lat, verb: w, from: latest, batch: {max_wait: 10ms}}\n",
            ),
        );
        let dev = p.dev();
        dev.wait_assigned("bench.l", 1);
        std::thread::sleep(Duration::from_millis(500));
        let producer = p.kafka().producer();
        let mut lat = Vec::new();
        for i in 0..plan.latency_samples {
            let before = lat_server.count();
            let sent = now_us();
            let payload = format!("{{\"i\":{i}}}");
            producer
                .send(rdkafka::producer::BaseRecord::<str, str>::to("bench.lat").payload(&payload))
                .map_err(|(e, _)| e)
                .unwrap();
            producer.poll(Duration::ZERO);
            spin_until("the latency event", Duration::from_secs(30), || {
                lat_server.count() > before
            });
            let got = lat_server.requests()[before]
                .wall
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_micros();
            lat.push(got.saturating_sub(sent) as f64 / 1000.0);
            std::thread::sleep(Duration::from_millis(20));
        }
        dev.stop();
        rows.push(row(
            "publish→verb latency p50, idle topic, max_wait 10ms".into(),
            "ms",
            Better::Lower,
            vec![quantile(&lat, 0.5)],
            Some(vec![quantile(&raw, 0.5)]),
            Target::AtMost(3.0),
        ));
        rows.push(row(
            "publish→verb latency p99".into(),
            "ms",
            Better::Lower,
            vec![quantile(&lat, 0.99)],
            Some(vec![quantile(&raw, 0.99)]),
            Target::AtMost(25.0),
        ));
    }
}
