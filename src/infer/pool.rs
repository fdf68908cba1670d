//! Pooling chains run apart (issue 11: one Web Worker per chain in the page). A
//! worker runs some chains of a fit alone (`Fit::new_chains`) and posts each chain's
//! state ([`ChainPost`]: its figures, the grid predictions of the draws it kept since
//! its last post, its live draws); the page's [`Pool`] keeps what has arrived and
//! turns it into the [`Snapshot`] the whole fit would give ([`pool_snapshot`], which
//! is also how [`Fit::snapshot`] pools a fit's own chains).
//!
//! Chains stepped in the same chunks pool to the whole fit's snapshot bit for bit
//! (tests below). On workers the chains are at slightly different steps: the
//! snapshot's step is the slowest chain's, and the loss trace pools each chain's
//! latest point at each step ([`pool_traces`]).

use serde::{Deserialize, Serialize};

use super::fit::{ExtendSpec, Extension, Fit, TRACE_POINTS};
use super::snapshot::{pool_reliability, pool_snapshot};
use crate::summary::bands::{bands, DrawPrediction};
use crate::summary::{MethodDiagnostics, Phase, PredictiveSummary, Snapshot};

/// The phase at per-chain step `step` of a budget of `total` whose warm start and
/// burn-in end at `ends`.
pub fn phase_at(step: usize, total: usize, ends: (usize, usize)) -> Phase {
    if step >= total {
        Phase::Finished
    } else if step < ends.0 {
        Phase::WarmStart
    } else if step < ends.1 {
        Phase::BurnIn
    } else {
        Phase::Sampling
    }
}

/// The chains' (step, loss) traces as one: at each step the mean over the chains.
/// Chains at the same steps (one fit, or chains stepped in the same chunks) give the
/// mean point by point; chains at different steps give, at every step any of them has
/// up to where the shortest ends, the mean of each chain's latest loss at or before it
/// (its first before its first point), thinned to `TRACE_POINTS`. Empty traces (a
/// chain that has not posted yet) are left out.
pub fn pool_traces(traces: &[&[(usize, f64)]]) -> Vec<(usize, f64)> {
    let traces: Vec<&[(usize, f64)]> = traces.iter().copied().filter(|t| !t.is_empty()).collect();
    let Some(first) = traces.first() else { return Vec::new() };
    let k = traces.len() as f64;
    let same_steps = traces.iter().all(|t| t.len() == first.len() && t.iter().zip(first.iter()).all(|(a, b)| a.0 == b.0));
    if same_steps {
        return (0..first.len()).map(|j| (first[j].0, traces.iter().map(|t| t[j].1).sum::<f64>() / k)).collect();
    }
    let end = traces.iter().map(|t| t[t.len() - 1].0).min().unwrap_or(0);
    let mut steps: Vec<usize> = traces.iter().flat_map(|t| t.iter().map(|p| p.0)).filter(|&s| s <= end).collect();
    steps.sort_unstable();
    steps.dedup();
    let mut at = vec![0usize; traces.len()];
    let mut out: Vec<(usize, f64)> = steps
        .into_iter()
        .map(|s| {
            let mut sum = 0.0;
            for (t, i) in traces.iter().zip(at.iter_mut()) {
                while *i + 1 < t.len() && t[*i + 1].0 <= s {
                    *i += 1;
                }
                sum += t[*i].1;
            }
            (s, sum / k)
        })
        .collect();
    while out.len() > TRACE_POINTS {
        out = out.iter().step_by(2).copied().collect();
    }
    out
}

/// What all chains of a fit share: fixed when the fit starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolSpec {
    /// The fit's number of chains (`config.inference.chains`).
    pub chains: usize,
    pub total_steps: usize,
    /// Where the warm start and the burn-in end (`Snapshot::phase_ends`).
    pub phase_ends: (usize, usize),
    /// The reported noise parameters.
    pub names: Vec<String>,
    /// The training data's x range (data units).
    pub x_range: (f64, f64),
    /// Whether the chains' draws are compared (R-hat): not for samples from q.
    pub compare_chains: bool,
    /// How the reliability warnings tell to give this method more time (its registry
    /// row's `longer`).
    #[serde(default)]
    pub longer: String,
    pub notes: Vec<String>,
    /// Warnings that hold for the whole fit (after the step-size warning).
    pub fixed_warnings: Vec<String>,
    /// While the fit may still draw more at the end of its budget: what decides it
    /// (the chains wait there for [`Pool::extension`]).
    #[serde(default)]
    pub extend: Option<ExtendSpec>,
    /// A refit from the previous fit's posterior (`Fit::warm_from`).
    #[serde(default)]
    pub warm: bool,
}

