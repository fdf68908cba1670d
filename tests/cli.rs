//! The `bayesband` command line: the contract's flags and columns, and one-line errors.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bayesband"))
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bayesband-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the binary runs")
}

fn generate(name: &str, n: usize, seed: u64) -> (PathBuf, PathBuf) {
    let (data, truth) = (tmp(&format!("{name}-{seed}.csv")), tmp(&format!("{name}-{seed}-truth.csv")));
    let out = run(bin().args(["generate", name, "--n", &n.to_string(), "--seed", &seed.to_string(), "--truth"]).arg(&truth));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(&data, &out.stdout).unwrap();
    (data, truth)
}

#[test]
fn generate_writes_xy_and_the_truth_grid() {
    let (data, truth) = generate("bump", 30, 4);
    let text = std::fs::read_to_string(&data).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "x,y");
    assert_eq!(lines.len(), 31);
    let t = std::fs::read_to_string(&truth).unwrap();
    assert!(t.starts_with("x,f_true,sigma_true\n"));
    assert_eq!(t.lines().count(), 401);
    // Same seed, same bytes.
    let (again, _) = generate("bump", 30, 4);
    assert_eq!(text, std::fs::read_to_string(again).unwrap());
}

#[test]
fn fit_writes_the_contract_columns_one_row_per_grid_x_in_order() {
    let (data, truth) = generate("linear", 60, 1);
    let grid = tmp("grid.csv");
    std::fs::write(&grid, "x,anything\n0.5,9\n-1,9\n2.25,9\n4,9\n").unwrap();
    for model in ["homoskedastic", "two-head", "noise:linear", "noise:signal"] {
        for method in ["psgld", "sgld", "vi"] {
            let out_path = tmp(&format!("pred-{}-{method}.csv", model.replace(':', "_")));
            let out = run(bin()
                .args(["fit", "--data"])
                .arg(&data)
                .args(["--model", model, "--method", method, "--steps", "400", "--chains", "2", "--hidden", "8", "--grid"])
                .arg(&grid)
                .arg("--out")
                .arg(&out_path));
            assert!(out.status.success(), "{model}/{method}: {}", String::from_utf8_lossy(&out.stderr));
            let text = std::fs::read_to_string(&out_path).unwrap();
            let mut lines = text.lines();
            assert!(lines.next().unwrap().starts_with("x,mean,sd_epistemic,sd_aleatoric,sd_total"));
            let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
            assert_eq!(rows.iter().map(|r| r[0]).collect::<Vec<_>>(), vec![0.5, -1.0, 2.25, 4.0]);
            for r in &rows {
                assert!(r[2] >= 0.0 && r[3] > 0.0, "{model}/{method}: sds {r:?}");
                assert!((r[4] * r[4] - r[2] * r[2] - r[3] * r[3]).abs() < 1e-9 * r[4] * r[4]);
            }
        }
    }
    let _ = truth;
}

#[test]
fn fit_reports_noise_parameters_and_metrics_on_stderr() {
    let (data, truth) = generate("nb_exp", 40, 2);
    let out_path = tmp("pred-exp.csv");
    let out = run(bin()
        .args(["fit", "--data"])
        .arg(&data)
        .args(["--model", "noise:exponential", "--steps", "3000", "--grid"])
        .arg(&truth)
        .arg("--out")
        .arg(&out_path)
        .arg("--truth")
        .arg(&truth)
        .arg("--holdout")
        .arg(generate("nb_exp", 200, 99).0));
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("held-out (200 points): rmse"), "{err}");
    let m = held_out_pairs(&err, "held-out (200 points): ");
    assert_eq!(m.len(), 10, "{err}");
    assert!(err.contains("R-hat") && err.contains("\na ") && err.contains("\nb "), "{err}");
    assert!(err.contains("metrics vs truth: rmse_mean"), "{err}");
}

