//! Noise laws sigma(x; theta) of the noise-model BNN (docs/ARCHITECTURE.md §2): a formula
//! in the units of the data ([`super::formula`]), typed by the user or one of the built-in
//! presets of [`PRESETS`], which run through the same code.
//!
//! Parameters: each theta_k has a prior in data units, positive (log-normal) or real
//! (normal), with a location m and a scale s. The samplers move u_k with theta_k =
//! exp(m + u_k) (positive) or m + U_k u_k (real, U_k the data's scale in theta_k's units),
//! the coordinates the built-in laws had in fitting units before they became formulas, so
//! that the samplers' step sizes fit whatever the data's units (see [`Prior`]).
//!
//! Positivity: the formula's value f (in y's units) passes through a floor: with
//! s = f / y_unit and the two-head floor `fl` (`sigma_floor` × the sd of y, fitting units),
//! sigma = fl + fl·softplus((s − fl)/fl): sigma = s to within e^(−(s−fl)/fl) once s is a
//! few floors up, and it tends to fl (never 0 or negative) as s falls, so a law such as
//! a + b·x that dips below zero still fits. A floor of 0 turns it off (sigma = s).

use super::formula::priors::{self, Prior, PriorSpec};
use super::formula::tape::{Fault, Inputs, Op, Tape};
use super::formula::{DataConsts, Formula, FormulaError, Func};
use crate::config::{ModelConfig, NoiseLawKind};
use crate::data::Scaling;

/// A built-in noise law: one row is all it takes to add one (the CLI's help, the page's
/// picker and the error lists come from these rows).
#[derive(Clone, Copy, Debug)]
pub struct LawPreset {
    /// The CLI's `noise:NAME`, the URL's and the settings file's `noise_law`.
    pub name: &'static str,
    /// The page's picker label.
    pub label: &'static str,
    /// sigma(x; theta) in data units.
    pub formula: &'static str,
    /// Its parameters' priors in data units (the former fitting-unit priors restated:
    /// log of a positive quantity ~ N(log of its data scale, 2²), slopes, curvatures and
    /// locations ~ N(0 or mean_x, their data scale²)).
    pub priors: &'static str,
    /// What each parameter means, for the page.
    pub meanings: &'static [(&'static str, &'static str)],
}

/// The built-in laws, in the page's order.
pub const PRESETS: [LawPreset; 7] = [
    LawPreset {
        name: "constant",
        label: "Constant",
        formula: "c",
        priors: "c ~ lognormal(log(sd_y), 2)",
        meanings: &[("c", "noise sd")],
    },
    LawPreset {
        name: "linear",
        label: "Linear",
        formula: "a + (b - a)*min(1, max(0, (x - x_min)/(x_max - x_min)))",
        priors: "a ~ lognormal(log(sd_y), 2); b ~ lognormal(log(sd_y), 2)",
        meanings: &[("a", "noise sd at the smallest x"), ("b", "noise sd at the largest x")],
    },
    LawPreset {
        name: "exponential",
        label: "Exponential",
        formula: "a*exp(b*x)",
        priors: "a ~ lognormal(log(sd_y), 2); b ~ normal(0, 1/sd_x)",
        meanings: &[("a", "noise sd at x = 0"), ("b", "growth rate per unit x")],
    },
    LawPreset {
        name: "logquad",
        label: "Log-quadratic",
        formula: "exp(a + b*x + c*x^2)",
        priors: "a ~ normal(log(sd_y), 2); b ~ normal(0, 1/sd_x); c ~ normal(0, 1/sd_x^2)",
        meanings: &[("a", "log noise sd at x = 0"), ("b", "slope of log sd"), ("c", "curvature of log sd")],
    },
    LawPreset {
        name: "step",
        label: "Step",
        formula: "left + (right - left)*sigmoid((x - t)/(0.01*(x_max - x_min)))",
        priors: "left ~ lognormal(log(sd_y), 2); right ~ lognormal(log(sd_y), 2); t ~ normal(mean_x, sd_x)",
        meanings: &[
            ("left", "noise sd left of the step"),
            ("right", "noise sd right of the step"),
            ("t", "step location (a smooth step 1% of the x range wide)"),
        ],
    },
    LawPreset {
        name: "bump",
        label: "Bump",
        formula: "base + amp*exp(-(x - c)^2/(2*w^2))",
        priors: "base ~ lognormal(log(sd_y), 2); amp ~ lognormal(log(sd_y), 2); c ~ normal(mean_x, sd_x); \
                 w ~ lognormal(log(sd_x), 2)",
        meanings: &[
            ("base", "noise sd far from the bump"),
            ("amp", "height of the bump"),
            ("c", "bump centre"),
            ("w", "bump width (sd)"),
        ],
    },
    LawPreset {
        name: "signal",
        label: "Signal-proportional",
        formula: "a + b*abs(mu)",
        priors: "a ~ lognormal(log(sd_y), 2); b ~ lognormal(0, 2)",
        meanings: &[("a", "noise sd at zero signal"), ("b", "noise per unit of |signal|")],
    },
];