impl PoolSpec {
    /// The spec after the extend decision `e` at the end of the budget: what the
    /// chains' fits give once they have applied it ([`Fit::extend`]).
    fn extended(&mut self, e: &Extension) {
        match e {
            Extension::More(add) => {
                self.total_steps += add;
                if let Some(x) = &mut self.extend {
                    x.drawn += add;
                }
            }
            Extension::Done(note) => {
                let restarted = self.extend.as_ref().is_some_and(|x| x.restarted);
                self.extend = None;
                if let Some(n) = note {
                    self.notes.insert(restarted as usize, n.clone());
                }
            }
            Extension::Restart { add, note, .. } => {
                self.total_steps += add;
                if let Some(x) = &mut self.extend {
                    x.drawn += add;
                    x.restarted = true;
                }
                // Before the extend decision's note, as the fit's own spec has them.
                self.notes.insert(0, note.clone());
            }
        }
    }
}

/// One chain's figures at one moment: everything the snapshot reads but its draws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainFigures {
    /// The chain's index among the fit's chains.
    pub index: usize,
    /// Steps the chain has done.
    pub step: usize,
    pub loss: f64,
    pub trace: Vec<(usize, f64)>,
    /// Gradients the method used (after the warm start).
    pub gradients: usize,
    /// The method's diagnostics once it has started (divergence x in data units).
    pub method: Option<MethodDiagnostics>,
    /// Mean MALA acceptance, once there are 100 moves.
    pub mala: Option<f64>,
    /// Draws kept so far.
    pub kept: usize,
    /// The unit from which the chain keeps draws, when it restarted (its kept draws
    /// were dropped): the loss trend looks at the units after every chain's.
    #[serde(default)]
    pub keep_from: usize,
    /// The unit at which the chain started again, if it did.
    #[serde(default)]
    pub restarted_at: Option<usize>,
    /// The error that stopped the chain's fit.
    pub error: Option<String>,
}

/// A chain as [`pool_snapshot`] reads it: its figures and the draws its bands come from.
pub struct ChainView<'a> {
    pub figures: &'a ChainFigures,
    pub draws: &'a [DrawPrediction],
    /// The draws are samples from a variational posterior q (VI).
    pub from_q: bool,
}

/// What a worker posts for one chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainPost {
    pub figures: ChainFigures,
    /// The chain's kept draws from index `kept_from` on, as predictions on the grid
    /// (a post carries only those the previous posts did not).
    pub kept_from: usize,
    pub kept: Vec<DrawPrediction>,
    /// The draws that stand for the chain while it keeps none (its current weights),
    /// or its samples from q (VI): they replace the previous post's.
    pub live: Vec<DrawPrediction>,
    pub from_q: bool,
    /// On the finished chain's post when there are held-out x: its draws there.
    #[serde(default)]
    pub eval: Option<Vec<DrawPrediction>>,
}

impl Fit {
    /// Each of this fit's chains' state on `grid` for [`Pool::apply`]; `sent[i]` is how
    /// many kept draws of its `i`-th chain earlier posts carried (updated). With
    /// `eval_x` (not empty) on the finished fit, the draws' predictions there too.
    pub fn chain_posts(&mut self, grid: &[f64], sent: &mut Vec<usize>, eval_x: &[f64]) -> Vec<ChainPost> {
        sent.resize(self.chains.len(), 0);
        let from_q = self.samples_from_q().is_some();
        let live = from_q || self.draws_kept() == 0;
        let (per_chain, cached) = self.draw_predictions(grid);
        let mut posts: Vec<ChainPost> = per_chain
            .iter()
            .enumerate()
            .map(|(i, draws)| {
                let figures = self.chain_figures(i);
                let (kept_from, kept, live) = if live {
                    // Nothing kept (or a restarted chain's kept draws dropped).
                    sent[i] = 0;
                    (0, Vec::new(), draws.clone())
                } else {
                    let from = sent[i].min(draws.len());
                    sent[i] = draws.len();
                    (from, draws[from..].to_vec(), Vec::new())
                };
                ChainPost { figures, kept_from, kept, live, from_q, eval: None }
            })
            .collect();
        if cached {
            self.cache.per_chain = per_chain;
        }
        if self.is_finished() && !eval_x.is_empty() {
            // The cache now holds the eval x; nothing is posted after this.
            let (at_eval, _) = self.draw_predictions(eval_x);
            for (p, d) in posts.iter_mut().zip(at_eval) {
                p.eval = Some(d);
            }
        }
        posts
    }
}

/// One chain as the pool has it.
#[derive(Clone, Debug)]
struct Pooled {
    figures: ChainFigures,
    kept: Vec<DrawPrediction>,
    live: Vec<DrawPrediction>,
    from_q: bool,
    eval: Option<Vec<DrawPrediction>>,
}

impl Pooled {
    /// The draws the bands take: samples from q, else the kept draws, else the live one.
    fn draws(&self) -> &[DrawPrediction] {
        if self.from_q || self.kept.is_empty() {
            &self.live
        } else {
            &self.kept
        }
    }
}

