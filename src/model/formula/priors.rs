//! Priors of a formula's parameters, in data units, as the user writes them:
//! `a~lognormal(-2,1); b~normal(0,1)`. `lognormal(m, s)`: the parameter is positive and
//! its log ~ N(m, s²); `normal(m, s)`: it is real, ~ N(m, s²). The location and scale may
//! use numbers, `pi`, functions and the data's constants (`b~normal(0, 1/sd_x)`).
//! `a~positive` and `a~real` ask for the default prior of that kind, scaled to the data
//! by the parameter's units ([`super::units`]).

use super::parse::{self, lex, Mode, Parser, Tok};
use super::{units, BinOp, DataConst, DataConsts, Expr, Formula, FormulaError, Func, Kind};

/// Prior sd of the log of a positive parameter by default (the built-in laws' 2, in
/// units of the quantity's own scale).
pub const LOG_SCALE_PRIOR_SD: f64 = 2.0;
/// Prior sd of a real parameter by default, in units of its own scale.
pub const SHAPE_PRIOR_SD: f64 = 1.0;

/// One parameter's prior as written: positive (log-normal) or real (normal), with a
/// location and a scale (None: the default of that kind, scaled to the data).
#[derive(Clone, Debug, PartialEq)]
pub struct PriorSpec {
    pub name: String,
    pub positive: bool,
    pub loc_scale: Option<(Expr, Expr)>,
}

impl PriorSpec {
    /// `a ~ lognormal(log(sd_y), 2)`, `b ~ real`.
    pub fn text(&self) -> String {
        let dist = if self.positive { "lognormal" } else { "normal" };
        match &self.loc_scale {
            Some((l, s)) => format!("{} ~ {dist}({}, {})", self.name, l.to_text(&[]), s.to_text(&[])),
            None => format!("{} ~ {}", self.name, if self.positive { "positive" } else { "real" }),
        }
    }
    /// The location and scale with these data constants.
    pub fn evaluate(&self, data: &DataConsts, units: Option<units::Unit>) -> Result<Prior, FormulaError> {
        let (l, s) = match &self.loc_scale {
            Some(ls) => ls.clone(),
            None => default_loc_scale(self.positive, units),
        };
        let (loc, scale) = (l.eval_const(data).unwrap_or(f64::NAN), s.eval_const(data).unwrap_or(f64::NAN));
        // A real parameter's coordinate is in units of the data's scale for its units (1
        // when they are unknown); a positive one's is its log, a pure number already.
        let unit = match (self.positive, units) {
            (false, Some(u)) => default_loc_scale(false, Some(u)).1.eval_const(data).filter(|v| v.is_finite() && *v > 0.0).unwrap_or(1.0),
            _ => 1.0,
        };
        if !loc.is_finite() {
            return Err(FormulaError::plain(format!("the prior of {}: its location {} is not a finite number ({loc})", self.name, l.to_text(&[]))));
        }
        if !(scale.is_finite() && scale > 0.0) {
            return Err(FormulaError::plain(format!("the prior of {}: its scale {} must be positive (got {scale})", self.name, s.to_text(&[]))));
        }
        Ok(Prior { positive: self.positive, loc, scale, unit })
    }
}

/// A prior with its numbers, and the coordinate u the samplers move: theta = exp(loc + u)
/// for a positive parameter (u = log theta - loc, prior N(0, scale²)); theta = loc + unit·u
/// for a real one (prior N(0, (scale/unit)²)), `unit` the data's scale in the parameter's
/// units (sd_x for a location, 1/sd_x for a slope in 1/x, 1 for a pure number). These are
/// the coordinates of the fitting units the laws had before they became formulas (log of
/// a z-scored noise sd, z-scored slopes and locations), whatever prior the user states.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prior {
    pub positive: bool,
    pub loc: f64,
    pub scale: f64,
    pub unit: f64,
}

impl Prior {
    #[inline]
    pub fn theta(&self, u: f64) -> f64 {
        if self.positive {
            (self.loc + u).exp()
        } else {
            self.loc + self.unit * u
        }
    }
    /// d theta / d u, given theta.
    #[inline]
    pub fn slope(&self, theta: f64) -> f64 {
        if self.positive {
            theta
        } else {
            self.unit
        }
    }
    /// The coordinate u of a value theta (positive priors need theta > 0).
    pub fn z_of(&self, theta: f64) -> f64 {
        if self.positive {
            theta.ln() - self.loc
        } else {
            (theta - self.loc) / self.unit
        }
    }
    /// The prior sd of the coordinate u.
    pub fn coordinate_sd(&self) -> f64 {
        if self.positive {
            self.scale
        } else {
            self.scale / self.unit
        }
    }
    /// `lognormal(-2.3, 2)` with the numbers.
    pub fn text(&self) -> String {
        let num = |v: f64| {
            let s = format!("{v:.4}");
            let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
            if s == "-0" {
                "0".into()
            } else {
                s
            }
        };
        format!("{}({}, {})", if self.positive { "lognormal" } else { "normal" }, num(self.loc), num(self.scale))
    }
}

