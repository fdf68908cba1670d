//! The page's account of a fit in words ("In words", for screen readers and the
//! page) and the number formats of its text.

use super::state::AppState;

impl AppState {
    /// A plain-language account of the current fit, for screen readers and the page.
    pub fn describe(&self) -> String {
        let d = &self.data;
        let (lo, hi) = d.x_range();
        let data = format!("{} data points, {} from {} to {}", d.len(), d.x_label, fmt(lo), fmt(hi));
        if self.stale {
            let n = self.fitted.as_ref().map(|f| f.data.len()).unwrap_or(0);
            return format!("{data}. The greyed bands are the fit of the previous data ({n} points): press Train to fit these.");
        }
        let Some(f) = &self.frame else {
            return format!("{data}. No fit yet: press Train.");
        };
        let snap = &f.snapshot;
        let s = &snap.summary;
        let mut out = format!(
            "{data}. {} fit, {} of {} steps ({}), {} posterior draws kept.",
            self.fitted.as_ref().map(|f| f.config.model_name()).unwrap_or_default(),
            snap.step,
            snap.total_steps,
            snap.phase.label(),
            snap.draws_kept
        );
        if let (Some(wide), Some(narrow)) = (argmax(&s.sd_total), argmin(&s.sd_total)) {
            out += &format!(
                " The 95% predictive band is widest at x = {} (mean {} ± {}) and narrowest at x = {} (± {}).",
                fmt(s.x[wide]),
                fmt(s.mean[wide]),
                fmt(crate::summary::metrics::Z95 * s.sd_total[wide]),
                fmt(s.x[narrow]),
                fmt(crate::summary::metrics::Z95 * s.sd_total[narrow])
            );
        }
        if let (Some(hi), Some(lo)) = (argmax(&s.sigma_mean), argmin(&s.sigma_mean)) {
            out += &format!(
                " Inferred noise sd ranges from {} at x = {} to {} at x = {}.",
                fmt(s.sigma_mean[lo]),
                fmt(s.x[lo]),
                fmt(s.sigma_mean[hi]),
                fmt(s.x[hi])
            );
        }
        let share: f64 = {
            let (e, t): (f64, f64) = s.sd_epistemic.iter().zip(&s.sd_total).fold((0.0, 0.0), |(e, t), (a, b)| (e + a * a, t + b * b));
            if t > 0.0 { e / t } else { 0.0 }
        };
        if share.is_finite() {
            out += &format!(" Model (epistemic) uncertainty makes up {:.0}% of the predictive variance on this grid.", 100.0 * share);
        }
        out
    }
}

fn argmax(v: &[f64]) -> Option<usize> {
    (0..v.len()).filter(|&i| v[i].is_finite()).max_by(|&a, &b| v[a].total_cmp(&v[b]))
}
fn argmin(v: &[f64]) -> Option<usize> {
    (0..v.len()).filter(|&i| v[i].is_finite()).min_by(|&a, &b| v[a].total_cmp(&v[b]))
}

/// A number with about four significant digits, for text.
pub fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    if a != 0.0 && (a >= 1e5 || a < 1e-3) {
        format!("{v:.3e}")
    } else {
        let digits = if a >= 100.0 { 1 } else if a >= 1.0 { 3 } else { 4 };
        let s = format!("{v:.digits$}");
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        if s == "-0" { "0".into() } else { s }
    }
}

/// A duration for the status line: "0.8 s", "42.1 s", "3 min 05 s", "1 h 02 min".
pub fn duration(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "n/a".into();
    }
    let s = ms / 1000.0;
    if s < 59.95 {
        return format!("{s:.1} s");
    }
    let whole = s.round() as u64;
    if whole < 3600 {
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        let min = (whole + 30) / 60;
        format!("{} h {:02} min", min / 60, min % 60)
    }
}
