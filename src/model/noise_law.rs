//! Parametric noise laws sigma(x; theta) of the noise-model BNN (docs/ARCHITECTURE.md §2).
//!
//! Everything here is in the fitting units (z-scores unless raw scale). Positive
//! quantities are parameterised by their logarithm, so every theta is unconstrained
//! and its prior is a normal on that scale: log of a positive ~ N(0, 2^2), slopes,
//! curvatures and locations ~ N(0, 1). `to_data_units` maps theta back.

use crate::config::NoiseLawKind;
use crate::data::Scaling;

/// Prior sd of the log of every positive noise quantity.
pub const LOG_SCALE_PRIOR_SD: f64 = 2.0;
/// Prior sd of slopes, curvatures and locations.
pub const SHAPE_PRIOR_SD: f64 = 1.0;
/// Smooth-step width as a fraction of the training x range (a hard step would give
/// the location no gradient).
pub const STEP_WIDTH_FRAC: f64 = 0.01;

/// A noise law with the constants it needs from the training data.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseLaw {
    pub kind: NoiseLawKind,
    /// Training x range in fitting units (linear law's end points; step width).
    pub x_lo: f64,
    pub x_hi: f64,
    /// Signal law: y_mean / y_sd, so that |mu| is taken in data units.
    pub y_offset: f64,
    /// The law reads x / x_unit (and `x_lo`, `x_hi` are in those units): 1 in z-scores;
    /// on raw data the sd of x, so that slopes, curvatures and locations keep the scale
    /// their priors and the warm start's steps are made for (see `with_x_unit`).
    pub x_unit: f64,
}

/// One parameter: its name, its meaning, its prior mean and sd on the unconstrained scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: &'static str,
    pub meaning: &'static str,
    pub log_scale: bool,
    pub prior_sd: f64,
}

const fn pos(name: &'static str, meaning: &'static str) -> ParamSpec {
    ParamSpec { name, meaning, log_scale: true, prior_sd: LOG_SCALE_PRIOR_SD }
}
const fn shape(name: &'static str, meaning: &'static str) -> ParamSpec {
    ParamSpec { name, meaning, log_scale: false, prior_sd: SHAPE_PRIOR_SD }
}