/// The default location and scale of a parameter with these units: positive
/// lognormal(log U, 2), real normal(C, U), U the data's scale in those units
/// (sd_x^px sd_y^py), C = mean_x for a parameter in x's units (a location) and 0
/// otherwise; a parameter of unknown units is taken to be a pure number.
pub fn default_loc_scale(positive: bool, unit: Option<units::Unit>) -> (Expr, Expr) {
    let [px, py] = unit.unwrap_or([0.0, 0.0]);
    let e = Expr::new;
    let num = |v: f64| {
        if v < 0.0 {
            e(Kind::Neg(Box::new(e(Kind::Num(-v)))))
        } else {
            e(Kind::Num(v))
        }
    };
    let data = |c: DataConst| e(Kind::Data(c));
    if positive {
        // px log(sd_x) + py log(sd_y)
        let mut terms: Vec<(f64, Expr)> = Vec::new();
        for (p, c) in [(py, DataConst::SdY), (px, DataConst::SdX)] {
            if p != 0.0 {
                let log = e(Kind::Call(Func::Log, vec![data(c)]));
                terms.push((p, if p.abs() == 1.0 { log } else { e(Kind::Bin(BinOp::Mul, Box::new(num(p.abs())), Box::new(log))) }));
            }
        }
        let mut loc: Option<Expr> = None;
        for (p, t) in terms {
            loc = Some(match loc {
                None if p < 0.0 => e(Kind::Neg(Box::new(t))),
                None => t,
                Some(l) => e(Kind::Bin(if p < 0.0 { BinOp::Sub } else { BinOp::Add }, Box::new(l), Box::new(t))),
            });
        }
        (loc.unwrap_or_else(|| num(0.0)), num(LOG_SCALE_PRIOR_SD))
    } else {
        // sd_x^px sd_y^py, as a quotient of powers.
        let power = |c: DataConst, p: f64| {
            if p == 1.0 {
                data(c)
            } else {
                e(Kind::Bin(BinOp::Pow, Box::new(data(c)), Box::new(num(p))))
            }
        };
        let (mut top, mut bottom): (Vec<Expr>, Vec<Expr>) = (Vec::new(), Vec::new());
        for (p, c) in [(py, DataConst::SdY), (px, DataConst::SdX)] {
            if p > 0.0 {
                top.push(power(c, p));
            } else if p < 0.0 {
                bottom.push(power(c, -p));
            }
        }
        let product = |v: Vec<Expr>| v.into_iter().reduce(|a, b| e(Kind::Bin(BinOp::Mul, Box::new(a), Box::new(b))));
        let mut scale = match (product(top), product(bottom)) {
            (Some(t), Some(b)) => e(Kind::Bin(BinOp::Div, Box::new(t), Box::new(b))),
            (Some(t), None) => t,
            (None, Some(b)) => e(Kind::Bin(BinOp::Div, Box::new(num(1.0)), Box::new(b))),
            (None, None) => num(1.0),
        };
        if SHAPE_PRIOR_SD != 1.0 {
            scale = e(Kind::Bin(BinOp::Mul, Box::new(num(SHAPE_PRIOR_SD)), Box::new(scale)));
        }
        let loc = if [px, py] == [1.0, 0.0] { data(DataConst::MeanX) } else { num(0.0) };
        (loc, scale)
    }
}

/// Read a priors text: entries `name ~ dist` separated by `;` (empty ones allowed).
pub fn parse(text: &str) -> Result<Vec<PriorSpec>, FormulaError> {
    let toks = lex(text, &[';', '~'])?;
    let mut p = Parser::new(&toks, Mode::Prior);
    let mut out: Vec<PriorSpec> = Vec::new();
    loop {
        let t = p.peek().clone();
        match &t.tok {
            Tok::End => return Ok(out),
            Tok::Sym(';') => {
                p.pos += 1;
                continue;
            }
            Tok::Name(name) => {
                let col = t.col;
                p.pos += 1;
                let tilde = p.peek().clone();
                if tilde.tok != Tok::Sym('~') {
                    return Err(FormulaError::at(tilde.col, format!("missing '~' after '{name}' at column {}", tilde.col)));
                }
                p.pos += 1;
                let d = p.peek().clone();
                let Tok::Name(dist) = &d.tok else {
                    return Err(unknown_dist(&d.text, d.col));
                };
                p.pos += 1;
                let (positive, loc_scale) = match dist.as_str() {
                    "positive" => (true, None),
                    "real" => (false, None),
                    "lognormal" | "normal" => {
                        let open = p.peek().clone();
                        if open.tok != Tok::Sym('(') {
                            return Err(FormulaError::at(open.col, format!("missing '(' at column {}: write {dist}(location, scale)", open.col)));
                        }
                        p.pos += 1;
                        let loc = p.expr(1)?;
                        let comma = p.peek().clone();
                        if comma.tok != Tok::Sym(',') {
                            return Err(FormulaError::at(comma.col, format!("missing ',' at column {}: write {dist}(location, scale)", comma.col)));
                        }
                        p.pos += 1;
                        let scale = p.expr(1)?;
                        let close = p.peek().clone();
                        if close.tok != Tok::Sym(')') {
                            return Err(FormulaError::at(close.col, format!("missing ')' at column {}", close.col)));
                        }
                        p.pos += 1;
                        (dist == "lognormal", Some((loc, scale)))
                    }
                    _ => return Err(unknown_dist(dist, d.col)),
                };
                if out.iter().any(|s| s.name == *name) {
                    return Err(FormulaError::at(col, format!("the prior of '{name}' is given twice (column {col})")));
                }
                out.push(PriorSpec { name: name.clone(), positive, loc_scale });
                let next = p.peek().clone();
                match next.tok {
                    Tok::End | Tok::Sym(';') => {}
                    _ => return Err(FormulaError::at(next.col, format!("missing ';' before '{}' at column {}", next.text, next.col))),
                }
            }
            _ => return Err(FormulaError::at(t.col, format!("unexpected '{}' at column {}: write name ~ prior", t.text, t.col))),
        }
    }
}

