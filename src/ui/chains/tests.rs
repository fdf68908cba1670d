use super::*;
use crate::config::FitConfig;
use crate::data::{Dataset, Synthetic};
use crate::infer::Fit;

/// A worker as the reactor is one, minus the clock: real chains of a real fit,
/// stepped `n` at a time by the test.
#[derive(Default)]
struct Sim {
    job: Option<(u32, Fit, Vec<usize>, Vec<f64>, Vec<f64>, bool, usize)>,
}

impl Sim {
    fn post(&mut self) -> FromChains {
        let (run, fit, sent, grid, eval_x, running, pending) = self.job.as_mut().unwrap();
        let posts = fit.chain_posts(grid, sent, eval_x);
        FromChains::Posts(ChainsFrame {
            run: *run,
            spec: fit.pool_spec(),
            posts,
            steps_per_sec: 1000.0,
            snapshot_ms: 1.0,
            running: (*running || *pending > 0) && !fit.is_finished() && !fit.awaiting_extension(),
            elapsed_ms: 10.0,
            finished: fit.is_finished(),
            at_budget: fit.awaiting_extension(),
        })
    }

    fn handle(&mut self, msg: ToChains) -> Option<FromChains> {
        match msg {
            ToChains::Start { run, config, data, grid, eval_x, chains, .. } => match Fit::new_chains(config, &data, &chains) {
                Ok(fit) => {
                    self.job = Some((run, fit, vec![], grid, eval_x, true, 0));
                    None
                }
                Err(e) => Some(FromChains::Error { run, message: e.to_string() }),
            },
            ToChains::Pause => {
                let j = self.job.as_mut()?;
                (j.5, j.6) = (false, 0);
                Some(self.post())
            }
            ToChains::Resume => {
                let j = self.job.as_mut()?;
                j.5 = !j.1.is_finished();
                None
            }
            ToChains::Step { n } => {
                let j = self.job.as_mut()?;
                (j.5, j.6) = (false, j.6 + n);
                None
            }
            ToChains::Stop => {
                self.job = None;
                None
            }
            ToChains::Extend(e) => {
                self.job.as_mut()?.1.extend(&e);
                Some(self.post())
            }
            ToChains::Update { .. } | ToChains::Panic => None,
        }
    }

    /// The last message of [`Sim::tick_all`].
    fn tick(&mut self, n: usize) -> Option<FromChains> {
        self.tick_all(n).pop()
    }

    /// Up to `n` steps if busy, then a post (nothing when idle); after a failed call,
    /// as the reactor does, the last good state's post, then the error.
    fn tick_all(&mut self, n: usize) -> Vec<FromChains> {
        let Some(j) = self.job.as_mut() else { return vec![] };
        let busy = (j.5 || j.6 > 0) && !j.1.is_finished() && !j.1.awaiting_extension();
        if !busy {
            return vec![];
        }
        let n = if j.5 { n } else { n.min(j.6) };
        let before = j.1.steps_done();
        if let Err(e) = j.1.step(n) {
            let run = j.0;
            (j.5, j.6) = (false, 0);
            let last = self.post();
            self.job = None;
            return vec![last, FromChains::Error { run, message: e.to_string() }];
        }
        let j = self.job.as_mut().unwrap();
        j.6 = j.6.saturating_sub(j.1.steps_done() - before);
        vec![self.post()]
    }
}

fn cfg(chains: usize, steps: usize) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.hidden = vec![8, 4];
    c.inference.chains = chains;
    c.inference.steps = steps;
    c.inference.method_for_step_budget(); // a step budget: pSGLD
    c.inference.seed = 3;
    c
}

fn data() -> Dataset {
    Synthetic::NbExp.generate(30, 2)
}

fn start(run: u32, c: FitConfig, eval_x: Vec<f64>) -> ToWorker {
    let d = data();
    ToWorker::Start { run, grid: d.grid(25, 0.05), config: c, data: d, eval_x, warm: false }
}

