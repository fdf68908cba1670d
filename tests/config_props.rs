//! Properties of the settings decoders (proptest): the JSON form of `FitConfig`
//! (CLI `--config`, project files, local storage) and the page's URL codec
//! (`ui::settings::Settings`). Nothing a user or a link can type makes them panic,
//! nothing invalid gets through, and every valid setting survives the trip.
//! The same claims run unbounded under cargo-fuzz (fuzz/fuzz_targets/).
#![cfg(not(target_arch = "wasm32"))]

use bayesband::config::{
    Activation, FitConfig, InferenceConfig, Method, ModelConfig, ModelKind, NoiseLawKind, MAX_CHAINS, MAX_LAYERS,
    MAX_STEPS, MAX_WIDTH,
};
use bayesband::data::{notebook_preset, Synthetic};
use bayesband::data::Dataset;
use bayesband::ui::settings::{flat_config, parse_query, DataSource, Settings};
use bayesband::ui::state::{AppState, Project, PROJECT_FORMAT};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// 512 cases per property: the file runs in about a second in the test profile.
fn config() -> ProptestConfig {
    ProptestConfig { cases: 512, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------- generators

/// Floats in [lo, hi] for 0 <= lo < hi, drawn three ways: uniformly over the bit
/// patterns (every binade equally, subnormals included: the hard cases for decimal
/// printing and parsing), uniformly over the range, and the ends themselves.
fn float_in(lo: f64, hi: f64) -> BoxedStrategy<f64> {
    prop_oneof![
        4 => (lo.to_bits()..=hi.to_bits()).prop_map(f64::from_bits),
        3 => lo..=hi,
        1 => Just(lo),
        1 => Just(hi),
    ]
    .boxed()
}

/// (0, hi]
fn positive_at_most(hi: f64) -> BoxedStrategy<f64> {
    float_in(f64::from_bits(1), hi)
}

/// The largest f64 below 1 (`f64::next_down` needs Rust 1.86; the crate supports 1.85).
fn below_one() -> f64 {
    f64::from_bits(1.0f64.to_bits() - 1)
}

/// [0, 1)
fn fraction() -> BoxedStrategy<f64> {
    float_in(0.0, below_one())
}

/// Whole numbers in [lo, hi], with the ends twice as likely.
fn whole_in(lo: u64, hi: u64) -> BoxedStrategy<u64> {
    prop_oneof![4 => lo..=hi, 1 => Just(lo), 1 => Just(hi)].boxed()
}

fn model_kind() -> impl Strategy<Value = ModelKind> {
    prop_oneof![Just(ModelKind::Homoskedastic), Just(ModelKind::TwoHead), Just(ModelKind::NoiseModel)]
}

/// Custom formulas with priors that fit them; the generated ones are built from pieces
/// with characters a URL must escape (+ * / ^ ( ) ; ~ and spaces).
const FORMULAS: [(&str, &str); 5] = [
    ("a*exp(b*x)", "a~lognormal(-2,1); b~normal(0,1)"),
    ("a + b*abs(x - c)^p", "p ~ normal(1, 0.5)"),
    ("sqrt(a + b*mu^2)", "a ~ positive; b ~ positive"),
    ("q*x^2 + r", ""),
    ("exp(-(x - t)^2/w)*h + s", "w ~ lognormal(log(sd_x), 1); t ~ normal(mean_x, 2*sd_x)"),
];

fn generated_formula() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        Just("a".to_string()),
        Just("b*x".to_string()),
        Just("exp(-c*x^2)".to_string()),
        Just("abs(mu)*b/2".to_string()),
        Just("min(a, sd_y)".to_string()),
        (1u32..1000).prop_map(|k| format!("{}e-3*b", k)),
    ];
    prop::collection::vec(term, 1..5).prop_map(|t| t.join(" + "))
}

/// The law: a preset (its own priors, or a stated one), or a custom formula and priors.
fn noise_law() -> impl Strategy<Value = (NoiseLawKind, String, String)> {
    prop_oneof![
        prop::sample::select(NoiseLawKind::presets().collect::<Vec<_>>()).prop_map(|k| (k, String::new(), String::new())),
        Just((NoiseLawKind::named("exponential"), String::new(), "b ~ normal(0, 0.5/sd_x)".to_string())),
        prop::sample::select(FORMULAS.to_vec()).prop_map(|(f, p)| (NoiseLawKind::CUSTOM, f.to_string(), p.to_string())),
        generated_formula().prop_map(|f| (NoiseLawKind::CUSTOM, f, String::new())),
    ]
}

fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![Just(Activation::Tanh), Just(Activation::Silu), Just(Activation::Relu)]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![Just(Method::Vi), Just(Method::Sgld), Just(Method::Psgld), Just(Method::Nuts)]
}

fn synthetic() -> impl Strategy<Value = Synthetic> {
    prop::sample::select(Synthetic::ALL.to_vec())
}

/// A model section inside every accepted range; `fixed_sigma` only when asked
/// (the UI cannot set it: it is a test-only setting kept out of links).
fn valid_model(with_fixed_sigma: bool) -> impl Strategy<Value = ModelConfig> {
    let fixed = if with_fixed_sigma {
        prop::option::of(float_in(f64::from_bits(1), f64::MAX)).boxed()
    } else {
        Just(None).boxed()
    };
    (
        model_kind(),
        noise_law(),
        prop::collection::vec(whole_in(1, MAX_WIDTH as u64).prop_map(|w| w as usize), 0..=MAX_LAYERS),
        activation(),
        float_in(1e-3, 100.0),
        any::<bool>(),
        fraction(),
        fixed,
    )
        .prop_map(|(kind, (noise_law, noise_formula, noise_priors), hidden, activation, prior_scale, raw_scale, sigma_floor, fixed_sigma)| {
            ModelConfig {
                kind,
                noise_law,
                noise_formula,
                noise_priors,
                hidden,
                activation,
                prior_scale,
                raw_scale,
                sigma_floor,
                fixed_sigma,
            }
        })
}

/// An inference section inside every accepted range.
fn valid_inference() -> impl Strategy<Value = InferenceConfig> {
    // Tuples of at most 12: three groups.
    let counts = (
        method(),
        whole_in(1, MAX_STEPS as u64),
        whole_in(1, MAX_CHAINS as u64),
        whole_in(0, 1 << 53),
        whole_in(0, 1000),
        whole_in(1, 10_000),
        prop_oneof![any::<u64>(), 0u64..5000],
        prop_oneof![any::<u64>().prop_map(|b| b.max(1)), 1u64..2048],
        any::<bool>(),
        any::<bool>(),
    );
    let rates = (
        positive_at_most(1.0),
        positive_at_most(1.0),
        positive_at_most(1.0),
        positive_at_most(1.0),
        positive_at_most(1.0),
        positive_at_most(1.0),
        positive_at_most(10.0),
        positive_at_most(1e9),
        float_in(f64::from_bits(1), below_one()),
    );
    let fractions = (fraction(), fraction(), fraction(), float_in(0.0, 1.0), float_in(0.0, 1.0), fraction());
    // NUTS: warm-up draws, target acceptance in (0, 1), max tree depth, extension and its cap.
    let nuts = (
        whole_in(0, MAX_STEPS as u64),
        float_in(f64::from_bits(1), below_one()),
        whole_in(1, 15),
        any::<bool>(),
        whole_in(0, MAX_STEPS as u64),
    );
    (counts, rates, fractions, nuts).prop_map(|(c, r, f, n)| {
        let (method, steps, chains, seed, cycles, draws, minibatch_above, batch_size, mean_warmup, psgld_freeze) = c;
        let (step_size, sgld_step_size, warm_start_lr, vi_lr, vi_lr_final, psgld_lambda, vi_init_sd, sgld_decay_offset, psgld_alpha) = r;
        let (warm_start_frac, burn_in_frac, kl_ramp_frac, kl_weight, beta_nll, holdout_frac) = f;
        let (warmup, target_accept, max_depth, extend, extend_gradients) = n;
        InferenceConfig {
            method,
            steps: steps as usize,
            chains: chains as usize,
            seed,
            warm_start_frac,
            warm_start_lr,
            mean_warmup,
            step_size,
            sgld_step_size,
            psgld_alpha,
            psgld_lambda,
            psgld_freeze,
            sgld_decay_offset,
            cycles: cycles as usize,
            burn_in_frac,
            draws: draws as usize,
            warmup: warmup as usize,
            target_accept,
            max_depth: max_depth as usize,
            extend,
            extend_gradients: extend_gradients as usize,
            vi_lr,
            vi_lr_final,
            vi_init_sd,
            kl_weight,
            kl_ramp_frac,
            beta_nll,
            minibatch_above: minibatch_above as usize,
            batch_size: batch_size as usize,
            holdout_frac,
        }
    })
}