#[test]
fn a_custom_noise_formula_reports_its_parameters_in_data_units() {
    // NeuroBayes's notebook law typed as a formula, with the issue's priors.
    let (data, truth) = generate("nb_exp", 40, 2);
    let out_path = tmp("pred-custom.csv");
    let out = run(bin()
        .args(["fit", "--data"])
        .arg(&data)
        .args(["--model", "noise:custom", "--noise-formula", "a*exp(b*x)", "--noise-priors", "a~lognormal(-2,1); b~normal(0,1)"])
        .args(["--steps", "3000", "--grid"])
        .arg(&truth)
        .arg("--out")
        .arg(&out_path));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.starts_with("noise:custom / psgld on 40 points"), "{err}");
    assert!(err.contains("noise law: sigma(x) = a*exp(b*x) (floored at ") && err.contains("a ~ lognormal(-2, 1), b ~ normal(0, 1)"), "{err}");
    let table: Vec<&str> = err.lines().skip_while(|l| !l.starts_with("param ")).collect();
    assert!(table[0].split_whitespace().eq(["param", "mean", "2.5%", "97.5%", "R-hat", "ESS"]), "{err}");
    for (row, name) in table[1..3].iter().zip(["a", "b"]) {
        let v: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(v[0], name, "{err}");
        let (mean, lo, hi): (f64, f64, f64) = (v[1].parse().unwrap(), v[2].parse().unwrap(), v[3].parse().unwrap());
        assert!(lo <= mean && mean <= hi && lo.is_finite() && hi.is_finite(), "{row}");
        // Two chains x 100 kept draws: the ESS is a whole number of draws, at most all of them.
        let ess: f64 = v[5].parse().unwrap_or_else(|_| panic!("ESS in {row}"));
        assert!(ess >= 1.0 && ess <= 200.0 * 200f64.log10() && ess.fract() == 0.0, "{row}");
    }
    // nb_exp's truth is 0.1 exp(0.3 x): a and b in data units, inside loose bounds.
    let a: Vec<f64> = table[1].split_whitespace().skip(1).take(3).map(|v| v.parse().unwrap()).collect();
    assert!(a[1] < 0.1 && 0.1 < a[2] * 2.0 && a[0] > 0.02 && a[0] < 0.5, "{err}");
    // --noise-formula alone means noise:custom.
    let o2 = tmp("pred-custom2.csv");
    let out = run(bin().args(["fit", "--data"]).arg(&data).args(["--noise-formula", "a*exp(b*x)", "--steps", "300", "--grid"]).arg(&truth).arg("--out").arg(&o2));
    assert!(out.status.success() && String::from_utf8_lossy(&out.stderr).starts_with("noise:custom / psgld"));
}

