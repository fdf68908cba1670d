use super::*;
use crate::config::{FitConfig, Method, ModelKind, NoiseLawKind};
use crate::data::{Dataset, Synthetic};

fn config(method: Method, kind: ModelKind, chains: usize) -> FitConfig {
    let mut c = FitConfig::default();
    c.model.kind = kind;
    c.model.noise_law = NoiseLawKind::named("exponential");
    c.model.hidden = vec![8, 4];
    c.inference.method = method;
    c.inference.chains = chains;
    c.inference.steps = 3000;
    c.inference.seed = 7;
    if method == Method::Nuts {
        c.inference.warmup = 60;
        c.inference.draws = 40;
        c.inference.max_depth = 6;
    }
    c
}

/// Bit-exact equality of two snapshots (Debug prints each f64 in its shortest
/// round-trip form, so equal text is equal bits; NaN compares equal to NaN).
fn same(a: &Snapshot, b: &Snapshot) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// The whole fit and the same chains in groups (`groups`, each run alone by
/// `Fit::new_chains`), stepped in the same chunks; after every chunk the pool of the
/// groups' posts must give the whole fit's snapshot, bit for bit, and at the end its
/// predictions at the held-out x too.
/// Returns the pool's extend decisions and the whole fit's last snapshot on the grid.
fn check_pooling_in(cfg: &FitConfig, data: &Dataset, groups: &[Vec<usize>], chunks: &[usize]) -> (Vec<Extension>, Snapshot) {
    let grid = data.grid(40, 0.05);
    let eval_x = vec![data.x[0], 0.5 * (data.x[0] + data.x[1]), data.x[data.len() - 1]];
    let mut whole = Fit::new(cfg.clone(), data).unwrap();
    let mut parts: Vec<Fit> = groups.iter().map(|g| Fit::new_chains(cfg.clone(), data, g).unwrap()).collect();
    let mut sent: Vec<Vec<usize>> = vec![Vec::new(); parts.len()];
    let mut pool = Pool::new(grid.clone());
    let (mut chunk, mut posted_kept) = (0, 0);
    let mut decisions = Vec::new();
    let mut last = None;
    let label = format!("{:?} {:?} in {groups:?}", cfg.inference.method, cfg.model.kind);
    while !whole.is_finished() {
        // Uneven chunks, as the page's worker makes them.
        let n = chunks[chunk % chunks.len()];
        chunk += 1;
        whole.step(n).unwrap();
        for part in parts.iter_mut() {
            part.step(n).unwrap();
        }
        posted_kept += post_all(&mut parts, &mut sent, &mut pool, &grid, &eval_x);
        // At the end of the budget of an extending fit, the parts wait for the pool's
        // decision, which must be the whole fit's; then they post what they are now.
        if let Some(e) = pool.extension() {
            assert!(parts.iter().all(Fit::awaiting_extension), "{label}: decided while a part was not waiting");
            decisions.push(e.clone());
            for part in parts.iter_mut() {
                part.extend(&e);
            }
            posted_kept += post_all(&mut parts, &mut sent, &mut pool, &grid, &eval_x);
        }
        assert!(!parts.iter().any(Fit::awaiting_extension), "{label}: a part waits after chunk {chunk}");
        let want = whole.snapshot(&grid);
        let got = pool.snapshot().expect("every chain has posted");
        assert!(same(&want, &got), "{label}, after chunk {chunk}:\nwhole {want:?}\npooled {got:?}");
        last = Some(want);
    }
    assert!(parts.iter().all(Fit::is_finished), "{label}: the parts finish with the whole fit");
    // Each kept draw is posted once (and a restarted chain's dropped ones that were
    // posted before the restart).
    let restarted = whole.chains.iter().any(|c| c.restarted_at.is_some());
    assert!(posted_kept == whole.draws_kept() || restarted && posted_kept > whole.draws_kept(), "{label}: each kept draw is posted once ({posted_kept} posted, {} kept)", whole.draws_kept());
    for part in &parts {
        for (i, ci) in part.chain_indices().into_iter().enumerate() {
            assert_eq!(part.chains[i].draws, whole.chains[ci].draws, "{label}: chain {ci}'s draws");
        }
    }
    let want = whole.snapshot(&eval_x).summary;
    assert_eq!(format!("{:?}", pool.eval(&eval_x)), format!("{:?}", Some(want)), "{label}: held-out predictions");
    (decisions, last.expect("a chunk ran"))
}

fn check_pooling(cfg: &FitConfig, data: &Dataset, groups: &[Vec<usize>]) {
    check_pooling_in(cfg, data, groups, &[170, 230, 90, 311]);
}