fn valid_config(with_fixed_sigma: bool) -> impl Strategy<Value = FitConfig> {
    (valid_model(with_fixed_sigma), valid_inference()).prop_map(|(model, inference)| FitConfig { model, inference })
}

/// Every data source a link can carry (custom data travel as "custom" only).
fn url_source() -> impl Strategy<Value = DataSource> {
    prop_oneof![
        synthetic().prop_map(|generator| DataSource::Notebook { generator }),
        (synthetic(), whole_in(2, 100_000), any::<u64>())
            .prop_map(|(generator, n, seed)| DataSource::Generated { generator, n: n as usize, seed }),
        Just(DataSource::Custom { name: "your data".into() }),
    ]
}

/// The names of every setting (the JSON keys of both sections).
fn setting_names() -> Vec<String> {
    let mut names: Vec<String> = flat_config(&FitConfig::default()).keys().cloned().collect();
    names.push("fixed_sigma".into());
    names
}

/// Values of every JSON type, with the numbers settings trip over.
fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from), // non-finite becomes null
        prop::sample::select(vec![0.0, -0.0, 1.0, -1.0, 1e-300, 5e-324, 1e300, f64::MAX, 9007199254740993.0])
            .prop_map(Value::from),
        prop::sample::select(vec![
            "psgld", "vi", "sgld", "two_head", "noise_model", "homoskedastic", "tanh", "silu", "relu", "exponential",
            "step", "", "NaN", "1e400",
        ])
        .prop_map(|s| Value::String(s.into())),
        ".{0,12}".prop_map(Value::String),
    ]
}