/// The name and label of the user's own formula.
pub const CUSTOM_NAME: &str = "custom";
pub const CUSTOM_LABEL: &str = "Custom formula";

/// Points the hand-off fits the constant sigma at (at most).
const INIT_POINTS: usize = 64;
/// The hand-off's pull towards the prior's centre (per squared z, against the mean
/// squared log ratio).
const RIDGE: f64 = 1e-3;

/// The formula text and the preset's priors of a model's law.
pub fn law_text(m: &ModelConfig) -> (&str, &'static str) {
    match m.noise_law.preset() {
        Some(p) => (p.formula, p.priors),
        None => (m.noise_formula.as_str(), ""),
    }
}

/// The law's formula, parsed, with its parameters' priors as stated (no data needed):
/// what `FitConfig::validate` checks.
pub fn parse_law(m: &ModelConfig) -> Result<(Formula, Vec<PriorSpec>), String> {
    let (text, base) = law_text(m);
    if text.trim().is_empty() {
        return Err("the noise formula is empty: write one, e.g. a*exp(b*x) (got '')".into());
    }
    let f = Formula::parse(text).map_err(|e| format!("noise formula: {e} (got '{text}')"))?;
    let bad_priors = |e: FormulaError| format!("noise priors: {e} (got '{}')", m.noise_priors);
    let specs = priors::resolve(&f, base, &m.noise_priors).map_err(bad_priors)?;
    priors::check_without_data(&specs).map_err(bad_priors)?;
    Ok((f, specs))
}

/// A noise law ready for a data set.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseLaw {
    pub kind: NoiseLawKind,
    pub formula: Formula,
    tape: Tape,
    /// The priors as stated (or defaulted) and their numbers for these data.
    pub specs: Vec<PriorSpec>,
    pub priors: Vec<Prior>,
    pub data: DataConsts,
    /// x_data = x_map.0 + x_map.1 · x_fit; mu likewise; sigma_fit = f / y_unit.
    x_map: (f64, f64),
    mu_map: (f64, f64),
    y_unit: f64,
    /// The floor in fitting units (0: none).
    pub floor: f64,
    /// Training x (fitting units) where the hand-off makes the law constant.
    init_x: Vec<f64>,
}

impl NoiseLaw {
    /// The law of `m` for training inputs `x_fit` (fitting units) standardised by
    /// `scaling`, `y_spread` the sd of y in fitting units.
    pub fn new(m: &ModelConfig, x_fit: &[f64], scaling: &Scaling, y_spread: f64) -> Result<NoiseLaw, String> {
        let (formula, specs) = parse_law(m)?;
        let x_data: Vec<f64> = x_fit.iter().map(|&v| scaling.x_from_std(v)).collect();
        let mut data = DataConsts::of(&x_data, &[]);
        let sd_y = y_spread * scaling.y_sd;
        data.sd_y = if sd_y > 0.0 && sd_y.is_finite() { sd_y } else { 1.0 };
        let priors = priors::evaluate(&formula, &specs, &data).map_err(|e| format!("noise priors: {e}"))?;
        let tape = Tape::compile(&formula, &data);
        let mut sorted = x_fit.to_vec();
        sorted.sort_by(f64::total_cmp);
        let m_pts = sorted.len().min(INIT_POINTS);
        let init_x = (0..m_pts).map(|i| sorted[i * (sorted.len() - 1) / (m_pts - 1).max(1)]).collect();
        Ok(NoiseLaw {
            kind: m.noise_law,
            formula,
            tape,
            specs,
            priors,
            data,
            x_map: (scaling.x_mean, scaling.x_sd),
            mu_map: (scaling.y_mean, scaling.y_sd),
            y_unit: scaling.y_sd,
            floor: m.sigma_floor * y_spread.max(1e-300),
            init_x,
        })
    }

