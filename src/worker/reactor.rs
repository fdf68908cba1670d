//! The reactor loop. It never blocks for long: each pass runs the fit for about
//! `CHUNK_MS`, then yields to the event loop so that posted outputs leave the worker
//! and new inputs (Pause, Stop, Update) are seen at once.
//!
//! A worker runs some chains of the page's fit (`Fit::new_chains`; the page runs one
//! worker per chain up to its cores) and posts their states, which the page pools.

use futures::{FutureExt, SinkExt, StreamExt};
use yew_agent::reactor::{reactor, ReactorScope};

use super::clock::{now_ms, yield_now};
use crate::infer::Fit;
use crate::protocol::{ChainsFrame, FromChains, ToChains};

/// Length of one slice of work between yields.
const CHUNK_MS: f64 = 12.0;
/// Aim of one `fit.step(n)` call, so a chunk ends close to `CHUNK_MS`.
const CALL_MS: f64 = 3.0;
/// Shortest interval between snapshots (12 a second); stretched when computing a
/// snapshot is itself slow, so the fit keeps most of the time.
const POST_MS: f64 = 80.0;

/// Worker time spent rehearsing (see [`Rehearsal`]).
const REHEARSAL_MS: f64 = 150.0;

/// Short practice fits of each model kind, run once while the worker is idle after
/// start-up. The browser first runs wasm with a baseline compiler and recompiles hot
/// functions with its optimising compiler on a background thread: without this,
/// that recompilation (about one CPU-second for the fit's code in Chromium, measured
/// in a trace) ran in the first second after the first Train and competed with the
/// page for the CPU, and the fit ran slower until it finished. A Start message ends
/// the rehearsal at once.
struct Rehearsal {
    data: crate::data::Dataset,
    grid: Vec<f64>,
    fit: Option<Fit>,
    /// Practice fits started so far (they cycle through the model kinds).
    started: usize,
    spent_ms: f64,
}

impl Rehearsal {
    fn new() -> Self {
        let data = crate::data::Synthetic::NbExp.generate(40, 1);
        let grid = data.grid(60, 0.05);
        Rehearsal { data, grid, fit: None, started: 0, spent_ms: 0.0 }
    }

    /// A short fit of the next model kind that still goes through every phase: warm
    /// start, sampler, kept draws, predictions and diagnostics.
    fn next_fit(&mut self) -> Option<Fit> {
        use crate::config::{FitConfig, ModelKind};
        let kinds = [ModelKind::TwoHead, ModelKind::NoiseModel, ModelKind::Homoskedastic];
        let mut c = FitConfig::default();
        c.model.kind = kinds[self.started % kinds.len()];
        c.inference.seed = self.started as u64;
        // The default method (NUTS) and the step sampler in turn, each in miniature.
        if self.started % 2 == 1 {
            c.inference.method = crate::config::STEP_BUDGET_METHOD;
        }
        c.inference.steps = 400;
        c.inference.warmup = 30;
        c.inference.draws = 20;
        c.inference.extend = false;
        self.started += 1;
        Fit::new(c, &self.data).ok()
    }

    fn done(&self) -> bool {
        self.spent_ms >= REHEARSAL_MS
    }

    /// About `CHUNK_MS` of practice.
    fn chunk(&mut self) {
        let t0 = now_ms();
        while now_ms() - t0 < CHUNK_MS {
            if self.fit.as_ref().is_none_or(Fit::is_finished) {
                self.fit = self.next_fit();
            }
            let Some(fit) = self.fit.as_mut() else {
                self.spent_ms = REHEARSAL_MS; // cannot rehearse; give up
                return;
            };
            if fit.step(50).is_err() {
                self.fit = None;
                continue;
            }
            let mut sent = Vec::new();
            let _ = fit.chain_posts(&self.grid, &mut sent, &[]);
        }
        self.spent_ms += now_ms() - t0;
    }
}

