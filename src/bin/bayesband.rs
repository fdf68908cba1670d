//! `bayesband`: the command-line front end over the same core as the web app.
//!
//! `bayesband fit` fits a model to a CSV and writes the predictive summary on a grid;
//! `bayesband generate` writes one of the synthetic data sets. The flags and the
//! prediction columns are a contract: extend them, never rename them.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::main());
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::fmt::Write as _;
    use std::io::{IsTerminal, Write};
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use bayesband::config::{parse_hidden, Activation, FitConfig, Method, ModelKind, NoiseLawKind, Units};
    use bayesband::data::csv::parse_table_bytes;
    use bayesband::data::{parse_csv_bytes, parse_grid_bytes, CsvOptions, Synthetic};
    use bayesband::infer::Fit;
    use bayesband::data::Dataset;
    use bayesband::summary::acquisition::{candidate_grid, Acquisition, AcquisitionKind, Goal, ACQUISITIONS};
    use bayesband::summary::{GridMetrics, HeldOutMetrics, Snapshot};
    use clap::{Args, Parser, Subcommand};

    /// Heteroskedastic Bayesian neural networks for 1-D data.
    #[derive(Parser, Debug)]
    #[command(name = "bayesband", version, about, long_about = None)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(Subcommand, Debug)]
    enum Command {
        /// Fit a model to x,y data and write the predictive summary on a grid.
        ///
        /// PRED.csv columns: x,mean,sd_epistemic,sd_aleatoric,sd_total (data units; sd_total^2 =
        /// sd_epistemic^2 + sd_aleatoric^2), then sigma_mean,sigma_lo,sigma_hi (posterior mean and
        /// 95% band of the noise sd sigma(x)). One row per grid x, in the grid's order. The fitted
        /// noise parameters (posterior mean, 95% interval, split R-hat, bulk ESS: how many
        /// independent draws the chains' draws are worth) go to stderr.
        Fit(FitCmd),
        /// Fit a model to x,y data, then print the next x to measure, best first.
        ///
        /// stdout holds only the K suggested x values, one per line, best first; the fit's
        /// report and the acquisition's values go to stderr. Acquisitions: epistemic (where
        /// the mean is least known; the default), total (epistemic + aleatoric variance,
        /// NeuroBayes's choice: the noisiest x), infogain (0.5 ln(1 + epistemic/aleatoric)),
        /// ucb and ei (for optimisation, with --goal and --kappa).
        Suggest(SuggestArgs),
        /// Write a synthetic data set (x,y) with known truth to stdout.
        ///
        /// NAME: nb_exp, nb_step, bump, linear, homoskedastic. With --truth, also write the
        /// x,f_true,sigma_true grid (400 points over the domain) to that file.
        Generate(GenerateArgs),
    }

    #[derive(Args, Debug)]
    struct FitArgs {
        /// Training data: CSV with x and y (header optional; comma, semicolon, tab or spaces).
        #[arg(long, value_name = "TRAIN.csv")]
        data: PathBuf,
        #[arg(long, value_name = "MODEL", help = model_help())]
        model: Option<String>,
        /// The noise law as a formula, sigma(x; theta) in data units, for --model noise:custom
        /// (implied when --model is not given): x, mu (the network's mean at x), numbers, pi,
        /// x_min, x_max, mean_x, sd_x, sd_y, + - * / ^ ( ), exp log sqrt abs sin cos tanh
        /// softplus sigmoid min max; every other name is a parameter, e.g. "a*exp(b*x)".
        /// Its value passes through a smooth floor (sigma_floor x the sd of y), so sigma
        /// stays positive.
        #[arg(long, value_name = "FORMULA", allow_hyphen_values = true)]
        noise_formula: Option<String>,
        /// Priors of the noise law's parameters in data units, e.g. "a~lognormal(-2,1);
        /// b~normal(0,1)": lognormal(m, s) for a positive parameter (log ~ N(m, s^2)),
        /// normal(m, s) for a real one, or "a~positive" / "a~real" for the default of that
        /// kind; m and s may use x_min, x_max, mean_x, sd_x, sd_y. Unnamed parameters keep
        /// the law's priors (a custom formula's: real, scaled to the data by their units).
        #[arg(long, value_name = "PRIORS", allow_hyphen_values = true)]
        noise_priors: Option<String>,
        #[arg(long, value_name = "METHOD", help = method_help())]
        method: Option<String>,
        /// Random seed [default: 0]
        #[arg(long)]
        seed: Option<u64>,
        /// Gradient budget per chain, warm start included, of pSGLD, SGLD and VI
        /// [default: 20000]. Without --method it means pSGLD (the default method, NUTS,
        /// counts draws: its budget is --warmup + --draws draws of up to 2^max-depth
        /// gradients each, and it prints the gradients it used).
        #[arg(long)]
        steps: Option<usize>,
        /// Independent chains, pooled [default: 2]
        #[arg(long)]
        chains: Option<usize>,
        /// Hidden widths, e.g. 32,16,8 (empty for a linear model) [default: 32,16,8]
        #[arg(long, value_name = "W1,W2,..")]
        hidden: Option<String>,
        /// Settings as JSON (a FitConfig, every field optional); flags override it.
        #[arg(long, value_name = "FILE.json")]
        config: Option<PathBuf>,
        /// Activation: tanh, silu, relu [default: tanh]
        #[arg(long)]
        activation: Option<String>,
        /// Prior sd of every weight [default: 1]
        #[arg(long, allow_hyphen_values = true)]
        prior_scale: Option<f64>,
        /// The sampler's step size (pSGLD: step_size, default 2e-4; SGLD: sgld_step_size, default 5e-4)
        #[arg(long, allow_hyphen_values = true)]
        step_size: Option<f64>,
        /// VI: Adam learning rate, cosine-decayed to vi_lr_final (1e-4) [default: 1e-3]
        #[arg(long, allow_hyphen_values = true)]
        learning_rate: Option<f64>,
        /// Posterior draws kept per chain [default: 150 for NUTS, 100 for the others].
        /// Given, it is honoured exactly: NUTS then draws no more than it (unless --extend)
        #[arg(long)]
        draws: Option<usize>,
        /// NUTS: warm-up draws per chain (step size and mass matrix adapt) [default: 100;
        /// NeuroBayes's is 1000]
        #[arg(long)]
        warmup: Option<usize>,
        /// NUTS: target acceptance probability of the step-size adaptation [default: 0.8]
        #[arg(long, allow_hyphen_values = true)]
        target_accept: Option<f64>,
        /// NUTS: maximum tree depth, at most 2^depth - 1 leapfrog steps per draw [default: 9;
        /// NeuroBayes's is 10]
        #[arg(long)]
        max_depth: Option<usize>,
        /// NUTS: while the chains disagree after --draws (a noise parameter's R-hat > 1.05,
        /// chains whose mean curves or bands part, a loss still moving), draw --draws/2 more per
        /// chain at a time, within 100,000 gradients per chain (up to 1.5 times that on
        /// fewer than 150 points, where a gradient is cheap); a note says why it stopped.
        /// On by default; needed only with an explicit --draws
        #[arg(long)]
        extend: bool,
        /// Fit on the data as given instead of z-scores (what NeuroBayes does).
        #[arg(long)]
        raw: bool,
        /// Threads to run the chains on [default: one per chain, up to the machine's
        /// cores]. The result is the same on any number.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// x and y columns by header name or 1-based index, when the file has more than two.
        #[arg(long, value_name = "NAME|INDEX")]
        x_column: Option<String>,
        #[arg(long, value_name = "NAME|INDEX")]
        y_column: Option<String>,
        /// A truth grid (x,f_true,sigma_true, same x as --grid): print the metrics of
        /// benches/data/eval.py (closed form) to stderr.
        #[arg(long, value_name = "TEST.csv")]
        truth: Option<PathBuf>,
        /// Held-out observations (x,y CSV, read like --data): print the metrics of
        /// uncertainty-toolbox on them to stderr (RMSE, NLL, CRPS, 95% coverage, sharpness,
        /// MACE, RMSCE, miscalibration area, check and interval score), for N(mean,
        /// sd_total^2) as in PRED.csv.
        #[arg(long, value_name = "HELDOUT.csv")]
        holdout: Option<PathBuf>,
        /// Hold out this fraction of --data (0 <= F < 1, chosen at random by --seed; the
        /// page's "Hold out (%)" makes the same split), fit on the rest and print the
        /// metrics of --holdout on the held-out points [default: 0, nothing held out]
        #[arg(long, value_name = "F", allow_hyphen_values = true)]
        holdout_frac: Option<f64>,
        /// No progress bar and no parameter table.
        #[arg(long, short)]
        quiet: bool,
    }

    /// `bayesband fit`: the fit flags, the grid and where the predictions go.
    #[derive(Args, Debug)]
    struct FitCmd {
        #[command(flatten)]
        args: FitArgs,
        /// Grid CSV: x in the first column (header row allowed, other columns ignored).
        #[arg(long, value_name = "GRID.csv")]
        grid: PathBuf,
        /// Where to write the predictions.
        #[arg(long, value_name = "PRED.csv")]
        out: PathBuf,
    }

    /// `bayesband suggest`: the fit flags (but --grid, --out and --truth) and the acquisition's.
    #[derive(Args, Debug)]
    struct SuggestArgs {
        #[command(flatten)]
        args: FitArgs,
        #[arg(long, value_name = "NAME", help = acquisition_help())]
        acquisition: Option<String>,
        /// How many x to suggest, best first (each scored as if the ones before it had been
        /// measured) [default: 1]
        #[arg(long = "n", value_name = "K", default_value_t = 1)]
        n: usize,
        /// Where to look: candidates from LO to HI [default: the data's x range]
        #[arg(long, value_name = "LO,HI", allow_hyphen_values = true)]
        range: Option<String>,
        /// Number of candidate x, evenly spaced over the range (2 to 2000)
        #[arg(long, value_name = "N", default_value_t = 200)]
        candidates: usize,
        /// UCB's weight of the sd: mean + kappa x sd
        #[arg(long, default_value_t = 2.0, allow_hyphen_values = true)]
        kappa: f64,
        /// UCB and EI: whether a larger (max) or a smaller (min) y is better
        #[arg(long, value_name = "max|min", default_value = "max")]
        goal: String,
    }

    #[derive(Args, Debug)]
    struct GenerateArgs {
        /// nb_exp, nb_step, bump, linear or homoskedastic
        name: String,
        /// Number of points [default: the data set's own N]
        #[arg(long)]
        n: Option<usize>,
        /// Random seed
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Also write the truth grid x,f_true,sigma_true to this file.
        #[arg(long, value_name = "GRID.csv")]
        truth: Option<PathBuf>,
    }

    /// `--model`'s help, from the registry of noise laws.
    fn model_help() -> String {
        format!(
            "Model: homoskedastic, two-head, or noise:LAW with LAW one of {} (custom: the formula of --noise-formula) \
             [default: two-head]",
            NoiseLawKind::names(", ", ", ")
        )
    }

    /// `--method`'s help, from the registry of methods.
    fn method_help() -> String {
        format!("Inference method: {} [default: {}]", Method::names(", ", ", "), FitConfig::default().inference.method.name())
    }

    /// Exit codes: 0 ok, 1 the fit failed (divergence), 2 bad input or usage.
    pub fn main() -> i32 {
        let cli = match Cli::try_parse() {
            Ok(c) => c,
            Err(e) => {
                use clap::error::ErrorKind;
                if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                    let _ = e.print();
                    return 0;
                }
                if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    eprintln!("error: missing subcommand: use `bayesband fit`, `bayesband suggest` or `bayesband generate` (see bayesband --help)");
                    return 2;
                }
                // One line: clap's first paragraph, e.g. "the following required arguments
                // were not provided: --grid <GRID.csv>" (it lists them on lines of their own).
                let msg = e.to_string();
                let head: Vec<&str> = msg.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
                let first = head.join(" ");
                let first = first.trim_start_matches("error: ");
                let first = if first.is_empty() { "bad arguments" } else { first };
                eprintln!("error: {first} (see bayesband --help)");
                return 2;
            }
        };
        let result = match cli.command {
            Command::Fit(a) => fit(a),
            Command::Suggest(a) => suggest(a),
            Command::Generate(a) => generate(a),
        };
        match result {
            Ok(()) => 0,
            Err((code, msg)) => {
                eprintln!("error: {msg}");
                code
            }
        }
    }

    type CliResult = Result<(), (i32, String)>;

    fn bad(msg: impl Into<String>) -> (i32, String) {
        (2, msg.into())
    }

    fn read(path: &Path) -> Result<Vec<u8>, (i32, String)> {
        std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))
    }

    /// The settings: defaults, then --config, then flags; and the `note:` lines they earn
    /// (printed with the report, after a fit).
    fn config(a: &FitArgs) -> Result<(FitConfig, Vec<String>), (i32, String)> {
        let mut notes = Vec::new();
        // Whether the config file names the method (then --steps does not choose one).
        let mut config_names_method = false;
        let mut c = match &a.config {
            Some(p) => {
                let text = String::from_utf8(read(p)?).map_err(|_| bad(format!("{} is not UTF-8 text", p.display())))?;
                let c = serde_json::from_str::<FitConfig>(&text)
                    .map_err(|e| bad(format!("{}: not a valid BayesBand config: {e}", p.display())))?;
                config_names_method = serde_json::from_str::<serde_json::Value>(&text)
                    .is_ok_and(|v| v.pointer("/inference/method").is_some());
                c
            }
            None => FitConfig::default(),
        };
        if let Some(m) = &a.model {
            c.set_model_name(m).map_err(|e| bad(e.0))?;
        }
        if let Some(f) = &a.noise_formula {
            match &a.model {
                None => c.set_model_name("noise:custom").map_err(|e| bad(e.0))?,
                Some(_) if c.model.kind == ModelKind::NoiseModel && c.model.noise_law.is_custom() => {}
                Some(m) => return Err(bad(format!("--noise-formula needs --model noise:custom (got --model {m})"))),
            }
            c.model.noise_formula = f.clone();
        }
        if c.model.kind == ModelKind::NoiseModel && c.model.noise_law.is_custom() && c.model.noise_formula.trim().is_empty() {
            return Err(bad("--model noise:custom needs its formula: --noise-formula \"a*exp(b*x)\", for example"));
        }
        if let Some(p) = &a.noise_priors {
            if c.model.kind != ModelKind::NoiseModel {
                return Err(bad(format!("--noise-priors needs a noise model (--model noise:LAW; got {})", c.model_name())));
            }
            c.model.noise_priors = p.clone();
        }
        if let Some(m) = &a.method {
            c.inference.method =
                Method::from_name(m).ok_or_else(|| bad(format!("unknown method '{m}': use {}", Method::names(", ", " or "))))?;
            if a.config.is_none() {
                c.inference.draws = c.inference.method.spec().default_draws;
            }
        }
        if let Some(s) = a.seed {
            c.inference.seed = s;
        }
        if let Some(s) = a.steps {
            c.inference.steps = s;
        }
        // A step sampler's budget or step size without a method: that sampler, as before
        // NUTS was the default (which counts draws and adapts its own step).
        let step_flag = a.steps.map(|_| "--steps").or(a.step_size.map(|_| "--step-size"));
        if let Some(flag) = step_flag.filter(|_| a.method.is_none() && !config_names_method) {
            if c.inference.method_for_step_budget() {
                notes.push(format!(
                    "{flag} is a setting of the step samplers, so the method is {} (the default, {}, counts draws and adapts its step: --draws)",
                    c.inference.method.name(),
                    FitConfig::default().inference.method.name()
                ));
            }
        }
        if let Some(s) = a.chains {
            c.inference.chains = s;
        }
        if let Some(h) = &a.hidden {
            c.model.hidden = parse_hidden(h).map_err(|e| bad(e.0))?;
        }
        if let Some(s) = &a.activation {
            c.model.activation = Activation::from_name(s)
                .ok_or_else(|| bad(format!("unknown activation '{s}': use tanh, silu or relu")))?;
        }
        if let Some(s) = a.prior_scale {
            c.model.prior_scale = s;
        }
        if let Some(s) = a.step_size {
            // The running sampler's own step size; for a method whose rate is not a
            // step size (VI) it sets pSGLD's, as it always did.
            match &c.inference.method.spec().rate {
                Some(rate) if rate.label == "step size" => (rate.set)(&mut c.inference, s),
                _ => c.inference.step_size = s,
            }
        }
        if let Some(s) = a.learning_rate {
            c.inference.vi_lr = s;
        }
        if let Some(d) = a.draws {
            c.inference.draws = d;
            c.inference.extend = false; // an explicit budget is honoured exactly (--extend: on again)
        }
        if let Some(w) = a.warmup {
            c.inference.warmup = w;
        }
        if let Some(t) = a.target_accept {
            c.inference.target_accept = t;
        }
        if let Some(d) = a.max_depth {
            c.inference.max_depth = d;
        }
        if a.extend {
            c.inference.extend = true;
        }
        if a.raw {
            c.model.raw_scale = true;
        }
        if let Some(f) = a.holdout_frac {
            bayesband::data::check_holdout_frac(f).map_err(|e| bad(format!("--holdout-frac: {}", e.message)))?;
            c.inference.holdout_frac = f;
        }
        c.validate().map_err(|e| bad(e.0))?;
        Ok((c, notes))
    }

    /// The data of --data (checked), less the random hold-out if one is asked for, and
    /// the held-out points (--holdout FILE, then the split's).
    #[allow(clippy::type_complexity)]
    fn load(a: &FitArgs, cfg: &FitConfig) -> Result<(Dataset, Option<Dataset>, Option<Dataset>), (i32, String)> {
        let opts = CsvOptions { x_column: a.x_column.clone(), y_column: a.y_column.clone(), ..CsvOptions::default() };
        let table = parse_table_bytes(&read(&a.data)?, opts.max_bytes).map_err(|e| bad(format!("{}: {e}", a.data.display())))?;
        let data = table
            .to_dataset(opts.x_column.as_deref(), opts.y_column.as_deref())
            .map_err(|e| bad(format!("{}: {e}", a.data.display())))?;
        if let Some(e) = table.outlier(&data) {
            return Err(bad(format!("{}: {e}", a.data.display())));
        }
        // The random hold-out (--holdout-frac, or a config's holdout_frac): fit on the rest.
        let (data, split_off) = if cfg.inference.holdout_frac > 0.0 {
            let (train, held) =
                data.holdout_split(cfg.inference.holdout_frac, cfg.inference.seed).map_err(|e| bad(format!("{}: {e}", a.data.display())))?;
            (train, Some(held))
        } else {
            (data, None)
        };
        let holdout = match &a.holdout {
            Some(p) => Some(
                parse_csv_bytes(&read(p)?, &CsvOptions { x_column: a.x_column.clone(), y_column: a.y_column.clone(), ..Default::default() })
                    .map_err(|e| bad(format!("{}: {e}", p.display())))?,
            ),
            None => None,
        };
        Ok((data, holdout, split_off))
    }

    /// A fit of `data` started on the chains' threads (--threads).
    fn start(a: &FitArgs, cfg: &FitConfig, data: &Dataset) -> Result<Fit, (i32, String)> {
        let mut fit = Fit::new(cfg.clone(), data).map_err(|e| bad(e.to_string()))?;
        fit.set_threads(match a.threads {
            Some(0) => return Err(bad("--threads must be at least 1")),
            Some(t) => t,
            None => std::thread::available_parallelism().map_or(1, |c| c.get()).min(cfg.inference.chains),
        });
        Ok(fit)
    }

    /// Run the fit to the end, with a progress bar on a terminal; a divergence's error.
    fn run(a: &FitArgs, fit: &mut Fit) -> Result<(), bayesband::infer::FitError> {
        let bar = !a.quiet && std::io::stderr().is_terminal();
        let chunk = (fit.total_steps() / 200).max(50);
        while !fit.is_finished() {
            if let Err(e) = fit.step(chunk) {
                if bar {
                    eprint!("\r{:78}\r", "");
                }
                return Err(e);
            }
            if bar {
                progress(fit);
            }
        }
        if bar {
            eprint!("\r{:78}\r", "");
        }
        Ok(())
    }

    /// The held-out lines: --holdout FILE's and the split's.
    fn held_out_report(fit: &mut Fit, holdout: Option<Dataset>, split_off: Option<Dataset>) {
        // Both at once: the split's line says so; either alone prints `held-out (N points)`.
        let split_label = if holdout.is_some() { "held-out split" } else { "held-out" };
        for (h, what) in [(holdout, "held-out"), (split_off, split_label)] {
            let Some(h) = h else { continue };
            let p = fit.snapshot(&h.x).summary;
            let m = HeldOutMetrics::compute(&h.y, &p.mean, &p.sd_total);
            eprintln!("{}", held_out_line(what, &m));
        }
    }

    fn fit(cmd: FitCmd) -> CliResult {
        let a = &cmd.args;
        let (cfg, notes) = config(a)?;
        let (data, holdout, split_off) = load(a, &cfg)?;
        let grid = parse_grid_bytes(&read(&cmd.grid)?).map_err(|e| bad(format!("{}: {e}", cmd.grid.display())))?;
        let truth = match &a.truth {
            Some(p) => Some(read_truth(p, &grid)?),
            None => None,
        };
        let t0 = Instant::now();
        let mut fit = start(a, &cfg, &data)?;
        let law = law_line(&fit);
        if let Err(e) = run(a, &mut fit) {
            // The message says the last good state is kept: write its predictions.
            write_predictions(&cmd.out, &fit.snapshot(&grid))?;
            return Err((1, format!("{e} Its predictions are in {}.", cmd.out.display())));
        }
        let snap = fit.snapshot(&grid);
        write_predictions(&cmd.out, &snap)?;
        let secs = t0.elapsed().as_secs_f64();
        if !a.quiet {
            eprint!("{}", report(&cfg, &notes, data.x.len(), data.x_range(), &snap, secs, law.as_deref()));
        }
        if let Some((f, s)) = truth {
            let p = &snap.summary;
            let m = GridMetrics::compute(&p.mean, &p.sd_aleatoric, &p.sd_total, &f, &s);
            eprintln!(
                "metrics vs truth: rmse_mean {:.4}  rmse_noise {:.4}  nll {:.4}  coverage95 {:.3}  width95 {:.4}",
                m.rmse_mean, m.rmse_noise, m.nll, m.coverage95, m.width95
            );
        }
        held_out_report(&mut fit, holdout, split_off);
        Ok(())
    }

    /// The acquisition's settings from the flags (bad ones are bad input).
    fn acquisition(s: &SuggestArgs, data: &Dataset) -> Result<(Acquisition, Vec<f64>), (i32, String)> {
        let kind = match &s.acquisition {
            None => ACQUISITIONS[0].kind,
            Some(n) => AcquisitionKind::from_name(n)
                .ok_or_else(|| bad(format!("unknown acquisition '{n}': use {}", AcquisitionKind::names(", ", " or "))))?,
        };
        let goal = Goal::from_name(&s.goal).ok_or_else(|| bad(format!("--goal must be max or min (got '{}')", s.goal)))?;
        if !s.kappa.is_finite() || s.kappa < 0.0 {
            return Err(bad(format!("--kappa must be a number >= 0 (got {})", s.kappa)));
        }
        if s.n == 0 {
            return Err(bad("--n must be at least 1"));
        }
        if !(2..=2000).contains(&s.candidates) {
            return Err(bad(format!("--candidates must be between 2 and 2000 (got {})", s.candidates)));
        }
        let (lo, hi) = match &s.range {
            None => data.x_range(),
            Some(r) => {
                let v: Vec<f64> = r.split(',').map(|t| t.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| {
                    bad(format!("--range must be LO,HI, two numbers (got '{r}')"))
                })?;
                match v[..] {
                    [lo, hi] if lo.is_finite() && hi.is_finite() && lo < hi => (lo, hi),
                    _ => return Err(bad(format!("--range must be LO,HI with LO < HI (got '{r}')"))),
                }
            }
        };
        Ok((Acquisition { kind, kappa: s.kappa, goal, best: 0.0, seed: 0 }, candidate_grid(lo, hi, s.candidates)))
    }

    fn suggest(s: SuggestArgs) -> CliResult {
        let a = &s.args;
        if a.truth.is_some() {
            return Err(bad("suggest does not take --truth (it writes no predictions on a grid)"));
        }
        let (cfg, notes) = config(a)?;
        let (data, holdout, split_off) = load(a, &cfg)?;
        let (mut acq, cands) = acquisition(&s, &data)?;
        acq.seed = cfg.inference.seed;
        let t0 = Instant::now();
        let mut fit = start(a, &cfg, &data)?;
        let law = law_line(&fit);
        run(a, &mut fit).map_err(|e| (1, format!("{e} No suggestion.")))?;
        let picks = fit.suggest(acq, &cands, s.n);
        if !a.quiet {
            let snap = fit.snapshot(&cands);
            eprint!("{}", report(&cfg, &notes, data.x.len(), data.x_range(), &snap, t0.elapsed().as_secs_f64(), law.as_deref()));
        }
        held_out_report(&mut fit, holdout, split_off);
        let (lo, hi) = (cands[0], cands[cands.len() - 1]);
        eprintln!(
            "note: {} candidates over [{}, {}], acquisition {}: {}",
            cands.len(),
            lo,
            hi,
            acq.kind.name(),
            picks.iter().map(|(x, v)| format!("x {x} (value {v:.4e})")).collect::<Vec<_>>().join(", ")
        );
        let mut out = String::new();
        for (x, _) in &picks {
            let _ = writeln!(out, "{x}");
        }
        print!("{out}");
        Ok(())
    }

    /// `--acquisition`'s help, from the registry of acquisition functions.
    fn acquisition_help() -> String {
        let rows: Vec<String> = ACQUISITIONS.iter().map(|r| format!("{} ({})", r.name, r.help)).collect();
        format!("Acquisition function: {} [default: {}]", rows.join("; "), ACQUISITIONS[0].name)
    }

    /// `held-out (33 points): rmse 0.1234  nll ...`: every metric as a `name value` pair,
    /// 4 decimals (6 significant digits below 0.001).
    fn held_out_line(what: &str, m: &HeldOutMetrics) -> String {
        let pairs: Vec<String> = m
            .pairs()
            .iter()
            .map(|(k, v)| if v.abs() >= 1e-3 || *v == 0.0 { format!("{k} {v:.4}") } else { format!("{k} {v:.5e}") })
            .collect();
        format!("{what} ({} points): {}", m.n, pairs.join("  "))
    }

    fn read_truth(p: &Path, grid: &[f64]) -> Result<(Vec<f64>, Vec<f64>), (i32, String)> {
        let t = bayesband::data::csv::parse_table_bytes(&read(p)?, usize::MAX)
            .map_err(|e| bad(format!("{}: {e}", p.display())))?;
        let col = |name: &str| -> Result<&Vec<f64>, (i32, String)> {
            t.headers
                .iter()
                .position(|h| h == name)
                .map(|i| &t.columns[i])
                .ok_or_else(|| bad(format!("{}: no column '{name}'", p.display())))
        };
        let (x, f, s) = (col("x")?, col("f_true")?, col("sigma_true")?);
        if x.len() != grid.len() || x.iter().zip(grid).any(|(a, b)| (a - b).abs() > 1e-6) {
            return Err(bad(format!("{}: its x values differ from the grid's", p.display())));
        }
        Ok((f.clone(), s.clone()))
    }

    fn progress(fit: &Fit) {
        let frac = fit.steps_done() as f64 / fit.total_steps() as f64;
        let w = 30;
        let done = (frac * w as f64).round() as usize;
        eprint!(
            "\r[{}{}] {:3.0}%  step {}/{}  {}  loss {:.3} ",
            "#".repeat(done),
            " ".repeat(w - done),
            100.0 * frac,
            fit.steps_done(),
            fit.total_steps(),
            fit.phase().label(),
            fit.loss()
        );
        let _ = std::io::stderr().flush();
    }

    fn write_predictions(path: &Path, s: &Snapshot) -> CliResult {
        std::fs::write(path, bayesband::summary::bands::predictions_csv(&s.summary)).map_err(|e| bad(format!("cannot write {}: {e}", path.display())))
    }

    /// The noise law's formula and priors (data units, with this data set's numbers).
    fn law_line(fit: &Fit) -> Option<String> {
        let bayesband::model::Noise::Law(l) = &fit.model.noise else { return None };
        let priors: Vec<String> = l.specs.iter().zip(&l.priors).map(|(s, p)| format!("{} ~ {}", s.name, p.text())).collect();
        Some(format!("noise law: sigma(x) = {} (floored at {}), priors in data units: {}", l.formula, short_num(l.floor * fit.scaling.y_sd), priors.join(", ")))
    }

    fn short_num(v: f64) -> String {
        format!("{v:.3e}").replace(".000e", "e")
    }

    fn report(cfg: &FitConfig, notes: &[String], n: usize, x_range: (f64, f64), s: &Snapshot, secs: f64, law: Option<&str>) -> String {
        let mut r = String::new();
        let i = &cfg.inference;
        let budget = match i.method.spec().units {
            Units::Steps => format!("{} steps", s.total_steps),
            Units::Draws => format!("{} warm-up + {} draws", i.warmup, i.draws),
        };
        let kept = if s.samples_from_q > 0 {
            format!("{} samples from q", s.samples_from_q)
        } else {
            format!("{} draws", s.draws_kept)
        };
        let _ = writeln!(
            r,
            "{} / {} on {n} points: {budget} x {} chains, {kept}, {secs:.2} s",
            cfg.model_name(),
            i.method.name(),
            i.chains,
        );
        if let Some(l) = law {
            let _ = writeln!(r, "{l}");
        }
        if !s.params.is_empty() {
            let _ = writeln!(r, "{:<8} {:>12} {:>12} {:>12} {:>7} {:>6}", "param", "mean", "2.5%", "97.5%", "R-hat", "ESS");
            for p in &s.params {
                let rhat = p.rhat.map_or("-".to_string(), |v| format!("{v:.3}"));
                let ess = p.ess.map_or("-".to_string(), |v| format!("{v:.0}"));
                let _ = writeln!(r, "{:<8} {:>12.5} {:>12.5} {:>12.5} {:>7} {:>6}", p.name, p.mean, p.lo, p.hi, rhat, ess);
            }
        }
        if let Some(rh) = s.rhat_max {
            let _ = writeln!(r, "max split R-hat (noise parameters and the mean at 5 x): {rh:.3}");
        }
        if let Some(b) = s.chain_band {
            let _ = writeln!(r, "narrowest chain's band of the mean: {b:.2} of the pooled band's width");
        }
        let d = &s.method;
        if let Some(n) = d.divergences {
            // Always stated for a method that counts them (also when 0).
            let _ = writeln!(r, "divergences: {n}");
            if d.chain_divergences.len() > 1 {
                let each: Vec<String> = d.chain_divergences.iter().map(|c| c.to_string()).collect();
                let _ = writeln!(r, "divergences per chain: {}", each.join(", "));
            }
        }
        let mut parts = Vec::new();
        if let Some(v) = d.mean_tree_depth {
            parts.push(format!("mean tree depth {v:.2}"));
        }
        if let Some(v) = d.max_depth_share {
            parts.push(format!("at max depth {:.1}%", 100.0 * v));
        }
        if let Some(v) = d.adapted_step_size {
            parts.push(format!("adapted step size {v:.3e}"));
        }
        if cfg.inference.method.spec().units == Units::Draws {
            parts.push(format!("gradients per chain {}", s.gradients));
        }
        if !parts.is_empty() {
            let _ = writeln!(r, "{}", parts.join(", "));
        }
        if let Some(note) = bayesband::infer::nuts::divergence_note(d, Some(x_range)) {
            let _ = writeln!(r, "note: {note}");
        }
        for w in &s.warnings {
            let _ = writeln!(r, "warning: {w}");
        }
        for w in s.notes.iter().chain(notes) {
            let _ = writeln!(r, "note: {w}");
        }
        r
    }

    fn generate(a: GenerateArgs) -> CliResult {
        let which = Synthetic::from_name(&a.name).ok_or_else(|| {
            bad(format!("unknown data set '{}': use nb_exp, nb_step, bump, linear or homoskedastic", a.name))
        })?;
        let n = a.n.unwrap_or(which.default_n());
        if !(3..=10_000_000).contains(&n) {
            return Err(bad(format!("--n must be between 3 and 10000000 (got {n})")));
        }
        let d = which.generate(n, a.seed);
        let mut out = String::from("x,y\n");
        for (x, y) in d.x.iter().zip(&d.y) {
            let _ = writeln!(out, "{x:?},{y:?}");
        }
        if let Some(p) = &a.truth {
            let mut t = String::from("x,f_true,sigma_true\n");
            for (x, f, s) in which.truth_grid(400) {
                let _ = writeln!(t, "{x:?},{f:?},{s:?}");
            }
            std::fs::write(p, t).map_err(|e| bad(format!("cannot write {}: {e}", p.display())))?;
        }
        std::io::stdout().write_all(out.as_bytes()).map_err(|e| bad(format!("cannot write to stdout: {e}")))
    }
}