    pub fn n_params(&self) -> usize {
        self.formula.params.len()
    }
    pub fn names(&self) -> &[String] {
        &self.formula.params
    }
    pub fn uses_mu(&self) -> bool {
        self.tape.mu_slot.is_some()
    }

    /// The parameters in data units from the sampled coordinates z.
    pub fn theta(&self, z: &[f64], out: &mut [f64]) {
        for ((o, p), &z) in out.iter_mut().zip(&self.priors).zip(z) {
            *o = p.theta(z);
        }
    }

    /// The parameters in data units (the reported theta), in the order of `names`.
    pub fn to_data_units(&self, z: &[f64]) -> Vec<f64> {
        let mut t = vec![0.0; self.n_params()];
        self.theta(z, &mut t);
        t
    }

    /// sigma (fitting units) and d sigma / d f for the formula's value f (data units).
    #[inline]
    fn floored(&self, f: f64) -> (f64, f64) {
        let s = f / self.y_unit;
        let fl = self.floor;
        if fl == 0.0 {
            return (s, 1.0 / self.y_unit);
        }
        let t = (s - fl) / fl;
        let e = (-t.abs()).exp();
        let sp = t.max(0.0) + e.ln_1p();
        let sg = if t >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
        (fl + fl * sp, sg / self.y_unit)
    }

    fn inputs<'a>(&self, x: &'a [f64], mu: &'a [f64]) -> Inputs<'a> {
        Inputs { x, x_map: self.x_map, mu, mu_map: self.mu_map }
    }

    /// Log prior of the coordinates (up to a constant); adds its gradient.
    pub fn log_prior(&self, z: &[f64], g: &mut [f64]) -> f64 {
        let mut lp = 0.0;
        for ((gi, &zi), p) in g.iter_mut().zip(z).zip(&self.priors) {
            let v = p.coordinate_sd() * p.coordinate_sd();
            lp -= 0.5 * zi * zi / v;
            *gi -= zi / v;
        }
        lp
    }

    /// The scaled Gaussian log likelihood of a batch (fitting units) given the network's
    /// means `mu`: writes d/d mu into `d_mu`, adds d/dz into `g_z`. `beta` > 0 weights each
    /// point by stop_grad(sigma^(2 beta)) (beta-NLL). `scratch` is reused between calls.
    #[allow(clippy::too_many_arguments)]
    pub fn log_lik(
        &self,
        z: &[f64],
        x: &[f64],
        y: &[f64],
        mu: &[f64],
        scale: f64,
        beta: f64,
        d_mu: &mut [f64],
        g_z: &mut [f64],
        scratch: &mut Vec<f64>,
    ) -> f64 {
        const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;
        let (k, n) = (self.n_params(), x.len());
        scratch.resize(2 * k + 2 * n + self.tape.scratch_len(n), 0.0);
        let (th, rest) = scratch.split_at_mut(k);
        let (g_th, rest) = rest.split_at_mut(k);
        let (seed, rest) = rest.split_at_mut(n);
        let (g_mu, buf) = rest.split_at_mut(n);
        self.theta(z, th);
        let inp = self.inputs(x, mu);
        self.tape.forward(th, &inp, buf);
        let mut ll = 0.0;
        for i in 0..n {
            let (sigma, ds_df) = self.floored(self.tape.value(buf, n, i));
            let r = y[i] - mu[i];
            let inv = 1.0 / sigma;
            let z2 = r * r * inv * inv;
            let w = if beta > 0.0 { scale * sigma.powf(2.0 * beta) } else { scale };
            ll += w * (-HALF_LN_2PI - sigma.ln() - 0.5 * z2);
            d_mu[i] = w * r * inv * inv;
            seed[i] = w * (z2 - 1.0) * inv * ds_df;
        }
        g_th.fill(0.0);
        let uses_mu = self.uses_mu();
        self.tape.backward(&inp, seed, buf, g_th, uses_mu.then_some(&mut *g_mu));
        if uses_mu {
            for (d, g) in d_mu.iter_mut().zip(g_mu.iter()) {
                *d += g;
            }
        }
        for ((g, p), (&t, &gt)) in g_z.iter_mut().zip(&self.priors).zip(th.iter().zip(g_th.iter())) {
            *g += gt * p.slope(t);
        }
        ll
    }

