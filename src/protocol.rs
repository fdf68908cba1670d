//! Messages between the UI thread and the fitting workers.
//!
//! The page's state speaks [`ToWorker`] / [`FromWorker`] to "the fit"; the page runs
//! the fit's chains on several workers (`ui::chains` splits each `ToWorker` into
//! [`ToChains`] for them and pools their [`FromChains`] back into `FromWorker`).
//! Both sides import this module; it compiles natively so the serde round trip is
//! tested with `cargo test`. Only predictions and summaries cross the boundary,
//! never raw weights.

use serde::{Deserialize, Serialize};

use crate::config::FitConfig;
use crate::data::Dataset;
use crate::infer::fit::Extension;
use crate::infer::pool::{ChainPost, PoolSpec};
use crate::summary::{PredictiveSummary, Snapshot};

/// UI -> worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Build a new fit and start running it. `run` tags every answer so the UI can
    /// ignore late snapshots of a run it has already reset.
    /// `eval_x`: x of held-out points, where the finished fit's predictions are also
    /// sent (`Frame::eval`); empty for none.
    Start {
        run: u32,
        config: FitConfig,
        data: Dataset,
        grid: Vec<f64>,
        #[serde(default)]
        eval_x: Vec<f64>,
        /// Start from the posterior of the fit the worker holds (the previous one) when
        /// it is of the same settings (the page's Measure next); otherwise a fresh fit.
        #[serde(default)]
        warm: bool,
    },
    Pause,
    Resume,
    /// Drop the fit.
    Stop,
    /// Advance by `n` gradient steps (per chain) while paused, then post a snapshot.
    Step { n: usize },
    /// The method's one live-editable setting, by its settings name (its registry
    /// row's `rate.key`: `step_size` for the samplers, `vi_lr` for VI).
    Update { setting: String, value: f64 },
    /// Test hook: make the worker panic, to check that the UI recovers.
    Panic,
}

/// Worker -> UI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// Progress while running (posted every ~80 ms, never per step).
    Snapshot(Frame),
    /// The budget is spent; the final summary.
    Finished(Frame),
    /// The fit could not start or diverged; the last snapshot stays valid.
    Error { run: u32, message: String },
}

/// One snapshot with the worker's throughput figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    pub run: u32,
    pub snapshot: Snapshot,
    /// Gradient steps per chain per second of wall time while running.
    pub steps_per_sec: f64,
    /// Milliseconds the worker spent computing this snapshot (bands on the grid).
    pub snapshot_ms: f64,
    /// Whether the worker keeps running after this frame.
    pub running: bool,
    /// Milliseconds the worker has spent on this fit so far (steps and snapshots;
    /// pauses not counted): the fit's elapsed time.
    #[serde(default)]
    pub elapsed_ms: f64,
    /// The predictive summary at the held-out x of `ToWorker::Start::eval_x`, on the
    /// finished fit's frame only (None before, and without held-out points).
    #[serde(default)]
    pub eval: Option<PredictiveSummary>,
}

impl Frame {
    /// A frame around `summary` with placeholder progress figures: for tests and for
    /// warming up the page's drawing code. Built through serde so that fields the
    /// core adds to `Snapshot` later (with serde defaults) need no change here.
    pub fn placeholder(run: u32, summary: PredictiveSummary) -> Frame {
        let snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "step": 5, "total_steps": 10, "phase": "sampling", "loss": 1.25,
            "trace": [[0, 3.0], [5, 1.25]], "draws_kept": 4, "rhat_max": 1.01,
            "summary": summary, "params": [], "warnings": [],
        }))
        .expect("a placeholder snapshot deserialises");
        Frame { run, snapshot, steps_per_sec: 1000.0, snapshot_ms: 1.0, running: true, elapsed_ms: 1500.0, eval: None }
    }
}

