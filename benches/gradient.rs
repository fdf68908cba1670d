//! Full-batch gradient throughput of `Model::log_posterior` for the default two-head
//! [32,16,8] tanh net at N = 40, 150, 500, against NeuroBayes (JAX, f32, one core:
//! 27k, 18.5k, 9.2k gradients per second on this kind of machine, docs/ARCHITECTURE.md §6).
//!
//! Run with `cargo bench --bench gradient` (a plain `harness = false` binary).
//! Options after `--`: `--quick` (0.3 s repeats), `--fit` (also time whole default
//! fits, 2 chains x 20,000 gradients, at N = 40 and 200), `--kernels` (also the
//! precise f64 and reference ndarray kernels), `--n 150` (one size only, for profiling).

use std::time::Instant;

use bayesband::config::{FitConfig, ModelConfig};
use bayesband::data::{Dataset, Scaling};
use bayesband::infer::Fit;
use bayesband::model::kernels::Kernel;
use bayesband::model::{EvalOptions, Model, ModelWorkspace};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

const SIZES: [(usize, f64); 3] = [(40, 27_000.0), (150, 18_500.0), (500, 9_200.0)];
const REPEATS: usize = 5;

fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let x: Vec<f64> = (0..n).map(|i| -1.7 + 3.4 * i as f64 / (n - 1) as f64).collect();
    let y = x
        .iter()
        .map(|&v| (2.0 * v).sin() + (0.1 + 0.3 * (v + 1.7) / 3.4) * rng.sample::<f64, _>(StandardNormal))
        .collect();
    (x, y)
}

/// This thread's CPU time in seconds (Linux: /proc/thread-self/schedstat, ns); NaN elsewhere.
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()))
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

/// Gradients per wall-clock second and per CPU second of this thread: the medians of
/// `REPEATS` runs of about `secs` each. On a loaded machine the wall rate drops while
/// the CPU rate stays (nearly) put.
fn throughput(n: usize, kernel: Kernel, secs: f64) -> (f64, f64) {
    let (x, y) = data(n, 1);
    let cfg = ModelConfig::default();
    let sc = Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 };
    let mut model = Model::new(&cfg, &x, &sc, 1.0);
    model.mlp.kernel = kernel;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut p = model.init(&mut rng);
    let mut g = vec![0.0; model.dim()];
    let mut ws = ModelWorkspace::default();
    let opts = EvalOptions::default();
    // Calibrate the number of calls per repeat, warming up caches on the way.
    let mut calls = 16usize;
    loop {
        let t = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(model.log_posterior(&p, &x, &y, 1.0, &opts, &mut ws, &mut g));
        }
        let dt = t.elapsed().as_secs_f64();
        if dt > 0.1 * secs {
            calls = ((calls as f64) * secs / dt).ceil() as usize;
            break;
        }
        calls *= 4;
    }
    let mut rates = Vec::with_capacity(REPEATS);
    let mut cpu_rates = Vec::with_capacity(REPEATS);
    let mut sink = 0.0;
    for _ in 0..REPEATS {
        let t = Instant::now();
        let c0 = thread_cpu();
        for k in 0..calls {
            // A tiny, changing perturbation so nothing can be hoisted out of the loop.
            p[k % 8] += 1e-12;
            sink += model.log_posterior(&p, &x, &y, 1.0, &opts, &mut ws, &mut g).log_post;
        }
        rates.push(calls as f64 / t.elapsed().as_secs_f64());
        cpu_rates.push(calls as f64 / (thread_cpu() - c0));
    }
    std::hint::black_box(sink);
    (median(rates), median(cpu_rates))
}

