//! Axis ranges of the figures, as plain functions (tested natively; the drawing
//! code in `plots` is wasm only).

/// A tick label short enough for the axis's label area at any magnitude: exact zero
/// for float dust next to zero (|v| below 1e-9 of the axis span), plain decimals for
/// ordinary values, and a short exponent form (at most two decimals of mantissa,
/// trailing zeros dropped: `1e12`, `-2.5e300`) far from 1, where the full
/// `fmt` form (`-1.000e300`) was cut at the figure's edge.
pub fn tick_text(v: f64, span: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let v = if v.abs() < 1e-9 * span.abs() { 0.0 } else { v };
    let a = v.abs();
    if a != 0.0 && (a >= 1e5 || a < 1e-3) {
        let s = format!("{v:.2e}");
        let (mantissa, exp) = s.split_once('e').expect("exponent form");
        let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
        format!("{mantissa}e{exp}")
    } else {
        crate::ui::state::fmt(v)
    }
}

/// The smallest and largest finite value, if any.
pub fn finite_range<'a>(vals: impl Iterator<Item = &'a f64>) -> Option<(f64, f64)> {
    let (lo, hi) = vals.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    (lo <= hi).then_some((lo, hi))
}

/// `(lo, hi)` widened by `frac` of its width each side (a zero width counts as tiny).
pub fn padded((lo, hi): (f64, f64), frac: f64) -> (f64, f64) {
    let w = (hi - lo).abs().max(1e-9 * (1.0 + lo.abs().max(hi.abs())));
    (lo - frac * w, hi + frac * w)
}

/// The x axis of the main and noise plots: the data padded by `pad` (as the
/// prediction grid is), widened to the grid of the fit shown. A fit of the previous
/// data (greyed after a hand edit) has its own grid: points added outside it stay
/// inside the axes. A degenerate range is widened so the axis stays drawable.
pub fn x_axis(data_x: &[f64], grid: Option<&[f64]>, pad: f64) -> (f64, f64) {
    let from_data = finite_range(data_x.iter()).map(|r| padded(r, pad));
    let from_grid = grid.and_then(|g| finite_range(g.iter()));
    let xr = match (from_data, from_grid) {
        (Some(d), Some(g)) => (d.0.min(g.0), d.1.max(g.1)),
        (Some(r), None) | (None, Some(r)) => r,
        (None, None) => (0.0, 1.0),
    };
    if xr.1 - xr.0 < 1e-12 {
        padded(xr, 1.0)
    } else {
        xr
    }
}

/// The loss plot's y axis: from the lowest loss of the whole trace (so the curve's
/// minimum, often at the end of the warm start, sits above the bottom edge) to the
/// highest after the first tenth (the warm start's fall from a random start would
/// flatten everything else), padded by 8%.
pub fn trace_y_range(pts: &[(f64, f64)]) -> (f64, f64) {
    let all = finite_range(pts.iter().map(|p| &p.1));
    let tail = finite_range(pts[pts.len() / 10..].iter().map(|p| &p.1));
    match (all, tail) {
        (Some((lo, _)), Some((_, hi))) => padded((lo, hi), 0.08),
        (Some(r), None) => padded(r, 0.08),
        _ => (0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loss_axis_holds_the_curves_minimum_inside_the_plot() {
        // A warm start falling to its minimum at step 90, then sampling a little above it.
        let pts: Vec<(f64, f64)> = (0..1000)
            .map(|i| {
                let t = i as f64;
                let y = if i < 90 { 10.0 - 0.1 * t } else { 1.5 + 0.2 * (t / 7.0).sin() };
                (t, y)
            })
            .collect();
        let min = pts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let (lo, hi) = trace_y_range(&pts);
        assert!(lo < min, "bottom {lo} must lie below the minimum {min}");
        // The padding is a margin of the plotted range, not a clamp onto the edge.
        assert!((min - lo) / (hi - lo) > 0.05, "minimum {min} sits on the edge of {lo}..{hi}");
        // The first tenth's high start does not set the top.
        assert!(hi < 3.0, "top {hi}");
    }

    #[test]
    fn the_x_axis_follows_the_data_and_keeps_the_fits_grid() {
        let grid: Vec<f64> = (0..=10).map(|i| -0.08 + 1.16 * i as f64 / 10.0).collect();
        // The fit's own data: the grid and the padded data range agree.
        let (lo, hi) = x_axis(&[0.0, 1.0], Some(&grid), 0.08);
        assert!((lo + 0.08).abs() < 1e-12 && (hi - 1.08).abs() < 1e-12, "{lo} {hi}");
        // A point added at x = 3 after the fit: inside the axes.
        let (lo, hi) = x_axis(&[0.0, 1.0, 3.0], Some(&grid), 0.08);
        assert!(lo <= -0.08 && hi > 3.0, "{lo} {hi}");
        // New data, no fit: the data alone.
        let (lo, hi) = x_axis(&[10.0, 20.0], None, 0.08);
        assert!((lo - 9.2).abs() < 1e-12 && (hi - 20.8).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(x_axis(&[], None, 0.08), (0.0, 1.0));
        let (lo, hi) = x_axis(&[2.0, 2.0], None, 0.08);
        assert!(lo < 2.0 && hi > 2.0);
    }

    #[test]
    fn tick_labels_stay_short_and_true_at_any_magnitude() {
        for &v in &[1e12, -1e12, 2.5e12, 1e300, -1.5e300, 1.23e-300, -4e-7, 123456.0, 0.5, -3.25, 250.0] {
            let t = super::tick_text(v, v.abs() * 4.0);
            assert!(t.len() <= 9, "{v}: '{t}' is too long for the label area");
            let back: f64 = t.parse().unwrap_or_else(|_| panic!("{v}: '{t}' is not a number"));
            assert!((back - v).abs() <= 0.005 * v.abs(), "{v}: '{t}'");
        }
        assert_eq!(super::tick_text(1e12, 1e12), "1e12");
        assert_eq!(super::tick_text(-1.5e300, 1e300), "-1.5e300");
        assert_eq!(super::tick_text(-3.5e-17, 2.0), "0");
        assert_eq!(super::tick_text(f64::NAN, 1.0), "");
    }
}