#[test]
fn flags_override_the_config_file_and_same_seed_is_reproducible() {
    let (data, _) = generate("homoskedastic", 50, 3);
    let grid = tmp("grid2.csv");
    std::fs::write(&grid, "0\n1\n").unwrap();
    let cfg = tmp("cfg.json");
    std::fs::write(&cfg, r#"{"model":{"hidden":[4]},"inference":{"steps":300,"seed":9}}"#).unwrap();
    let fit = |seed: &str, out: &str| {
        let o = run(bin()
            .args(["fit", "--data"])
            .arg(&data)
            .arg("--config")
            .arg(&cfg)
            .args(["--seed", seed, "--grid"])
            .arg(&grid)
            .arg("--out")
            .arg(tmp(out)));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(tmp(out)).unwrap()
    };
    assert_eq!(fit("1", "a.csv"), fit("1", "b.csv"));
    assert_ne!(fit("1", "a.csv"), fit("2", "c.csv"));
}

#[test]
fn bad_input_gives_one_line_and_a_nonzero_exit_never_a_panic() {
    let (data, _) = generate("linear", 20, 0);
    let grid = tmp("grid3.csv");
    std::fs::write(&grid, "x\n1\n2\n").unwrap();
    let bad_csv = tmp("bad.csv");
    std::fs::write(&bad_csv, "x,y\n1,2\n2,abc\n3,4\n").unwrap();
    let bad_grid = tmp("badgrid.csv");
    std::fs::write(&bad_grid, "x\n1\nfoo\n").unwrap();
    let d = data.to_str().unwrap();
    let g = grid.to_str().unwrap();
    let o = tmp("o.csv");
    let o = o.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["fit", "--data", "/nonexistent.csv", "--grid", g, "--out", o], "cannot read"),
        (vec!["fit", "--data", bad_csv.to_str().unwrap(), "--grid", g, "--out", o], "line 3"),
        (vec!["fit", "--data", d, "--grid", bad_grid.to_str().unwrap(), "--out", o], "line 3"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--model", "noise:cubic"], "unknown model"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--method", "hmc"], "unknown method"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--hidden", "32,0"], "hidden widths"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--hidden", "32,x"], "hidden widths"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--steps", "0"], "steps"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--step-size", "-1"], "step size"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--step-size", "0"], "step size"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--seed", "18446744073709551615"], "seed"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--prior-scale", "0"], "prior scale"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--prior-scale", "1e9"], "prior scale"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--chains", "0"], "chains"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--steps", "ten"], "invalid value"),
        (vec!["fit", "--data", d, "--grid", g, "--out", "/nonexistent/dir/p.csv", "--steps", "50"], "cannot write"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--bogus"], "unexpected argument"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a*expp(b*x)"], "unknown function 'expp' at column 3"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a*exp(b*x"], "missing ')' at column 10"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "2*x + 1"], "does not depend on any parameter"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--model", "noise:custom"], "--noise-formula"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--model", "two-head", "--noise-formula", "a*x"], "needs --model noise:custom"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a*x", "--noise-priors", "b~normal(0,1)"], "not a parameter"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a*x", "--noise-priors", "a~normal(0,-1)"], "must be positive"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--model", "two-head", "--noise-priors", "a~real"], "needs a noise model"),
        // Hostile on the data: refused before the fit, the place named (x in [0, 5]).
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a*exp(1000*x)"], "exp at column 3 gives inf"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a/(x - x)"], "division by zero"),
        (vec!["fit", "--data", d, "--grid", g, "--out", o, "--noise-formula", "a*log(x - 3)"], "log at column 3"),
        (vec!["generate", "sine"], "unknown data set"),
        (vec!["generate", "bump", "--n", "1"], "--n"),
        (vec![], "subcommand"),
        // A missing flag is named, not only "required arguments were not provided".
        (vec!["fit", "--data", d, "--out", o], "not provided: --grid <GRID.csv>"),
    ];
    for (args, word) in cases {
        let out = run(bin().args(&args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: not one line: {err}");
        assert!(err.contains(word), "{args:?}: expected '{word}' in: {err}");
    }
}

#[test]
fn nuts_fit_states_its_divergences_depth_step_size_and_gradients() {
    let (data, truth) = generate("nb_exp", 30, 2);
    // The truth grid is the prediction grid (its first column is x).
    let grid = truth.clone();
    let fit = |extra: &[&str]| {
        let out_path = tmp(&format!("pred-nuts-{}.csv", extra.len()));
        let out = run(bin()
            .args(["fit", "--data"])
            .arg(&data)
            .args(["--method", "nuts", "--warmup", "60", "--draws", "40", "--max-depth", "5", "--hidden", "6", "--grid"])
            .arg(&grid)
            .arg("--out")
            .arg(&out_path)
            .args(extra));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stderr).to_string(), std::fs::read_to_string(&out_path).unwrap())
    };
    let (err, pred) = fit(&["--truth", truth.to_str().unwrap(), "--seed", "3"]);
    assert_eq!(pred.lines().count(), 401);
    assert!(err.contains("metrics vs truth"), "{err}");
    // Kept draws: --draws per chain, two chains; the divergence count is always stated.
    assert!(err.contains("nuts on 30 points") && err.contains("80 draws"), "{err}");
    let div = err.lines().find(|l| l.starts_with("divergences: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(div["divergences: ".len()..].parse::<usize>().is_ok(), "{div}");
    assert!(err.contains("mean tree depth") && err.contains("at max depth") && err.contains("adapted step size"), "{err}");
    let grads: usize = err
        .split("gradients per chain ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    // At least one gradient per draw, at most 2^5 - 1 per draw (plus the start's).
    assert!((100..=100 * 31 + 10).contains(&grads), "{grads}");
    // The seed decides everything.
    let (_, again) = fit(&["--truth", truth.to_str().unwrap(), "--seed", "3"]);
    assert_eq!(pred, again);
    // Bad NUTS settings are bad input (exit 2) with a message naming the setting.
    for (flag, v, word) in [("--target-accept", "1.5", "target acceptance"), ("--max-depth", "0", "tree depth")] {
        let out = run(bin().args(["fit", "--data"]).arg(&data).args(["--method", "nuts", flag, v, "--grid"]).arg(&grid).arg("--out").arg(tmp("x.csv")));
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(word), "{}", String::from_utf8_lossy(&out.stderr));
    }
    // --help says what --steps means for NUTS.
    let help = String::from_utf8_lossy(&run(bin().args(["fit", "--help"])).stdout).to_string();
    assert!(help.contains("NUTS") && help.contains("counts draws") && help.contains("--warmup") && help.contains("nuts"), "{help}");
}

/// The x column of a predictions file.
fn pred_x(path: &PathBuf) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().skip(1).map(|l| l.split(',').next().unwrap().parse().unwrap()).collect()
}

