//! What the page's URL, local storage and project files hold: the fit settings and
//! where the data come from. One codec for the URL query string, driven by the
//! fields of `FitConfig` itself, so a new setting is in the link without extra code.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::FitConfig;
use crate::data::Synthetic;

/// Where the data on the page come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DataSource {
    /// NeuroBayes's notebook data set (exactly the points of its example).
    Notebook { generator: Synthetic },
    /// Drawn from a generator: reproducible from (generator, n, seed).
    Generated { generator: Synthetic, n: usize, seed: u64 },
    /// Uploaded, pasted, opened from a project or edited by hand: the points
    /// themselves must travel (project file, local storage), not the URL.
    Custom { name: String },
}

impl Default for DataSource {
    fn default() -> Self {
        let g = Synthetic::Bump;
        DataSource::Generated { generator: g, n: g.default_n(), seed: 1 }
    }
}

impl DataSource {
    /// The value of the Dataset picker for this source.
    pub fn picker_value(&self) -> String {
        match self {
            DataSource::Notebook { generator } => format!("notebook:{}", generator.name()),
            DataSource::Generated { generator, .. } => generator.name().to_string(),
            DataSource::Custom { .. } => "custom".into(),
        }
    }

    /// Whether a generated source stays within what a tab can hold. (Notebook data
    /// that do not exist are caught where the points are built, with a message.)
    pub fn check(&self) -> Result<(), String> {
        match self {
            DataSource::Generated { n, .. } if !(2..=MAX_GENERATED).contains(n) => {
                Err(format!("N must be between 2 and {MAX_GENERATED} (got {n})"))
            }
            _ => Ok(()),
        }
    }

    /// Whether a link can reproduce these data.
    pub fn fits_in_url(&self) -> bool {
        !matches!(self, DataSource::Custom { .. })
    }
}

/// Everything a link reproduces.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub config: FitConfig,
    pub source: DataSource,
}

/// Largest N a generator is asked for (a link, a project, the N box).
pub const MAX_GENERATED: usize = 100_000;

/// Config sections flattened into the URL (field names are unique across them).
const SECTIONS: [&str; 2] = ["model", "inference"];
/// Settings only tests use; never put in a link.
const HIDDEN: [&str; 1] = ["fixed_sigma"];

/// The version of the page's links. A link carries only the settings that differ
/// from the defaults of its version, frozen in [`link_defaults`]; links without a
/// version (before v=2) spell out every setting. v=3: NUTS became the default method;
/// v=4: its default became 300 warm-up + 300 draws at depth 7; v=5: 100 warm-up + 150
/// draws at depth 9.
pub const LINK_VERSION: u32 = 5;

/// The defaults behind `v=2` links, frozen: `Settings::default()` when v=2 was made.
/// Whoever changes a default adds a v=3 snapshot (and keeps this one for old links);
/// `the_defaults_are_the_current_link_versions_snapshot` fails until then.
const LINK_DEFAULTS_V2: &str = include_str!("link_defaults_v2.json");

/// The defaults behind `v=3` links, frozen: `Settings::default()` when NUTS (200 warm-up
/// + 200 draws, depth 8, extending) became the default method.
const LINK_DEFAULTS_V3: &str = include_str!("link_defaults_v3.json");

/// The defaults behind `v=4` links, frozen: NUTS with 300 warm-up + 300 draws at depth 7,
/// extending (issue 11: 2 of 36 default fits warned, against 5 of 36 at v=3's).
const LINK_DEFAULTS_V4: &str = include_str!("link_defaults_v4.json");

/// The defaults behind `v=5` links, frozen: NUTS with 100 warm-up + 150 draws at depth 9,
/// extending (issue 11, session 14: the noise parameters' ESS about 3x v=4's at the same
/// gradients, closer to the NUTS references in the fidelity table). Whoever changes a
/// default adds a v=6 snapshot and keeps this one.
const LINK_DEFAULTS_V5: &str = include_str!("link_defaults_v5.json");

