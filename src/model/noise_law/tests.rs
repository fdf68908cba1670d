use super::*;
use crate::config::ModelKind;
use crate::model::formula::units;

/// Made-up training data: x = 0.5, 0.6, ..., 4.5 (data units), standardised by their
/// own mean and sd (as a fit does); y's standardisation made up.
fn x_data() -> Vec<f64> {
    (0..41).map(|i| 0.5 + 0.1 * i as f64).collect()
}

fn scaling() -> Scaling {
    let x = x_data();
    let m = x.iter().sum::<f64>() / 41.0;
    let sd = (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 41.0).sqrt();
    Scaling { x_mean: m, x_sd: sd, y_mean: -0.7, y_sd: 2.5 }
}

fn x_fit() -> Vec<f64> {
    let sc = scaling();
    x_data().iter().map(|&v| sc.x_to_std(v)).collect()
}

fn law(kind: NoiseLawKind, formula: &str, priors: &str) -> NoiseLaw {
    let cfg = ModelConfig {
        kind: ModelKind::NoiseModel,
        noise_law: kind,
        noise_formula: formula.into(),
        noise_priors: priors.into(),
        ..ModelConfig::default()
    };
    NoiseLaw::new(&cfg, &x_fit(), &scaling(), 1.0).unwrap()
}

fn preset(name: &str) -> NoiseLaw {
    law(NoiseLawKind::named(name), "", "")
}

/// Parameters in data units for each preset, where sigma stays far above the floor.
fn theta(name: &str) -> Vec<f64> {
    match name {
        "constant" => vec![0.3],
        "linear" => vec![0.2, 0.9],
        "exponential" => vec![0.15, 0.4],
        "logquad" => vec![-1.0, 0.3, -0.1],
        "step" => vec![0.5, 0.2, 2.33],
        "bump" => vec![0.1, 0.6, 2.4, 0.5],
        "signal" => vec![0.1, 0.3],
        _ => unreachable!(),
    }
}

/// The seven laws as the code wrote them before they became formulas, in data units
/// (independent truth for the presets).
fn old_law(name: &str, t: &[f64], x: f64, mu: f64) -> f64 {
    let (lo, hi) = (0.5, 4.5);
    match name {
        "constant" => t[0],
        "linear" => {
            let u = ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
            t[0] * (1.0 - u) + t[1] * u
        }
        "exponential" => t[0] * (t[1] * x).exp(),
        "logquad" => (t[0] + t[1] * x + t[2] * x * x).exp(),
        "step" => t[0] + (t[1] - t[0]) / (1.0 + (-(x - t[2]) / (0.01 * (hi - lo))).exp()),
        "bump" => t[0] + t[1] * (-(x - t[2]).powi(2) / (2.0 * t[3] * t[3])).exp(),
        "signal" => t[0] + t[1] * mu.abs(),
        _ => unreachable!(),
    }
}

#[test]
fn every_preset_is_the_law_it_was() {
    let sc = scaling();
    for p in PRESETS {
        let l = preset(p.name);
        let t = theta(p.name);
        assert_eq!(l.names().len(), t.len(), "{}", p.name);
        assert_eq!(l.names(), p.meanings.iter().map(|m| m.0.to_string()).collect::<Vec<_>>(), "{}: meanings", p.name);
        let z: Vec<f64> = l.priors.iter().zip(&t).map(|(pr, &v)| pr.z_of(v)).collect();
        assert!(l.to_data_units(&z).iter().zip(&t).all(|(a, b)| (a - b).abs() <= 1e-12 * b.abs().max(1.0)));
        for &(xd, mud) in &[(0.5, 1.0), (1.7, -0.4), (2.34, 2.0), (4.5, 0.0), (5.2, -3.0)] {
            let (xf, muf) = (sc.x_to_std(xd), sc.y_to_std(mud));
            let mut out = [0.0];
            l.sigma(&z, &[xf], &[muf], &mut out, &mut Vec::new());
            let want = old_law(p.name, &t, xd, mud);
            let got = sc.sd_from_std(out[0]);
            assert!((got - want).abs() <= 1e-9 * want, "{} at x = {xd}: {got} vs {want}", p.name);
        }
    }
}