/// JSON values shaped like a config: objects keyed mostly by real section and
/// setting names, so that decoding gets past the first field.
fn json_ish() -> impl Strategy<Value = Value> {
    let mut keys = setting_names();
    keys.extend(["model", "inference", "hidden", "extra"].map(String::from));
    let key = prop_oneof![4 => prop::sample::select(keys), 1 => "[a-z_]{0,8}"];
    json_leaf().prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A valid config's JSON with one setting replaced by an arbitrary value: the
/// near misses (right shape, one bad field) that exercise `validate` hardest.
fn json_near_miss() -> impl Strategy<Value = Value> {
    (valid_config(true), prop::sample::select(setting_names()), json_ish()).prop_map(|(c, name, v)| {
        let mut json = serde_json::to_value(&c).unwrap();
        for section in ["model", "inference"] {
            if let Some(Value::Object(fields)) = json.get_mut(section) {
                if fields.contains_key(&name) || name == "fixed_sigma" && section == "model" {
                    fields.insert(name.clone(), v.clone());
                }
            }
        }
        json
    })
}

/// Query strings built from the pieces links are made of, so that most of them
/// reach the value parsers and the validation rather than stopping at the first key.
fn query_ish() -> impl Strategy<Value = String> {
    let mut keys = setting_names();
    keys.extend(["data", "n", "dseed", "unknown", ""].map(String::from));
    let key = prop_oneof![6 => prop::sample::select(keys), 1 => "[a-z_%+]{0,6}"];
    let value = prop_oneof![
        prop::sample::select(vec![
            "0", "1", "-1", "2", "0.5", "1e-300", "5e-324", "1e300", "1e400", "-0", "NaN", "inf", "-inf", "true",
            "false", "none", "", " 3 ", "32,16,8", "32,,8", "0,4", "513", "9007199254740992", "9007199254740993",
            "18446744073709551615", "18446744073709551616", "psgld", "vi", "sgld", "two_head", "noise_model",
            "homoskedastic", "logquad", "relu", "custom", "bump", "nb_exp", "notebook:nb_step", "notebook:x", "%",
            "%2", "%2C", "%zz", "%C3%A9", "%FF", "%00", "+", "a+b", "%26", "%3D",
        ])
        .prop_map(String::from),
        any::<u32>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        ".{0,8}",
    ];
    (prop_oneof![Just(""), Just("?"), Just("#")], prop::collection::vec((key, any::<bool>(), value), 0..12)).prop_map(
        |(lead, pairs)| {
            let body: Vec<String> =
                pairs.into_iter().map(|(k, eq, v)| if eq { format!("{k}={v}") } else { format!("{k}{v}") }).collect();
            format!("{lead}{}", body.join("&"))
        },
    )
}

/// Settings as a page might hold them before a link is applied.
fn some_settings() -> impl Strategy<Value = Settings> {
    prop_oneof![
        Just(Settings::default()),
        (valid_config(false), url_source()).prop_map(|(config, source)| Settings { config, source }),
        valid_config(false).prop_map(|config| Settings { config, source: DataSource::Custom { name: "upload.csv".into() } }),
    ]
}

// ---------------------------------------------------------------- helpers

/// Decoding, then validating, whatever the outcome: only panics fail.
fn decode_and_validate(text: &str) {
    if let Ok(c) = serde_json::from_str::<FitConfig>(text) {
        let _ = c.validate();
        // Validation is a pure check: it gives the same answer twice.
        assert_eq!(c.validate().is_ok(), c.validate().is_ok());
    }
}

/// Bit-exact equality of two configs: `==` on f64 lets -0.0 equal 0.0, the JSON
/// text does not.
fn assert_same(a: &FitConfig, b: &FitConfig) {
    assert_eq!(a, b);
    assert_eq!(serde_json::to_string(a).unwrap(), serde_json::to_string(b).unwrap());
}

// ---------------------------------------------------------------- (a) JSON never panics

proptest! {
    #![proptest_config(config())]

    #[test]
    fn fitconfig_json_decoding_and_validation_never_panic_on_arbitrary_text(text in ".{0,200}") {
        decode_and_validate(&text);
    }

    #[test]
    fn fitconfig_json_decoding_and_validation_never_panic_on_arbitrary_json_objects(v in json_ish()) {
        decode_and_validate(&v.to_string());
        decode_and_validate(&serde_json::json!({ "model": v.clone(), "inference": v }).to_string());
    }

    #[test]
    fn fitconfig_with_one_arbitrary_setting_decodes_and_validates_without_panic(v in json_near_miss()) {
        decode_and_validate(&v.to_string());
    }

    #[test]
    fn refused_fitconfig_says_what_value_was_refused(v in json_near_miss()) {
        if let Ok(c) = serde_json::from_value::<FitConfig>(v) {
            if let Err(e) = c.validate() {
                let msg = e.to_string();
                prop_assert!(msg.contains("(got") || msg.contains("at least 1"), "unhelpful message: {msg}");
            }
        }
    }
}

// ---------------------------------------------------------------- (b) JSON round trip

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_configs_inside_the_documented_ranges_validate(c in valid_config(true)) {
        prop_assert!(c.validate().is_ok(), "{:?}", c.validate());
    }

    #[test]
    fn every_valid_fitconfig_round_trips_through_json_bit_exactly(c in valid_config(true)) {
        let text = serde_json::to_string(&c).unwrap();
        let back: FitConfig = serde_json::from_str(&text).unwrap();
        assert_same(&back, &c);
        prop_assert!(back.validate().is_ok());
        // Pretty-printed (what a project file holds) reads back the same.
        let pretty = serde_json::to_string_pretty(&c).unwrap();
        let back: FitConfig = serde_json::from_str(&pretty).unwrap();
        assert_same(&back, &c);
    }

    #[test]
    fn every_valid_fitconfig_decoded_from_near_miss_json_round_trips(v in json_near_miss()) {
        if let Ok(c) = serde_json::from_value::<FitConfig>(v) {
            if c.validate().is_ok() {
                let back: FitConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
                assert_same(&back, &c);
            }
        }
    }
}

// ---------------------------------------------------------------- (c) URL codec never panics