    /// sigma (fitting units) at each x of a batch (fitting units) given the means `mu`.
    pub fn sigma(&self, z: &[f64], x: &[f64], mu: &[f64], out: &mut [f64], scratch: &mut Vec<f64>) {
        let (k, n) = (self.n_params(), x.len());
        scratch.resize(k + self.tape.scratch_len(n), 0.0);
        let (th, buf) = scratch.split_at_mut(k);
        self.theta(z, th);
        self.tape.forward(th, &self.inputs(x, mu), buf);
        for (i, o) in out.iter_mut().enumerate().take(n) {
            *o = self.floored(self.tape.value(buf, n, i)).0;
        }
    }

    /// The value of the formula and its gradient in z at one point (fitting units):
    /// (sigma, d sigma / dz into `g`, d sigma / d mu).
    pub fn sigma_grad(&self, z: &[f64], x: f64, mu: f64, g: &mut [f64]) -> (f64, f64) {
        let k = self.n_params();
        let mut th = vec![0.0; k];
        self.theta(z, &mut th);
        let (xs, ms) = ([x], [mu]);
        let inp = self.inputs(&xs, &ms);
        let mut buf = vec![0.0; self.tape.scratch_len(1)];
        self.tape.forward(&th, &inp, &mut buf);
        let (sigma, ds_df) = self.floored(self.tape.value(&buf, 1, 0));
        let mut g_th = vec![0.0; k];
        let mut g_mu = [0.0];
        self.tape.backward(&inp, &[ds_df], &mut buf, &mut g_th, Some(&mut g_mu));
        for ((gi, p), (&t, &gt)) in g.iter_mut().zip(&self.priors).zip(th.iter().zip(&g_th)) {
            *gi = gt * p.slope(t);
        }
        (sigma, g_mu[0])
    }

    /// Coordinates z that make sigma as close to the constant `sigma` (fitting units) as
    /// the law allows over the training x (the hand-off after the mean-only warm-up):
    /// Levenberg-Marquardt on the squared log ratio, with a small pull towards the prior's
    /// centre z = 0 for what the data leave open. `mu` are the network's means at
    /// [`NoiseLaw::init_x`] (fitting units; read when the formula uses mu).
    pub fn constant_init(&self, sigma: f64, z: &mut [f64], mu: Option<&[f64]>) {
        let k = self.n_params();
        let xs = &self.init_x;
        let m = xs.len();
        let zeros = vec![0.0; m];
        let mu = mu.filter(|v| v.len() == m).unwrap_or(&zeros);
        let target = sigma.max(1e-6).ln();
        // Objective, residuals and Jacobian at z.
        let eval = |z: &[f64], jac: Option<&mut Vec<f64>>, g: &mut Vec<f64>| -> (f64, Vec<f64>) {
            let mut r = vec![0.0; m];
            let mut jac = jac;
            let mut obj = 0.0;
            for i in 0..m {
                let (s, _) = self.sigma_grad(z, xs[i], mu[i], g);
                if !(s.is_finite() && s > 0.0) {
                    return (f64::INFINITY, r);
                }
                r[i] = s.ln() - target;
                obj += r[i] * r[i] / m as f64;
                if let Some(j) = jac.as_deref_mut() {
                    for c in 0..k {
                        j[i * k + c] = g[c] / s;
                    }
                }
            }
            obj += RIDGE * z.iter().zip(&self.priors).map(|(v, p)| (v / p.coordinate_sd()).powi(2)).sum::<f64>();
            (obj, r)
        };
        // From the prior's centre, and from two points near it in case the centre is a
        // point without a slope (sqrt(a^2 + b^2) at a = b = 0): the best end wins.
        let mut best = (f64::INFINITY, vec![0.0; k]);
        for shift in [0.0, 0.3, -0.4] {
            let (o, end) = self.levenberg_marquardt(vec![shift; k], &eval, m);
            if o < best.0 - 1e-12 {
                best = (o, end);
            }
        }
        z[..k].copy_from_slice(&best.1);
    }

