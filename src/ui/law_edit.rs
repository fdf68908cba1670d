//! The page's noise-law editor as plain functions over the settings (natively tested):
//! choosing a law, typing a formula, editing a parameter's prior, and the rows of the
//! priors table. Every edit either yields settings that validate (and whose law is finite
//! on the current data where the fit starts) or a message for the field, and then
//! changes nothing: the previous formula is kept.

use crate::config::{FitConfig, ModelConfig, ModelKind, NoiseLawKind};
use crate::data::{Dataset, Scaling};
use crate::model::formula::priors::{self, PriorSpec};
use crate::model::formula::{units, DataConsts, Formula};
use crate::model::noise_law::{law_text, parse_law, NoiseLaw};

/// One row of the priors table.
#[derive(Clone, Debug, PartialEq)]
pub struct PriorRow {
    pub name: String,
    pub positive: bool,
    /// Location and scale as text (`log(sd_y)`, `2`).
    pub loc: String,
    pub scale: String,
    /// The prior with the current data's numbers (`lognormal(-0.92, 2)`), when they work.
    pub numbers: Option<String>,
    /// What the parameter means (a preset's), or where its prior comes from.
    pub note: String,
}

/// The data constants of `data` (data units), or None when there are no points.
fn consts(data: &Dataset) -> Option<DataConsts> {
    (!data.is_empty()).then(|| DataConsts::of(&data.x, &data.y))
}

/// The rows of the current law's priors table (empty when the law cannot be read).
pub fn prior_rows(m: &ModelConfig, data: &Dataset) -> Vec<PriorRow> {
    let Ok((f, specs)) = parse_law(m) else { return vec![] };
    let u = units::infer(&f);
    let stated: Vec<String> = priors::parse(&m.noise_priors).map(|v| v.into_iter().map(|s| s.name).collect()).unwrap_or_default();
    let preset = m.noise_law.preset();
    let c = consts(data);
    specs
        .iter()
        .zip(u)
        .map(|(s, u)| {
            let (l, sc) = s.loc_scale.clone().unwrap_or_else(|| priors::default_loc_scale(s.positive, u));
            let meaning = preset.and_then(|p| p.meanings.iter().find(|m| m.0 == s.name)).map(|m| m.1);
            let note = match (meaning, stated.contains(&s.name), s.loc_scale.is_some()) {
                (Some(m), false, _) => m.to_string(),
                (Some(m), true, _) => format!("{m} (your prior)"),
                (None, true, true) => "your prior".into(),
                (None, _, _) => "default: scaled to the data by the parameter's units".into(),
            };
            PriorRow {
                name: s.name.clone(),
                positive: s.positive,
                loc: l.to_text(&[]),
                scale: sc.to_text(&[]),
                numbers: c.and_then(|c| s.evaluate(&c, u).ok()).map(|p| p.text()),
                note,
            }
        })
        .collect()
}

/// The formula shown in the field: the preset's, or the user's.
pub fn formula_text(m: &ModelConfig) -> String {
    law_text(m).0.to_string()
}

