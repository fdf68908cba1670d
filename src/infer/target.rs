//! The log posterior a method samples or fits, as one adapter over [`Model`]: the data
//! in fitting units, the minibatch scale and the workspace inside, so that a method
//! sees only `logp_grad(params, grad)` (in the manner of nuts-rs's `CpuLogpFunc`).

use crate::model::{EvalOptions, Model, ModelWorkspace};

/// The log posterior of one batch: log prior + `scale` x log likelihood of (x, y),
/// `scale` = N / B for a minibatch of B of the N points (1 for the full batch).
pub struct Target<'a> {
    pub model: &'a Model,
    /// The batch, in fitting units.
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub scale: f64,
    /// Number of training points N (the batch has `x.len()`).
    pub n: usize,
    pub ws: &'a mut ModelWorkspace,
}

impl Target<'_> {
    /// Number of parameters (network weights, then the noise parameters).
    pub fn dim(&self) -> usize {
        self.model.dim()
    }
    /// Whether the batch is all the data (exact gradients: MALA diagnostics apply).
    pub fn full_batch(&self) -> bool {
        self.scale == 1.0
    }
    /// The log posterior at `params`; its gradient goes into `grad` (overwritten).
    pub fn logp_grad(&mut self, params: &[f64], grad: &mut [f64]) -> f64 {
        self.model.log_posterior(params, self.x, self.y, self.scale, &EvalOptions::default(), self.ws, grad).log_post
    }
}

/// A full-batch target that owns its model, data and workspace, for a method that
/// keeps its target between calls (e.g. a sampler state machine that is handed it).
#[derive(Clone, Debug)]
pub struct FullBatch {
    pub model: Model,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub ws: ModelWorkspace,
}

impl FullBatch {
    pub fn target(&mut self) -> Target<'_> {
        Target { model: &self.model, x: &self.x, y: &self.y, scale: 1.0, n: self.x.len(), ws: &mut self.ws }
    }
    pub fn dim(&self) -> usize {
        self.model.dim()
    }
    pub fn logp_grad(&mut self, params: &[f64], grad: &mut [f64]) -> f64 {
        self.target().logp_grad(params, grad)
    }
}