#[test]
fn preset_priors_restate_the_former_fitting_unit_priors_in_data_units() {
    // Before: log of a positive quantity ~ N(0, 2^2), slopes, curvatures and locations
    // ~ N(0, 1), in z-scores. In data units a noise sd is y_sd times its z-score, a slope
    // in 1/x is a z-score slope over x_sd, a location is x_mean + x_sd times its z-score.
    let sc = scaling();
    let (ly, mean_x, sd_x) = (sc.y_sd.ln(), sc.x_mean, sc.x_sd);
    // The coordinates are the former ones too: log of a z-scored sd, a z-scored slope,
    // curvature or location (unit = the data's scale of the parameter), logquad's a as is.
    let pos = |loc: f64| Prior { positive: true, loc, scale: 2.0, unit: 1.0 };
    let real = |loc: f64, scale: f64| Prior { positive: false, loc, scale, unit: if loc == ly { 1.0 } else { scale } };
    let want: Vec<(&str, Vec<Prior>)> = vec![
        ("constant", vec![pos(ly)]),
        ("linear", vec![pos(ly), pos(ly)]),
        ("exponential", vec![pos(ly), real(0.0, 1.0 / sd_x)]),
        ("logquad", vec![real(ly, 2.0), real(0.0, 1.0 / sd_x), real(0.0, 1.0 / (sd_x * sd_x))]),
        ("step", vec![pos(ly), pos(ly), real(mean_x, sd_x)]),
        ("bump", vec![pos(ly), pos(ly), real(mean_x, sd_x), pos(sd_x.ln())]),
        ("signal", vec![pos(ly), pos(0.0)]),
    ];
    for (name, w) in want {
        let l = preset(name);
        for (got, want) in l.priors.iter().zip(&w) {
            assert_eq!(got.positive, want.positive, "{name}");
            assert!(
                (got.loc - want.loc).abs() < 1e-12 && (got.scale - want.scale).abs() < 1e-12 && (got.unit - want.unit).abs() < 1e-12,
                "{name}: {got:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn unit_inference_gives_the_presets_priors_but_logquads_intercept() {
    // The default prior of a parameter (real, scaled by its units) is what the presets
    // state for their real parameters; logquad's a, a log of a noise sd, is the exception
    // (its units are those of a pure number, its location log(sd_y)).
    for p in PRESETS {
        let f = Formula::parse(p.formula).unwrap();
        let stated = priors::resolve(&f, p.priors, "").unwrap();
        let u = units::infer(&f);
        for (s, u) in stated.iter().zip(u) {
            let (l, sc) = priors::default_loc_scale(s.positive, u);
            let (sl, ss) = s.loc_scale.clone().unwrap();
            let same = (l.to_text(&[]), sc.to_text(&[])) == (sl.to_text(&[]), ss.to_text(&[]));
            assert_eq!(same, !(p.name == "logquad" && s.name == "a"), "{} {}: {} vs {l:?}", p.name, s.name, s.text());
        }
    }
}

#[test]
fn gradients_in_z_and_mu_match_central_differences() {
    let sc = scaling();
    let laws: Vec<NoiseLaw> = PRESETS
        .iter()
        .map(|p| preset(p.name))
        .chain([law(NoiseLawKind::CUSTOM, "sqrt(a + b*mu^2)*exp(c*x)", "a ~ positive"), law(NoiseLawKind::CUSTOM, "a + b*x", "")])
        .collect();
    for l in laws {
        let k = l.n_params();
        let z: Vec<f64> = (0..k).map(|i| 0.3 - 0.2 * i as f64).collect();
        for &(xd, mud) in &[(0.7, 1.0), (2.3, -0.4), (4.1, 2.0)] {
            let (x, mu) = (sc.x_to_std(xd), sc.y_to_std(mud));
            let mut g = vec![0.0; k];
            let (s, dmu) = l.sigma_grad(&z, x, mu, &mut g);
            let f = |z: &[f64], mu: f64| l.sigma_grad(z, x, mu, &mut vec![0.0; k]).0;
            assert!((s - f(&z, mu)).abs() == 0.0);
            let h = 1e-6;
            for i in 0..k {
                let (mut a, mut b) = (z.clone(), z.clone());
                a[i] += h;
                b[i] -= h;
                let fd = (f(&a, mu) - f(&b, mu)) / (2.0 * h);
                assert!((fd - g[i]).abs() <= 1e-6 * fd.abs().max(1e-3), "{} d/dz{i} at x={xd}: {fd} vs {}", l.formula, g[i]);
            }
            let fd = (f(&z, mu + h) - f(&z, mu - h)) / (2.0 * h);
            assert!((fd - dmu).abs() <= 1e-6 * fd.abs().max(1e-3), "{} d/dmu: {fd} vs {dmu}", l.formula);
        }
    }
}

#[test]
fn the_floor_keeps_sigma_positive_and_leaves_larger_values_alone() {
    // a + b*x with a negative slope dips below zero over the data.
    let l = law(NoiseLawKind::CUSTOM, "a + b*x", "a ~ normal(1, 1); b ~ normal(0, 1)");
    let sc = scaling();
    let z = [l.priors[0].z_of(1.0), l.priors[1].z_of(-0.5)];
    let xs: Vec<f64> = (0..50).map(|i| sc.x_to_std(i as f64 * 0.1)).collect();
    let mut s = vec![0.0; xs.len()];
    l.sigma(&z, &xs, &vec![0.0; xs.len()], &mut s, &mut Vec::new());
    let floor = l.floor;
    assert!((floor - 1e-3).abs() < 1e-15, "sigma_floor x the sd of y in fitting units");
    for (i, &v) in s.iter().enumerate() {
        let f = (1.0 - 0.5 * i as f64 * 0.1) / sc.y_sd;
        assert!(v >= floor && v.is_finite());
        if f > 30.0 * floor {
            assert!((v - f).abs() <= 1e-12, "{v} vs {f}");
        }
        if f < 0.0 {
            assert!(v < 1.32 * floor, "{v}");
        }
    }
    // Smooth: sigma rises monotonically as f does.
    assert!(s.windows(2).all(|w| w[1] <= w[0]));
}

#[test]
fn hostile_formulas_are_refused_before_the_fit_with_the_place_named() {
    let x = x_fit();
    let y: Vec<f64> = x.iter().map(|_| 0.0).collect();
    let msg = |f: &str, p: &str| law(NoiseLawKind::CUSTOM, f, p).check(&x, &y).unwrap_err();
    let m = msg("a*exp(1000*x)", "");
    assert!(m.contains("exp at column 3 gives inf") && m.contains("x = 0.8"), "{m}");
    let m = msg("a/(x - x)", "");
    assert!(m.contains("'/' at column 2 gives") && m.contains("division by zero"), "{m}");
    // log(x) for x <= 0: these data have x >= 0.5, so shift them.
    let m = msg("a*log(x - 1)", "");
    assert!(m.contains("log at column 3 gives") && m.contains("x = 0.5"), "{m}");
    // A finite value with an infinite slope: sqrt at 0.
    let m = msg("sqrt(a*(x - 0.5))", "a ~ positive");
    assert!(m.contains("slope in a is not finite at x = 0.5"), "{m}");
    assert!(law(NoiseLawKind::CUSTOM, "a*exp(b*x)", "").check(&x, &y).is_ok());
}

#[test]
fn the_hand_off_fits_custom_formulas_too() {
    for (f, p) in [("a + b*x", ""), ("a*x^c", "a ~ positive"), ("sqrt(a^2 + (b*x)^2)", ""), ("q*exp(r*x) + s", "q ~ positive; s ~ positive")] {
        let l = law(NoiseLawKind::CUSTOM, f, p);
        let mut z = vec![0.0; l.n_params()];
        l.constant_init(0.2, &mut z, None);
        let xs = l.init_x().to_vec();
        let mut s = vec![0.0; xs.len()];
        l.sigma(&z, &xs, &vec![0.0; xs.len()], &mut s, &mut Vec::new());
        let worst = s.iter().map(|v| (v / 0.2).ln().abs()).fold(0.0, f64::max);
        assert!(worst < 0.05, "{f}: worst log ratio {worst}, z {z:?}");
    }
}

#[test]
fn a_law_on_data_in_other_units_or_on_the_raw_scale_is_the_same_law() {
    // x' = u x, y' = v y: the same coordinates z give v times the sigma, because the
    // priors are scaled by the data's own spreads; and a raw-scale fit (no
    // standardisation) gives the same sigma in data units as a standardised one.
    let (u, v) = (730.0, 0.02);
    let sc = scaling();
    let xd = x_data();
    let sc_u = Scaling { x_mean: sc.x_mean * u, x_sd: sc.x_sd * u, y_mean: sc.y_mean * v, y_sd: sc.y_sd * v };
    let x_raw: Vec<f64> = xd.clone();
    for p in PRESETS {
        let cfg = ModelConfig { kind: ModelKind::NoiseModel, noise_law: NoiseLawKind::named(p.name), ..ModelConfig::default() };
        let std = NoiseLaw::new(&cfg, &x_fit(), &sc, 1.0).unwrap();
        let other = NoiseLaw::new(&cfg, &x_fit(), &sc_u, 1.0).unwrap();
        let raw = NoiseLaw::new(&cfg, &x_raw, &Scaling::identity(), sc.y_sd).unwrap();
        let z: Vec<f64> = (0..std.n_params()).map(|i| 0.4 - 0.3 * i as f64).collect();
        for &(x, mu) in &[(0.7, 1.1), (2.3, -0.4), (4.4, 2.0)] {
            let one = |l: &NoiseLaw, s: &Scaling, xf: f64, muf: f64| {
                let mut o = [0.0];
                l.sigma(&z, &[xf], &[muf], &mut o, &mut Vec::new());
                s.sd_from_std(o[0])
            };
            let a = one(&std, &sc, sc.x_to_std(x), sc.y_to_std(mu));
            let b = one(&other, &sc_u, sc_u.x_to_std(u * x), sc_u.y_to_std(v * mu));
            let c = one(&raw, &Scaling::identity(), x, mu);
            assert!((b - v * a).abs() <= 1e-9 * v * a, "{}: {b} vs {}", p.name, v * a);
            assert!((c - a).abs() <= 1e-9 * a, "{} raw: {c} vs {a}", p.name);
        }
    }
}