/// Whether the law of `c` is finite on `data` where a fit starts (when the data can be
/// fitted at all; otherwise Train says what is wrong with them).
fn check_on_data(c: &FitConfig, data: &Dataset) -> Result<(), String> {
    if c.model.kind != ModelKind::NoiseModel || data.check_fit().is_err() {
        return Ok(());
    }
    let sc = Scaling::fit(data, c.model.raw_scale);
    let x: Vec<f64> = data.x.iter().map(|&v| sc.x_to_std(v)).collect();
    let y: Vec<f64> = data.y.iter().map(|&v| sc.y_to_std(v)).collect();
    let n = y.len() as f64;
    let m = y.iter().sum::<f64>() / n;
    let spread = (y.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
    let spread = if spread > 0.0 && spread.is_finite() { spread } else { 1.0 };
    let law = NoiseLaw::new(&c.model, &x, &sc, spread)?;
    law.check(&x, &y)
}

/// Choose a law in the picker: a preset brings its own formula and priors; "Custom
/// formula" starts from the formula shown (a preset's, with its priors written out) unless
/// the settings hold one already. Either means the noise-model BNN.
pub fn choose_law(c: &FitConfig, law: NoiseLawKind) -> FitConfig {
    let mut c = c.clone();
    if law.is_custom() {
        if !c.model.noise_law.is_custom() || c.model.noise_formula.trim().is_empty() {
            let (f, base) = law_text(&c.model);
            let merged = merge_priors(base, &c.model.noise_priors);
            c.model.noise_formula = f.to_string();
            c.model.noise_priors = merged;
        }
    } else {
        c.model.noise_formula.clear();
        c.model.noise_priors.clear();
    }
    c.model.noise_law = law;
    c.model.kind = ModelKind::NoiseModel;
    c
}

/// The preset's priors with the user's over them, as one text.
fn merge_priors(base: &str, stated: &str) -> String {
    let mut specs = priors::parse(base).unwrap_or_default();
    for s in priors::parse(stated).unwrap_or_default() {
        match specs.iter_mut().find(|p| p.name == s.name) {
            Some(slot) => *slot = s,
            None => specs.push(s),
        }
    }
    priors::text(&specs)
}

/// The formula field changed. The text becomes the custom law (unless it is the shown
/// preset's own formula); priors of parameters it no longer has are dropped. An error
/// (with its column) leaves the settings as they were.
pub fn set_formula(c: &FitConfig, text: &str, data: &Dataset) -> Result<FitConfig, String> {
    let text = text.trim();
    if !c.model.noise_law.is_custom() && text == law_text(&c.model).0 {
        return Ok(c.clone());
    }
    if text.is_empty() {
        return Err("the formula is empty: write one, e.g. a*exp(b*x)".into());
    }
    let f = Formula::parse(text).map_err(|e| e.message)?;
    let mut n = c.clone();
    let (_, base) = law_text(&c.model);
    let merged = merge_priors(base, &c.model.noise_priors);
    n.model.noise_law = NoiseLawKind::CUSTOM;
    n.model.kind = ModelKind::NoiseModel;
    n.model.noise_formula = text.to_string();
    n.model.noise_priors = priors::keep_known(&merged, &f);
    n.validate().map_err(|e| e.to_string())?;
    check_on_data(&n, data)?;
    Ok(n)
}

/// A prior in the table changed: the kind (positive or real), the location or the scale.
/// A new kind starts from its default (scaled to the data); a location or scale must be a
/// number or an expression of the data's constants.
pub fn set_prior(c: &FitConfig, name: &str, positive: bool, loc: &str, scale: &str, data: &Dataset) -> Result<FitConfig, String> {
    let (f, specs) = parse_law(&c.model)?;
    let Some(k) = f.params.iter().position(|p| p == name) else {
        return Err(format!("'{name}' is not a parameter of the formula"));
    };
    let spec = if positive != specs[k].positive {
        PriorSpec { name: name.into(), positive, loc_scale: None }
    } else {
        let l = priors::parse_value(loc).map_err(|e| format!("location: {e}"))?;
        let s = priors::parse_value(scale).map_err(|e| format!("scale: {e}"))?;
        PriorSpec { name: name.into(), positive, loc_scale: Some((l, s)) }
    };
    if let Some(cs) = consts(data) {
        spec.evaluate(&cs, units::infer(&f)[k]).map_err(|e| e.message)?;
    }
    let mut n = c.clone();
    n.model.noise_priors = priors::with_entry(&c.model.noise_priors, spec).map_err(|e| e.message)?;
    n.validate().map_err(|e| e.to_string())?;
    check_on_data(&n, data)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Synthetic;

    fn data() -> Dataset {
        Synthetic::NbExp.generate(40, 1)
    }

    #[test]
    fn choosing_a_preset_then_custom_starts_from_the_presets_formula_and_priors() {
        let c = choose_law(&FitConfig::default(), NoiseLawKind::named("bump"));
        assert_eq!((c.model.kind, c.model.noise_law.name(), formula_text(&c.model).as_str()),
            (ModelKind::NoiseModel, "bump", "base + amp*exp(-(x - c)^2/(2*w^2))"));
        let c = choose_law(&c, NoiseLawKind::CUSTOM);
        assert!(c.model.noise_law.is_custom());
        assert_eq!(c.model.noise_formula, "base + amp*exp(-(x - c)^2/(2*w^2))");
        assert!(c.model.noise_priors.starts_with("base ~ lognormal(log(sd_y), 2); amp ~"), "{}", c.model.noise_priors);
        c.validate().unwrap();
        // Back to a preset and to custom again: the preset's formula again.
        let c = choose_law(&choose_law(&c, NoiseLawKind::named("exponential")), NoiseLawKind::CUSTOM);
        assert_eq!(c.model.noise_formula, "a*exp(b*x)");
    }

    #[test]
    fn editing_the_formula_makes_it_custom_and_keeps_what_still_applies() {
        let d = data();
        let c = choose_law(&FitConfig::default(), NoiseLawKind::named("exponential"));
        // The preset's own formula changes nothing.
        assert_eq!(set_formula(&c, " a*exp(b*x) ", &d).unwrap(), c);
        let n = set_formula(&c, "a*exp(b*x) + s", &d).unwrap();
        assert!(n.model.noise_law.is_custom());
        assert_eq!(n.model.noise_priors, "a ~ lognormal(log(sd_y), 2); b ~ normal(0, 1/sd_x)");
        let rows = prior_rows(&n.model, &d);
        assert_eq!(rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b", "s"]);
        assert!(!rows[2].positive && rows[2].scale == "sd_y" && rows[2].note.starts_with("default"), "{:?}", rows[2]);
        assert!(rows[0].numbers.as_deref().unwrap().starts_with("lognormal("));
        // Dropping b drops its prior.
        let m = set_formula(&n, "a + s*x", &d).unwrap();
        assert_eq!(m.model.noise_priors, "a ~ lognormal(log(sd_y), 2)");
        // Errors name the column and change nothing.
        assert_eq!(set_formula(&n, "a*expp(b*x)", &d).unwrap_err(), "unknown function 'expp' at column 3");
        assert_eq!(set_formula(&n, "a*exp(b*x", &d).unwrap_err(), "missing ')' at column 10");
        assert_eq!(set_formula(&n, "2*x", &d).unwrap_err(), "the formula does not depend on any parameter");
        // Hostile on these data (x in [0, 4]): refused before Train.
        let e = set_formula(&n, "a*exp(1000*x)", &d).unwrap_err();
        assert!(e.contains("exp at column 3 gives inf"), "{e}");
        let e = set_formula(&n, "a*log(x - 2)", &d).unwrap_err();
        assert!(e.contains("log at column 3"), "{e}");
    }

    #[test]
    fn editing_a_prior_writes_it_over_the_presets() {
        let d = data();
        let c = choose_law(&FitConfig::default(), NoiseLawKind::named("exponential"));
        let n = set_prior(&c, "b", false, "0", "0.5", &d).unwrap();
        assert_eq!(n.model.noise_priors, "b ~ normal(0, 0.5)");
        assert_eq!(n.model.noise_law.name(), "exponential");
        let rows = prior_rows(&n.model, &d);
        assert_eq!((rows[1].loc.as_str(), rows[1].scale.as_str()), ("0", "0.5"));
        assert!(rows[1].note.ends_with("(your prior)"));
        // Switching the kind starts from that kind's default.
        let n = set_prior(&n, "b", true, "0", "0.5", &d).unwrap();
        assert_eq!(n.model.noise_priors, "b ~ positive");
        assert_eq!(prior_rows(&n.model, &d)[1].loc, "-log(sd_x)");
        assert_eq!(set_prior(&n, "b", true, "0", "-1", &d).unwrap_err(), "the prior of b: its scale -1 must be positive (got -1)");
        assert_eq!(set_prior(&n, "b", true, "0", "x", &d).unwrap_err(), "scale: a prior cannot depend on 'x' (column 1)");
        assert!(set_prior(&n, "q", true, "0", "1", &d).is_err());
    }
}