/// Microseconds of CPU per network forward + backward alone (no likelihood, no prior):
/// the part the MLP kernels own. Median of `REPEATS`.
fn network_only(n: usize, kernel: Kernel, secs: f64) -> f64 {
    let (x, _) = data(n, 1);
    let cfg = ModelConfig::default();
    let sc = Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 };
    let mut model = Model::new(&cfg, &x, &sc, 1.0);
    model.mlp.kernel = kernel;
    let mlp = &model.mlp;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut p = vec![0.0; mlp.dim()];
    mlp.init(&mut rng, &mut p);
    let d_out = ndarray::Array2::from_shape_fn((n, mlp.outputs()), |(i, j)| 0.01 * i as f64 - 0.3 * j as f64);
    let mut g = vec![0.0; mlp.dim()];
    let mut ws = bayesband::model::Workspace::default();
    // About `secs` per repeat at ~0.1 us per point (schedstat advances at scheduler ticks).
    let calls = ((secs * 1e7) / n as f64).ceil() as usize;
    let mut out = Vec::new();
    for _ in 0..REPEATS {
        let c0 = thread_cpu();
        for k in 0..calls {
            p[k % 8] += 1e-12;
            std::hint::black_box(mlp.forward(&p, &x, &mut ws));
            mlp.backward(&p, &d_out, &mut ws, &mut g);
        }
        out.push((thread_cpu() - c0) * 1e6 / calls as f64);
    }
    std::hint::black_box(&g);
    median(out)
}

/// Microseconds of CPU per local-reparameterisation forward + backward (VI's network
/// pass: means and variances, one normal draw per point and unit), median of `REPEATS`.
fn lrt_only(n: usize, kernel: Kernel, secs: f64) -> f64 {
    let (x, _) = data(n, 1);
    let cfg = ModelConfig::default();
    let sc = Scaling { x_mean: 0.0, x_sd: 1.0, y_mean: 0.0, y_sd: 1.0 };
    let mut model = Model::new(&cfg, &x, &sc, 1.0);
    model.mlp.kernel = kernel;
    let mlp = &model.mlp;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut m = vec![0.0; mlp.dim()];
    mlp.init(&mut rng, &mut m);
    let v = vec![1e-4; mlp.dim()];
    let d_out = ndarray::Array2::from_shape_fn((n, mlp.outputs()), |(i, j)| 0.01 * i as f64 - 0.3 * j as f64);
    let (mut gm, mut gv) = (vec![0.0; mlp.dim()], vec![0.0; mlp.dim()]);
    let mut ws = bayesband::model::Workspace::default();
    let calls = ((secs * 1e7) / n as f64 / 2.0).ceil() as usize;
    let mut out = Vec::new();
    for _ in 0..REPEATS {
        let c0 = thread_cpu();
        for k in 0..calls {
            m[k % 8] += 1e-12;
            std::hint::black_box(mlp.forward_lrt(&m, &v, &x, &mut rng, &mut ws));
            mlp.backward_lrt(&m, &v, &d_out, &mut ws, &mut gm, &mut gv);
        }
        out.push((thread_cpu() - c0) * 1e6 / calls as f64);
    }
    std::hint::black_box((&gm, &gv));
    median(out)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let name = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut simd = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            simd.push("avx2");
        }
        if std::is_x86_feature_detected!("fma") {
            simd.push("fma");
        }
        if std::is_x86_feature_detected!("avx512f") {
            simd.push("avx512f");
        }
    }
    format!("{name}, {cores} logical cores available, SIMD: {}", simd.join("+"))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_default()
}

fn whole_fit(n: usize) -> (f64, f64) {
    let (x, y) = data(n, 3);
    let data = Dataset::new(x, y);
    let cfg = FitConfig::default();
    let start = Instant::now();
    let cpu0 = cpu_time();
    let mut fit = Fit::new(cfg, &data).expect("fit");
    while !fit.is_finished() {
        fit.step(500).expect("step");
    }
    (start.elapsed().as_secs_f64(), cpu_time() - cpu0)
}

/// Process CPU time in seconds (Linux: /proc/self/stat utime + stime); NaN elsewhere.
fn cpu_time() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = s.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    match (fields.get(11).and_then(|v| v.parse::<f64>().ok()), fields.get(12).and_then(|v| v.parse::<f64>().ok())) {
        (Some(u), Some(st)) => (u + st) / 100.0,
        _ => f64::NAN,
    }
}

