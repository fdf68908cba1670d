//! Two fits of the same data side by side: the one-line verdict of the page's
//! "Comparison" table, from each fit's 95% coverage by x-region and its scores.
//!
//! A fit whose band is right on average can still be wrong everywhere: a homoskedastic
//! band on heteroskedastic data covers too much where the noise is low and too little
//! where it is high. So the verdict pools each fit's regional coverage over the regions
//! where the noise is low and where it is high (split at the median noise), and says it
//! in words when the two differ.

use super::calibration::RegionCoverage;
use super::metrics::HeldOutMetrics;

/// The noise of the highest region must be at least this many times that of the lowest
/// for the verdict to speak of "where the noise is low / high".
pub const NOISE_RATIO_FOR_SPLIT: f64 = 1.5;
/// Coverages this far apart (low-noise vs high-noise regions) are reported apart.
pub const COVERAGE_SPLIT: f64 = 0.05;

/// What the verdict reads of one fit.
#[derive(Clone, Debug)]
pub struct FitScore<'a> {
    /// "A" or "B".
    pub name: &'a str,
    pub metrics: &'a HeldOutMetrics,
    /// The 95% coverage by x-region (`Calibration::regions`).
    pub regions: &'a [RegionCoverage],
}

/// The pooled 95% coverage of the regions with noise at or below the median of
/// `noise` (one value per region) and above it, as (low, high); None when the noise does
/// not vary enough to tell (see [`NOISE_RATIO_FOR_SPLIT`]) or a side has no points.
pub fn coverage_low_high(regions: &[RegionCoverage], noise: &[f64]) -> Option<(f64, f64)> {
    if regions.len() != noise.len() || regions.len() < 2 || noise.iter().any(|v| !v.is_finite() || *v <= 0.0) {
        return None;
    }
    let (lo, hi) = noise.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
    if hi < NOISE_RATIO_FOR_SPLIT * lo {
        return None;
    }
    let mut order: Vec<usize> = (0..noise.len()).collect();
    order.sort_by(|&a, &b| noise[a].total_cmp(&noise[b]));
    let half = order.len() / 2;
    let pooled = |idx: &[usize]| -> Option<f64> {
        let n: usize = idx.iter().map(|&i| regions[i].n).sum();
        let inside: f64 = idx.iter().filter(|&&i| regions[i].n > 0).map(|&i| (regions[i].coverage95 * regions[i].n as f64).round()).sum();
        (n > 0).then(|| inside / n as f64)
    };
    Some((pooled(&order[..half])?, pooled(&order[half..])?))
}

fn pct(v: f64) -> String {
    format!("{:.0}%", 100.0 * v)
}

/// What one fit's 95% band covers, in words.
fn covers(f: &FitScore, noise: &[f64], what: &str, first: bool) -> String {
    let verb = if first { format!("{}'s 95% band covers", f.name) } else { format!("{}'s covers", f.name) };
    match coverage_low_high(f.regions, noise) {
        Some((low, high)) if (low - high).abs() >= COVERAGE_SPLIT => {
            format!("{verb} {} where the noise is low and {} where it is high", pct(low), pct(high))
        }
        _ => format!("{verb} {} of {what}", pct(f.metrics.coverage95)),
    }
}

/// How far a fit's coverage is from 95%, at worst: overall, or in the low- or
/// high-noise regions when the noise varies.
fn worst_gap(f: &FitScore, noise: &[f64]) -> f64 {
    let mut g = (f.metrics.coverage95 - 0.95).abs();
    if let Some((low, high)) = coverage_low_high(f.regions, noise) {
        g = g.max((low - 0.95).abs()).max((high - 0.95).abs());
    }
    g
}

