use super::tape::{Inputs, Tape};
use super::*;
use proptest::prelude::*;

fn data() -> DataConsts {
    DataConsts { x_min: -1.7, x_max: 2.9, mean_x: 0.4, sd_x: 1.3, sd_y: 0.8 }
}

/// Independent truth: the tree evaluated directly, in plain f64.
fn eval(e: &Expr, x: f64, mu: f64, th: &[f64], d: &DataConsts) -> f64 {
    match &e.kind {
        Kind::Num(v) => *v,
        Kind::Pi => std::f64::consts::PI,
        Kind::Data(c) => d.get(*c),
        Kind::Var(Var::X) => x,
        Kind::Var(Var::Mu) => mu,
        Kind::Param(k) => th[*k],
        Kind::Neg(a) => -eval(a, x, mu, th, d),
        Kind::Bin(op, a, b) => {
            let (a, b) = (eval(a, x, mu, th, d), eval(b, x, mu, th, d));
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                BinOp::Div => a / b,
                BinOp::Pow => a.powf(b),
            }
        }
        Kind::Call(f, args) => {
            let a = eval(&args[0], x, mu, th, d);
            match f {
                Func::Exp => a.exp(),
                Func::Log => a.ln(),
                Func::Sqrt => a.sqrt(),
                Func::Abs => a.abs(),
                Func::Sin => a.sin(),
                Func::Cos => a.cos(),
                Func::Tanh => a.tanh(),
                Func::Softplus => {
                    // ln(1 + e^a) by ln_1p: (1 + e^a).ln() is 0 below a = -37, where the
                    // tape (rightly) gives e^a, and 0/softplus(-40) was NaN here, not 0.
                    if a > 30.0 {
                        a
                    } else {
                        a.exp().ln_1p()
                    }
                }
                // Stable on both sides: 1 / (1 + e^-a) is 0 below a = -709, where e^a is not.
                Func::Sigmoid => {
                    let e = (-a.abs()).exp();
                    if a >= 0.0 {
                        1.0 / (1.0 + e)
                    } else {
                        e / (1.0 + e)
                    }
                }
                Func::Min => a.min(eval(&args[1], x, mu, th, d)),
                Func::Max => a.max(eval(&args[1], x, mu, th, d)),
            }
        }
    }
}

fn err(text: &str) -> String {
    Formula::parse(text).unwrap_err().message
}

#[test]
fn errors_name_the_text_and_its_column() {
    assert_eq!(err("a*expp(b*x)"), "unknown function 'expp' at column 3");
    assert_eq!(err("a*exp(b*x"), "missing ')' at column 10");
    assert_eq!(err("sqrt(a + b*x"), "missing ')' at column 13");
    assert_eq!(err("2*x + 1"), "the formula does not depend on any parameter");
    assert_eq!(err("1/(x-x)"), "the formula does not depend on any parameter");
    assert_eq!(err("   "), "the formula is empty");
    assert_eq!(err("a*"), "missing a number, name or '(' at column 3");
    assert_eq!(err("2a"), "missing operator before 'a' at column 2 (write 2*x for a product)");
    assert_eq!(err("a)"), "unexpected ')' at column 2 (no '(' to close)");
    assert_eq!(err("a**b"), "unexpected '*' at column 3");
    assert_eq!(err("min(a)"), "'min' needs 2 arguments (got 1) at column 1");
    assert_eq!(err("exp(a, x)"), "'exp' needs 1 argument (got 2) at column 1");
    assert_eq!(err("a*exp"), "'exp' at column 3 is a function: write exp(...)");
    assert_eq!(err("a*x(2)"), "'x' at column 3 is not a function");
    assert_eq!(err("a·x"), "unexpected character '·' at column 2 (write * for a product)");
    assert_eq!(err("a*1e999"), "the number '1e999' at column 3 is too large");
    let deep = format!("{}a{}", "(".repeat(60), ")".repeat(60));
    assert!(err(&deep).starts_with("nested too deeply at column"), "{}", err(&deep));
    assert!(err(&"a+".repeat(600)).starts_with("too long"));
    let many: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    assert!(err(&many.join("+")).starts_with("too many parameters"));
    let e = Formula::parse("a*expp(b*x)").unwrap_err();
    assert_eq!(e.column, Some(3));
}