/// Every part's posts into the pool; how many kept draws they carried.
fn post_all(parts: &mut [Fit], sent: &mut [Vec<usize>], pool: &mut Pool, grid: &[f64], eval_x: &[f64]) -> usize {
    let mut kept = 0;
    for (part, s) in parts.iter_mut().zip(sent) {
        let spec = part.pool_spec();
        let posts = part.chain_posts(grid, s, eval_x);
        kept += posts.iter().map(|p| p.kept.len()).sum::<usize>();
        pool.apply(&spec, posts);
    }
    kept
}

#[test]
fn chains_run_apart_pool_to_the_whole_fits_snapshot_bit_for_bit() {
    let data = Synthetic::NbExp.generate(40, 3);
    for (method, kind) in [
        (Method::Psgld, ModelKind::NoiseModel),
        (Method::Sgld, ModelKind::TwoHead),
        (Method::Vi, ModelKind::TwoHead),
        (Method::Nuts, ModelKind::NoiseModel),
        (Method::Psgld, ModelKind::Homoskedastic),
    ] {
        let cfg = config(method, kind, 3);
        check_pooling(&cfg, &data, &[vec![0], vec![1], vec![2]]);
        check_pooling(&cfg, &data, &[vec![0, 2], vec![1]]);
    }
}

#[test]
fn minibatches_cycles_and_one_chain_pool_too() {
    let data = Synthetic::Bump.generate(60, 2);
    let mut cfg = config(Method::Psgld, ModelKind::TwoHead, 2);
    cfg.inference.minibatch_above = 30;
    cfg.inference.batch_size = 16;
    cfg.inference.cycles = 2;
    check_pooling(&cfg, &data, &[vec![1], vec![0]]);
    check_pooling(&config(Method::Vi, ModelKind::NoiseModel, 1), &data, &[vec![0]]);
}

/// NUTS with extend on a tiny net and budget (warm-up 20, 8 draws, depth 3: chains
/// that disagree at first, as in tests/nuts.rs), within `cap` gradients per chain.
fn extending(chains: usize, cap: usize) -> FitConfig {
    let mut c = config(Method::Nuts, ModelKind::NoiseModel, chains);
    c.model.hidden = vec![4];
    c.inference.warmup = 20;
    c.inference.draws = 8;
    c.inference.max_depth = 3;
    c.inference.extend = true;
    c.inference.extend_gradients = cap;
    c
}

#[test]
fn chains_run_apart_extend_as_the_whole_fit_does_bit_for_bit() {
    let data = Synthetic::NbExp.generate(40, 3);
    let mut extended = false;
    for (cap, chunks) in [(3000, vec![5, 9, 3, 11]), (400, vec![7]), (3000, vec![40])] {
        let cfg = extending(3, cap);
        for groups in [vec![vec![0], vec![1], vec![2]], vec![vec![0, 2], vec![1]]] {
            let (decisions, whole) = check_pooling_in(&cfg, &data, &groups, &chunks);
            // The decisions: More(4) until the last, then Done with the whole fit's note.
            let drew = whole.total_steps - 20;
            let (last, more) = decisions.split_last().expect("the parts waited at the end of their budgets");
            assert!(more.iter().all(|e| *e == Extension::More(4)), "cap {cap}: {decisions:?}");
            assert_eq!(8 + 4 * more.len(), drew, "cap {cap}: the whole fit drew {drew} per chain");
            let Extension::Done(note) = last else { panic!("cap {cap}: {decisions:?}") };
            assert_eq!(note.as_ref(), whole.notes.first().filter(|n| n.contains("disagreed")), "cap {cap}");
            extended |= drew > 8;
        }
    }
    assert!(extended, "chains that disagree after 8 draws draw more");
}