/// Settings added after the v=2 snapshot was frozen, with the value (as JSON) a v=2 link
/// (which cannot name them) means by them: their default, which is therefore frozen too
/// (a test holds it; changing it needs a v=3 snapshot like any other default).
pub const ADDED_AFTER_V2: [(&str, &str, &str); 3] =
    [("model", "noise_formula", r#""""#), ("model", "noise_priors", r#""""#), ("inference", "holdout_frac", "0.0")];

/// The frozen snapshot of each link version this page reads.
fn link_defaults_text(version: u32) -> Option<&'static str> {
    match version {
        2 => Some(LINK_DEFAULTS_V2),
        3 => Some(LINK_DEFAULTS_V3),
        4 => Some(LINK_DEFAULTS_V4),
        5 => Some(LINK_DEFAULTS_V5),
        _ => None,
    }
}

/// The frozen defaults of a link version (None: a version this page does not know).
pub fn link_defaults(version: u32) -> Option<Settings> {
    link_defaults_text(version).map(|t| serde_json::from_str(t).expect("the link defaults snapshot parses"))
}

/// The frozen snapshot of a link version as JSON (for the test that it is complete).
pub fn link_defaults_json(version: u32) -> Option<Value> {
    link_defaults_text(version).map(|t| serde_json::from_str(t).expect("the link defaults snapshot parses"))
}

impl Settings {
    /// `v=3&kind=noise_model&draws=300`: the link version, then only the settings
    /// that differ from that version's defaults (compared when the link is made, so
    /// a new or changed default needs no edit here). Generated data other than the
    /// default set are named with their N and seed. A link with `steps=` or `step_size=`
    /// names its method too, and one with `draws=` its `extend`: alone, `steps=` means a
    /// step sampler and `draws=` an exact budget ([`Settings::apply_query`]).
    pub fn to_query(&self) -> String {
        let base = link_defaults(LINK_VERSION).expect("the current link version has defaults");
        let mut parts: Vec<(String, String)> = vec![("v".into(), LINK_VERSION.to_string())];
        if self.source != base.source {
            parts.extend(source_params(&self.source));
        }
        let old = config_params(&base.config);
        for (k, v) in config_params(&self.config) {
            if old.iter().find(|(a, _)| *a == k).map(|(_, b)| b) != Some(&v) {
                parts.push((k, v));
            }
        }
        let has = |parts: &[(String, String)], key: &str| parts.iter().any(|(k, _)| k == key);
        if (has(&parts, "steps") || has(&parts, "step_size")) && !has(&parts, "method") {
            parts.push(("method".into(), self.config.inference.method.name().into()));
        }
        if has(&parts, "draws") && !has(&parts, "extend") && self.config.inference.method.spec().extends {
            parts.push(("extend".into(), self.config.inference.extend.to_string()));
        }
        join_query(&parts)
    }

    /// The links before v=2: every setting spelled out, no version (kept so that
    /// tests can make the links older pages made).
    pub fn to_full_query(&self) -> String {
        let mut parts = source_params(&self.source);
        parts.extend(config_params(&self.config));
        join_query(&parts)
    }

    /// The settings that differ from the first-visit defaults, as `name=value` (the
    /// data as `data=...`), for messages.
    pub fn differences_from_default(&self) -> Vec<String> {
        let base = Settings::default();
        let mut out = Vec::new();
        if self.source != base.source {
            match &self.source {
                DataSource::Custom { name } => out.push(format!("data: {name}")),
                s => out.extend(source_params(s).into_iter().map(|(k, v)| format!("{k}={v}"))),
            }
        }
        let old = config_params(&base.config);
        for (k, v) in config_params(&self.config) {
            if old.iter().find(|(a, _)| *a == k).map(|(_, b)| b) != Some(&v) {
                out.push(format!("{k}={v}"));
            }
        }
        out
    }

    /// Apply a query string over `self`. Unknown keys are ignored (links from newer
    /// versions still open); a bad value is an error naming the setting.
    ///
    /// A link with `v=N` is read over the frozen defaults of version N (what its
    /// missing settings meant when it was made); one without is read over `self`,
    /// as before v=2 (such links name every setting anyway).
    pub fn apply_query(&mut self, query: &str) -> Result<(), String> {
        let pairs = parse_query(query);
        let base = match pairs.iter().rev().find(|(k, _)| k == "v") {
            None => None,
            Some((_, v)) => {
                let version = v.trim().parse::<u32>().map_err(|_| format!("v (the link's version) must be a whole number (got '{v}')"))?;
                Some(link_defaults(version).ok_or_else(|| {
                    format!("the link is of version {version}; this page reads links up to version {LINK_VERSION}")
                })?)
            }
        };
        let (base_config, base_source) = match &base {
            Some(b) => (&b.config, &b.source),
            None => (&self.config, &self.source),
        };
        let mut json = serde_json::to_value(base_config).map_err(|e| e.to_string())?;
        let (mut data, mut n, mut dseed) = (None, None, None);
        for (k, v) in &pairs {
            match k.as_str() {
                "v" => {}
                "data" => data = Some(v.clone()),
                "n" => n = Some(v.parse::<usize>().map_err(|_| format!("n must be a whole number (got '{v}')"))?),
                "dseed" => dseed = Some(v.parse::<u64>().map_err(|_| format!("dseed must be a whole number (got '{v}')"))?),
                _ => {
                    for section in SECTIONS {
                        if let Some(Value::Object(fields)) = json.get_mut(section) {
                            if let Some(slot) = fields.get_mut(k.as_str()) {
                                *slot = param_to_value(slot, v).ok_or_else(|| format!("bad value for {k}: '{v}'"))?;
                            }
                        }
                    }
                }
            }
        }
        let mut config: FitConfig = serde_json::from_value(json).map_err(|e| format!("bad setting in the link: {e}"))?;
        // Before v=2, SGLD read `step_size`; such a link means that value for SGLD too.
        let named = |key: &str| pairs.iter().any(|(k, _)| k == key);
        if base.is_none() && config.inference.method == crate::config::Method::Sgld && named("step_size") && !named("sgld_step_size") {
            config.inference.sgld_step_size = config.inference.step_size;
        }
        // A budget in steps (or a step size) without a method is a step sampler's, and
        // draws without `extend` are honoured exactly, as on the CLI.
        // Its draws are that method's default unless the link names them (the link's base
        // may be an older version's NUTS draws, which the current default need not equal).
        if (named("steps") || named("step_size")) && !named("method") && config.inference.method_for_step_budget() && !named("draws") {
            config.inference.draws = config.inference.method.spec().default_draws;
        }
        if named("draws") && !named("extend") && config.inference.method.spec().extends {
            config.inference.extend = false;
        }
        config.validate().map_err(|e| e.to_string())?;
        let source = match (data, base_source) {
            // "custom" keeps the page's own custom data (the points are not in a link).
            (Some(d), _) => source_from_param(&d, n, dseed, &self.source)?,
            (None, _) if n.is_none() && dseed.is_none() => base_source.clone(),
            // N or the data seed alone: for the generated data already chosen.
            (None, DataSource::Generated { generator, n: n0, seed: s0 }) => {
                let s = DataSource::Generated { generator: *generator, n: n.unwrap_or(*n0), seed: dseed.unwrap_or(*s0) };
                s.check()?;
                s
            }
            (None, _) => return Err("n and dseed apply to generated data: name it too, e.g. data=bump&n=300".into()),
        };
        self.config = config;
        self.source = source;
        Ok(())
    }

    /// Whether a query string carries any setting (then it wins over saved ones).
    pub fn query_has_settings(query: &str) -> bool {
        !parse_query(query).is_empty()
    }
}

fn source_params(source: &DataSource) -> Vec<(String, String)> {
    match source {
        DataSource::Notebook { generator } => vec![("data".into(), format!("notebook:{}", generator.name()))],
        DataSource::Generated { generator, n, seed } => vec![
            ("data".into(), generator.name().into()),
            ("n".into(), n.to_string()),
            ("dseed".into(), seed.to_string()),
        ],
        DataSource::Custom { .. } => vec![("data".into(), "custom".into())],
    }
}

/// Every setting a link can carry, as (name, text), in a fixed order.
fn config_params(c: &FitConfig) -> Vec<(String, String)> {
    let json = serde_json::to_value(c).expect("FitConfig serialises");
    let mut parts = Vec::new();
    for section in SECTIONS {
        if let Some(Value::Object(fields)) = json.get(section) {
            for (k, v) in fields {
                if HIDDEN.contains(&k.as_str()) {
                    continue;
                }
                if let Some(s) = value_to_param(v) {
                    parts.push((k.clone(), s));
                }
            }
        }
    }
    parts
}

fn join_query(parts: &[(String, String)]) -> String {
    parts.iter().map(|(k, v)| format!("{}={}", k, encode(v))).collect::<Vec<_>>().join("&")
}

fn source_from_param(d: &str, n: Option<usize>, seed: Option<u64>, current: &DataSource) -> Result<DataSource, String> {
    let fixed = d == "custom" || d.starts_with("notebook:");
    if fixed && (n.is_some() || seed.is_some()) {
        return Err(format!("n and dseed apply to generated data, not to data={d}"));
    }
    if d == "custom" {
        return Ok(match current {
            DataSource::Custom { .. } => current.clone(),
            _ => DataSource::Custom { name: "your data".into() },
        });
    }
    let source = if let Some(name) = d.strip_prefix("notebook:") {
        let generator = Synthetic::from_name(name).ok_or_else(|| format!("unknown data set '{d}'"))?;
        DataSource::Notebook { generator }
    } else {
        let generator = Synthetic::from_name(d).ok_or_else(|| format!("unknown data set '{d}'"))?;
        DataSource::Generated { generator, n: n.unwrap_or(generator.default_n()), seed: seed.unwrap_or(1) }
    };
    source.check()?;
    Ok(source)
}

fn value_to_param(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(a.iter().filter_map(value_to_param).collect::<Vec<_>>().join(",")),
        Value::Object(_) => None,
    }
}