    #[allow(clippy::type_complexity)]
    fn levenberg_marquardt(
        &self,
        start: Vec<f64>,
        eval: &dyn Fn(&[f64], Option<&mut Vec<f64>>, &mut Vec<f64>) -> (f64, Vec<f64>),
        m: usize,
    ) -> (f64, Vec<f64>) {
        let k = self.n_params();
        let mut g = vec![0.0; k];
        let mut cur = start;
        let mut jac = vec![0.0; m * k];
        let (mut obj, mut r) = eval(&cur, Some(&mut jac), &mut g);
        if !obj.is_finite() || jac.iter().any(|v| !v.is_finite()) {
            return (f64::INFINITY, cur);
        }
        let mut damp = 1e-3;
        for _ in 0..60 {
            // (J'J/m + ridge + damp) d = -(J'r/m + ridge z)
            let mut a = vec![0.0; k * k];
            let mut b = vec![0.0; k];
            for i in 0..m {
                for p in 0..k {
                    b[p] -= jac[i * k + p] * r[i] / m as f64;
                    for q in 0..k {
                        a[p * k + q] += jac[i * k + p] * jac[i * k + q] / m as f64;
                    }
                }
            }
            for p in 0..k {
                let v = self.priors[p].coordinate_sd().powi(2);
                b[p] -= RIDGE * cur[p] / v;
                a[p * k + p] += RIDGE / v;
            }
            let mut improved = false;
            for _ in 0..12 {
                let mut ad = a.clone();
                for p in 0..k {
                    ad[p * k + p] += damp * (1.0 + a[p * k + p]);
                }
                let Some(d) = solve(&mut ad, &b, k) else {
                    damp *= 10.0;
                    continue;
                };
                let next: Vec<f64> = cur.iter().zip(&d).map(|(c, d)| (c + d).clamp(-8.0, 8.0)).collect();
                let (o, _) = eval(&next, None, &mut g);
                if o < obj {
                    let mut jn = vec![0.0; m * k];
                    let (o2, rn) = eval(&next, Some(&mut jn), &mut g);
                    if !jn.iter().all(|v| v.is_finite()) {
                        damp *= 10.0;
                        continue;
                    }
                    let step: f64 = next.iter().zip(&cur).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
                    (cur, obj, r, jac) = (next, o2, rn, jn);
                    damp = (damp / 3.0).max(1e-9);
                    improved = step > 1e-9;
                    break;
                }
                damp *= 10.0;
            }
            if !improved {
                break;
            }
        }
        (obj, cur)
    }

    /// The training x (fitting units) the hand-off fits at.
    pub fn init_x(&self) -> &[f64] {
        &self.init_x
    }