/// The page's side: the chains' posts of one fit, pooled into its snapshots.
#[derive(Clone, Debug, Default)]
pub struct Pool {
    spec: Option<PoolSpec>,
    grid: Vec<f64>,
    chains: Vec<Option<Pooled>>,
}

impl Pool {
    /// A pool for a fit whose snapshots are on `grid`.
    pub fn new(grid: Vec<f64>) -> Pool {
        Pool { spec: None, grid, chains: Vec::new() }
    }

    /// Take one worker's posts. The spec is the latest one but for a worker's post
    /// sent before it heard of the pool's last extend decision (a shorter budget, or
    /// one still to decide where the pool has decided to stop).
    pub fn apply(&mut self, spec: &PoolSpec, posts: Vec<ChainPost>) {
        let decided = |s: &PoolSpec| (s.total_steps, s.extend.is_none());
        let stale = self.spec.as_ref().is_some_and(|s| decided(s) > decided(spec));
        if self.spec.as_ref() != Some(spec) && !stale {
            self.spec = Some(spec.clone());
            self.chains.resize(spec.chains, None);
        }
        for p in posts {
            let Some(slot) = self.chains.get_mut(p.figures.index) else { continue };
            let mut kept = match slot.take() {
                Some(old) => old.kept,
                None => Vec::new(),
            };
            kept.truncate(p.kept_from);
            if kept.len() == p.kept_from {
                kept.extend(p.kept);
            }
            *slot = Some(Pooled { figures: p.figures, kept, live: p.live, from_q: p.from_q, eval: p.eval });
        }
    }

    /// The extend decision, once every chain of a fit that may still extend has
    /// posted from the end of its budget (and none has failed): draw more when the
    /// pooled draws would earn a reliability warning, within the gradient cap, as
    /// [`Fit::step`] decides for a fit of all the chains, from the same figures. The
    /// pool takes the decision on at once (its snapshot is the extended fit's); each
    /// chain's fit is to be told with [`Fit::extend`]. None otherwise.
    pub fn extension(&mut self) -> Option<Extension> {
        let spec = self.spec.as_ref()?;
        let x = spec.extend.as_ref()?;
        let at_end = |c: &Option<Pooled>| c.as_ref().is_some_and(|c| c.figures.step == spec.total_steps && c.figures.error.is_none());
        if self.chains.len() != spec.chains || !self.chains.iter().all(at_end) {
            return None;
        }
        let views = self.views();
        let reliable = pool_reliability(spec, &self.grid, &views).is_empty();
        let figures: Vec<&ChainFigures> = self.chains.iter().flatten().map(|c| &c.figures).collect();
        let e = x.decide_for(reliable, &figures, spec.total_steps);
        self.spec.as_mut().expect("checked").extended(&e);
        Some(e)
    }

    fn views(&self) -> Vec<ChainView<'_>> {
        self.chains.iter().flatten().map(|c| ChainView { figures: &c.figures, draws: c.draws(), from_q: c.from_q }).collect()
    }

    /// Chains that have posted, of the fit's.
    pub fn posted(&self) -> usize {
        self.chains.iter().flatten().count()
    }

    /// The snapshot of the chains posted so far (None before any).
    pub fn snapshot(&self) -> Option<Snapshot> {
        let spec = self.spec.as_ref()?;
        let views = self.views();
        (!views.is_empty()).then(|| pool_snapshot(spec, &self.grid, &views))
    }

    /// The predictive summary at the held-out x once every chain has posted its draws there.
    pub fn eval(&self, eval_x: &[f64]) -> Option<PredictiveSummary> {
        let spec = self.spec.as_ref()?;
        if eval_x.is_empty() || self.posted() < spec.chains {
            return None;
        }
        let mut all = Vec::new();
        for c in self.chains.iter().flatten() {
            all.extend(c.eval.as_ref()?.iter());
        }
        Some(bands(eval_x, &all))
    }
}

/// Serde for long f64 lists as little-endian bytes: a JS `Uint8Array` across the worker
/// boundary (one copy, where a JS array of numbers costs a call per number), a list of
/// bytes in JSON. Bit-exact, NaN included.
pub mod f64s {
    use serde::de::{Error, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<f64>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes holding little-endian f64s")
            }
            fn visit_bytes<E: Error>(self, b: &[u8]) -> Result<Vec<f64>, E> {
                if b.len() % 8 != 0 {
                    return Err(E::custom(format!("{} bytes are not whole f64s", b.len())));
                }
                Ok(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect())
            }
            fn visit_byte_buf<E: Error>(self, b: Vec<u8>) -> Result<Vec<f64>, E> {
                self.visit_bytes(&b)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f64>, A::Error> {
                let mut b = Vec::new();
                while let Some(x) = seq.next_element::<u8>()? {
                    b.push(x);
                }
                self.visit_bytes(&b)
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

#[cfg(test)]
mod tests;