/// Parse `text` as a value of the same JSON type as `like`.
fn param_to_value(like: &Value, text: &str) -> Option<Value> {
    let t = text.trim();
    match like {
        Value::Bool(_) => match t {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Value::Number(n) if n.is_u64() => t.parse::<u64>().ok().map(Value::from),
        Value::Number(_) => t.parse::<f64>().ok().filter(|x| x.is_finite()).map(Value::from),
        Value::String(_) => Some(Value::String(t.to_string())),
        Value::Array(_) => {
            if t.is_empty() || t == "none" {
                return Some(Value::Array(vec![]));
            }
            let items: Option<Vec<Value>> = t.split(',').map(|p| p.trim().parse::<u64>().ok().map(Value::from)).collect();
            items.map(Value::Array)
        }
        _ => None,
    }
}

/// `a=1&b=x%2Cy` -> [(a, 1), (b, "x,y")]; a leading `?` or `#` is skipped.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.trim_start_matches(['?', '#'])
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b':' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A flat key -> value view of a config, for "what changed" messages.
pub fn flat_config(c: &FitConfig) -> Map<String, Value> {
    let json = serde_json::to_value(c).expect("FitConfig serialises");
    let mut out = Map::new();
    for section in SECTIONS {
        if let Some(Value::Object(fields)) = json.get(section) {
            for (k, v) in fields {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Method, ModelKind, NoiseLawKind, STEP_BUDGET_METHOD};

    #[test]
    fn every_setting_survives_the_url() {
        let mut s = Settings::default();
        s.config.model.kind = ModelKind::NoiseModel;
        s.config.model.noise_law = NoiseLawKind::named("step");
        s.config.model.hidden = vec![16, 4];
        s.config.model.raw_scale = true;
        s.config.inference.method = Method::Vi;
        s.config.inference.steps = 1234;
        s.config.inference.seed = 42;
        s.config.inference.step_size = 7.5e-4;
        s.config.inference.kl_weight = 0.25;
        s.source = DataSource::Generated { generator: Synthetic::Linear, n: 77, seed: 9 };
        let q = s.to_query();
        let mut back = Settings::default();
        back.apply_query(&q).unwrap();
        assert_eq!(back, s);
        assert!(Settings::query_has_settings(&q));
        assert!(!Settings::query_has_settings(""));
    }

    #[test]
    fn notebook_and_custom_sources_round_trip() {
        let mut s = Settings::default();
        s.source = DataSource::Notebook { generator: Synthetic::NbExp };
        let mut back = Settings::default();
        back.apply_query(&s.to_query()).unwrap();
        assert_eq!(back.source, s.source);
        s.source = DataSource::Custom { name: "upload.csv".into() };
        assert!(!s.source.fits_in_url());
        let mut back = Settings::default();
        back.apply_query(&s.to_query()).unwrap();
        assert!(matches!(back.source, DataSource::Custom { .. }));
    }

    #[test]
    fn bad_values_in_a_link_are_refused_with_the_setting_named() {
        let mut s = Settings::default();
        assert!(s.apply_query("steps=abc").unwrap_err().contains("steps"));
        assert!(s.apply_query("step_size=-1").unwrap_err().contains("step size"));
        assert!(s.apply_query("data=nonsense").is_err());
        // Unknown keys are ignored, and nothing changed on error.
        s.apply_query("future_setting=1&steps=500").unwrap();
        assert_eq!(s.config.inference.steps, 500);
    }

    #[test]
    fn query_strings_decode_percent_escapes() {
        assert_eq!(parse_query("?a=1&b=x%2Cy&c"), vec![
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "x,y".to_string()),
            ("c".to_string(), String::new()),
        ]);
        assert_eq!(decode("%E2%9C%93"), Some("✓".into()));
        assert_eq!(encode("a b&c"), "a%20b%26c");
    }

    #[test]
    fn the_defaults_are_the_current_link_versions_snapshot() {
        // Fails when a default changes (or a setting is added): add a v=6 snapshot, keep
        // the older ones for the links already out there, and bump LINK_VERSION.
        let now = serde_json::to_value(Settings::default()).unwrap();
        assert_eq!(Some(now.clone()), link_defaults_json(LINK_VERSION), "Settings::default() differs from the v={LINK_VERSION} snapshot");
        assert_eq!(link_defaults(LINK_VERSION).unwrap().config, FitConfig::default());
        // A v=2 link cannot name the settings added after it: they mean their default,
        // which therefore stays what it was then.
        for (section, key, frozen) in ADDED_AFTER_V2 {
            let frozen: Value = serde_json::from_str(frozen).unwrap();
            assert_eq!(now["config"][section][key], frozen, "the default of {key} is frozen for v=2 links");
            assert!(link_defaults_json(2).unwrap()["config"][section].get(key).is_none());
        }
        // The v=2 snapshot is what the page's defaults were: pSGLD, 20,000 steps.
        let v2 = link_defaults(2).unwrap().config.inference;
        assert_eq!((v2.method, v2.steps, v2.draws, v2.warmup, v2.max_depth, v2.extend), (Method::Psgld, 20_000, 100, 1000, 10, false));
    }

    #[test]
    fn a_link_names_only_the_settings_that_differ_from_the_defaults() {
        assert_eq!(Settings::default().to_query(), "v=5");
        let mut s = Settings::default();
        s.config.inference.draws = 400;
        s.config.model.kind = ModelKind::NoiseModel;
        assert_eq!(s.to_query(), "v=5&kind=noise_model&draws=400&extend=true");
        s.source = DataSource::Generated { generator: Synthetic::Linear, n: 77, seed: 1 };
        assert_eq!(s.to_query(), "v=5&data=linear&n=77&dseed=1&kind=noise_model&draws=400&extend=true");
        let mut back = Settings::default();
        back.config.inference.seed = 99; // what the page held: a v=5 link does not keep it
        back.apply_query(&s.to_query()).unwrap();
        assert_eq!(back, s);
        // The full form is the links made before v=2.
        assert!(s.to_full_query().contains("step_size=0.0002") && !s.to_full_query().contains("v="));
    }

    #[test]
    fn a_custom_noise_formula_and_its_priors_survive_the_url() {
        let mut s = Settings::default();
        s.config.model.kind = ModelKind::NoiseModel;
        s.config.model.noise_law = NoiseLawKind::CUSTOM;
        s.config.model.noise_formula = "a + b*abs(x - c)^p".into();
        s.config.model.noise_priors = "a ~ lognormal(log(sd_y), 2); p ~ normal(1, 0.5)".into();
        let q = s.to_query();
        assert_eq!(
            q,
            "v=5&kind=noise_model&noise_formula=a%20%2B%20b%2Aabs%28x%20-%20c%29%5Ep&noise_law=custom\
             &noise_priors=a%20~%20lognormal%28log%28sd_y%29,%202%29%3B%20p%20~%20normal%281,%200.5%29"
        );
        let mut back = Settings::default();
        back.apply_query(&q).unwrap();
        assert_eq!(back, s);
        // A v=2 link made before formulas existed means the preset, with its priors.
        let mut old = Settings::default();
        old.apply_query("v=2&kind=noise_model&noise_law=step").unwrap();
        assert_eq!((old.config.model.noise_formula.as_str(), old.config.model.noise_priors.as_str()), ("", ""));
        // A bad formula in a link is refused, naming it.
        let e = Settings::default().apply_query("v=2&kind=noise_model&noise_law=custom&noise_formula=a*expp(x)").unwrap_err();
        assert_eq!(e, "noise formula: unknown function 'expp' at column 3 (got 'a*expp(x)')");
    }

    #[test]
    fn a_step_budget_without_a_method_means_psgld_and_a_link_with_steps_names_its_method() {
        let opened = |q: &str| {
            let mut s = Settings::default();
            s.apply_query(q).unwrap();
            s.config.inference
        };
        let psgld = STEP_BUDGET_METHOD;
        // The default (NUTS) counts draws: steps= alone means pSGLD, with its default draws.
        let i = opened("v=3&steps=4000");
        assert_eq!((i.method, i.steps, i.draws), (psgld, 4000, psgld.spec().default_draws));
        let i = opened("steps=4000"); // a hand-made link without a version, read over the defaults
        assert_eq!((i.method, i.steps), (psgld, 4000));
        // A v=2 link's steps were pSGLD's anyway; a named method is kept.
        assert_eq!(opened("v=2&steps=2000").method, psgld);
        let i = opened("v=3&method=nuts&steps=4000&draws=50");
        assert_eq!((i.method, i.steps, i.draws, i.extend), (Method::Nuts, 4000, 50, false), "draws alone: exactly");
        let i = opened("v=3&draws=50&extend=true");
        assert_eq!((i.method, i.draws, i.extend), (Method::Nuts, 50, true));
        assert!(opened("v=3").extend, "the default fit extends");
        assert_eq!(opened("v=3&method=vi&steps=4000").method, Method::Vi);
        assert_eq!(opened("v=3&step_size=0.001").method, psgld, "a step size alone: pSGLD's");
        // A page whose NUTS fit had a changed step budget makes a link that keeps NUTS.
        let mut s = Settings::default();
        s.config.inference.steps = 4000;
        let q = s.to_query();
        assert_eq!(q, "v=5&steps=4000&method=nuts");
        let mut back = Settings::default();
        back.apply_query(&q).unwrap();
        assert_eq!(back, s);
        // A v=2 link of the defaults opens to what it meant: pSGLD, not the new default.
        assert_eq!(opened("v=2").method, Method::Psgld);
        assert_eq!(opened("v=3").method, Method::Nuts);
        // A v=3 link of the defaults keeps v=3's NUTS budget: 200 + 200 draws at depth 8.
        let v3 = opened("v=3");
        assert_eq!((v3.warmup, v3.draws, v3.max_depth, v3.extend), (200, 200, 8, true));
        let v4 = opened("v=4");
        assert_eq!((v4.warmup, v4.draws, v4.max_depth, v4.extend), (300, 300, 7, true));
        let v5 = opened("v=5");
        assert_eq!((v5.warmup, v5.draws, v5.max_depth, v5.extend), (100, 150, 9, true));
        // A link made at v=4 that named its draws keeps v=4's warm-up and depth.
        let v4 = opened("v=4&draws=400&extend=true");
        assert_eq!((v4.warmup, v4.draws, v4.max_depth), (300, 400, 7));
    }

    #[test]
    fn an_sgld_link_from_before_v2_keeps_its_step_size() {
        let mut s = Settings::default();
        s.apply_query("method=sgld&step_size=0.003&steps=500").unwrap();
        assert_eq!((s.config.inference.sgld_step_size, s.config.inference.step_size), (0.003, 0.003));
        let mut s = Settings::default();
        s.apply_query("v=2&method=sgld&step_size=0.003").unwrap();
        assert_eq!(s.config.inference.sgld_step_size, FitConfig::default().inference.sgld_step_size);
    }

    #[test]
    fn a_link_of_an_unknown_version_is_refused_and_changes_nothing() {
        let mut s = Settings::default();
        s.config.inference.steps = 1234;
        let before = s.clone();
        assert!(s.apply_query("v=6&steps=500").unwrap_err().contains("version 6"));
        assert!(s.apply_query("v=two").unwrap_err().contains("v"));
        assert_eq!(s, before);
    }
}