#[test]
fn the_grid_is_read_like_the_data_decimal_commas_and_one_column_with_or_without_a_header() {
    let (data, _) = generate("linear", 30, 0);
    let cases = [
        ("semicolon with decimal commas", "x;f\n0,5;1\n1,5;2\n2,25;3\n", vec![0.5, 1.5, 2.25]),
        ("one column with a header", "x\n0.5\n1.5\n2.25\n", vec![0.5, 1.5, 2.25]),
        ("one column without a header", "0.5\n1.5\n2.25\n", vec![0.5, 1.5, 2.25]),
        ("tab-delimited, CRLF", "x\tg\r\n-1\t0\r\n4\t0\r\n", vec![-1.0, 4.0]),
    ];
    for (i, (what, text, want)) in cases.into_iter().enumerate() {
        let grid = tmp(&format!("grid-read-{i}.csv"));
        std::fs::write(&grid, text).unwrap();
        let out_path = tmp(&format!("pred-grid-{i}.csv"));
        let out = run(bin()
            .args(["fit", "--data"])
            .arg(&data)
            .args(["--steps", "300", "--hidden", "4", "--grid"])
            .arg(&grid)
            .arg("--out")
            .arg(&out_path));
        assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(pred_x(&out_path), want, "{what}");
    }
}

#[test]
fn a_diverged_fit_exits_1_and_writes_the_predictions_of_the_last_good_state() {
    let (data, _) = generate("nb_exp", 40, 0);
    let grid = tmp("grid-div.csv");
    std::fs::write(&grid, "x\n0.5\n2\n3.5\n").unwrap();
    let out_path = tmp("pred-div.csv");
    let _ = std::fs::remove_file(&out_path);
    let out = run(bin()
        .args(["fit", "--data"])
        .arg(&data)
        .args(["--step-size", "5e-2", "--grid"])
        .arg(&grid)
        .arg("--out")
        .arg(&out_path));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("last good state is kept") && err.contains("pred-div.csv"), "{err}");
    let text = std::fs::read_to_string(&out_path).expect("the predictions of the last good state");
    let rows: Vec<Vec<f64>> = text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().flatten().all(|v| v.is_finite()), "{text}");
}

