//! Turning a fit's posterior draws into a [`Snapshot`]: each draw's predictions on a
//! grid (the band arithmetic on them is `summary::bands`'), noise parameters in data
//! units, split R-hat and ESS across chains.
//!
//! Kept sampler draws never change, so their predictions on the grid are cached: a
//! snapshot then costs only the draws added since the last one.

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::fit::Fit;
use super::pool::{phase_at, pool_traces, ChainFigures, ChainView, PoolSpec};
use crate::config::{Keeps, ModelKind};
use crate::model::{Model, ModelWorkspace, Noise};
use crate::summary::bands::{bands, function_draws, quantile, DrawPrediction};
use crate::summary::acquisition::{Acquisition, AcquisitionKind, CandidateMoments};
use crate::summary::diagnostics::{chain_band, chain_spread, loss_trend, reliability_warnings, Reliability};
use crate::summary::{ess, split_rhat, MethodDiagnostics, ParamSummary, Phase, PredictiveSummary, Snapshot};

/// R-hat above this is "not converged" (Vehtari et al. 2021 suggest 1.01 for final
/// results; 1.05 is the classic line for quick fits); the noise parameters' earns a
/// warning (`summary::diagnostics::THETA_RHAT_WARN`).
pub const RHAT_WARN: f64 = crate::summary::diagnostics::THETA_RHAT_WARN;
/// Below this mean MALA acceptance the step size earns a warning (at the default
/// step the reference data sets gave 0.73-0.78, at 10x the default 0.56-0.68).
pub const MALA_WARN: f64 = 0.5;
/// VI draws per chain for a snapshot taken while training (the final one uses `draws`).
const VI_LIVE_DRAWS: usize = 20;

#[derive(Clone, Debug, Default)]
pub struct DrawCache {
    grid: Vec<f64>,
    pub(crate) per_chain: Vec<Vec<DrawPrediction>>,
}

/// Names of the reported noise parameters.
pub fn param_names(model: &Model) -> Vec<String> {
    match &model.noise {
        Noise::Homoskedastic { fixed: None } => vec!["sigma".into()],
        Noise::Law(l) => l.names().to_vec(),
        _ => vec![],
    }
}

impl Fit {
    fn predict_draw(&self, p: &[f64], grid_fit: &[f64], ws: &mut ModelWorkspace) -> DrawPrediction {
        let n = grid_fit.len();
        let (mut mu, mut sigma) = (vec![0.0; n], vec![0.0; n]);
        self.model.predict(p, grid_fit, ws, &mut mu, &mut sigma);
        let sc = &self.scaling;
        mu.iter_mut().for_each(|m| *m = sc.y_from_std(*m));
        sigma.iter_mut().for_each(|s| *s = sc.sd_from_std(*s));
        let np = self.model.noise_params(p);
        let theta = match &self.model.noise {
            Noise::Homoskedastic { fixed: None } => vec![sc.sd_from_std(np[0].exp())],
            Noise::Law(l) => l.to_data_units(np),
            _ => vec![],
        };
        DrawPrediction { mu, sigma, theta }
    }

