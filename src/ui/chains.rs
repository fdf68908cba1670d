//! The page's chains on several workers (issue 11): one Web Worker per chain, up to
//! the cores the browser reports and at least 2 (the page's own thread is mostly idle
//! while a fit runs). The page's state speaks to "the fit" ([`ToWorker`] /
//! [`FromWorker`]); the [`Conductor`] splits each message into the workers' own
//! ([`ToChains`]: a worker runs chains i with i mod W = its index), pools their posts
//! (`infer::pool`) and hands the state one frame per round of posts. An extending fit
//! (NUTS with extend) decides at the end of each budget from all the chains' draws:
//! the workers wait there, the pool decides ([`Pool::extension`]) and the conductor
//! tells every worker ([`ToChains::Extend`]).
//!
//! No web code here: the browser part (spawning the workers, the bridges) is in
//! `app.rs`; this is tested natively, with real fits standing in for the workers.

use crate::infer::pool::Pool;
use crate::protocol::{ChainsFrame, Frame, FromChains, FromWorker, ToChains, ToWorker};

/// Workers for a page whose browser reports `cores` logical cores (None: unknown),
/// for fits of up to `max_chains` chains.
pub fn worker_count(cores: Option<usize>, max_chains: usize) -> usize {
    cores.unwrap_or(2).max(2).min(max_chains.max(1))
}

/// What the conductor asks for: a message for the page's state, or for a worker.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    Page(FromWorker),
    Worker(usize, ToChains),
}

/// One worker's part in the current run.
#[derive(Clone, Debug, Default)]
struct Part {
    /// Its last post said it goes on running.
    running: bool,
    /// A command was sent that it answers with a post (Start, Resume, Pause, Step).
    awaiting: bool,
    /// It posted since the last frame went to the page.
    fresh: bool,
    finished: bool,
    /// Its chains wait at the end of their budget for the extend decision.
    at_budget: bool,
    chains: usize,
    steps_per_sec: f64,
    snapshot_ms: f64,
    elapsed_ms: f64,
}

#[derive(Clone, Debug)]
struct Run {
    run: u32,
    eval_x: Vec<f64>,
    pool: Pool,
    parts: Vec<Part>,
    /// The Finished frame went to the page.
    done: bool,
}

/// Routes the page's fit messages to the workers and pools what they post.
#[derive(Clone, Debug)]
pub struct Conductor {
    workers: usize,
    run: Option<Run>,
    /// Workers the last run used (a new run with fewer stops the others).
    used: usize,
}