#[test]
fn raw_scale_data_far_beyond_the_prior_are_refused_and_the_advice_works() {
    // y in the hundreds to thousands, as in a household data set, x in the thousands.
    let mut text = String::from("income,spend\n");
    for i in 0..176 {
        let x = 200.0 + 2800.0 * i as f64 / 175.0;
        let y = 100.0 + 0.5 * x + 50.0 * (x / 400.0).sin() + (20.0 + 0.05 * x) * ((i * 7919 % 101) as f64 / 50.0 - 1.0);
        text.push_str(&format!("{x},{y}\n"));
    }
    let data = tmp("household.csv");
    std::fs::write(&data, text).unwrap();
    let grid = tmp("grid-house.csv");
    std::fs::write(&grid, "x\n500\n1500\n2500\n").unwrap();
    let out_path = tmp("pred-house.csv");
    for model in ["homoskedastic", "two-head", "noise:exponential"] {
        let fit = |raw: bool| {
            let mut c = bin();
            c.args(["fit", "--data"]).arg(&data).args(["--model", model, "--steps", "3000", "--grid"]).arg(&grid);
            c.arg("--out").arg(&out_path);
            if raw {
                c.arg("--raw");
            }
            run(&mut c)
        };
        let out = fit(true);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{model}: {err}");
        assert!(err.contains("raw scale") && err.contains("drop --raw") && err.contains("y reaches"), "{model}: {err}");
        // The advice: without --raw the same data fit, and the mean follows them.
        let out = fit(false);
        assert!(out.status.success(), "{model}: {}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&out_path).unwrap();
        let mean: Vec<f64> = text.lines().skip(1).map(|l| l.split(',').nth(1).unwrap().parse().unwrap()).collect();
        for (x, m) in [500.0f64, 1500.0, 2500.0].iter().zip(&mean) {
            let f = 100.0 + 0.5 * x + 50.0 * (x / 400.0).sin();
            assert!((m - f).abs() < 80.0, "{model}: mean {m} at x = {x}, truth {f}");
        }
    }
}

#[test]
fn a_value_far_outside_the_others_is_refused_with_its_line_and_exit_2() {
    let mut text = String::from("x,y\n");
    for i in 0..40 {
        let y = if i == 16 { 1e12 } else { (i as f64 / 4.0).sin() };
        text.push_str(&format!("{},{y:?}\n", i as f64 / 4.0));
    }
    let data = tmp("outlier.csv");
    std::fs::write(&data, text).unwrap();
    let grid = tmp("grid-outlier.csv");
    std::fs::write(&grid, "x\n1\n2\n").unwrap();
    let out = run(bin().args(["fit", "--data"]).arg(&data).arg("--grid").arg(&grid).arg("--out").arg(tmp("pred-outlier.csv")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 18: y = 1e12 lies far outside the other values"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn vi_reports_samples_from_q_without_r_hat_and_its_tempering_as_a_note() {
    let (data, _) = generate("bump", 40, 2);
    let grid = tmp("grid-vi.csv");
    std::fs::write(&grid, "x\n0\n0.5\n").unwrap();
    let out = run(bin()
        .args(["fit", "--data"])
        .arg(&data)
        .args(["--method", "vi", "--steps", "2500", "--hidden", "8", "--grid"])
        .arg(&grid)
        .arg("--out")
        .arg(tmp("pred-vi-note.csv")));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 chains, 200 samples from q,"), "{err}");
    assert!(!err.contains("R-hat"), "VI has no chains to compare: {err}");
    assert!(err.contains("note: VI with KL weight 0.1 is tempered"), "{err}");
    assert!(!err.contains("warning:"), "{err}");
}

#[test]
fn learning_rate_is_vis_and_step_size_the_samplers() {
    let (data, _) = generate("bump", 40, 2);
    let grid = tmp("grid-lr.csv");
    std::fs::write(&grid, "x\n0\n0.5\n").unwrap();
    let fit = |extra: &[&str], name: &str| {
        let p = tmp(name);
        let out = run(bin()
            .args(["fit", "--data"])
            .arg(&data)
            .args(["--method", "vi", "--steps", "2500", "--hidden", "8", "--quiet", "--grid"])
            .arg(&grid)
            .arg("--out")
            .arg(&p)
            .args(extra));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::read_to_string(p).unwrap()
    };
    let base = fit(&[], "lr-a.csv");
    assert_eq!(fit(&["--step-size", "0.05"], "lr-b.csv"), base, "--step-size is not VI's");
    assert_eq!(fit(&["--learning-rate", "1e-3"], "lr-c.csv"), base, "1e-3 is VI's default");
    assert_ne!(fit(&["--learning-rate", "3e-3"], "lr-d.csv"), base);
}

/// The `name value` pairs of the stderr line that starts with `prefix`.
fn held_out_pairs(err: &str, prefix: &str) -> std::collections::BTreeMap<String, f64> {
    let line = err.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no line '{prefix}' in\n{err}"));
    let words: Vec<&str> = line[prefix.len()..].split_whitespace().collect();
    assert_eq!(words.len() % 2, 0, "{line}");
    let names = ["rmse", "nll", "crps", "coverage95", "sharpness", "mace", "rmsce", "miscalibration_area", "check", "interval"];
    let pairs: Vec<(String, f64)> = words
        .chunks(2)
        .map(|w| (w[0].to_string(), w[1].parse::<f64>().unwrap_or_else(|_| panic!("'{}' in {line}", w[1]))))
        .collect();
    assert_eq!(pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), names, "{line}");
    for (k, v) in &pairs {
        assert!(v.is_finite(), "{k} in {line}");
        // At least 4 decimals.
        let text = words[words.iter().position(|w| w == k).unwrap() + 1];
        assert!(text.contains('e') || text.split('.').nth(1).is_some_and(|d| d.len() >= 4), "{k} {text}");
    }
    pairs.into_iter().collect()
}

fn read_rows(path: &std::path::Path) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect()
}

/// `--holdout-frac` holds out round(F·N) points chosen by the seed (the core's
/// `holdout_mask`, which the page uses too), fits on the rest, and scores the held-out
/// points: the line matches a recomputation from the predictions CSV (grid = the data's
/// own x), and the fit equals one on the training points alone.
#[test]
fn holdout_frac_splits_by_the_seed_and_scores_the_points_left_out() {
    let (data, _) = generate("bump", 60, 3);
    let fit = |extra: &[&str], out: &std::path::Path, data: &std::path::Path| {
        let o = run(bin()
            .args(["fit", "--data"])
            .arg(data)
            .args(["--steps", "600", "--hidden", "8", "--seed", "5", "--grid"])
            .arg(data)
            .arg("--out")
            .arg(out)
            .args(extra));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{err}");
        err
    };
    let pred = tmp("pred-split.csv");
    let err = fit(&["--holdout-frac", "0.25"], &pred, &data);
    assert!(err.starts_with("two-head / psgld on 45 points"), "the training N drops by the 15 held out: {err}");
    let got = held_out_pairs(&err, "held-out (15 points): ");
    // Recompute from the CSVs: rows of PRED.csv are the data's x in order.
    let xy = read_rows(&data);
    let rows = read_rows(&pred);
    assert_eq!(rows.len(), 60);
    let mask = bayesband::data::holdout_mask(60, 0.25, 5);
    let (mut y, mut mean, mut sd) = (vec![], vec![], vec![]);
    for i in (0..60).filter(|&i| mask[i]) {
        assert_eq!(rows[i][0], xy[i][0]);
        y.push(xy[i][1]);
        mean.push(rows[i][1]);
        sd.push(rows[i][4]);
    }
    let want = bayesband::summary::HeldOutMetrics::compute(&y, &mean, &sd);
    for (k, v) in want.pairs() {
        assert!((got[k] - v).abs() <= 5e-5 + 1e-4 * v.abs(), "{k}: printed {} vs recomputed {v}", got[k]);
    }
    // By hand, independently of HeldOutMetrics: RMSE, NLL and coverage.
    let n = y.len() as f64;
    let rmse = (y.iter().zip(&mean).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n).sqrt();
    let nll = (0..y.len())
        .map(|i| 0.5 * (2.0 * std::f64::consts::PI * sd[i] * sd[i]).ln() + (y[i] - mean[i]).powi(2) / (2.0 * sd[i] * sd[i]))
        .sum::<f64>()
        / n;
    let cover = (0..y.len()).filter(|&i| (y[i] - mean[i]).abs() <= 1.959963984540054 * sd[i]).count() as f64 / n;
    assert!((got["rmse"] - rmse).abs() < 1e-4 && (got["nll"] - nll).abs() < 1e-4 && (got["coverage95"] - cover).abs() < 1e-4);

    // Same seed, same split and same fit; another seed, another split.
    let again = tmp("pred-split-again.csv");
    let err2 = fit(&["--holdout-frac", "0.25"], &again, &data);
    assert_eq!(held_out_pairs(&err2, "held-out (15 points): "), got);
    assert_eq!(std::fs::read(&pred).unwrap(), std::fs::read(&again).unwrap());
    assert_ne!(mask, bayesband::data::holdout_mask(60, 0.25, 6));

    // The held-out points take no part in the fit: fitting the 45 training points alone
    // (same seed) gives the same predictions, and --holdout on the 15 the same line.
    let (train, held) = (tmp("split-train.csv"), tmp("split-held.csv"));
    let write = |p: &std::path::Path, keep: bool| {
        let mut t = String::from("x,y\n");
        for i in (0..60).filter(|&i| mask[i] != keep) {
            t.push_str(&format!("{:?},{:?}\n", xy[i][0], xy[i][1]));
        }
        std::fs::write(p, t).unwrap();
    };
    write(&train, true);
    write(&held, false);
    let alone = tmp("pred-train-alone.csv");
    let o = run(bin()
        .args(["fit", "--data"])
        .arg(&train)
        .args(["--steps", "600", "--hidden", "8", "--seed", "5", "--grid"])
        .arg(&data)
        .arg("--out")
        .arg(&alone)
        .arg("--holdout")
        .arg(&held));
    let err3 = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success() && err3.starts_with("two-head / psgld on 45 points"), "{err3}");
    assert_eq!(std::fs::read(&pred).unwrap(), std::fs::read(&alone).unwrap());
    assert_eq!(held_out_pairs(&err3, "held-out (15 points): "), got);

    // Without the flag nothing is held out.
    let all = tmp("pred-all.csv");
    let err4 = fit(&[], &all, &data);
    assert!(err4.starts_with("two-head / psgld on 60 points") && !err4.contains("held-out"), "{err4}");
}