    /// Posterior draws as grid predictions, one list per chain, and whether they are the
    /// cache's (lent out, to be handed back with `return_to_cache` instead of copied).
    pub(crate) fn draw_predictions(&mut self, grid: &[f64]) -> (Vec<Vec<DrawPrediction>>, bool) {
        let grid_fit: Vec<f64> = grid.iter().map(|&x| self.scaling.x_to_std(x)).collect();
        let mut ws = ModelWorkspace::default();
        if let Some(k) = self.samples_from_q() {
            let seed = self.config.inference.seed ^ (self.steps_done() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            // One stream for the whole fit's chains in order: a fit of some of them
            // (`Fit::new_chains`) passes over the normals the others would draw.
            let mut preds = Vec::with_capacity(self.chains.len());
            let mut own = self.chains.iter().peekable();
            for index in 0..self.config.inference.chains {
                let Some(c) = own.next_if(|c| c.index == index) else {
                    for _ in 0..k * self.model.dim() {
                        let _: f64 = rng.sample(StandardNormal);
                    }
                    continue;
                };
                preds.push(match &c.method {
                    Some(m) => (0..k)
                        .map_while(|_| m.sample_q(&mut rng).map(|p| self.predict_draw(&p, &grid_fit, &mut ws)))
                        .collect(),
                    None => vec![],
                });
            }
            return (preds, false);
        }
        if self.draws_kept() == 0 {
            // Each chain's current point stands for it; a restarted chain's does not (its
            // kept draws were dropped for where it stood).
            let preds = self
                .chains
                .iter()
                .map(|c| if c.restarted_at.is_some() { vec![] } else { vec![self.predict_draw(&c.params, &grid_fit, &mut ws)] })
                .collect();
            return (preds, false);
        }
        if self.cache.grid != grid || self.cache.per_chain.len() != self.chains.len() {
            self.cache.grid = grid.to_vec();
            self.cache.per_chain = vec![Vec::new(); self.chains.len()];
        }
        for ci in 0..self.chains.len() {
            let have = self.cache.per_chain[ci].len().min(self.chains[ci].draws.len());
            self.cache.per_chain[ci].truncate(have);
            for di in have..self.chains[ci].draws.len() {
                let pred = self.predict_draw(&self.chains[ci].draws[di], &grid_fit, &mut ws);
                self.cache.per_chain[ci].push(pred);
            }
        }
        (std::mem::take(&mut self.cache.per_chain), true)
    }

    /// The posterior over the mean at the candidates `x` (data units) from the kept
    /// draws (VI: samples from q), for the acquisition functions.
    pub fn candidate_moments(&mut self, x: &[f64]) -> CandidateMoments {
        let (per_chain, cached) = self.draw_predictions(x);
        let all: Vec<&DrawPrediction> = per_chain.iter().flatten().collect();
        let mu: Vec<&[f64]> = all.iter().map(|d| d.mu.as_slice()).collect();
        let sigma: Vec<&[f64]> = all.iter().map(|d| d.sigma.as_slice()).collect();
        let m = CandidateMoments::from_draws(x, &mu, &sigma);
        if cached {
            self.cache.per_chain = per_chain;
        }
        m
    }

    /// The `k` next x to measure among `candidates`, best first, with the acquisition's
    /// value at each pick. EI's incumbent is the best posterior mean at the data's x.
    pub fn suggest(&mut self, mut acq: Acquisition, candidates: &[f64], k: usize) -> Vec<(f64, f64)> {
        if acq.kind == AcquisitionKind::Ei {
            let xs = self.data.x.clone();
            let (per_chain, _) = self.draw_predictions(&xs);
            let all: Vec<&DrawPrediction> = per_chain.iter().flatten().collect();
            let mean = |i: usize| all.iter().map(|d| d.mu[i]).sum::<f64>() / all.len() as f64;
            let means = (0..xs.len()).map(mean);
            acq.best = crate::summary::acquisition::incumbent(acq.goal, means);
        }
        self.candidate_moments(candidates).suggest(&acq, k)
    }

    /// How many samples per chain the bands take from a variational posterior q now:
    /// for a method that keeps q instead of draws, once it has started.
    pub(crate) fn samples_from_q(&self) -> Option<usize> {
        let inf = &self.config.inference;
        let past_warm = self.steps_done() >= self.schedule.warm;
        (inf.method.spec().keeps == Keeps::SamplesFromQ && past_warm)
            .then(|| if self.phase() == Phase::Finished { inf.draws } else { VI_LIVE_DRAWS })
    }

    /// Whether the method's draws come from chains to compare (R-hat, chain spread, the
    /// loss trend); samples from one q per chain are not.
    fn chains_compare(&self) -> bool {
        self.config.inference.method.spec().keeps == Keeps::Draws
    }

    /// The reliability warnings the kept draws earn now, on the grid of the last
    /// snapshot (60 points over the data's range before the first): what decides
    /// whether an extendable fit draws more (`Fit::step`). The same function as the
    /// finished snapshot's ([`pool_reliability`]), over this fit's chains; with the
    /// chains' figures it read.
    pub(crate) fn unreliable_now(&mut self) -> (Vec<String>, Vec<ChainFigures>) {
        let grid = if self.cache.grid.is_empty() { self.data.grid(60, 0.0) } else { self.cache.grid.clone() };
        let (per_chain, cached) = self.draw_predictions(&grid);
        let spec = self.pool_spec();
        let figures: Vec<ChainFigures> = (0..self.chains.len()).map(|i| self.chain_figures(i)).collect();
        let from_q = self.samples_from_q().is_some();
        let views: Vec<ChainView> =
            figures.iter().zip(&per_chain).map(|(figures, draws)| ChainView { figures, draws, from_q }).collect();
        let w = pool_reliability(&spec, &grid, &views);
        if cached {
            self.cache.per_chain = per_chain;
        }
        (w, figures)
    }

    /// Progress figures and the predictive summary on `grid` (data units): this fit's
    /// chains pooled ([`pool_snapshot`]).
    pub fn snapshot(&mut self, grid: &[f64]) -> Snapshot {
        let (per_chain, cached) = self.draw_predictions(grid);
        let spec = self.pool_spec();
        let figures: Vec<ChainFigures> = (0..self.chains.len()).map(|i| self.chain_figures(i)).collect();
        let from_q = self.samples_from_q().is_some();
        let views: Vec<ChainView> =
            figures.iter().zip(&per_chain).map(|(figures, draws)| ChainView { figures, draws, from_q }).collect();
        let snapshot = pool_snapshot(&spec, grid, &views);
        if cached {
            self.cache.per_chain = per_chain;
        }
        snapshot
    }

    /// What every chain of this fit shares, for pooling.
    pub fn pool_spec(&self) -> PoolSpec {
        let inf = &self.config.inference;
        let mut notes = Vec::new();
        if let Some(n) = self.refit_of {
            let i = &self.config.inference;
            let budget = match i.method.spec().units {
                crate::config::Units::Draws => format!("{} warm-up + {} draws per chain", i.warmup, i.draws),
                crate::config::Units::Steps => format!("{} steps per chain", i.steps),
            };
            notes.push(format!(
                "refit from the posterior of the previous fit ({n} points), each chain from its last draw: {budget}"
            ));
        }
        notes.extend(self.restart_note.clone());
        notes.extend(self.extend_note.clone());
        if let Some(w) = (inf.method.spec().tempered)(inf) {
            notes.push(format!("VI with KL weight {w} is tempered: its bands are narrower than the exact posterior's"));
        }
        let mut fixed_warnings = Vec::new();
        if self.config.model.kind == ModelKind::Homoskedastic && self.config.model.fixed_sigma.is_some() {
            fixed_warnings.push("the noise sd is fixed (test setting)".into());
        }
        PoolSpec {
            chains: inf.chains,
            total_steps: self.total_steps(),
            phase_ends: (self.schedule.warm, self.schedule.warm + self.schedule.burn),
            names: param_names(&self.model),
            x_range: self.data.x_range(),
            // Samples from one q per chain are not chains to compare: no R-hat for them.
            compare_chains: self.chains_compare(),
            longer: self.config.inference.method.spec().longer.to_string(),
            notes,
            fixed_warnings,
            extend: self.extend_spec(),
            warm: self.refit_of.is_some(),
        }
    }

    /// The figures of this fit's `i`-th chain (all but its draws).
    pub(crate) fn chain_figures(&self, i: usize) -> ChainFigures {
        let c = &self.chains[i];
        ChainFigures {
            index: c.index,
            step: self.steps_done(),
            loss: c.loss,
            trace: c.trace.clone(),
            gradients: c.gradients,
            method: c.method.as_ref().map(|m| {
                let mut d = m.diagnostics();
                for x in &mut d.divergence_x {
                    *x = self.scaling.x_from_std(*x);
                }
                d
            }),
            mala: c.method.as_ref().and_then(|m| m.mala()).filter(|m| m.moves >= 100).map(|m| m.mean_accept),
            kept: c.draws.len(),
            keep_from: c.keep_from,
            restarted_at: c.restarted_at,
            error: self.error().map(|e| e.to_string()),
        }
    }
}

/// The snapshot of a fit from its chains' figures and draws (`chains`, in index
/// order, all of the fit's or those posted so far): bands over the pooled draws, noise
/// parameters in data units, split R-hat and ESS across chains, the warnings. A fit's
/// own chains at one step give its [`Fit::snapshot`]; the same chains run apart
/// (`Fit::new_chains`) and stepped in the same chunks give the same snapshot, bit for bit.
pub fn pool_snapshot(spec: &PoolSpec, grid: &[f64], chains: &[ChainView]) -> Snapshot {
    // A chain with no draws (restarted, in its fresh warm-up) has nothing to compare.
    let per_chain: Vec<&[DrawPrediction]> = chains.iter().map(|c| c.draws).filter(|d| !d.is_empty()).collect();
    let all: Vec<&DrawPrediction> = per_chain.iter().copied().flatten().collect();
    let summary = bands(grid, &all);
    let step = chains.iter().map(|c| c.figures.step).min().unwrap_or(0);
    let phase = phase_at(step, spec.total_steps, spec.phase_ends);
    let chains_compare = spec.compare_chains;
    let split_rhat = |c: &[Vec<f64>]| if chains_compare { split_rhat(c) } else { None };
    let mut rhat_max: Option<f64> = None;
    let mut note_rhat = |r: Option<f64>| {
        if let Some(r) = r {
            rhat_max = Some(rhat_max.map_or(r, |m: f64| m.max(r)));
        }
    };
    let params = param_summaries(&spec.names, &per_chain, chains_compare);
    params.iter().for_each(|p| note_rhat(p.rhat));
    // R-hat of the mean at five x inside the data range.
    let (lo, hi) = spec.x_range;
    for j in 1..=5 {
        let xq = lo + (hi - lo) * j as f64 / 6.0;
        let gi = nearest(grid, xq);
        if let Some(gi) = gi {
            let chains: Vec<Vec<f64>> = per_chain.iter().map(|c| c.iter().map(|d| d.mu[gi]).collect()).collect();
            note_rhat(split_rhat(&chains));
        }
    }
    let traces: Vec<&[(usize, f64)]> = chains.iter().map(|c| c.figures.trace.as_slice()).collect();
    let trace = pool_traces(&traces);
    let mut warnings = Vec::new();
    let mut narrowest_chain_band = None;
    if phase == Phase::Finished {
        let (w, band) = reliability(spec, grid, &per_chain, &summary, &params, &trace, kept_from(spec, chains));
        warnings.extend(w);
        narrowest_chain_band = band;
    }
    let mala: Vec<f64> = chains.iter().filter_map(|c| c.figures.mala).collect();
    let mala_accept = (!mala.is_empty()).then(|| mala.iter().sum::<f64>() / mala.len() as f64);
    if let Some(a) = mala_accept {
        if a < MALA_WARN {
            warnings.push(format!(
                "the sampler's moves would be accepted only {:.0}% of the time as Metropolis proposals: \
                 the step size is probably too large",
                100.0 * a
            ));
        }
    }
    warnings.extend(spec.fixed_warnings.iter().cloned());
    if let Some(e) = chains.iter().find_map(|c| c.figures.error.as_ref()) {
        warnings.push(e.clone());
    }
    let n = chains.len();
    let loss = chains.iter().map(|c| c.figures.loss).sum::<f64>() / n as f64;
    let method_gradients = chains.iter().map(|c| c.figures.gradients).sum::<usize>() / n.max(1);
    let started: Vec<MethodDiagnostics> = chains.iter().filter_map(|c| c.figures.method.clone()).collect();
    Snapshot {
        step,
        total_steps: spec.total_steps,
        phase,
        phase_ends: spec.phase_ends,
        loss,
        trace,
        draws_kept: chains.iter().map(|c| c.figures.kept).sum(),
        rhat_max,
        summary,
        params,
        mala_accept,
        warnings,
        gradients: step.min(spec.phase_ends.0) + method_gradients,
        samples_from_q: chains.iter().filter(|c| c.from_q).map(|c| c.draws.len()).sum(),
        method: MethodDiagnostics::pool(&started),
        notes: spec.notes.clone(),
        warm: spec.warm,
        function_draws: function_draws(&all),
        chain_band: narrowest_chain_band,
        restarts: chains.iter().filter_map(|c| Some((c.figures.index, c.figures.restarted_at?, c.figures.keep_from))).collect(),
    }
}

/// The reliability warnings of a fit's chains (`chains`, in index order) on `grid`:
/// those of the finished [`pool_snapshot`], whatever the chains' phase. What decides
/// whether an extendable fit draws more, for a fit's own chains (`Fit::unreliable_now`)
/// and for chains run apart ([`super::pool::Pool`]).
pub(crate) fn pool_reliability(spec: &PoolSpec, grid: &[f64], chains: &[ChainView]) -> Vec<String> {
    // A chain with no draws (restarted, in its fresh warm-up) has nothing to compare.
    let per_chain: Vec<&[DrawPrediction]> = chains.iter().map(|c| c.draws).filter(|d| !d.is_empty()).collect();
    let all: Vec<&DrawPrediction> = per_chain.iter().copied().flatten().collect();
    let summary = bands(grid, &all);
    let params = param_summaries(&spec.names, &per_chain, spec.compare_chains);
    let traces: Vec<&[(usize, f64)]> = chains.iter().map(|c| c.figures.trace.as_slice()).collect();
    reliability(spec, grid, &per_chain, &summary, &params, &pool_traces(&traces), kept_from(spec, chains)).0
}

/// The unit after which every chain keeps its draws: the end of the burn-in, or a
/// restarted chain's fresh warm-up.
fn kept_from(spec: &PoolSpec, chains: &[ChainView]) -> usize {
    chains.iter().map(|c| c.figures.keep_from).fold(spec.phase_ends.1, usize::max)
}

/// Each noise parameter (`names`) in data units, pooled over the chains (split R-hat
/// and its ESS across them when `chains_compare`; neither for samples from q).
fn param_summaries(names: &[String], per_chain: &[&[DrawPrediction]], chains_compare: bool) -> Vec<ParamSummary> {
    let mut params = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let chains: Vec<Vec<f64>> = per_chain.iter().map(|c| c.iter().map(|d| d.theta[k]).collect()).collect();
        let mut pooled: Vec<f64> = chains.iter().flatten().copied().collect();
        let mean = pooled.iter().sum::<f64>() / pooled.len().max(1) as f64;
        pooled.sort_by(f64::total_cmp);
        params.push(ParamSummary {
            name: name.clone(),
            mean,
            lo: quantile(&pooled, 0.025),
            hi: quantile(&pooled, 0.975),
            // Samples from q are independent: no chains to compare, no draws to count.
            rhat: if chains_compare { split_rhat(&chains) } else { None },
            ess: if chains_compare { ess(&chains) } else { None },
        });
    }
    params
}