/// One fit (some of its chains) and its bookkeeping.
struct Job {
    run: u32,
    fit: Fit,
    grid: Vec<f64>,
    /// Held-out x: the finished frame carries the predictions there too.
    eval_x: Vec<f64>,
    /// Kept draws of each chain posted so far (a post carries only new ones).
    sent: Vec<usize>,
    running: bool,
    /// Steps still to do for a Step request while paused.
    pending: usize,
    /// Milliseconds per `step(1)`, smoothed; unknown until the first call, which
    /// therefore does one step (a NUTS draw at depth 9 can take 20-40 ms in the browser:
    /// a guess of 60 steps had the first plot wait 1.5 s).
    ms_per_step: Option<f64>,
    last_post: f64,
    snapshot_ms: f64,
    rate: RateMeter,
    /// Time spent on this fit (chunks and snapshots), for the status line.
    busy_ms: f64,
}

/// Steps per second over the time actually spent running.
#[derive(Default)]
struct RateMeter {
    steps: usize,
    ms: f64,
    smoothed: f64,
}

impl RateMeter {
    fn add(&mut self, steps: usize, ms: f64) {
        self.steps += steps;
        self.ms += ms;
        if self.ms >= 250.0 {
            let r = self.steps as f64 / (self.ms / 1000.0);
            self.smoothed = if self.smoothed == 0.0 { r } else { 0.5 * self.smoothed + 0.5 * r };
            self.steps = 0;
            self.ms = 0.0;
        }
    }
    fn per_sec(&self) -> f64 {
        if self.smoothed > 0.0 {
            self.smoothed
        } else if self.ms > 0.0 {
            self.steps as f64 / (self.ms / 1000.0)
        } else {
            0.0
        }
    }
}

enum Outcome {
    Continue,
    Finished,
    Failed(String),
}

impl Job {
    /// Running or stepping, and neither finished nor waiting for the extend decision.
    fn busy(&self) -> bool {
        (self.running || self.pending > 0) && !self.fit.is_finished() && !self.fit.awaiting_extension()
    }

    /// Run the fit for about `CHUNK_MS`.
    fn chunk(&mut self) -> Outcome {
        let start = now_ms();
        loop {
            let mut n = self.ms_per_step.map_or(1, |ms| ((CALL_MS / ms.max(1e-4)) as usize).clamp(1, 10_000));
            if !self.running {
                n = n.min(self.pending);
            }
            let before = self.fit.steps_done();
            let t0 = now_ms();
            let result = self.fit.step(n);
            let dt = now_ms() - t0;
            let done = self.fit.steps_done().saturating_sub(before);
            self.pending = self.pending.saturating_sub(done);
            if done > 0 {
                let per = dt / done as f64;
                self.ms_per_step = Some(self.ms_per_step.map_or(per, |ms| 0.7 * ms + 0.3 * per));
                self.rate.add(done, dt);
            }
            if let Err(e) = result {
                self.running = false;
                self.pending = 0;
                return Outcome::Failed(e.to_string());
            }
            if self.fit.is_finished() {
                self.busy_ms += now_ms() - start;
                return Outcome::Finished;
            }
            if !self.busy() || done == 0 || now_ms() - start >= CHUNK_MS {
                self.busy_ms += now_ms() - start;
                return Outcome::Continue;
            }
        }
    }

    fn frame(&mut self) -> ChainsFrame {
        let t0 = now_ms();
        let posts = self.fit.chain_posts(&self.grid, &mut self.sent, &self.eval_x);
        let now = now_ms();
        self.snapshot_ms = now - t0;
        self.busy_ms += self.snapshot_ms;
        self.last_post = now;
        ChainsFrame {
            run: self.run,
            spec: self.fit.pool_spec(),
            posts,
            steps_per_sec: self.rate.per_sec(),
            snapshot_ms: self.snapshot_ms,
            running: self.busy(),
            elapsed_ms: self.busy_ms,
            finished: self.fit.is_finished(),
            at_budget: self.fit.awaiting_extension(),
        }
    }

    fn post_due(&self) -> bool {
        now_ms() - self.last_post >= POST_MS.max(3.0 * self.snapshot_ms)
    }
}