#[test]
fn precedence_and_associativity() {
    let f = Formula::parse("-x^2 + a").unwrap();
    assert_eq!(f.to_string(), "-x^2 + a");
    assert_eq!(eval(&f.expr, 3.0, 0.0, &[0.0], &data()), -9.0);
    let f = Formula::parse("a*2^3^2").unwrap();
    assert_eq!(eval(&f.expr, 0.0, 0.0, &[1.0], &data()), 512.0);
    let f = Formula::parse("a - b - x").unwrap();
    assert_eq!(eval(&f.expr, 1.0, 0.0, &[5.0, 2.0], &data()), 2.0);
    let f = Formula::parse("a / b / x").unwrap();
    assert_eq!(eval(&f.expr, 2.0, 0.0, &[8.0, 2.0], &data()), 2.0);
    let f = Formula::parse("a*2^-x").unwrap();
    assert_eq!(eval(&f.expr, 1.0, 0.0, &[1.0], &data()), 0.5);
    let f = Formula::parse("(-a)^2").unwrap();
    assert_eq!(f.to_string(), "(-a)^2");
    assert_eq!(eval(&f.expr, 0.0, 0.0, &[3.0], &data()), 9.0);
    let f = Formula::parse("base + amp*exp(-(x - c)^2/(2*w^2))").unwrap();
    assert_eq!(f.params, ["base", "amp", "c", "w"]);
    assert_eq!(f.to_string(), "base + amp*exp(-(x - c)^2/(2*w^2))");
    assert!(Formula::parse("a + b*abs(mu)").unwrap().uses_mu());
    assert!(!Formula::parse("a*exp(b*x)").unwrap().uses_mu());
    let f = Formula::parse("a*sd_y + x_min*pi - mean_x/sd_x + x_max").unwrap();
    assert_eq!(f.params, ["a"]);
}

#[test]
fn numbers_print_and_read_back_exactly() {
    for v in [0.0, 1.0, 0.1, 1e-7, 2.5e-300, 1e300, 123456789.125, 5e-324, f64::MAX] {
        let f = Formula::parse(&format!("a*{}", number_text(v))).unwrap();
        let back = Formula::parse(&f.to_string()).unwrap();
        assert_eq!(back, f, "{v:e}");
        let Kind::Bin(_, _, b) = &back.expr.kind else { panic!() };
        assert_eq!(b.kind, Kind::Num(v));
    }
}

fn compile(text: &str) -> (Formula, Tape) {
    let f = Formula::parse(text).unwrap();
    let t = Tape::compile(&f, &data());
    (f, t)
}

/// Values of the tape at points (x_i, mu_i).
fn tape_values(t: &Tape, th: &[f64], x: &[f64], mu: &[f64]) -> Vec<f64> {
    let inp = Inputs::data(x, mu);
    let mut buf = vec![0.0; t.scratch_len(x.len())];
    t.forward(th, &inp, &mut buf);
    (0..x.len()).map(|i| t.value(&buf, x.len(), i)).collect()
}

/// Formulas that together use every function and operator, with parameters and points
/// where each is smooth.
const SMOOTH: &[&str] = &[
    "a*exp(b*x)",
    "log(a + b*x^2)",
    "sqrt(a + b*mu^2)",
    "abs(a*x - b) + 0.1",
    "sin(a*x) + b",
    "cos(a*x)*b",
    "tanh(a*x + b*mu)",
    "softplus(a*x + b)",
    "sigmoid(a*x)*b",
    "min(a, b*x)",
    "max(a*x, b)",
    "a^x*b",
    "x^a + b",
    "(a + mu)^2/b",
    "a - -b*x",
    "a/(1 + x^2) + b*pi",
    "a*b*a*mu",
    "x^0.5*a + b^3 - b^-2",
    "base + amp*exp(-(x - c)^2/(2*w^2))",
    "a + b*abs(mu)",
    "exp(a + b*x + c*x^2)",
    "left + (right - left)*sigmoid((x - t)/(0.01*(x_max - x_min)))",
    "a + (b - a)*min(1, max(0, (x - x_min)/(x_max - x_min)))",
    "c",
    "2^b*exp(a)",
];

