//! Delivery through the runner: an HTTP verb on 1, 8 and 32 partitions
//! (and with the console open), several subscriptions on a topic, a replay's
//! drain, an exec verb.

use std::time::{Duration, Instant};

use crate::harness::{on, unique, Event};
use crate::table::{row, Better, Row, Target};
use crate::usage::Cost;
use crate::{ftl_run, ftl_run_costed, loops, module, ms_since, quiet_dev, spin_until, Ctx};

/// Events for the HTTP rows on `parts` partitions: a quarter on one
/// partition, where a run is a steady ~4.5k events/s round-trip loop (all
/// 100k took 2 × 22 s a repetition, a fifth of the whole benchmark).
pub fn events_on(parts: i32, n: usize) -> usize {
    if parts == 1 {
        n / 4
    } else {
        n
    }
}

pub fn run(c: &Ctx, rows: &mut Vec<Row>) {
    let (p, sink, n, plan, bootstrap) = (c.p, c.sink, c.n, c.plan, c.bootstrap.as_str());
    let wanted = |part: &str| c.wanted(part);
    let count_wanted = |x: i32| c.count_wanted(x);
    // ---- delivery through an HTTP verb: 8, 1 and 32 partitions, and with
    // an open console.
    let mut http: Vec<(i32, Vec<f64>, Vec<f64>)> = [8, 1, 32]
        .iter()
        .filter(|c| wanted("http") && count_wanted(**c))
        .map(|p| (*p, vec![], vec![]))
        .collect();
    // What each run used per 100,000 events: (partitions, raw, ftl).
    let mut costs: Vec<(i32, Vec<Cost>, Vec<Cost>)> =
        http.iter().map(|h| (h.0, vec![], vec![])).collect();
    let mut with_console = Vec::new();
    // The console run's baseline: the mean of two runs without it, one just
    // before and one just after, so that a drift of the broker between runs
    // (each run leaves a consumer group and its commits behind) falls on
    // both sides alike. Unbracketed, the console run measured 0.83–0.93×
    // when it came after the run without it and 0.97–1.02× when before.
    let mut closed_around = Vec::new();
    // The order alternates between repetitions (baseline first, then
    // `ftl` first): the broker slows as it holds more, and the machine drifts.
    for rep in (0..plan.reps).filter(|_| wanted("http")) {
        for ((parts, base, ftl), (_, raw_cost, ftl_cost)) in http.iter_mut().zip(costs.iter_mut()) {
            let topic = format!("bench.t{parts}");
            let g = unique("raw");
            let sub = format!("  r{parts}x{rep}: {{topic: t{parts}, verb: v}}\n");
            let console = format!("  c{rep}: {{topic: t8, verb: v}}\n");
            let again = format!("  q{rep}: {{topic: t8, verb: v}}\n");
            let count = events_on(*parts, n);
            let mut steps: Vec<&str> = vec!["raw", "ftl"];
            if *parts == 8 {
                steps.extend(["console", "again"]);
            }
            if rep % 2 == 1 {
                steps.reverse();
            }
            let mut again_rate = 0.0;
            for step in steps {
                match step {
                    "raw" => {
                        // In a process of its own, as `ftl dev` is.
                        let run =
                            loops::http_loop_process(bootstrap, &topic, &g, &sink.url(), count);
                        base.push(count as f64 / run.secs);
                        raw_cost.push(run.cost);
                    }
                    "ftl" => {
                        let (rate, cost) =
                            ftl_run_costed(p, sink, &module(sink, "", &sub), count, false);
                        ftl.push(rate);
                        ftl_cost.push(cost);
                    }
                    "again" => again_rate = ftl_run(p, sink, &module(sink, "", &again), n, false),
                    _ => with_console.push(ftl_run(p, sink, &module(sink, "", &console), n, true)),
                }
            }
            if *parts == 8 {
                closed_around.push((ftl.last().unwrap() + again_rate) / 2.0);
            }
            let (rc, fc) = (raw_cost.last().unwrap(), ftl_cost.last().unwrap());
            eprintln!(
                "  http {parts} partitions rep {rep}: raw {:.0}/s, ftl {:.0}/s; per 100k events CPU raw {:.2} s, ftl {:.2} s, switches raw {:.0}, ftl {:.0}{}",
                base.last().unwrap(),
                ftl.last().unwrap(),
                rc.cpu_s,
                fc.cpu_s,
                rc.switches,
                fc.switches,
                if *parts == 8 {
                    format!(
                        ", console open {:.0}/s (closed, before and after: {:.0}/s)",
                        with_console.last().unwrap(),
                        closed_around.last().unwrap()
                    )
                } else {
                    String::new()
                }
            );
        }
    }
    let base8 = http.first().map(|h| h.1.clone()).unwrap_or_default();
    for (parts, base, ftl) in http {
        rows.push(row(
            format!(
                "runner, HTTP verb, {parts} partition{}, {} events of 1 KB",
                if parts == 1 { "" } else { "s" },
                events_on(parts, n)
            ),
            "ev/s",
            Better::Higher,
            ftl,
            Some(base),
            if parts == 8 {
                Target::Ratio(0.9)
            } else if parts == 32 {
                // The runner's CPU is the limit there, not the broker.
                Target::Ratio(0.97)
            } else {
                Target::Reported
            },
        ));
    }
    for (parts, raw, ftl) in costs {
        let count = events_on(parts, n);
        rows.push(row(
            format!("runner CPU per 100k events, HTTP verb, {parts} partition{} ({count} events; baseline: the hand-written runner's process)", if parts == 1 { "" } else { "s" }),
            "s",
            Better::Lower,
            ftl.iter().map(|c| c.cpu_s).collect(),
            Some(raw.iter().map(|c| c.cpu_s).collect()),
            if parts == 1 {
                Target::Reported
            } else {
                // At most 1.1× the hand-written runner's CPU (the ratio is
                // the baseline's CPU over ftl's: 1 / 1.1, rounded up).
                Target::Ratio(0.91)
            },
        ));
        rows.push(row(
            format!(
                "same, context switches per 100k events, {parts} partition{}",
                if parts == 1 { "" } else { "s" }
            ),
            "",
            Better::Lower,
            ftl.iter().map(|c| c.switches).collect(),
            Some(raw.iter().map(|c| c.switches).collect()),
            Target::Reported,
        ));
    }
    if !with_console.is_empty() {
        rows.push(row(
            "same, 8 partitions, console open (baseline: closed, runs before and after)".into(),
            "ev/s",
            Better::Higher,
            with_console,
            Some(closed_around),
            Target::Ratio(0.9),
        ));
    }

    // ---- several subscriptions on one topic: deliveries/s in all.
    for (subs, topic) in [(10usize, "fan10"), (50, "fan50")] {
        if !wanted("fan") {
            continue;
        }
        let each = n / subs;
        let (mut base, mut ftl) = (vec![], vec![]);
        for rep in 0..plan.reps {
            let groups: Vec<String> = (0..subs).map(|_| unique("raw")).collect();
            base.push(
                (each * subs) as f64
                    / loops::http_loop(
                        bootstrap,
                        &format!("bench.{topic}"),
                        &groups,
                        &sink.url(),
                        each,
                    )
                    .secs,
            );
            // A verb may be subscribed once: one verb each, all the sink.
            let verbs: String = (0..subs)
                .map(|i| format!("  f{i}: {{http: \"{}\"}}\n", sink.url()))
                .collect();
            let text: String = (0..subs)
                .map(|i| format!("  f{subs}x{rep}y{i}: {{topic: {topic}, verb: f{i}}}\n"))
                .collect();
            ftl.push(ftl_run(
                p,
                sink,
                &module(sink, &verbs, &text),
                each * subs,
                false,
            ));
            eprintln!(
                "  {subs} subscriptions rep {rep}: raw {:.0}/s, ftl {:.0}/s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!("runner, {subs} subscriptions on one topic ({each} events each), deliveries"),
            "ev/s",
            Better::Higher,
            ftl,
            Some(base),
            Target::Reported,
        ));
    }

    // ---- replay: a drained subscription replayed from the beginning.
    if wanted("replay") {
        p.write(
            "bench/ftl.yaml",
            &module(sink, "", "  drain: {topic: t8, verb: v}\n"),
        );
        let before = sink.count();
        let dev = quiet_dev(p);
        spin_until("the first drain", Duration::from_secs(600), || {
            sink.count() >= before + n
        });
        let mut drain = Vec::new();
        for _ in 0..plan.reps {
            let before = sink.count();
            let t = Instant::now();
            p.run(&[
                "pubsub",
                "replay",
                "bench.drain",
                "--from",
                "beginning",
                "--yes",
            ])
            .succeeds();
            eprintln!("    the replay command took {:.0} ms", ms_since(t));
            spin_until("the replayed backlog", Duration::from_secs(600), || {
                sink.count() >= before + n
            });
            drain.push(n as f64 / t.elapsed().as_secs_f64());
            eprintln!("  replay drain: {:.0}/s", drain.last().unwrap());
        }
        dev.stop();
        rows.push(row(
            format!("replay --from beginning of {n} events, command to caught up"),
            "ev/s",
            Better::Higher,
            drain,
            Some(base8.clone()),
            Target::Ratio(0.9),
        ));
    }

    // ---- exec verb `true`.
    if wanted("exec") {
        let (mut base, mut ftl) = (vec![], vec![]);
        for rep in 0..plan.reps {
            base.push(plan.exec_events as f64 / loops::spawn_loop(plan.exec_events, 8));
            p.write(
                "bench/ftl.yaml",
                &module(
                    sink,
                    "  x: {exec: [\"true\"]}\n",
                    &format!("  e{rep}: {{topic: ex, verb: x}}\n"),
                ),
            );
            let dev = p.dev();
            let name = format!("bench.e{rep}");
            let this = on!(Event::Delivery(d) if d.subscription == name => ());
            spin_until("the first exec delivery", Duration::from_secs(120), || {
                dev.count(&this) > 0
            });
            let first = Instant::now();
            spin_until("every exec delivery", Duration::from_secs(600), || {
                dev.count(&this) >= plan.exec_events
            });
            ftl.push(plan.exec_events as f64 / first.elapsed().as_secs_f64());
            dev.stop();
            eprintln!(
                "  exec: spawns {:.0}/s, ftl {:.0}/s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!(
                "runner, exec verb `true`, 8 partitions, {} events",
                plan.exec_events
            ),
            "ev/s",
            Better::Higher,
            ftl,
            Some(base),
            Target::Ratio(0.8),
        ));
    }
}