/// Deliver the conductor's worker messages; collect what goes to the page.
fn deliver(c: &mut Conductor, sims: &mut [Sim], msgs: Vec<(usize, ToChains)>, page: &mut Vec<FromWorker>) {
    let mut queue = msgs;
    while let Some((w, m)) = (!queue.is_empty()).then(|| queue.remove(0)) {
        if let Some(reply) = sims[w].handle(m) {
            for o in c.receive(w, reply) {
                match o {
                    Out::Page(p) => page.push(p),
                    Out::Worker(v, m) => queue.push((v, m)),
                }
            }
        }
    }
}

/// One tick of every worker, in order; what reaches the page.
fn tick(c: &mut Conductor, sims: &mut [Sim], n: usize) -> Vec<FromWorker> {
    let mut page = Vec::new();
    for w in 0..sims.len() {
        for reply in sims[w].tick_all(n) {
            let mut msgs = Vec::new();
            for o in c.receive(w, reply) {
                match o {
                    Out::Page(p) => page.push(p),
                    Out::Worker(v, m) => msgs.push((v, m)),
                }
            }
            deliver(c, sims, msgs, &mut page);
        }
    }
    page
}

#[test]
fn the_workers_are_one_per_chain_up_to_the_cores_and_at_least_two() {
    assert_eq!(worker_count(None, 8), 2);
    assert_eq!(worker_count(Some(1), 8), 2);
    assert_eq!(worker_count(Some(6), 8), 6);
    assert_eq!(worker_count(Some(64), 8), 8);
    let c = Conductor::new(4);
    assert_eq!((c.workers_for(1), c.workers_for(3), c.workers_for(8)), (1, 3, 4));
}

#[test]
fn a_fit_is_split_chain_by_chain_over_the_workers() {
    let mut c = Conductor::new(2);
    let msgs = c.send(start(1, cfg(3, 600), vec![]));
    let chains: Vec<(usize, Vec<usize>)> = msgs
        .iter()
        .map(|(w, m)| match m {
            ToChains::Start { chains, run: 1, .. } => (*w, chains.clone()),
            m => panic!("{m:?}"),
        })
        .collect();
    assert_eq!(chains, vec![(0, vec![0, 2]), (1, vec![1])]);
    // A later one-chain fit runs on one worker and stops the other.
    let msgs = c.send(start(2, cfg(1, 600), vec![]));
    assert!(msgs.contains(&(1, ToChains::Stop)), "{msgs:?}");
    assert!(matches!(&msgs.last().unwrap(), (0, ToChains::Start { chains, .. }) if chains == &vec![0]));
}