fn theta_for(n: usize) -> Vec<f64> {
    (0..n).map(|k| 0.7 + 0.37 * k as f64).collect()
}

#[test]
fn the_tape_computes_what_the_tree_says() {
    let x = [0.3, 1.1, 1.9, 0.77, 2.4];
    let mu = [0.5, -1.2, 0.9, 2.0, -0.3];
    for text in SMOOTH {
        let (f, t) = compile(text);
        let th = theta_for(f.params.len());
        let got = tape_values(&t, &th, &x, &mu);
        for i in 0..x.len() {
            let want = eval(&f.expr, x[i], mu[i], &th, &data());
            assert!((got[i] - want).abs() <= 1e-12 * want.abs().max(1.0), "{text} at {i}: {} vs {want}", got[i]);
        }
    }
}

#[test]
fn gradients_match_central_differences_for_every_function() {
    let x = [0.3, 1.1, 1.9, 0.77, 2.4];
    let mu = [0.5, -1.2, 0.9, 2.0, -0.3];
    let seed = [0.3, -1.1, 0.8, 1.7, -0.4];
    for text in SMOOTH {
        let (f, t) = compile(text);
        let th = theta_for(f.params.len());
        let inp = Inputs { x: &x, x_map: (0.0, 1.0), mu: &mu, mu_map: (0.0, 1.0) };
        let mut buf = vec![0.0; t.scratch_len(x.len())];
        t.forward(&th, &inp, &mut buf);
        let mut g = vec![0.0; th.len()];
        let mut gmu = vec![0.0; x.len()];
        t.backward(&inp, &seed, &mut buf, &mut g, Some(&mut gmu));
        let total = |th: &[f64], mu: &[f64]| -> f64 {
            tape_values(&t, th, &x, mu).iter().zip(&seed).map(|(v, s)| v * s).sum()
        };
        for k in 0..th.len() {
            let h = 1e-6;
            let (mut a, mut b) = (th.clone(), th.clone());
            a[k] += h;
            b[k] -= h;
            let fd = (total(&a, &mu) - total(&b, &mu)) / (2.0 * h);
            assert!((fd - g[k]).abs() <= 1e-6 * fd.abs().max(1.0), "{text} d/d{}: fd {fd} vs {}", f.params[k], g[k]);
        }
        for i in 0..x.len() {
            let h = 1e-6;
            let (mut a, mut b) = (mu.to_vec(), mu.to_vec());
            a[i] += h;
            b[i] -= h;
            let fd = (total(&th, &a) - total(&th, &b)) / (2.0 * h);
            assert!((fd - gmu[i]).abs() <= 1e-6 * fd.abs().max(1.0), "{text} d/dmu at {i}: fd {fd} vs {}", gmu[i]);
        }
    }
}

#[test]
fn mapped_inputs_are_read_in_data_units_and_the_mu_gradient_is_in_stored_units() {
    let (f, t) = compile("a*exp(b*x) + c*mu^2");
    let th = [0.4, 0.3, 0.2];
    let (xs, mus) = ([-1.0, 0.5, 2.0], [0.1, -0.7, 1.3]);
    let inp = Inputs { x: &xs, x_map: (1.5, 2.0), mu: &mus, mu_map: (-0.5, 3.0) };
    let mut buf = vec![0.0; t.scratch_len(3)];
    t.forward(&th, &inp, &mut buf);
    let seed = [1.0, 1.0, 1.0];
    let (mut g, mut gm) = (vec![0.0; 3], vec![0.0; 3]);
    t.backward(&inp, &seed, &mut buf, &mut g, Some(&mut gm));
    for i in 0..3 {
        let (xd, md) = (1.5 + 2.0 * xs[i], -0.5 + 3.0 * mus[i]);
        let want = eval(&f.expr, xd, md, &th, &data());
        assert!((t.value(&buf, 3, i) - want).abs() < 1e-12 * want.abs().max(1.0));
        // d/d(stored mu) = 3 * d/d(mu in data units) = 3 * 2 c mu.
        assert!((gm[i] - 3.0 * 2.0 * th[2] * md).abs() < 1e-12);
    }
}