/// The warnings that mean the answer is unreliable (ARCHITECTURE §4): the noise
/// parameters' R-hat, chains whose mean curves or bands part, a loss (the pooled `trace`) still
/// moving over the kept draws; with the fit's [`chain_band`] they rest on (the snapshot
/// reports it). The R-hat of the mean at five x stays a figure (`rhat_max`): network
/// posteriors have many modes and the pooled bands allow for them.
fn reliability(
    spec: &PoolSpec,
    grid: &[f64],
    per_chain: &[&[DrawPrediction]],
    summary: &PredictiveSummary,
    params: &[ParamSummary],
    trace: &[(usize, f64)],
    kept_from: usize,
) -> (Vec<String>, Option<f64>) {
    let (lo, hi) = spec.x_range;
    let theta_rhat: Vec<(String, Option<f64>)> = params.iter().map(|p| (p.name.clone(), p.rhat)).collect();
    let inside: Vec<bool> = grid.iter().map(|&x| x >= lo && x <= hi).collect();
    let chain_means: Vec<Vec<f64>> = per_chain
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let mut m = vec![0.0; grid.len()];
            for d in c.iter() {
                for (a, v) in m.iter_mut().zip(&d.mu) {
                    *a += v;
                }
            }
            m.iter_mut().for_each(|a| *a /= c.len() as f64);
            m
        })
        .collect();
    let kept_losses: Vec<f64> = trace.iter().filter(|(t, _)| *t > kept_from).map(|&(_, l)| l).collect();
    // Chains to compare only (samples from one q per chain are not): each chain's
    // epistemic sd against the pooled one's.
    let band = if spec.compare_chains {
        let sd: Vec<Vec<f64>> = per_chain
            .iter()
            .filter(|c| c.len() >= 2)
            .map(|c| bands(grid, &c.iter().collect::<Vec<_>>()).sd_epistemic)
            .collect();
        chain_band(&sd, &summary.sd_epistemic, &inside)
    } else {
        None
    };
    let warnings = reliability_warnings(&Reliability {
        theta_rhat: &theta_rhat,
        chain_spread: chain_spread(&chain_means, &summary.mean, &summary.sd_total, &inside),
        // VI's loss (its negative ELBO) moves with the KL ramp by design.
        loss_trend: if spec.compare_chains { loss_trend(&kept_losses) } else { None },
        chain_band: band,
        longer: &spec.longer,
    });
    (warnings, band)
}