/// Apply one message; returns what to post, if anything.
fn handle(job: &mut Option<Job>, msg: ToChains) -> Option<FromChains> {
    match msg {
        ToChains::Start { run, config, data, grid, eval_x, chains, warm } => {
            let prev = job.take().map(|j| j.fit);
            // A refit from the previous posterior when asked for and the previous fit is a
            // finished one of these settings and chains; a fresh fit otherwise.
            let warm_fit = prev
                .filter(|p| warm && p.is_finished() && *p.origin() == config && p.chain_indices() == chains)
                .and_then(|p| Fit::warm_from(&p, &data).ok());
            let fit = match warm_fit {
                Some(f) => Ok(f),
                None => Fit::new_chains(config, &data, &chains),
            };
            match fit {
                Ok(fit) => {
                    *job = Some(Job {
                        run,
                        fit,
                        grid,
                        eval_x,
                        sent: Vec::new(),
                        running: true,
                        pending: 0,
                        ms_per_step: None,
                        last_post: f64::NEG_INFINITY,
                        snapshot_ms: 0.0,
                        rate: RateMeter::default(),
                        busy_ms: 0.0,
                    });
                    None
                }
                Err(e) => Some(FromChains::Error { run, message: e.to_string() }),
            }
        }
        ToChains::Pause => {
            if let Some(j) = job {
                j.running = false;
                j.pending = 0;
                return Some(FromChains::Posts(j.frame()));
            }
            None
        }
        ToChains::Resume => {
            if let Some(j) = job {
                j.running = !j.fit.is_finished();
            }
            None
        }
        ToChains::Stop => {
            *job = None;
            None
        }
        ToChains::Step { n } => {
            if let Some(j) = job {
                j.running = false;
                j.pending += n;
            }
            None
        }
        ToChains::Update { setting, value } => {
            if let Some(j) = job {
                // A change of another method's rate (sent for a fit that has been
                // replaced meanwhile) does not apply to this one.
                if j.fit.config.inference.method.spec().rate.as_ref().is_some_and(|r| r.key == setting) {
                    j.fit.set_rate(value);
                }
            }
            None
        }
        ToChains::Extend(e) => {
            let j = job.as_mut()?;
            j.fit.extend(&e);
            Some(FromChains::Posts(j.frame()))
        }
        ToChains::Panic => panic!("panic requested by the page (test hook)"),
    }
}

#[reactor(FitReactor)]
pub async fn fit_reactor(mut scope: ReactorScope<ToChains, FromChains>) {
    let mut job: Option<Job> = None;
    let mut rehearsal = Some(Rehearsal::new());
    loop {
        // Wait for input while idle; while busy (or rehearsing) only look at what has arrived.
        let busy = job.as_ref().is_some_and(Job::busy) || rehearsal.is_some();
        let first = if busy {
            yield_now().await;
            scope.next().now_or_never()
        } else {
            Some(scope.next().await)
        };
        let mut inputs = Vec::new();
        match first {
            Some(None) => return, // bridge closed
            Some(Some(m)) => inputs.push(m),
            None => {}
        }
        while let Some(next) = scope.next().now_or_never() {
            match next {
                Some(m) => inputs.push(m),
                None => return,
            }
        }
        if !inputs.is_empty() {
            rehearsal = None;
        }
        if let Some(r) = rehearsal.as_mut() {
            r.chunk();
            if r.done() {
                rehearsal = None;
            }
            continue;
        }
        for m in inputs {
            if let Some(out) = handle(&mut job, m) {
                if scope.send(out).await.is_err() {
                    return;
                }
            }
        }

        let Some(j) = job.as_mut() else { continue };
        if !j.busy() {
            continue;
        }
        let outs = match j.chunk() {
            Outcome::Continue if j.post_due() || !j.busy() => vec![FromChains::Posts(j.frame())],
            Outcome::Continue => vec![],
            Outcome::Finished => {
                j.running = false;
                vec![FromChains::Posts(j.frame())]
            }
            // The fit is back at its state before the failing call: post it first, so
            // the page keeps the last good draws, not an older post's.
            Outcome::Failed(message) => vec![FromChains::Posts(j.frame()), FromChains::Error { run: j.run, message }],
        };
        for out in outs {
            if scope.send(out).await.is_err() {
                return;
            }
        }
    }
}