/// The x86 SIMD intrinsics this binary calls as functions of their own (their mangled
/// names in its symbol table). Inlined into the kernels they leave no symbol; one left
/// out of line (a closure or fold around it that LLVM did not inline does not inherit the
/// kernel's target features) costs a call per instruction, as VI's LRT pass showed once.
fn out_of_line_intrinsics() -> String {
    let Ok(bin) = std::fs::read("/proc/self/exe") else { return "intrinsics check: cannot read this binary".into() };
    let pat = b"9core_arch3x86"; // core::core_arch::x86, legacy or v0 mangling
    let mut found = std::collections::BTreeSet::new();
    for i in 0..bin.len().saturating_sub(pat.len()) {
        if &bin[i..i + pat.len()] != pat {
            continue;
        }
        // <len>module<len>name: e.g. 3fma15_mm256_fmadd_ps (v0: 3fma15__mm256_fmadd_ps).
        let mut parts = Vec::new();
        let mut j = i + pat.len();
        for _ in 0..2 {
            let digits = bin[j..].iter().take_while(|b| b.is_ascii_digit()).count();
            let Some(len) = std::str::from_utf8(&bin[j..j + digits]).ok().and_then(|d| d.parse::<usize>().ok()) else { break };
            // v0 mangling puts a `_` between the length and a name that starts with `_`.
            j += usize::from(bin[j + digits..].starts_with(b"__mm"));
            parts.push(String::from_utf8_lossy(&bin[j + digits..(j + digits + len).min(bin.len())]).into_owned());
            j += digits + len;
        }
        if parts.len() == 2 && parts[1].starts_with("_mm") {
            found.insert(format!("{}::{}", parts[0], parts[1]));
        }
    }
    if found.is_empty() {
        "intrinsics check: every x86 SIMD intrinsic is inlined into its kernel".into()
    } else {
        format!("warning: x86 SIMD intrinsics called out of line (slow): {}", found.into_iter().collect::<Vec<_>>().join(", "))
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |f: &str| args.iter().any(|a| a == f);
    let secs = if has("--quick") { 0.3 } else { 1.0 };
    println!("BayesBand full-batch gradient of Model::log_posterior, two-head [32,16,8] tanh");
    println!("machine: {}", cpu_model());
    println!("median of {REPEATS} repeats of ~{secs} s each, one thread; load average now: {}\n", load());
    let mut kernels = vec![Kernel::Fast];
    if has("--kernels") {
        kernels.extend([Kernel::Precise, Kernel::Reference]);
    }
    for kernel in kernels {
        println!("kernel {kernel:?} ({})", kernel.describe());
        println!(
            "{:>6} {:>12} {:>12} {:>10} {:>10} {:>11} {:>10} {:>15} {:>15}",
            "N", "grad/s wall", "us/grad", "NeuroBayes", "ratio", "grad/CPU-s", "CPU ratio", "net-only CPU-us", "LRT net CPU-us"
        );
        let only: Option<usize> = args.iter().position(|a| a == "--n").and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok());
        for (n, nb) in SIZES {
            if only.is_some_and(|o| o != n) {
                continue;
            }
            let (r, rc) = throughput(n, kernel, secs);
            let net = network_only(n, kernel, 0.3 * secs);
            let lrt = lrt_only(n, kernel, 0.3 * secs);
            println!(
                "{n:>6} {r:>12.0} {:>12.2} {nb:>10.0} {:>9.2}x {rc:>11.0} {:>9.2}x {net:>15.2} {lrt:>15.2}",
                1e6 / r,
                r / nb,
                rc / nb
            );
        }
        println!();
    }
    println!("net-only: CPU microseconds per MLP forward + backward alone; the rest of us/grad is");
    println!("Model::log_lik_from_outputs and the priors (src/model/mod.rs). LRT net: the same for");
    println!("VI's local-reparameterisation forward + backward (means and variances, with its draws).\n");
    println!("{}\n", out_of_line_intrinsics());
    if has("--fit") {
        println!("whole default fit (pSGLD, 2 chains x 20,000 gradients):");
        for n in [40, 200] {
            let (wall, cpu) = whole_fit(n);
            println!("  N = {n:>4}: {wall:.2} s wall, {cpu:.2} CPU-s");
        }
    }
}