proptest! {
    #![proptest_config(config())]

    #[test]
    fn apply_query_never_panics_on_arbitrary_text_and_refusal_changes_nothing(q in ".{0,120}", before in some_settings()) {
        let _ = Settings::query_has_settings(&q);
        let mut s = before.clone();
        match s.apply_query(&q) {
            Ok(()) => prop_assert!(s.config.validate().is_ok()),
            Err(_) => prop_assert_eq!(s, before),
        }
    }

    #[test]
    fn apply_query_ok_always_leaves_a_valid_config_and_source(q in query_ish(), before in some_settings()) {
        let mut s = before.clone();
        match s.apply_query(&q) {
            Ok(()) => {
                prop_assert!(s.config.validate().is_ok(), "query {q:?} gave {:?}", s.config.validate());
                if let DataSource::Generated { n, .. } = s.source {
                    prop_assert!((2..=100_000).contains(&n), "query {q:?} gave n = {n}");
                }
                // A link to custom data keeps the page's own custom data (name included).
                if let (DataSource::Custom { .. }, DataSource::Custom { .. }) = (&before.source, &s.source) {
                    prop_assert_eq!(&s.source, &before.source);
                }
            }
            Err(e) => {
                prop_assert!(!e.is_empty());
                prop_assert_eq!(s, before);
            }
        }
    }

    #[test]
    fn settings_accepted_from_any_query_survive_another_link(q in query_ish()) {
        let mut s = Settings::default();
        if s.apply_query(&q).is_ok() {
            let mut back = Settings::default();
            back.apply_query(&s.to_query()).unwrap();
            prop_assert_eq!(back, s);
        }
    }
}

// ---------------------------------------------------------------- (d) URL round trip