#[test]
fn compilation_folds_constants_and_shares_subexpressions() {
    let (_, t) = compile("a*(1 + 2*3) + a*(1 + 2*3) + sd_y*x_max");
    // a, 7, a*7, a*7 + a*7, sd_y*x_max folded, the sum: 6 instructions.
    assert_eq!(t.len(), 6, "{:?}", t.instrs);
    let (_, t) = compile("a*exp(b*x)");
    assert_eq!(t.len(), 6);
    assert_eq!(t.n_uniform, 2);
    // A uniform result: one value for every point; the gradient sums the seeds.
    let (_, t) = compile("exp(a)");
    assert!(!t.varying());
    let x = [0.0, 1.0, 2.0];
    let inp = Inputs::data(&x, &x);
    let mut buf = vec![0.0; t.scratch_len(3)];
    t.forward(&[0.5], &inp, &mut buf);
    let mut g = [0.0];
    t.backward(&inp, &[1.0, 2.0, 3.0], &mut buf, &mut g, None);
    assert!((g[0] - 6.0 * 0.5f64.exp()).abs() < 1e-12);
}

#[test]
fn faults_name_the_operation_and_the_point() {
    let x = [-1.0, 0.5, 2.0];
    for (text, op, point) in
        [("a*exp(1000*x)", "exp", 2), ("a/(x - x)", "'/'", 0), ("a*log(x)", "log", 0), ("sqrt(a*x - 1)", "sqrt", 0)]
    {
        let (_, t) = compile(text);
        let mut buf = vec![0.0; t.scratch_len(3)];
        t.forward(&[1.0], &Inputs::data(&x, &x), &mut buf);
        let fault = t.fault(&buf, 3).unwrap_or_else(|| panic!("{text}: no fault"));
        assert_eq!((fault.op.describe(), fault.point), (op, point), "{text}");
    }
    let (_, t) = compile("a*exp(b*x)");
    let mut buf = vec![0.0; t.scratch_len(3)];
    t.forward(&[1.0, 0.3], &Inputs::data(&x, &x), &mut buf);
    assert_eq!(t.fault(&buf, 3), None);
}

#[test]
fn units_of_parameters_are_inferred() {
    let u = |text: &str| units::infer(&Formula::parse(text).unwrap());
    assert_eq!(u("a*exp(b*x)"), [Some([0.0, 1.0]), Some([-1.0, 0.0])]);
    assert_eq!(u("base + amp*exp(-(x - c)^2/(2*w^2))"), [Some([0.0, 1.0]), Some([0.0, 1.0]), Some([1.0, 0.0]), Some([1.0, 0.0])]);
    assert_eq!(u("exp(a + b*x + c*x^2)"), [Some([0.0, 0.0]), Some([-1.0, 0.0]), Some([-2.0, 0.0])]);
    assert_eq!(u("a + b*abs(mu)"), [Some([0.0, 1.0]), Some([0.0, 0.0])]);
    assert_eq!(u("sqrt(a + b*mu)"), [Some([0.0, 2.0]), Some([0.0, 1.0])]);
    // An exponent that is a parameter leaves its base's factor open.
    assert_eq!(u("a + b*abs(x - c)^p"), [Some([0.0, 1.0]), None, Some([1.0, 0.0]), Some([0.0, 0.0])]);
    // Contradictions are dropped, not fatal.
    assert_eq!(u("a*log(x)"), [Some([0.0, 1.0])]);
}