#[test]
fn the_page_gets_one_frame_per_round_and_the_whole_fits_finished_frame() {
    let config = cfg(3, 1500);
    let d = data();
    let eval_x = vec![d.x[0], d.x[5]];
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let msgs = c.send(start(4, config.clone(), eval_x.clone()));
    deliver(&mut c, &mut sims, msgs, &mut page);
    assert!(page.is_empty());
    let mut whole = Fit::new(config, &d).unwrap();
    let grid = d.grid(25, 0.05);
    let mut rounds = 0;
    loop {
        let out = tick(&mut c, &mut sims, 300);
        whole.step(300).unwrap();
        rounds += 1;
        assert_eq!(out.len(), 1, "one frame per round of posts (round {rounds}): {out:?}");
        match &out[0] {
            FromWorker::Snapshot(f) => {
                assert!(f.running && f.eval.is_none());
                assert_eq!(format!("{:?}", f.snapshot), format!("{:?}", whole.snapshot(&grid)), "round {rounds}");
            }
            FromWorker::Finished(f) => {
                assert!(!f.running);
                assert_eq!(format!("{:?}", f.snapshot), format!("{:?}", whole.snapshot(&grid)));
                let want = whole.snapshot(&eval_x).summary;
                assert_eq!(format!("{:?}", f.eval), format!("{:?}", Some(want)), "held-out predictions");
                assert_eq!(f.steps_per_sec, 1000.0);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(rounds, 5);
    assert!(tick(&mut c, &mut sims, 300).is_empty(), "nothing after Finished");
}

/// NUTS with extend (warm-up 20, 8 draws, depth 3: chains that disagree at first).
fn extending(chains: usize) -> FitConfig {
    let mut c = cfg(chains, 1000);
    c.model.hidden = vec![4];
    c.inference.method = crate::config::Method::Nuts;
    c.inference.warmup = 20;
    c.inference.draws = 8;
    c.inference.max_depth = 3;
    c.inference.extend = true;
    c.inference.extend_gradients = 3000;
    c
}

#[test]
fn workers_extend_together_as_the_whole_fit_does() {
    let config = extending(3);
    let d = data();
    let eval_x = vec![d.x[0], d.x[5]];
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let msgs = c.send(start(5, config.clone(), eval_x.clone()));
    deliver(&mut c, &mut sims, msgs, &mut page);
    let mut whole = Fit::new(config, &d).unwrap();
    let grid = d.grid(25, 0.05);
    let mut rounds = 0;
    let last = loop {
        let out = tick(&mut c, &mut sims, 6);
        whole.step(6).unwrap();
        rounds += 1;
        assert!(rounds < 1000);
        assert_eq!(out.len(), 1, "one frame per round of posts, the decision's round too (round {rounds}): {out:?}");
        let (FromWorker::Snapshot(f) | FromWorker::Finished(f)) = &out[0] else { panic!("{out:?}") };
        assert_eq!(format!("{:?}", f.snapshot), format!("{:?}", whole.snapshot(&grid)), "round {rounds}");
        if let FromWorker::Finished(f) = &out[0] {
            assert!(whole.is_finished(), "Finished with the whole fit");
            let want = whole.snapshot(&eval_x).summary;
            assert_eq!(format!("{:?}", f.eval), format!("{:?}", Some(want)), "held-out predictions");
            break f.clone();
        }
        assert!(f.snapshot.phase != crate::summary::Phase::Finished, "round {rounds}: a Finished phase before the end");
    };
    assert!(last.snapshot.total_steps > 28, "the chains disagreed after 8 draws and drew more");
    assert!(tick(&mut c, &mut sims, 6).is_empty(), "nothing after Finished");
}

#[test]
fn a_paused_worker_at_the_budget_does_not_hold_up_the_frames() {
    // Worker 1 reaches the end of the budget and waits for the decision; a Resume
    // after a Pause must not wait for it to post.
    let config = extending(2);
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let msgs = c.send(start(1, config, vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    let m = sims[1].tick(28).unwrap();
    assert!(c.receive(1, m).is_empty(), "worker 0 has not posted");
    let msgs = c.send(ToWorker::Pause);
    deliver(&mut c, &mut sims, msgs, &mut page);
    assert!(matches!(page.last(), Some(FromWorker::Snapshot(f)) if f.snapshot.step == 0), "{page:?}");
    let msgs = c.send(ToWorker::Resume);
    deliver(&mut c, &mut sims, msgs, &mut page);
    let out = tick(&mut c, &mut sims, 10);
    assert!(matches!(out.last(), Some(FromWorker::Snapshot(f)) if f.snapshot.step == 10), "{out:?}");
    // Worker 0 reaches the end too: the decision, then one frame of what it decided
    // (here the chains agree: Finished; tests above extend).
    let out = tick(&mut c, &mut sims, 18);
    assert_eq!(out.len(), 1, "{out:?}");
    match &out[0] {
        FromWorker::Snapshot(f) => assert!((f.snapshot.step, f.snapshot.total_steps, f.running) == (28, 32, true)),
        FromWorker::Finished(f) => assert!((f.snapshot.step, f.snapshot.total_steps, f.running) == (28, 28, false)),
        o => panic!("{o:?}"),
    }
}

#[test]
fn pause_waits_for_every_worker_and_step_moves_them_all() {
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let msgs = c.send(start(1, cfg(2, 100_000), vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    // Worker 1 runs ahead of worker 0 by a tick.
    assert!(sims[1].tick(200).is_some_and(|m| c.receive(1, m).is_empty()), "half a round: no frame");
    assert_eq!(tick(&mut c, &mut sims, 200).len(), 1);
    let msgs = c.send(ToWorker::Pause);
    deliver(&mut c, &mut sims, msgs, &mut page);
    let last = page.last().expect("a frame once both have paused");
    let FromWorker::Snapshot(f) = last else { panic!("{last:?}") };
    assert!(!f.running);
    assert_eq!(f.snapshot.step, 200, "the slower chain's step");
    assert!(tick(&mut c, &mut sims, 200).is_empty(), "no progress while paused");
    let msgs = c.send(ToWorker::Step { n: 100 });
    deliver(&mut c, &mut sims, msgs, &mut page);
    let out = tick(&mut c, &mut sims, 200);
    let Some(FromWorker::Snapshot(f)) = out.last() else { panic!("{out:?}") };
    assert_eq!((f.snapshot.step, f.running), (300, false), "Step advances every chain by 100");
    assert!(tick(&mut c, &mut sims, 200).is_empty());
    let msgs = c.send(ToWorker::Resume);
    deliver(&mut c, &mut sims, msgs, &mut page);
    let out = tick(&mut c, &mut sims, 200);
    assert!(matches!(out.last(), Some(FromWorker::Snapshot(f)) if f.running && f.snapshot.step == 500), "{out:?}");
}

#[test]
fn a_finished_worker_does_not_hold_up_the_others() {
    // 3 chains on 2 workers: worker 1 (one chain) is not slower per step here, but a
    // Step sent after it finished must not wait for it.
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let msgs = c.send(start(1, cfg(2, 1000), vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    // Worker 1 finishes alone.
    for _ in 0..5 {
        let m = sims[1].tick(200).unwrap();
        page.extend(c.receive(1, m).into_iter().map(|o| match o {
            Out::Page(p) => p,
            o => panic!("{o:?}"),
        }));
    }
    let msgs = c.send(ToWorker::Pause);
    deliver(&mut c, &mut sims, msgs, &mut page);
    let msgs = c.send(ToWorker::Step { n: 100 });
    deliver(&mut c, &mut sims, msgs, &mut page);
    let out = tick(&mut c, &mut sims, 200);
    assert!(matches!(out.last(), Some(FromWorker::Snapshot(f)) if f.snapshot.step == 100), "{out:?}");
}

#[test]
fn the_first_error_ends_the_fit_and_stops_the_other_workers() {
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let mut config = cfg(2, 4000);
    config.inference.step_size = 1.0;
    let msgs = c.send(start(9, config, vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    let mut errors = Vec::new();
    for _ in 0..20 {
        errors.extend(tick(&mut c, &mut sims, 500).into_iter().filter(|m| matches!(m, FromWorker::Error { .. })));
    }
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(&errors[0], FromWorker::Error { run: 9, message } if message.contains("diverged")));
    assert!(sims.iter().all(|s| s.job.is_none()), "both workers stopped");
}

#[test]
fn after_an_error_the_page_has_a_frame_of_the_last_good_state_first() {
    // One chain per worker; as in the reactor, a worker makes several calls between
    // posts (here 4 silent calls of 100 steps, then a posted one), so its last post is
    // older than its failing call. The frame before the error is made of the failing
    // chain's state before its failing call and the other's last post, whether the
    // round of posts was complete or not. (pSGLD at step size 1 diverges in its first
    // steps after the 1,600-step warm start: the frame shows the warm start's end.)
    for first in [0, 1] {
        let mut c = Conductor::new(2);
        let mut sims = vec![Sim::default(), Sim::default()];
        let mut page = Vec::new();
        let mut config = cfg(2, 4000);
        config.inference.step_size = 1.0;
        let msgs = c.send(start(9 + first as u32, config, vec![]));
        deliver(&mut c, &mut sims, msgs, &mut page);
        let mut expected = None;
        let mut out = Vec::new();
        'ticks: for _ in 0..20 {
            for w in [first, 1 - first] {
                let fit = &mut sims[w].job.as_mut().unwrap().1;
                for _ in 0..4 {
                    if fit.step(100).is_err() {
                        break;
                    }
                }
                // What the page should see if this worker fails now: a failed call
                // leaves its fit as it was before the call; the other worker is as
                // it was at its last post.
                let mut pool = Pool::new(data().grid(25, 0.05));
                for s in &mut sims {
                    let (_, fit, _, grid, eval_x, ..) = s.job.as_mut().unwrap();
                    pool.apply(&fit.pool_spec(), fit.chain_posts(grid, &mut vec![], eval_x));
                }
                let good = pool.snapshot().unwrap().summary;
                for reply in sims[w].tick_all(100) {
                    let failed = matches!(reply, FromChains::Error { .. });
                    out.extend(c.receive(w, reply).into_iter().filter_map(|o| match o {
                        Out::Page(p) => Some(p),
                        Out::Worker(..) => None,
                    }));
                    if failed {
                        expected = Some(good);
                        break 'ticks;
                    }
                }
            }
        }
        let n = out.len();
        assert!(n >= 2 && matches!(out[n - 1], FromWorker::Error { .. }), "{out:?}");
        let FromWorker::Snapshot(f) = &out[n - 2] else { panic!("no frame before the error: {:?}", out[n - 2]) };
        let expected = expected.unwrap();
        assert!(expected.mean.iter().all(|m| m.is_finite()));
        assert_eq!(f.snapshot.summary, expected);
    }
}

#[test]
fn posts_of_another_run_and_after_stop_are_ignored() {
    let mut c = Conductor::new(2);
    let mut sims = vec![Sim::default(), Sim::default()];
    let mut page = Vec::new();
    let msgs = c.send(start(1, cfg(2, 1000), vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    let late = sims[0].tick(100).unwrap();
    let msgs = c.send(start(2, cfg(2, 1000), vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    assert!(c.receive(0, late).is_empty(), "run 1's post after run 2 started");
    let late = sims[1].tick(100).unwrap();
    let msgs = c.send(ToWorker::Stop);
    assert_eq!(msgs, vec![(0, ToChains::Stop), (1, ToChains::Stop)]);
    assert!(c.receive(1, late).is_empty());
    // Invalid settings: every worker says so, the page hears it once.
    let mut bad = cfg(2, 1000);
    bad.inference.steps = 0;
    let msgs = c.send(start(3, bad, vec![]));
    deliver(&mut c, &mut sims, msgs, &mut page);
    assert_eq!(page.iter().filter(|m| matches!(m, FromWorker::Error { run: 3, .. })).count(), 1, "{page:?}");
}

#[test]
fn worker_messages_round_trip_through_json() {
    let d = data();
    let mut fit = Fit::new_chains(cfg(2, 400), &d, &[1]).unwrap();
    fit.step(400).unwrap();
    let posts = fit.chain_posts(&d.grid(10, 0.0), &mut vec![], &[0.5]);
    let from = FromChains::Posts(ChainsFrame {
        run: 2,
        spec: fit.pool_spec(),
        posts,
        steps_per_sec: 1.0,
        snapshot_ms: 2.0,
        running: false,
        elapsed_ms: 3.0,
        finished: true,
        at_budget: false,
    });
    let back: FromChains = serde_json::from_str(&serde_json::to_string(&from).unwrap()).unwrap();
    assert_eq!(format!("{back:?}"), format!("{from:?}"));
    let to = ToChains::Start { run: 1, config: cfg(2, 400), data: d, grid: vec![0.0], eval_x: vec![], chains: vec![1], warm: false };
    assert_eq!(serde_json::from_str::<ToChains>(&serde_json::to_string(&to).unwrap()).unwrap(), to);
}