fn nearest(grid: &[f64], x: f64) -> Option<usize> {
    (0..grid.len()).min_by(|&a, &b| (grid[a] - x).abs().total_cmp(&(grid[b] - x).abs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FitConfig, Method};
    use crate::data::Synthetic;
    use crate::summary::bands::{spread_picks, FUNCTION_DRAWS};

    fn finished(method: Method) -> (Fit, Vec<f64>) {
        let mut c = FitConfig::default();
        c.inference.method = method;
        c.inference.steps = 2000;
        let data = Synthetic::Bump.generate(40, 2);
        let mut fit = Fit::new(c, &data).unwrap();
        while !fit.is_finished() {
            fit.step(500).unwrap();
        }
        let grid: Vec<f64> = (0..11).map(|i| -3.0 + 0.6 * i as f64).collect();
        (fit, grid)
    }

    /// The posterior-draw lines are the mean functions of kept draws, recomputed here
    /// from the draws themselves, spread over both chains.
    #[test]
    fn function_draws_are_kept_draws_mean_functions() {
        let (mut fit, grid) = finished(Method::Psgld);
        let snap = fit.snapshot(&grid);
        let draws = fit.draws();
        assert!(draws.len() > FUNCTION_DRAWS, "{} draws", draws.len());
        assert_eq!(snap.function_draws.len(), FUNCTION_DRAWS);
        let grid_fit: Vec<f64> = grid.iter().map(|&x| fit.scaling.x_to_std(x)).collect();
        let mut ws = ModelWorkspace::default();
        for (k, i) in spread_picks(draws.len(), FUNCTION_DRAWS).into_iter().enumerate() {
            let want = fit.predict_draw(&draws[i], &grid_fit, &mut ws).mu;
            assert_eq!(snap.function_draws[k], want, "draw {i}");
        }
        // Their spread is the epistemic band's order of size.
        let var = |j: usize| {
            let v: Vec<f64> = snap.function_draws.iter().map(|d| d[j]).collect();
            let m = v.iter().sum::<f64>() / v.len() as f64;
            v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / v.len() as f64
        };
        let ratio = (0..grid.len()).map(|j| var(j).sqrt() / snap.summary.sd_epistemic[j]).sum::<f64>() / grid.len() as f64;
        assert!(ratio > 0.5 && ratio < 1.5, "sd of 20 draws / epistemic sd = {ratio}");
    }

    #[test]
    fn vi_function_draws_are_samples_from_q() {
        let (mut fit, grid) = finished(Method::Vi);
        let snap = fit.snapshot(&grid);
        assert_eq!(snap.function_draws.len(), FUNCTION_DRAWS);
        assert!(snap.function_draws.iter().all(|d| d.len() == grid.len() && d.iter().all(|v| v.is_finite())));
        assert_ne!(snap.function_draws[0], snap.function_draws[1], "different samples");
    }
}