#[test]
fn priors_read_check_and_default_to_the_data_scale() {
    let f = Formula::parse("a*exp(b*x)").unwrap();
    let s = priors::resolve(&f, "", "a~lognormal(-2,1); b~normal(0,1)").unwrap();
    assert_eq!(priors::text(&s), "a ~ lognormal(-2, 1); b ~ normal(0, 1)");
    let p = priors::evaluate(&f, &s, &data()).unwrap();
    assert_eq!(p[0], priors::Prior { positive: true, loc: -2.0, scale: 1.0, unit: 1.0 });
    assert_eq!(p[1], priors::Prior { positive: false, loc: 0.0, scale: 1.0, unit: 1.0 / 1.3 });
    // Defaults: real, scaled by the units; `positive` asks for the positive default.
    let s = priors::resolve(&f, "", "a ~ positive").unwrap();
    assert_eq!(priors::text(&s), "a ~ positive; b ~ real");
    let p = priors::evaluate(&f, &s, &data()).unwrap();
    assert_eq!(p[0], priors::Prior { positive: true, loc: 0.8f64.ln(), scale: 2.0, unit: 1.0 });
    assert_eq!(p[1], priors::Prior { positive: false, loc: 0.0, scale: 1.0 / 1.3, unit: 1.0 / 1.3 });
    let (l, sc) = priors::default_loc_scale(true, Some([-1.0, 1.0]));
    assert_eq!((l.to_text(&[]), sc.to_text(&[])), ("log(sd_y) - log(sd_x)".to_string(), "2".to_string()));
    let (l, sc) = priors::default_loc_scale(false, Some([1.0, 0.0]));
    assert_eq!((l.to_text(&[]), sc.to_text(&[])), ("mean_x".to_string(), "sd_x".to_string()));
    let (_, sc) = priors::default_loc_scale(false, Some([-2.0, 1.0]));
    assert_eq!(sc.to_text(&[]), "sd_y/sd_x^2");
    // Errors.
    let e = |t: &str| priors::resolve(&f, "", t).unwrap_err().message;
    assert_eq!(e("c~normal(0,1)"), "the priors name 'c', which is not a parameter of the formula (its parameters: a, b)");
    assert_eq!(e("a~gamma(1,2)"), "unknown prior 'gamma' at column 3: use normal(location, scale), lognormal(location, scale), positive or real");
    assert_eq!(e("a normal(0,1)"), "missing '~' after 'a' at column 3");
    assert_eq!(e("a~normal(0,1) b~real"), "missing ';' before 'b' at column 15");
    assert_eq!(e("a~real; a~positive"), "the prior of 'a' is given twice (column 9)");
    assert_eq!(e("a~normal(0 1)"), "missing ',' at column 12: write normal(location, scale)");
    assert_eq!(e("a~normal(x, 1)"), "a prior cannot depend on 'x' (column 10)");
    let bad = priors::resolve(&f, "", "a~normal(0, -1)").unwrap();
    assert_eq!(priors::check_without_data(&bad).unwrap_err().message, "the prior of a: its scale -1 must be positive (got -1)");
    assert!(priors::check_without_data(&priors::resolve(&f, "", "a~normal(0, sd_x - 1)").unwrap()).is_ok());
    // Editing one entry; dropping entries of parameters that are gone.
    assert_eq!(priors::with_entry("a~real", s[1].clone()).unwrap(), "a ~ real; b ~ real");
    let g = Formula::parse("a*x").unwrap();
    assert_eq!(priors::keep_known("a~real; b~positive", &g), "a ~ real");
}

// ------------------------------------------------------------------ properties