#[test]
fn chains_that_stop_exploring_restart_alike_apart_and_in_the_whole_fit() {
    // A step size adapted for 2% acceptance: most trajectories diverge, so every chain
    // counts as stuck at the end of its budget and starts again, once.
    let data = Synthetic::NbExp.generate(40, 3);
    let mut cfg = extending(2, 1000);
    cfg.inference.target_accept = 0.02;
    cfg.inference.warmup = 40;
    // (A part with all the chains decides for itself.)
    check_pooling_in(&cfg, &data, &[vec![0, 1]], &[5, 9, 3, 11]);
    for chunks in [[5, 9, 3, 11], [17, 1, 40, 2]] {
        let (decisions, whole) = check_pooling_in(&cfg, &data, &[vec![0], vec![1]], &chunks);
        // Once per fit, when a chain has diverged 20 times (the 4th decision, at 20
        // draws); then the cap decides, as before.
        let restarts: Vec<&Extension> = decisions.iter().filter(|e| matches!(e, Extension::Restart { .. })).collect();
        let [Extension::Restart { chains, add, note }] = restarts[..] else { panic!("{decisions:?}") };
        assert_eq!(decisions[..3], [Extension::More(4), Extension::More(4), Extension::More(4)], "{decisions:?}");
        assert_eq!((chains, *add), (&vec![0, 1], 50 + 8), "the fresh warm-up and the planned draws: {decisions:?}");
        assert!(note.starts_with("chain 1 diverged on 20 of its 20 draws, chain 2 diverged on "), "{note}");
        assert!(note.contains("fresh warm-up of 50 draws"), "{note}");
        assert!(matches!(decisions.last(), Some(Extension::Done(Some(_)))), "{decisions:?}");
        assert!(whole.notes.iter().any(|n| n == note), "{:?}", whole.notes);
        // The loss plot's marks: both chains, each from its restart over its fresh warm-up.
        let marks: Vec<(usize, usize)> = whole.restarts.iter().map(|&(i, a, b)| (i, b - a)).collect();
        assert_eq!(marks, vec![(0, 50), (1, 50)], "{:?}", whole.restarts);
    }
    // Each restarted chain keeps only what it drew after its fresh warm-up.
    let mut fit = Fit::new(cfg.clone(), &data).unwrap();
    let mut restarted_at = None;
    while !fit.is_finished() {
        fit.step(7).unwrap();
        if restarted_at.is_none() && fit.restart_note.is_some() {
            // Decided at the end of the step that reached the budget.
            restarted_at = Some(fit.steps_done());
            assert!(fit.chains.iter().all(|c| c.draws.is_empty()), "the draws before the restart are dropped");
        }
    }
    let at = restarted_at.expect("the chains restarted");
    assert_eq!(fit.snapshot(&data.grid(10, 0.0)).restarts, vec![(0, at, at + 50), (1, at, at + 50)]);
    for c in &fit.chains {
        assert!(c.restarted_at.is_some());
        assert_eq!(c.keep_from, at + 50, "chain {}", c.index);
        assert_eq!(c.draws.len(), fit.total_steps() - c.keep_from, "chain {} keeps every draw after its warm-up", c.index);
    }
}

#[test]
fn a_chain_run_alone_has_its_seed_stream_of_the_whole_fit() {
    let data = Synthetic::NbExp.generate(40, 3);
    let cfg = config(Method::Psgld, ModelKind::TwoHead, 4);
    let mut whole = Fit::new(cfg.clone(), &data).unwrap();
    let mut third = Fit::new_chains(cfg, &data, &[2]).unwrap();
    while !whole.is_finished() {
        whole.step(500).unwrap();
        third.step(500).unwrap();
    }
    assert_eq!(third.chain_indices(), vec![2]);
    assert_eq!(whole.chains[2].draws, third.draws(), "chain 2's draws");
    assert_eq!(whole.chain_figures(2).loss.to_bits(), third.loss().to_bits());
    assert_ne!(whole.chains[1].draws, third.draws(), "not another chain's");
}

#[test]
fn a_divergence_apart_says_what_the_whole_fit_says() {
    let data = Synthetic::Bump.generate(60, 2);
    let mut cfg = config(Method::Psgld, ModelKind::TwoHead, 2);
    cfg.inference.steps = 4000;
    cfg.inference.step_size = 1.0;
    let run = |f: &mut Fit| -> Result<(), (usize, String)> {
        while !f.is_finished() {
            f.step(500).map_err(|e| (f.steps_done(), e.to_string()))?;
        }
        Ok(())
    };
    let whole = run(&mut Fit::new(cfg.clone(), &data).unwrap()).expect_err("a step size of 1 diverges");
    // The whole fit stops at the first chunk where a chain fails, with the message of
    // the first failing chain (by index) there: the earliest failure among the chains
    // run apart, ties to the lower index.
    let apart: Vec<(usize, String)> =
        (0..2).filter_map(|i| run(&mut Fit::new_chains(cfg.clone(), &data, &[i]).unwrap()).err()).collect();
    let first = apart.iter().min_by_key(|(at, _)| *at).expect("a chain diverges alone too");
    assert_eq!(first, &whole);
}

#[test]
fn chain_lists_that_are_not_ascending_chains_of_the_fit_are_refused() {
    let data = Synthetic::NbExp.generate(40, 3);
    let cfg = config(Method::Psgld, ModelKind::TwoHead, 3);
    for bad in [vec![], vec![3], vec![1, 1], vec![2, 0]] {
        assert!(matches!(Fit::new_chains(cfg.clone(), &data, &bad), Err(crate::infer::FitError::Invalid(_))), "{bad:?}");
    }
}