    /// Where the formula fails on a batch (fitting units) at z, in words, and whether it
    /// is its value (else its slope) that is not finite; None when both are finite at
    /// every point.
    pub fn fault(&self, z: &[f64], x: &[f64], mu: &[f64]) -> Option<(String, bool)> {
        let (k, n) = (self.n_params(), x.len());
        let mut th = vec![0.0; k];
        self.theta(z, &mut th);
        let inp = self.inputs(x, mu);
        let mut buf = vec![0.0; self.tape.scratch_len(n)];
        self.tape.forward(&th, &inp, &mut buf);
        let params = self.names().iter().zip(&th).map(|(n, v)| format!("{n} = {}", short(*v))).collect::<Vec<_>>().join(", ");
        if let Some(f) = self.tape.fault(&buf, n) {
            let xd = self.x_map.0 + self.x_map.1 * x[f.point];
            return Some((format!("{} at x = {} with {params}", describe(&f), short(xd)), true));
        }
        // The value is finite: is the gradient (what the samplers follow)?
        let seed = vec![1.0; 1];
        for i in 0..n {
            let (xs, ms) = ([x[i]], [mu[i]]);
            let inp = self.inputs(&xs, &ms);
            let mut b1 = vec![0.0; self.tape.scratch_len(1)];
            self.tape.forward(&th, &inp, &mut b1);
            let mut g = vec![0.0; k];
            let mut gm = [0.0];
            self.tape.backward(&inp, &seed, &mut b1, &mut g, Some(&mut gm));
            if let Some(j) = g.iter().position(|v| !v.is_finite()) {
                let xd = self.x_map.0 + self.x_map.1 * x[i];
                return Some((format!(
                    "its slope in {} is not finite at x = {} with {params} (the formula is not smooth there: e.g. sqrt or a \
                     power at 0)",
                    self.names()[j],
                    short(xd)
                ), false));
            }
            if !gm[0].is_finite() {
                let xd = self.x_map.0 + self.x_map.1 * x[i];
                return Some((format!("its slope in mu is not finite at x = {} with {params}", short(xd)), false));
            }
        }
        None
    }

    /// Check the law on the training data before a fit (fitting units; mu at the
    /// observed y): its value must be finite at every training x with the parameters at
    /// their prior centres, and its slope there or near them (the fit starts from the
    /// hand-off, not from the centres: `sqrt(a^2 + b^2)` has no slope at a = b = 0 alone).
    pub fn check(&self, x: &[f64], y: &[f64]) -> Result<(), String> {
        let k = self.n_params();
        let mut first = None;
        for shift in [0.0, 0.5, -0.7] {
            let z = vec![shift; k];
            match self.fault(&z, x, y) {
                None => return Ok(()),
                // A value that is not finite at the centres is refused at once.
                Some((what, true)) if shift == 0.0 => return Err(self.refusal(&what)),
                Some((what, _)) => {
                    first.get_or_insert(what);
                }
            }
        }
        Err(self.refusal(&first.unwrap_or_default()))
    }

    fn refusal(&self, what: &str) -> String {
        format!(
            "the noise formula {} is not finite on the data where the fit starts (the parameters at their prior \
             centres): {what}. Change the formula or its priors",
            self.formula
        )
    }
}

/// What went wrong at a fault, in words.
fn describe(f: &Fault) -> String {
    let why = match f.op {
        Op::Call(Func::Exp) => " (exp overflows above 709)",
        Op::Call(Func::Log) => " (log needs a positive argument)",
        Op::Call(Func::Sqrt) => " (sqrt needs an argument of at least 0)",
        Op::Div => " (a division by zero)",
        Op::Pow | Op::PowConst | Op::PowI(_) => " (a negative number to a fractional power, or 0 to a negative one)",
        _ => "",
    };
    let value = if f.value.is_nan() { "NaN".to_string() } else { format!("{}", f.value) };
    format!("{} at column {} gives {value}{why}", f.op.describe(), f.col)
}

/// Four significant digits.
fn short(v: f64) -> String {
    if v == 0.0 || (1e-3..1e5).contains(&v.abs()) {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.3e}")
    }
}

/// Solve the k x k system a d = b (Gaussian elimination, partial pivoting).
fn solve(a: &mut [f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    let mut b = b.to_vec();
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i * k + c].abs().total_cmp(&a[j * k + c].abs()))?;
        if !(a[p * k + c].abs() > 1e-300) {
            return None;
        }
        if p != c {
            for j in 0..k {
                a.swap(p * k + j, c * k + j);
            }
            b.swap(p, c);
        }
        for i in c + 1..k {
            let f = a[i * k + c] / a[c * k + c];
            for j in c..k {
                a[i * k + j] -= f * a[c * k + j];
            }
            b[i] -= f * b[c];
        }
    }
    let mut d = vec![0.0; k];
    for c in (0..k).rev() {
        let s: f64 = (c + 1..k).map(|j| a[c * k + j] * d[j]).sum();
        d[c] = (b[c] - s) / a[c * k + c];
    }
    d.iter().all(|v| v.is_finite()).then_some(d)
}

#[cfg(test)]
mod tests;