#[test]
fn a_bad_holdout_fraction_is_bad_input() {
    let (data, truth) = generate("linear", 10, 1);
    for (f, want) in [
        ("1", "--holdout-frac: the hold-out fraction must be at least 0 and below 1 (got 1)"),
        ("-0.1", "--holdout-frac: the hold-out fraction must be at least 0 and below 1 (got -0.1)"),
        ("NaN", "--holdout-frac: the hold-out fraction must be at least 0 and below 1 (got NaN)"),
        ("abc", "invalid value 'abc' for '--holdout-frac <F>'"),
        ("0.8", "holding out 8 of 10 points leaves 2 to fit; at least 3 are needed"),
    ] {
        let o = run(bin()
            .args(["fit", "--data"])
            .arg(&data)
            .args(["--steps", "50", "--holdout-frac", f, "--grid"])
            .arg(&truth)
            .arg("--out")
            .arg(tmp("pred-bad-frac.csv")));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{f}: {err}");
        assert!(err.starts_with("error: ") && err.contains(want) && err.lines().count() == 1, "{f}: {err}");
    }
}

/// 50 points on [-1, -0.4] and [0.4, 1] of y = sin(3x) + noise: a gap in the middle.
fn gapped_csv() -> PathBuf {
    let p = tmp("gapped.csv");
    let mut t = String::from("x,y\n");
    for i in 0..50 {
        let u = i as f64 / 49.0;
        let x = if i % 2 == 0 { -1.0 + 0.6 * u } else { 0.4 + 0.6 * u };
        // A deterministic jitter stands in for noise (sd ~0.05).
        let y = (3.0 * x).sin() + 0.05 * ((i * 7919 % 13) as f64 / 6.0 - 1.0);
        t.push_str(&format!("{x},{y}\n"));
    }
    std::fs::write(&p, t).unwrap();
    p
}