#[test]
fn traces_at_the_same_steps_average_point_by_point() {
    let a = [(1, 2.0), (101, 1.0)];
    let b = [(1, 4.0), (101, 2.0)];
    assert_eq!(pool_traces(&[&a, &b]), vec![(1, 3.0), (101, 1.5)]);
    assert_eq!(pool_traces(&[&a, &[]]), a.to_vec(), "a chain yet to post is left out");
    assert!(pool_traces(&[]).is_empty());
}

#[test]
fn traces_at_different_steps_pool_each_chains_latest_loss_up_to_the_shortest() {
    let a = [(1, 10.0), (50, 8.0), (100, 6.0), (150, 4.0)];
    let b = [(1, 20.0), (70, 18.0), (120, 16.0)];
    // Steps of either up to 120: a's loss held at its latest point, b's likewise.
    let want = vec![
        (1, 15.0),
        (50, (8.0 + 20.0) / 2.0),
        (70, (8.0 + 18.0) / 2.0),
        (100, (6.0 + 18.0) / 2.0),
        (120, (6.0 + 16.0) / 2.0),
    ];
    assert_eq!(pool_traces(&[&a, &b]), want);
    let long: Vec<(usize, f64)> = (0..900).map(|i| (2 * i + 1, i as f64)).collect();
    let other: Vec<(usize, f64)> = (0..900).map(|i| (2 * i + 2, 0.0)).collect();
    let p = pool_traces(&[&long, &other]);
    assert!(p.len() <= TRACE_POINTS && p.len() > TRACE_POINTS / 2, "thinned to {} points", p.len());
    assert!(p.windows(2).all(|w| w[0].0 < w[1].0), "steps ascending");
}

#[test]
fn the_phase_follows_the_schedule() {
    assert_eq!(phase_at(0, 100, (20, 50)), Phase::WarmStart);
    assert_eq!(phase_at(20, 100, (20, 50)), Phase::BurnIn);
    assert_eq!(phase_at(50, 100, (20, 50)), Phase::Sampling);
    assert_eq!(phase_at(100, 100, (20, 50)), Phase::Finished);
}

#[test]
fn predictions_cross_as_bytes_bit_exactly() {
    let d = DrawPrediction { mu: vec![1.5, f64::NAN, -0.0, f64::INFINITY, 1e-310], sigma: vec![0.1; 5], theta: vec![2.0] };
    let json = serde_json::to_string(&d).unwrap();
    let back: DrawPrediction = serde_json::from_str(&json).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.mu), bits(&d.mu));
    assert_eq!(back.sigma, d.sigma);
    let bad = r#"{"mu":[0,0,0],"sigma":[],"theta":[]}"#;
    let e = serde_json::from_str::<DrawPrediction>(bad).unwrap_err().to_string();
    assert!(e.contains("not whole f64s"), "{e}");
}

#[test]
fn a_post_sent_before_the_decision_arrived_does_not_undo_it() {
    let data = Synthetic::NbExp.generate(40, 3);
    for cap in [3000, 10] {
        let cfg = extending(2, cap);
        let grid = data.grid(30, 0.0);
        let mut parts: Vec<Fit> = (0..2).map(|i| Fit::new_chains(cfg.clone(), &data, &[i]).unwrap()).collect();
        let mut sent = vec![Vec::new(); 2];
        let mut pool = Pool::new(grid.clone());
        for p in parts.iter_mut() {
            p.step(28).unwrap();
            assert!(p.awaiting_extension() && !p.is_finished(), "a part waits at the end of its budget");
            assert!(p.step(5).is_ok() && p.steps_done() == 28, "and does not go on by itself");
        }
        post_all(&mut parts, &mut sent, &mut pool, &grid, &[]);
        let e = pool.extension().expect("every chain is at the end");
        assert_eq!(e == Extension::More(4), cap == 3000, "{e:?}");
        let before = pool.snapshot().unwrap();
        // Part 1 posts again (a Pause's answer) before it hears of the decision.
        let (spec, posts) = (parts[1].pool_spec(), parts[1].chain_posts(&grid, &mut sent[1], &[]));
        pool.apply(&spec, posts);
        assert_eq!(pool.extension(), None, "decided once");
        let after = pool.snapshot().unwrap();
        assert!(same(&before, &after), "the stale post changed the snapshot:\n{before:?}\n{after:?}");
        assert_eq!(after.phase == Phase::Finished, cap == 10);
        assert_eq!(after.total_steps, if cap == 3000 { 32 } else { 28 });
    }
}