impl NoiseLaw {
    pub fn specs(kind: NoiseLawKind) -> &'static [ParamSpec] {
        const CONSTANT: &[ParamSpec] = &[pos("c", "noise sd")];
        const LINEAR: &[ParamSpec] = &[pos("a", "noise sd at the smallest x"), pos("b", "noise sd at the largest x")];
        const EXPONENTIAL: &[ParamSpec] = &[pos("a", "noise sd at x = 0"), shape("b", "growth rate per unit x")];
        const LOG_QUADRATIC: &[ParamSpec] = &[
            ParamSpec { name: "a", meaning: "log noise sd at x = 0", log_scale: false, prior_sd: LOG_SCALE_PRIOR_SD },
            shape("b", "slope of log sd"),
            shape("c", "curvature of log sd"),
        ];
        const STEP: &[ParamSpec] =
            &[pos("left", "noise sd left of the step"), pos("right", "noise sd right of the step"), shape("t", "step location")];
        const BUMP: &[ParamSpec] = &[
            pos("base", "noise sd far from the bump"),
            pos("amp", "height of the bump"),
            shape("c", "bump centre"),
            pos("w", "bump width (sd)"),
        ];
        const SIGNAL: &[ParamSpec] = &[pos("a", "noise sd at zero signal"), pos("b", "noise per unit of |signal|")];
        match kind {
            NoiseLawKind::Constant => CONSTANT,
            NoiseLawKind::Linear => LINEAR,
            NoiseLawKind::Exponential => EXPONENTIAL,
            NoiseLawKind::LogQuadratic => LOG_QUADRATIC,
            NoiseLawKind::Step => STEP,
            NoiseLawKind::Bump => BUMP,
            NoiseLawKind::Signal => SIGNAL,
        }
    }

    /// The formula, for the UI and the CLI's help.
    pub fn formula(kind: NoiseLawKind) -> &'static str {
        match kind {
            NoiseLawKind::Constant => "sigma(x) = c",
            NoiseLawKind::Linear => "sigma(x) = a·(1-u) + b·u, u = (x - x_min)/(x_max - x_min) clamped to [0, 1]",
            NoiseLawKind::Exponential => "sigma(x) = a·exp(b·x)",
            NoiseLawKind::LogQuadratic => "log sigma(x) = a + b·x + c·x²",
            NoiseLawKind::Step => "sigma(x) = left + (right - left)·logistic((x - t)/w), w = 1% of the x range",
            NoiseLawKind::Bump => "sigma(x) = base + amp·exp(-(x - c)²/(2w²))",
            NoiseLawKind::Signal => "sigma(x) = a + b·|mu(x)|",
        }
    }

    pub fn new(kind: NoiseLawKind, x_lo: f64, x_hi: f64, y_offset: f64) -> NoiseLaw {
        NoiseLaw { kind, x_lo, x_hi, y_offset, x_unit: 1.0 }
    }

    /// The same law reading x in units of `unit` (a positive, finite spread of x).
    /// Without it, a law fitted to x in the thousands (raw scale) has a curvature
    /// whose smallest Adam step moves log sigma by thousands: the fit overflows.
    pub fn with_x_unit(mut self, unit: f64) -> NoiseLaw {
        if unit.is_finite() && unit > 0.0 {
            self.x_lo /= unit;
            self.x_hi /= unit;
            self.x_unit = unit;
        }
        self
    }

    pub fn n_params(&self) -> usize {
        Self::specs(self.kind).len()
    }

    fn step_width(&self) -> f64 {
        (STEP_WIDTH_FRAC * (self.x_hi - self.x_lo)).max(1e-12)
    }

    /// sigma(x; theta) and its derivatives: writes d sigma / d theta into `g` and
    /// returns (sigma, d sigma / d mu). `mu` is the network mean in fitting units.
    #[inline]
    pub fn eval(&self, th: &[f64], x: f64, mu: f64, g: &mut [f64]) -> (f64, f64) {
        let x = x / self.x_unit;
        match self.kind {
            NoiseLawKind::Constant => {
                let s = th[0].exp();
                g[0] = s;
                (s, 0.0)
            }
            NoiseLawKind::Linear => {
                let u = ((x - self.x_lo) / (self.x_hi - self.x_lo).max(1e-12)).clamp(0.0, 1.0);
                let (a, b) = (th[0].exp(), th[1].exp());
                g[0] = a * (1.0 - u);
                g[1] = b * u;
                (a * (1.0 - u) + b * u, 0.0)
            }
            NoiseLawKind::Exponential => {
                let s = (th[0] + th[1] * x).exp();
                g[0] = s;
                g[1] = s * x;
                (s, 0.0)
            }
            NoiseLawKind::LogQuadratic => {
                let s = (th[0] + th[1] * x + th[2] * x * x).exp();
                g[0] = s;
                g[1] = s * x;
                g[2] = s * x * x;
                (s, 0.0)
            }
            NoiseLawKind::Step => {
                let (l, r, t) = (th[0].exp(), th[1].exp(), th[2]);
                let w = self.step_width();
                let q = crate::model::activation::sigmoid((x - t) / w);
                g[0] = l * (1.0 - q);
                g[1] = r * q;
                g[2] = -(r - l) * q * (1.0 - q) / w;
                (l + (r - l) * q, 0.0)
            }
            NoiseLawKind::Bump => {
                let (base, amp, c, w) = (th[0].exp(), th[1].exp(), th[2], th[3].exp());
                let d = x - c;
                let e = (-d * d / (2.0 * w * w)).exp();
                g[0] = base;
                g[1] = amp * e;
                g[2] = amp * e * d / (w * w);
                g[3] = amp * e * d * d / (w * w);
                (base + amp * e, 0.0)
            }
            NoiseLawKind::Signal => {
                let (a, b) = (th[0].exp(), th[1].exp());
                let m = self.y_offset + mu;
                g[0] = a;
                g[1] = b * m.abs();
                (a + b * m.abs(), b * m.signum())
            }
        }
    }

    /// sigma(x; theta) alone.
    pub fn sigma(&self, th: &[f64], x: f64, mu: f64) -> f64 {
        let mut g = [0.0; 4];
        self.eval(th, x, mu, &mut g).0
    }

    /// Log prior density of theta (up to a constant) and its gradient, added to `g`.
    pub fn log_prior(&self, th: &[f64], g: &mut [f64]) -> f64 {
        let mut lp = 0.0;
        for (i, spec) in Self::specs(self.kind).iter().enumerate() {
            let v = spec.prior_sd * spec.prior_sd;
            lp -= 0.5 * th[i] * th[i] / v;
            g[i] -= th[i] / v;
        }
        lp
    }

    /// Parameters that make the law a constant sigma (the hand-off after the mean-only
    /// warm-up). Laws that cannot be exactly constant start close to it with their shape
    /// parameters where the gradient is informative.
    pub fn constant_init(&self, sigma: f64, th: &mut [f64]) {
        let ls = sigma.max(1e-6).ln();
        let mid = 0.5 * (self.x_lo + self.x_hi);
        match self.kind {
            NoiseLawKind::Constant => th[0] = ls,
            NoiseLawKind::Linear => {
                th[0] = ls;
                th[1] = ls;
            }
            NoiseLawKind::Exponential => {
                th[0] = ls;
                th[1] = 0.0;
            }
            NoiseLawKind::LogQuadratic => {
                th[0] = ls;
                th[1] = 0.0;
                th[2] = 0.0;
            }
            NoiseLawKind::Step => {
                th[0] = ls;
                th[1] = ls;
                th[2] = mid;
            }
            NoiseLawKind::Bump => {
                // Half floor, half bump of a quarter-range width: the average sd is
                // close to sigma and every parameter has a gradient.
                th[0] = (0.5 * sigma.max(1e-6)).ln();
                th[1] = (0.5 * sigma.max(1e-6)).ln();
                th[2] = mid;
                th[3] = (0.25 * (self.x_hi - self.x_lo)).max(1e-3).ln();
            }
            NoiseLawKind::Signal => {
                th[0] = ls;
                th[1] = (0.01f64).ln();
            }
        }
    }

    /// The parameters in data units (positive ones as themselves, not their logs),
    /// in the order and with the names of `specs`.
    pub fn to_data_units(&self, th: &[f64], sc: &Scaling) -> Vec<f64> {
        let (mx, sx, sy) = (sc.x_mean, sc.x_sd * self.x_unit, sc.y_sd);
        match self.kind {
            NoiseLawKind::Constant => vec![sy * th[0].exp()],
            NoiseLawKind::Linear => vec![sy * th[0].exp(), sy * th[1].exp()],
            NoiseLawKind::Exponential => {
                let b = th[1];
                vec![sy * (th[0] - b * mx / sx).exp(), b / sx]
            }
            NoiseLawKind::LogQuadratic => {
                let (a, b, c) = (th[0], th[1], th[2]);
                vec![
                    sy.ln() + a - b * mx / sx + c * mx * mx / (sx * sx),
                    b / sx - 2.0 * c * mx / (sx * sx),
                    c / (sx * sx),
                ]
            }
            NoiseLawKind::Step => vec![sy * th[0].exp(), sy * th[1].exp(), mx + sx * th[2]],
            NoiseLawKind::Bump => vec![sy * th[0].exp(), sy * th[1].exp(), mx + sx * th[2], sx * th[3].exp()],
            NoiseLawKind::Signal => vec![sy * th[0].exp(), th[1].exp()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn law(kind: NoiseLawKind) -> NoiseLaw {
        NoiseLaw::new(kind, -1.7, 1.6, 0.4)
    }

    fn theta(kind: NoiseLawKind) -> Vec<f64> {
        match kind {
            NoiseLawKind::Constant => vec![-1.2],
            NoiseLawKind::Linear => vec![-2.0, -0.5],
            NoiseLawKind::Exponential => vec![-1.5, 0.6],
            NoiseLawKind::LogQuadratic => vec![-1.0, 0.3, -0.4],
            // A step location 1.4 widths from x = 0.3 keeps the logistic's slope finite.
            NoiseLawKind::Step => vec![-0.8, -2.1, 0.35],
            NoiseLawKind::Bump => vec![-2.5, -0.7, 0.2, -0.3],
            NoiseLawKind::Signal => vec![-2.2, -1.1],
        }
    }

    #[test]
    fn sigma_gradients_match_central_differences_for_every_law() {
        for kind in NoiseLawKind::ALL {
            let l = law(kind);
            let th = theta(kind);
            for &(x, mu) in &[(-1.0, 0.7), (0.3, -1.3), (1.2, 0.05)] {
                let mut g = vec![0.0; l.n_params()];
                let (s, dmu) = l.eval(&th, x, mu, &mut g);
                assert!(s > 0.0);
                let h = 1e-6;
                for i in 0..th.len() {
                    let (mut a, mut b) = (th.clone(), th.clone());
                    a[i] += h;
                    b[i] -= h;
                    let fd = (l.sigma(&a, x, mu) - l.sigma(&b, x, mu)) / (2.0 * h);
                    assert!((fd - g[i]).abs() <= 1e-7 * fd.abs().max(1e-3), "{kind:?} d/dth{i} at x={x}: {fd} vs {}", g[i]);
                }
                let fd = (l.sigma(&th, x, mu + h) - l.sigma(&th, x, mu - h)) / (2.0 * h);
                assert!((fd - dmu).abs() < 1e-7, "{kind:?} d/dmu: {fd} vs {dmu}");
            }
        }
    }

    #[test]
    fn data_unit_parameters_reproduce_sigma_in_data_units() {
        // sigma_data(x_data) = y_sd * sigma_fit(x_fit) must hold with the reported
        // parameters plugged into the data-unit formula.
        let sc = Scaling { x_mean: 2.1, x_sd: 1.3, y_mean: -0.7, y_sd: 2.5 };
        for kind in NoiseLawKind::ALL {
            let l = law(kind);
            let th = theta(kind);
            let p = l.to_data_units(&th, &sc);
            for &xd in &[0.5, 2.0, 3.7] {
                let xf = (xd - sc.x_mean) / sc.x_sd;
                let mu_f = 0.3;
                let mu_d = sc.y_mean + sc.y_sd * mu_f;
                let want = sc.y_sd * l.sigma(&th, xf, mu_f);
                let got = match kind {
                    NoiseLawKind::Constant => p[0],
                    NoiseLawKind::Linear => {
                        let (lo, hi) = (sc.x_mean + sc.x_sd * l.x_lo, sc.x_mean + sc.x_sd * l.x_hi);
                        let u = ((xd - lo) / (hi - lo)).clamp(0.0, 1.0);
                        p[0] * (1.0 - u) + p[1] * u
                    }
                    NoiseLawKind::Exponential => p[0] * (p[1] * xd).exp(),
                    NoiseLawKind::LogQuadratic => (p[0] + p[1] * xd + p[2] * xd * xd).exp(),
                    NoiseLawKind::Step => {
                        let w = STEP_WIDTH_FRAC * (l.x_hi - l.x_lo) * sc.x_sd;
                        p[0] + (p[1] - p[0]) / (1.0 + (-(xd - p[2]) / w).exp())
                    }
                    NoiseLawKind::Bump => p[0] + p[1] * (-(xd - p[2]).powi(2) / (2.0 * p[3] * p[3])).exp(),
                    NoiseLawKind::Signal => p[0] + p[1] * mu_d.abs(),
                };
                // The signal law's offset is y_mean / y_sd in the fit; here it is set
                // to 0.4 by `law`, so rebuild it consistently for that comparison.
                if kind == NoiseLawKind::Signal {
                    let l2 = NoiseLaw::new(kind, l.x_lo, l.x_hi, sc.y_mean / sc.y_sd);
                    let want = sc.y_sd * l2.sigma(&th, xf, mu_f);
                    assert!((got - want).abs() < 1e-12 * want.max(1.0), "{kind:?}: {got} vs {want}");
                } else {
                    assert!((got - want).abs() < 1e-10 * want.max(1.0), "{kind:?} at {xd}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn a_law_reading_x_in_other_units_is_the_same_law() {
        // x_fit = u * x': the law on x_fit with unit u equals the law on x', and its
        // data-unit parameters equal those of the law on x' with x_sd scaled by u.
        let u = 7.3;
        let sc = Scaling { x_mean: 2.1, x_sd: 1.3, y_mean: -0.7, y_sd: 2.5 };
        let sc_u = Scaling { x_sd: sc.x_sd / u, ..sc };
        for kind in NoiseLawKind::ALL {
            let l = law(kind);
            let lu = NoiseLaw::new(kind, l.x_lo * u, l.x_hi * u, l.y_offset).with_x_unit(u);
            let th = theta(kind);
            for &(x, mu) in &[(-1.0, 0.7), (0.3, -1.3), (1.2, 0.05)] {
                let (a, b) = (l.sigma(&th, x, mu), lu.sigma(&th, x * u, mu));
                assert!((a - b).abs() <= 1e-12 * a, "{kind:?}: {a} vs {b}");
            }
            let (p, pu) = (l.to_data_units(&th, &sc), lu.to_data_units(&th, &sc_u));
            for (a, b) in p.iter().zip(&pu) {
                assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0), "{kind:?}: {p:?} vs {pu:?}");
            }
        }
    }

    #[test]
    fn constant_init_gives_roughly_the_requested_sigma() {
        for kind in NoiseLawKind::ALL {
            let l = NoiseLaw::new(kind, -1.7, 1.7, 0.0);
            let mut th = vec![0.0; l.n_params()];
            l.constant_init(0.3, &mut th);
            let avg: f64 = (0..50).map(|i| l.sigma(&th, -1.7 + 3.4 * i as f64 / 49.0, 0.0)).sum::<f64>() / 50.0;
            assert!((avg / 0.3 - 1.0).abs() < 0.35, "{kind:?}: {avg}");
        }
    }
}