/// Random formula trees over parameters a, b, c (renumbered in order of appearance).
fn tree() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0.0f64..10.0).prop_map(|v| Expr::new(Kind::Num(v))),
        Just(Expr::new(Kind::Num(2.0))),
        Just(Expr::new(Kind::Pi)),
        Just(Expr::new(Kind::Var(Var::X))),
        Just(Expr::new(Kind::Var(Var::Mu))),
        prop::sample::select(DataConst::ALL.to_vec()).prop_map(|c| Expr::new(Kind::Data(c))),
        (0usize..3).prop_map(|k| Expr::new(Kind::Param(k))),
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| Expr::new(Kind::Neg(Box::new(a)))),
            (prop::sample::select(vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div, BinOp::Pow]), inner.clone(), inner.clone())
                .prop_map(|(op, a, b)| Expr::new(Kind::Bin(op, Box::new(a), Box::new(b)))),
            (prop::sample::select(Func::ALL.to_vec()), inner.clone(), inner)
                .prop_map(|(f, a, b)| Expr::new(Kind::Call(f, if f.arity() == 2 { vec![a, b] } else { vec![a] }))),
        ]
    })
}

/// Number the parameters by first appearance, as the parser does.
fn renumber(e: &mut Expr, map: &mut Vec<usize>) {
    match &mut e.kind {
        Kind::Param(k) => {
            let i = match map.iter().position(|m| m == k) {
                Some(i) => i,
                None => {
                    map.push(*k);
                    map.len() - 1
                }
            };
            *k = i;
        }
        Kind::Neg(a) => renumber(a, map),
        Kind::Bin(_, a, b) => {
            renumber(a, map);
            renumber(b, map);
        }
        Kind::Call(_, args) => args.iter_mut().for_each(|a| renumber(a, map)),
        _ => {}
    }
}

fn formula_of(mut e: Expr) -> Formula {
    let mut map = Vec::new();
    renumber(&mut e, &mut map);
    let names = ["a", "b", "c"];
    Formula { expr: e, params: map.iter().map(|&k| names[k].to_string()).collect() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn printing_then_parsing_gives_the_same_formula(e in tree()) {
        let f = formula_of(e);
        let text = f.to_string();
        let back = parse::formula(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back, &f, "{}", text);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn the_tape_agrees_with_the_tree_on_random_formulas(e in tree(), x in -3.0f64..3.0, mu in -3.0f64..3.0) {
        let f = formula_of(e);
        let th = [0.8, -0.6, 1.7];
        let t = Tape::compile(&f, &data());
        let got = tape_values(&t, &th[..f.params.len()], &[x, 0.25, x], &[mu, mu, 0.5]);
        for (i, (xi, mi)) in [(x, mu), (0.25, mu), (x, 0.5)].into_iter().enumerate() {
            let want = eval(&f.expr, xi, mi, &th, &data());
            let ok = if want.is_nan() { got[i].is_nan() } else if want.is_infinite() { got[i] == want } else {
                // Folding and sharing may reassociate nothing: same operations, same order,
                // so the values are bit-identical but for powi vs powf.
                (got[i] - want).abs() <= 1e-9 * want.abs().max(1.0)
            };
            prop_assert!(ok, "{}: {} vs {} at point {}", f, got[i], want, i);
        }
    }

    #[test]
    fn no_input_makes_the_parser_panic(s in "[ -~·²σ\\t]{0,80}") {
        let _ = Formula::parse(&s);
        let _ = priors::parse(&s);
    }

    #[test]
    fn nearly_formulas_do_not_make_the_parser_panic(s in "[abxmu0-9.e+*/^() ,;~-]{0,60}|(exp|log|min|max|sqrt|normal|lognormal)\\([a-z0-9,+*^() -]{0,30}") {
        if let Ok(f) = Formula::parse(&s) {
            // Whatever parses compiles and evaluates without panicking.
            let t = Tape::compile(&f, &data());
            let th = vec![0.5; f.params.len()];
            let _ = tape_values(&t, &th, &[0.1, 2.0], &[0.3, -1.0]);
            prop_assert_eq!(Formula::parse(&f.to_string()).unwrap(), f);
        }
        if let Ok(p) = priors::parse(&s) {
            prop_assert_eq!(priors::parse(&priors::text(&p)).unwrap(), p);
        }
    }
}