/// The one-line verdict on fits `a` and `b`, scored on `what` ("held-out points",
/// "fresh draws from the truth"); `noise` is the noise sd in each x-region (the truth's
/// when known, else the fits'), used to speak of low- and high-noise regions.
///
/// E.g. "B's 95% band covers 95% of fresh draws from the truth; A's covers 99% where the
/// noise is low and 81% where it is high. B has the lower NLL (-0.84 vs -0.41) and is
/// the better calibrated."
pub fn verdict(a: &FitScore, b: &FitScore, noise: &[f64], what: &str) -> String {
    if a.metrics.n == 0 || b.metrics.n == 0 || !a.metrics.nll.is_finite() || !b.metrics.nll.is_finite() {
        return format!("No verdict: the fits could not both be scored on {what}.");
    }
    // The better calibrated fit first.
    let (ga, gb) = (worst_gap(a, noise), worst_gap(b, noise));
    let (first, second) = if gb <= ga { (b, a) } else { (a, b) };
    let mut out = format!("{}; {}.", covers(first, noise, what, true), covers(second, noise, what, false));
    let (na, nb) = (a.metrics.nll, b.metrics.nll);
    let (better, nbest, nworst) = if nb <= na { (b, nb, na) } else { (a, na, nb) };
    if (nworst - nbest).abs() < 0.005 {
        out += &format!(" Their NLL is the same ({}).", num(nbest));
    } else {
        out += &format!(" {} has the lower NLL ({} vs {})", better.name, num(nbest), num(nworst));
        let calibrated = if gb <= ga { b } else { a };
        if (ga - gb).abs() < 0.02 {
            out += "; both bands are about as well calibrated.";
        } else if calibrated.name == better.name {
            out += " and the better calibrated band.";
        } else {
            out += &format!(", {} the better calibrated band.", calibrated.name);
        }
    }
    out
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 { format!("{v:.0}") } else if v.abs() >= 10.0 { format!("{v:.1}") } else { format!("{v:.2}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::calibration::coverage_by_region;

    fn region(n: usize, inside: usize) -> RegionCoverage {
        RegionCoverage { x_lo: 0.0, x_hi: 1.0, n, coverage95: inside as f64 / n as f64 }
    }

    fn metrics(nll: f64, coverage95: f64, n: usize) -> HeldOutMetrics {
        let y = vec![0.0; n];
        HeldOutMetrics { nll, coverage95, ..HeldOutMetrics::compute(&y, &y, &vec![1.0; n]) }
    }

    #[test]
    fn low_and_high_noise_regions_are_pooled_by_the_median_noise() {
        // Noise high in the two middle quarters (a bump).
        let regions = [region(20, 20), region(30, 24), region(30, 25), region(20, 19)];
        let (low, high) = coverage_low_high(&regions, &[0.1, 0.5, 0.6, 0.12]).unwrap();
        assert_eq!(low, 39.0 / 40.0);
        assert_eq!(high, 49.0 / 60.0);
        // Noise that hardly varies: no split.
        assert_eq!(coverage_low_high(&regions, &[0.1, 0.11, 0.12, 0.1]), None);
        // A region without points counts for nothing; a whole side without points: no split.
        let empty = [region(0, 0), region(10, 9), region(0, 0), region(10, 10)];
        // (Regions 0 and 2 are empty: with the noise lowest there, the low side has no points.)
        assert_eq!(coverage_low_high(&empty, &[0.1, 0.5, 0.6, 0.2]), Some((1.0, 0.9)));
        assert_eq!(coverage_low_high(&empty, &[0.1, 0.5, 0.2, 0.6]), None, "no low-noise points");
    }

    /// The verdict's numbers are those of the regions, here made from real points whose
    /// residuals are known: a constant band that is too wide where the noise is low and
    /// too narrow where it is high (A), against a band that follows the noise (B).
    #[test]
    fn the_verdict_says_which_band_covers_where() {
        // x in four quarters of [0, 4); noise 0.1 in the outer quarters, 0.5 in the middle.
        let n = 400;
        let x: Vec<f64> = (0..n).map(|i| 4.0 * (i as f64 + 0.5) / n as f64).collect();
        let noise_at = |x: f64| if (1.0..3.0).contains(&x) { 0.5 } else { 0.1 };
        // Residuals at fixed quantiles of N(0, noise): a deterministic, exactly known sample.
        let z: Vec<f64> = (0..n).map(|i| crate::summary::metrics::normal_quantile(((i % 100) as f64 + 0.3) / 100.0)).collect();
        let y: Vec<f64> = (0..n).map(|i| z[i] * noise_at(x[i])).collect();
        let mean = vec![0.0; n];
        let sd_a = vec![0.3; n];
        let sd_b: Vec<f64> = x.iter().map(|&x| noise_at(x)).collect();
        let ra = coverage_by_region(&x, &y, &mean, &sd_a, (0.0, 4.0), 4);
        let rb = coverage_by_region(&x, &y, &mean, &sd_b, (0.0, 4.0), 4);
        let ma = HeldOutMetrics::compute(&y, &mean, &sd_a);
        let mb = HeldOutMetrics::compute(&y, &mean, &sd_b);
        // Independently: |z| <= 1.96 (levels 0.025-0.975) holds for the levels 0.033 ...
        // 0.973 of each 100, 95; |z| * 0.1 <= 1.96 * 0.3 for all; |z| * 0.5 <= 0.588, i.e.
        // |z| <= 1.176 (levels 0.1198-0.8802), for 0.123 ... 0.873, 76 of 100.
        assert_eq!(mb.coverage95, 0.95);
        assert_eq!(ma.coverage95, 0.88);
        assert_eq!(ra[0].coverage95, 1.0);
        assert_eq!(ra[1].coverage95, 0.76);
        let noise = [0.1, 0.5, 0.5, 0.1];
        let a = FitScore { name: "A", metrics: &ma, regions: &ra };
        let b = FitScore { name: "B", metrics: &mb, regions: &rb };
        let v = verdict(&a, &b, &noise, "held-out points");
        assert!(
            v.starts_with("B's 95% band covers 95% of held-out points; A's covers 100% where the noise is low and 76% where it is high."),
            "{v}"
        );
        assert!(mb.nll < ma.nll);
        assert!(v.contains(&format!("B has the lower NLL ({} vs {}) and the better calibrated band.", num(mb.nll), num(ma.nll))), "{v}");
        // The order of the arguments does not change who is named for what.
        let w = verdict(&b, &a, &noise, "held-out points");
        assert!(w.starts_with("B's 95% band covers 95%"), "{w}");
        assert!(w.contains("B has the lower NLL"), "{w}");
    }

    #[test]
    fn the_verdict_on_equal_fits_and_on_fits_that_cannot_be_scored() {
        let r = [region(10, 10), region(10, 9), region(10, 10), region(10, 9)];
        let m = metrics(-0.5, 0.95, 40);
        let a = FitScore { name: "A", metrics: &m, regions: &r };
        let b = FitScore { name: "B", metrics: &m, regions: &r };
        let v = verdict(&a, &b, &[0.2; 4], "fresh draws from the truth");
        assert_eq!(v, "B's 95% band covers 95% of fresh draws from the truth; A's covers 95% of fresh draws from the truth. Their NLL is the same (-0.50).");
        let bad = metrics(f64::NAN, 0.95, 40);
        let c = FitScore { name: "A", metrics: &bad, regions: &r };
        assert_eq!(verdict(&c, &b, &[0.2; 4], "held-out points"), "No verdict: the fits could not both be scored on held-out points.");
        let none = metrics(-0.5, f64::NAN, 0);
        let d = FitScore { name: "B", metrics: &none, regions: &[] };
        assert!(verdict(&a, &d, &[0.2; 4], "held-out points").starts_with("No verdict"));
    }
}