/// The page -> one of its fitting workers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToChains {
    /// Build chains `chains` of the fit `config` describes (`Fit::new_chains`) and start
    /// running them; the rest as [`ToWorker::Start`].
    /// With `warm`, a refit from the posterior of the fit the worker holds when that one
    /// is of the same settings and chains (`Fit::warm_from`); otherwise a fresh fit.
    Start {
        run: u32,
        config: FitConfig,
        data: Dataset,
        grid: Vec<f64>,
        eval_x: Vec<f64>,
        chains: Vec<usize>,
        #[serde(default)]
        warm: bool,
    },
    Pause,
    Resume,
    Stop,
    /// Advance by `n` steps while paused, then post.
    Step { n: usize },
    Update { setting: String, value: f64 },
    /// The extend decision for chains waiting at the end of their budget
    /// (`ChainsFrame::at_budget`), made over all the fit's chains (`Pool::extension`):
    /// apply it (`Fit::extend`) and post.
    ///
    /// [`Pool::extension`]: crate::infer::pool::Pool::extension
    /// [`Fit::extend`]: crate::infer::Fit::extend
    Extend(Extension),
    /// Test hook: make the worker panic.
    Panic,
}

/// One fitting worker -> the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromChains {
    /// The worker's chains now (posted every ~80 ms while running, and on Pause, on a
    /// Step's end and when they finish).
    Posts(ChainsFrame),
    /// The chains could not start or diverged; the last posts stay valid.
    Error { run: u32, message: String },
}

/// One worker's post: its chains' states and its throughput figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainsFrame {
    pub run: u32,
    pub spec: PoolSpec,
    pub posts: Vec<ChainPost>,
    /// Steps per chain per second of wall time while running.
    pub steps_per_sec: f64,
    /// Milliseconds the worker spent on this post's predictions.
    pub snapshot_ms: f64,
    /// Whether the worker keeps running (and posting) after this.
    pub running: bool,
    /// Milliseconds the worker has spent on this fit (steps and posts).
    pub elapsed_ms: f64,
    /// The chains have spent their budget.
    pub finished: bool,
    /// The chains are at the end of their budget waiting for the extend decision
    /// ([`ToChains::Extend`]); they post nothing until it comes.
    #[serde(default)]
    pub at_budget: bool,
}

impl FromWorker {
    /// The run this message belongs to.
    pub fn run(&self) -> u32 {
        match self {
            FromWorker::Snapshot(f) | FromWorker::Finished(f) => f.run,
            FromWorker::Error { run, .. } => *run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> PredictiveSummary {
        PredictiveSummary {
            x: vec![0.0, 1.0],
            mean: vec![0.5, 0.6],
            sd_epistemic: vec![0.1, 0.2],
            sd_aleatoric: vec![0.3, 0.4],
            sd_total: vec![0.32, 0.45],
            sigma_mean: vec![0.3, 0.4],
            sigma_lo: vec![0.2, 0.3],
            sigma_hi: vec![0.4, 0.5],
        }
    }

    #[test]
    fn messages_round_trip_through_json() {
        let to = vec![
            ToWorker::Start {
                run: 3,
                config: FitConfig::default(),
                data: Dataset::new(vec![0.0, 1.0], vec![1.0, 2.0]),
                grid: vec![0.0, 0.5, 1.0],
                eval_x: vec![0.25],
                warm: false,
            },
            ToWorker::Pause,
            ToWorker::Resume,
            ToWorker::Stop,
            ToWorker::Step { n: 50 },
            ToWorker::Update { setting: "step_size".into(), value: 1e-3 },
        ];
        for m in to {
            let s = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<ToWorker>(&s).unwrap(), m);
        }
        let frame = Frame::placeholder(3, summary());
        let from = vec![
            FromWorker::Snapshot(frame.clone()),
            FromWorker::Finished(frame),
            FromWorker::Error { run: 3, message: "step size too large".into() },
        ];
        for m in from {
            let s = serde_json::to_string(&m).unwrap();
            let back: FromWorker = serde_json::from_str(&s).unwrap();
            assert_eq!(back, m);
            assert_eq!(back.run(), 3);
        }
    }
}