fn unknown_dist(text: &str, col: usize) -> FormulaError {
    let what = if text.is_empty() { "missing prior".to_string() } else { format!("unknown prior '{text}'") };
    FormulaError::at(
        col,
        format!("{what} at column {col}: use normal(location, scale), lognormal(location, scale), positive or real"),
    )
}

/// The priors text of `specs` (`a ~ lognormal(-2, 1); b ~ real`).
pub fn text(specs: &[PriorSpec]) -> String {
    specs.iter().map(PriorSpec::text).collect::<Vec<_>>().join("; ")
}

/// Every parameter's prior: the default for its units, replaced by the preset's
/// (`base`), replaced by the user's (`stated`). Both texts may only name parameters of
/// the formula.
pub fn resolve(f: &Formula, base: &str, stated: &str) -> Result<Vec<PriorSpec>, FormulaError> {
    let mut specs: Vec<PriorSpec> =
        f.params.iter().map(|name| PriorSpec { name: name.clone(), positive: false, loc_scale: None }).collect();
    for text in [base, stated] {
        for s in parse(text)? {
            match specs.iter_mut().find(|p| p.name == s.name) {
                Some(slot) => *slot = s,
                None => {
                    return Err(FormulaError::plain(format!(
                        "the priors name '{}', which is not a parameter of the formula (its parameters: {})",
                        s.name,
                        f.params.join(", ")
                    )))
                }
            }
        }
    }
    Ok(specs)
}

/// The priors' numbers for these data (units from the formula for defaults).
pub fn evaluate(f: &Formula, specs: &[PriorSpec], data: &DataConsts) -> Result<Vec<Prior>, FormulaError> {
    let u = units::infer(f);
    specs.iter().zip(u).map(|(s, u)| s.evaluate(data, u)).collect()
}

/// Check what can be checked without data: a location and scale made of numbers alone
/// must be finite, the scale positive.
pub fn check_without_data(specs: &[PriorSpec]) -> Result<(), FormulaError> {
    let uses_data = |e: &Expr| e.any(&|k| matches!(k, Kind::Data(_)));
    for s in specs {
        if let Some((l, sc)) = &s.loc_scale {
            if !uses_data(l) && !uses_data(sc) {
                s.evaluate(&DataConsts { x_min: 0.0, x_max: 1.0, mean_x: 0.0, sd_x: 1.0, sd_y: 1.0 }, None)?;
            }
        }
    }
    Ok(())
}

/// `stated` with the prior of `spec.name` replaced (or added), in canonical text.
pub fn with_entry(stated: &str, spec: PriorSpec) -> Result<String, FormulaError> {
    let mut specs = parse(stated)?;
    match specs.iter_mut().find(|s| s.name == spec.name) {
        Some(slot) => *slot = spec,
        None => specs.push(spec),
    }
    Ok(text(&specs))
}

/// `stated` without the priors of names that are not parameters of `f` (after the
/// formula changed), in canonical text; an unreadable text becomes empty.
pub fn keep_known(stated: &str, f: &Formula) -> String {
    match parse(stated) {
        Ok(specs) => text(&specs.into_iter().filter(|s| f.params.contains(&s.name)).collect::<Vec<_>>()),
        Err(_) => String::new(),
    }
}

/// A location or scale typed on its own (the page's priors table).
pub fn parse_value(text: &str) -> Result<Expr, FormulaError> {
    Ok(parse::whole(text, Mode::Prior, "empty: write a number, e.g. 0, 2 or log(sd_y)")?.0)
}