proptest! {
    #![proptest_config(config())]

    #[test]
    fn to_query_then_apply_query_round_trips_every_valid_config_the_ui_can_express(
        config in valid_config(false),
        source in url_source(),
        start in some_settings(),
    ) {
        let s = Settings { config, source };
        let q = s.to_query();
        prop_assert!(Settings::query_has_settings(&q));
        // Applied over any settings (a link wins over what the page held) ...
        let mut back = start.clone();
        back.apply_query(&q).unwrap();
        match (&s.source, &start.source) {
            // "data=custom" cannot carry the points: a page that holds custom data keeps them (and their name).
            (DataSource::Custom { .. }, DataSource::Custom { .. }) => prop_assert_eq!(&back.source, &start.source),
            (DataSource::Custom { .. }, _) => {
                let is_custom = matches!(back.source, DataSource::Custom { .. });
                prop_assert!(is_custom, "got {:?}", back.source)
            }
            _ => prop_assert_eq!(&back.source, &s.source),
        }
        assert_same(&back.config, &s.config);
        // ... with the browser's usual decorations of a query string.
        for q2 in [format!("?{q}"), format!("#{q}"), format!("{q}&")] {
            let mut back = Settings::default();
            back.apply_query(&q2).unwrap();
            assert_same(&back.config, &s.config);
        }
    }

    #[test]
    fn to_query_is_plain_url_text(config in valid_config(false), source in url_source()) {
        let q = Settings { config, source }.to_query();
        prop_assert!(q.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~,:%=&".contains(&b)), "{q}");
    }
}

// ---------------------------------------------------------------- page load (saved state + link)

/// Small data sources (a saved Generated source is rebuilt on load: keep n small).
fn small_source() -> impl Strategy<Value = DataSource> {
    let with_preset: Vec<Synthetic> = Synthetic::ALL.into_iter().filter(|&g| notebook_preset(g).is_some()).collect();
    prop_oneof![
        prop::sample::select(with_preset).prop_map(|generator| DataSource::Notebook { generator }),
        (synthetic(), 2usize..300, any::<u64>()).prop_map(|(generator, n, seed)| DataSource::Generated { generator, n, seed }),
        ".{0,10}".prop_map(|name| DataSource::Custom { name }),
    ]
}

/// What local storage may hold: a saved project (valid, with one bad setting or
/// with a generated N out of range), or any text at all (another version's format, a truncated write).
fn saved_text() -> impl Strategy<Value = Option<String>> {
    let project = (valid_config(false), small_source(), prop::collection::vec((-1e3f64..1e3, -1e3f64..1e3), 0..20)).prop_map(
        |(config, source, pts)| {
            let (x, y) = pts.into_iter().unzip();
            let p = Project { format: PROJECT_FORMAT.into(), version: 1, settings: Settings { config, source }, data: Dataset::new(x, y), fit_a: None };
            serde_json::to_value(&p).unwrap()
        },
    ).boxed();
    prop_oneof![
        1 => Just(None),
        2 => project.clone().prop_map(|v| Some(v.to_string())),
        1 => (project.clone(), json_near_miss()).prop_map(|(mut p, bad)| {
            p["settings"]["config"] = bad;
            Some(p.to_string())
        }),
        1 => (project, synthetic(), prop_oneof![0usize..2, 100_001usize..200_000]).prop_map(|(mut p, g, n)| {
            // A generated source outside the N box's range (kept small enough to build if it got through).
            p["settings"]["source"] = serde_json::to_value(DataSource::Generated { generator: g, n, seed: 1 }).unwrap();
            Some(p.to_string())
        }),
        1 => ".{0,80}".prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn page_load_never_panics_on_any_saved_state_and_link_and_shows_data(saved in saved_text(), q in query_ish()) {
        let (s, problem) = AppState::load(saved.as_deref(), &q);
        let custom = matches!(s.settings.source, DataSource::Custom { .. });
        prop_assert!(!s.data.is_empty() || custom, "no data after loading {saved:?} with {q:?}");
        if let Some(p) = problem {
            prop_assert!(!p.is_empty());
        }
    }

    #[test]
    fn page_load_with_a_link_keeps_only_valid_settings(saved in saved_text(), q in query_ish()) {
        let (s, problem) = AppState::load(saved.as_deref(), &q);
        if Settings::query_has_settings(&q) && problem.is_none() {
            prop_assert!(s.settings.config.validate().is_ok(), "link {q:?}: {:?}", s.settings.config.validate());
        }
    }

    #[test]
    fn page_load_always_ends_with_settings_that_validate_and_a_bounded_source(saved in saved_text(), q in query_ish()) {
        let (s, _) = AppState::load(saved.as_deref(), &q);
        prop_assert!(s.settings.config.validate().is_ok(), "{:?}", s.settings.config.validate());
        prop_assert!(s.settings.source.check().is_ok(), "{:?}", s.settings.source);
    }

    #[test]
    fn page_load_restores_what_was_saved(config in valid_config(false), source in small_source()) {
        let mut a = AppState::default();
        a.settings = Settings { config, source };
        if let Some(d) = bayesband::ui::state::data_for(&a.settings.source) {
            a.data = d;
        }
        let (b, problem) = AppState::load(Some(&a.saved()), "");
        prop_assert_eq!(problem, None);
        prop_assert_eq!(&b.settings, &a.settings);
        assert_same(&b.settings.config, &a.settings.config);
    }
}

// ---------------------------------------------------------------- fixed cases

#[test]
fn a_link_cannot_smuggle_in_settings_beyond_the_limits() {
    for q in [
        "hidden=0",
        "hidden=513",
        "hidden=1,1,1,1,1,1,1",
        "steps=0",
        "steps=10000001",
        "step_size=0",
        "step_size=-1e-4",
        "step_size=1e400",
        "seed=9007199254740993",
        "seed=18446744073709551616",
        "prior_scale=0",
        "prior_scale=1e9",
        "chains=0",
        "n=1&data=bump",
        "n=100001&data=bump",
        "n=999999999",
        "n=1",
        "dseed=x",
        "data=notebook:nb_exp&n=999999999",
        "psgld_alpha=1",
        "kind=cubic",
    ] {
        let mut s = Settings::default();
        let err = s.apply_query(q).expect_err(q);
        assert!(!err.is_empty(), "{q}");
        assert_eq!(s, Settings::default(), "{q}");
    }
}

#[test]
fn n_or_dseed_alone_change_the_generated_data_already_chosen_and_nothing_else() {
    let mut s = Settings::default();
    s.apply_query("data=bump&n=150&dseed=4").unwrap();
    s.apply_query("n=300").unwrap();
    assert_eq!(s.source, DataSource::Generated { generator: Synthetic::Bump, n: 300, seed: 4 });
    s.apply_query("dseed=9").unwrap();
    assert_eq!(s.source, DataSource::Generated { generator: Synthetic::Bump, n: 300, seed: 9 });
    // The notebook's draws are fixed: a size without a data set is refused, not ignored.
    s.apply_query("data=notebook:nb_exp").unwrap();
    let before = s.clone();
    let err = s.apply_query("n=300").unwrap_err();
    assert!(err.contains("data=bump&n=300"), "{err}");
    assert_eq!(s, before);
}

#[test]
fn the_largest_seed_a_link_or_javascript_can_carry_is_accepted_exactly() {
    let mut s = Settings::default();
    s.apply_query("seed=9007199254740992").unwrap();
    assert_eq!(s.config.inference.seed, 1 << 53);
    let c: FitConfig = serde_json::from_str(r#"{"inference":{"seed":9007199254740992}}"#).unwrap();
    c.validate().unwrap();
    let c: FitConfig = serde_json::from_str(r#"{"inference":{"seed":9007199254740993}}"#).unwrap();
    assert!(c.validate().unwrap_err().0.contains("2^53"));
}

/// Found by `every_valid_fitconfig_round_trips_through_json_bit_exactly`: without
/// serde_json's `float_roundtrip` feature (then enabled for wasm only) the native
/// build read 3.477852116204207e-65 back as 3.4778521162042064e-65, so a settings
/// file gave the CLI a different config than the browser.
#[test]
fn tiny_settings_read_back_from_json_bit_exactly() {
    let mut c = FitConfig::default();
    c.inference.warm_start_frac = 3.477852116204207e-65;
    c.inference.kl_ramp_frac = 1.3728176742404983e-34;
    c.inference.beta_nll = 2.9534493648766103e-211;
    c.validate().unwrap();
    let back: FitConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back.inference.warm_start_frac.to_bits(), c.inference.warm_start_frac.to_bits());
    assert_eq!(back.inference.kl_ramp_frac.to_bits(), c.inference.kl_ramp_frac.to_bits());
    assert_eq!(back.inference.beta_nll.to_bits(), c.inference.beta_nll.to_bits());
    assert_eq!(serde_json::from_str::<f64>("3.477852116204207e-65").unwrap(), 3.477852116204207e-65);
}

/// A project file (or saved page state) whose generated source asks for more
/// points than a link may (n <= 100000) is refused. Written while it was not (n = 3e6
/// took 0.4 s and 3 million points; 1e9 would have exhausted the tab's memory);
/// fixed in src/ui/state.rs by `DataSource::check`.
#[test]
fn a_project_asking_for_more_generated_points_than_a_link_may_is_refused() {
    use bayesband::ui::state::Action;
    let source = DataSource::Generated { generator: Synthetic::Bump, n: 200_000, seed: 1 };
    let settings = Settings { config: FitConfig::default(), source };
    let project = Project { format: PROJECT_FORMAT.into(), version: 1, settings, data: Dataset::new(vec![], vec![]), fit_a: None };
    let text = serde_json::to_string(&project).unwrap();
    let mut a = AppState::default();
    let before = a.data.clone();
    a.apply(Action::OpenProject(text.clone()));
    assert!(a.data_error.is_some(), "opened with {} points", a.data.len());
    assert_eq!(a.data, before);
    let (b, problem) = AppState::load(Some(&text), "");
    assert!(problem.is_some() && b.data.len() <= 100_000, "loaded {} points", b.data.len());
}

// ---------------------------------------------------------------- short links (v=2) and old full links

proptest! {
    #![proptest_config(config())]

    /// Random settings through the short link (only what differs from the v=2
    /// defaults), read back over whatever the page held: the same settings, and the
    /// link names no setting at its default.
    #[test]
    fn random_settings_round_trip_through_the_short_link(
        config in valid_config(false),
        source in url_source(),
        start in some_settings(),
    ) {
        let s = Settings { config, source };
        let q = s.to_query();
        prop_assert!(q == "v=5" || q.starts_with("v=5&"), "{q}");
        let defaults = flat_config(&FitConfig::default());
        for (k, v) in parse_query(&q) {
            // A link with steps= or step_size= names its method, and one with draws= its
            // extend, at their defaults too (alone they mean pSGLD and an exact budget).
            if k == "method" || k == "extend" {
                continue;
            }
            if let Some(d) = defaults.get(&k) {
                let same = flat_config(&s.config).get(&k) == Some(d);
                prop_assert!(!same, "{k}={v} is at its default yet in the link {q}");
            }
        }
        prop_assert!(q.len() <= s.to_full_query().len() + 4, "short {q} vs full");
        let mut back = start.clone();
        back.apply_query(&q).unwrap();
        assert_same(&back.config, &s.config);
        if !matches!(s.source, DataSource::Custom { .. }) {
            prop_assert_eq!(&back.source, &s.source);
        }
    }

    /// A link made before v=2 (every setting spelled out, no version) opens to the
    /// same settings as before, whatever the page held, and to the same settings as
    /// the short link of those settings.
    #[test]
    fn an_old_full_link_parses_to_the_same_settings_as_before(
        config in valid_config(false),
        source in url_source(),
        start in some_settings(),
    ) {
        let s = Settings { config, source };
        let mut old = start.clone();
        old.apply_query(&s.to_full_query()).unwrap();
        assert_same(&old.config, &s.config);
        let mut short = start.clone();
        short.apply_query(&s.to_query()).unwrap();
        prop_assert_eq!(old, short);
    }
}

/// Links exactly as the page made them before v=2 (copied from that build's
/// address bar): they keep opening to the same fit.
#[test]
fn links_made_before_v2_still_open_to_the_same_settings() {
    let default_link = "data=bump&n=150&dseed=1&activation=tanh&hidden=32,16,8&kind=two_head&noise_law=exponential&prior_scale=1.0&raw_scale=false&sigma_floor=0.001&batch_size=256&beta_nll=0.0&burn_in_frac=0.3&chains=2&cycles=0&draws=100&kl_ramp_frac=0.3&kl_weight=0.1&mean_warmup=true&method=psgld&minibatch_above=1000&psgld_alpha=0.99&psgld_freeze=true&psgld_lambda=0.00001&seed=0&sgld_decay_offset=1000.0&step_size=0.0002&steps=20000&vi_init_sd=0.001&vi_lr=0.001&vi_lr_final=0.0001&warm_start_frac=0.1&warm_start_lr=0.01";
    let vi_link = "data=linear&n=77&dseed=1&activation=tanh&hidden=32,16,8&kind=noise_model&noise_law=step&prior_scale=1.0&raw_scale=false&sigma_floor=0.001&batch_size=256&beta_nll=0.0&burn_in_frac=0.3&chains=2&cycles=0&draws=100&kl_ramp_frac=0.3&kl_weight=0.1&mean_warmup=true&method=vi&minibatch_above=1000&psgld_alpha=0.99&psgld_freeze=true&psgld_lambda=0.00001&seed=17&sgld_decay_offset=1000.0&step_size=0.0002&steps=4321&vi_init_sd=0.001&vi_lr=0.001&vi_lr_final=0.0001&warm_start_frac=0.1&warm_start_lr=0.01";
    // What those links meant: the defaults of the day (the v=2 snapshot), plus the choices.
    let v2 = bayesband::ui::settings::link_defaults(2).unwrap();
    let mut held = Settings::default();
    held.config.inference.steps = 999;
    held.config.inference.step_size = 0.05;
    // NUTS's settings came after those links, which name pSGLD or VI: they keep the page's
    // values (and do not touch the fit).
    let v2 = {
        let mut v = v2;
        let (i, h) = (&mut v.config.inference, &held.config.inference);
        (i.warmup, i.max_depth, i.extend) = (h.warmup, h.max_depth, h.extend);
        v
    };
    let mut s = held.clone();
    s.apply_query(default_link).unwrap();
    assert_eq!(s, v2);
    let mut want = v2.clone();
    want.source = DataSource::Generated { generator: Synthetic::Linear, n: 77, seed: 1 };
    want.config.model.kind = ModelKind::NoiseModel;
    want.config.model.noise_law = NoiseLawKind::named("step");
    want.config.inference.method = Method::Vi;
    want.config.inference.steps = 4321;
    want.config.inference.seed = 17;
    let mut s = held.clone();
    s.apply_query(vi_link).unwrap();
    assert_eq!(s, want);
    // The same settings as a v=5 link are short.
    assert_eq!(want.to_query(), "v=5&data=linear&n=77&dseed=1&kind=noise_model&noise_law=step&draws=100&method=vi&seed=17&steps=4321");
}