#[test]
fn suggest_prints_only_the_k_next_x_best_first_and_epistemic_ones_fall_in_the_gap() {
    let data = gapped_csv();
    for acq in ["epistemic", "infogain"] {
        let out = run(bin().args(["suggest", "--data"]).arg(&data).args(["--acquisition", acq, "--n", "3", "--steps", "6000", "--seed", "2"]));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let xs: Vec<f64> = text.lines().map(|l| l.parse().unwrap_or_else(|_| panic!("a number per line: '{l}'"))).collect();
        assert_eq!(xs.len(), 3, "{text}");
        assert!(xs[0].abs() < 0.4, "{acq}: the best suggestion {} lies in the gap (-0.4, 0.4)", xs[0]);
        assert!(xs.iter().all(|x| (-1.0..=1.0).contains(x)), "inside the data's range by default: {xs:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("param") || err.contains("on 50 points"), "the fit's report on stderr: {err}");
        assert!(err.contains(&format!("acquisition {acq}")), "{err}");
    }
    // --range widens the candidates; the same seed gives the same suggestions.
    let args = ["--acquisition", "total", "--range", "-2,2", "--steps", "3000", "--quiet"];
    let a = run(bin().args(["suggest", "--data"]).arg(&data).args(args));
    let b = run(bin().args(["suggest", "--data"]).arg(&data).args(args));
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    let x: f64 = String::from_utf8(a.stdout).unwrap().trim().parse().unwrap();
    assert!((-2.0..=2.0).contains(&x));
}

#[test]
fn suggest_refuses_bad_flags_with_exit_2() {
    let data = gapped_csv();
    for (args, said) in [
        (vec!["--acquisition", "variance"], "unknown acquisition 'variance': use epistemic, total, infogain, ucb, ei or random"),
        (vec!["--goal", "up"], "--goal must be max or min"),
        (vec!["--range", "1"], "--range must be LO,HI"),
        (vec!["--range", "2,1"], "LO < HI"),
        (vec!["--candidates", "1"], "--candidates must be between 2 and 2000"),
        (vec!["--n", "0"], "--n must be at least 1"),
        (vec!["--kappa", "-1"], "--kappa must be a number >= 0"),
        (vec!["--grid", "g.csv"], "unexpected argument '--grid'"),
        (vec!["--truth", "t.csv"], "suggest does not take --truth"),
    ] {
        let out = run(bin().args(["suggest", "--data"]).arg(&data).args(&args).args(["--steps", "200"]));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "nothing on stdout for {args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(said), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}