impl Conductor {
    /// A conductor over `workers` workers (at least 1).
    pub fn new(workers: usize) -> Conductor {
        Conductor { workers: workers.max(1), run: None, used: 0 }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Workers a fit of `chains` chains runs on.
    pub fn workers_for(&self, chains: usize) -> usize {
        chains.clamp(1, self.workers)
    }

    /// Forget the run (the workers were replaced after a crash).
    pub fn reset(&mut self) {
        self.run = None;
        self.used = 0;
    }

    /// The workers' messages for one message of the page's state.
    pub fn send(&mut self, msg: ToWorker) -> Vec<(usize, ToChains)> {
        let used = self.run.as_ref().map_or(0, |r| r.parts.len());
        let all = |m: ToChains| (0..used).map(|w| (w, m.clone())).collect::<Vec<_>>();
        // Workers whose chains have finished, or wait for the extend decision, answer
        // none of these but Pause.
        let mut awaiting = |on: bool| {
            if let Some(r) = &mut self.run {
                r.parts.iter_mut().filter(|p| !p.finished && !p.at_budget).for_each(|p| p.awaiting = on);
            }
        };
        match msg {
            ToWorker::Start { run, config, data, grid, eval_x, warm } => {
                let k = config.inference.chains.max(1);
                let w = self.workers_for(k);
                let mut out: Vec<(usize, ToChains)> = (w..self.used).map(|v| (v, ToChains::Stop)).collect();
                for v in 0..w {
                    let chains: Vec<usize> = (v..k).step_by(w).collect();
                    let start = ToChains::Start {
                        run,
                        config: config.clone(),
                        data: data.clone(),
                        grid: grid.clone(),
                        eval_x: eval_x.clone(),
                        chains: chains.clone(),
                        warm,
                    };
                    out.push((v, start));
                }
                let parts =
                    (0..w).map(|v| Part { awaiting: true, chains: (v..k).step_by(w).count(), ..Part::default() }).collect();
                self.run = Some(Run { run, eval_x, pool: Pool::new(grid), parts, done: false });
                self.used = w;
                out
            }
            ToWorker::Pause => {
                awaiting(true);
                all(ToChains::Pause)
            }
            ToWorker::Resume => {
                awaiting(true);
                all(ToChains::Resume)
            }
            ToWorker::Step { n } => {
                awaiting(true);
                all(ToChains::Step { n })
            }
            ToWorker::Update { setting, value } => all(ToChains::Update { setting, value }),
            ToWorker::Stop => {
                self.run = None;
                all(ToChains::Stop)
            }
            ToWorker::Panic => vec![(0, ToChains::Panic)],
        }
    }

    /// Take one worker's message: what to tell the page (and the other workers).
    pub fn receive(&mut self, worker: usize, msg: FromChains) -> Vec<Out> {
        let Some(r) = self.run.as_mut() else { return vec![] };
        match msg {
            FromChains::Error { run, message } => {
                if run != r.run || worker >= r.parts.len() {
                    return vec![];
                }
                // The first error ends the fit: the other workers stop, the page keeps a
                // frame of every chain's last post (the failing worker posts its last
                // good state just before its error), whether or not a round was complete.
                let last = r.frame_now().map(Out::Page);
                let others = (0..r.parts.len()).filter(|&v| v != worker).map(|v| Out::Worker(v, ToChains::Stop));
                let out = last.into_iter().chain([Out::Page(FromWorker::Error { run, message })]).chain(others).collect();
                self.run = None;
                out
            }
            FromChains::Posts(f) => {
                if f.run != r.run || worker >= r.parts.len() || r.done {
                    return vec![];
                }
                r.take(worker, f);
                // All the chains at the end of the budget of a fit that may extend: the
                // pool decides, every worker applies it and answers with a post, and
                // the next frame waits for those (it shows the decision's outcome).
                if let Some(e) = r.pool.extension() {
                    r.parts.iter_mut().for_each(|p| (p.awaiting, p.fresh, p.at_budget) = (true, false, false));
                    return (0..r.parts.len()).map(|v| Out::Worker(v, ToChains::Extend(e.clone()))).collect();
                }
                r.frame().into_iter().map(Out::Page).collect()
            }
        }
    }
}

impl Run {
    fn take(&mut self, worker: usize, f: ChainsFrame) {
        let ChainsFrame { spec, posts, steps_per_sec, snapshot_ms, running, elapsed_ms, finished, at_budget, .. } = f;
        self.pool.apply(&spec, posts);
        let p = &mut self.parts[worker];
        p.running = running;
        p.fresh = true;
        p.finished = finished;
        p.at_budget = at_budget;
        if !running {
            p.awaiting = false;
        }
        if steps_per_sec > 0.0 {
            p.steps_per_sec = steps_per_sec;
        }
        p.snapshot_ms = snapshot_ms;
        p.elapsed_ms = elapsed_ms;
    }

    /// The page's next frame, once every worker that is still going has posted since
    /// the last one (so a frame comes per round of posts, not per post), or the
    /// Finished frame once they all have finished.
    fn frame(&mut self) -> Option<FromWorker> {
        let all_finished = self.parts.iter().all(|p| p.finished);
        let round = self.parts.iter().all(|p| p.fresh || !(p.running || p.awaiting));
        if !(all_finished || round) {
            return None;
        }
        self.build_frame(all_finished)
    }

    /// A frame of what every chain last posted, round or not, when the fit stops with
    /// an error; None if nothing new came since the last frame.
    fn frame_now(&mut self) -> Option<FromWorker> {
        if !self.parts.iter().any(|p| p.fresh) {
            return None;
        }
        self.parts.iter_mut().for_each(|p| p.running = false);
        self.build_frame(false)
    }

    fn build_frame(&mut self, all_finished: bool) -> Option<FromWorker> {
        let snapshot = self.pool.snapshot()?;
        self.parts.iter_mut().for_each(|p| p.fresh = false);
        let chains: usize = self.parts.iter().map(|p| p.chains).sum();
        let rate = self.parts.iter().map(|p| p.steps_per_sec * p.chains as f64).sum::<f64>() / chains.max(1) as f64;
        let frame = Frame {
            run: self.run,
            snapshot,
            steps_per_sec: rate,
            snapshot_ms: self.parts.iter().map(|p| p.snapshot_ms).fold(0.0, f64::max),
            running: self.parts.iter().any(|p| p.running),
            elapsed_ms: self.parts.iter().map(|p| p.elapsed_ms).fold(0.0, f64::max),
            eval: if all_finished { self.pool.eval(&self.eval_x) } else { None },
        };
        if all_finished {
            self.done = true;
            Some(FromWorker::Finished(frame))
        } else {
            Some(FromWorker::Snapshot(frame))
        }
    }
}

#[cfg(test)]
mod tests;
