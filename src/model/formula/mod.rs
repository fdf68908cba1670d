//! Noise formulas sigma(x; theta) that the user types (issue 13), in the units of the data.
//!
//! The language: the variables `x` (in x's units) and `mu` (the network's mean at x, in
//! y's units); numbers; `pi`; the training data's constants `x_min`, `x_max`, `mean_x`,
//! `sd_x` (population sd) and `sd_y`; `+ - * / ^` (`^` binds tighter than unary minus and is
//! right-associative: `-x^2` is `-(x^2)`, `2^3^2` is `2^9`); parentheses; the functions
//! `exp log sqrt abs sin cos tanh softplus sigmoid min max`. Every other identifier
//! (`[A-Za-z_][A-Za-z0-9_]*`) is a parameter, numbered in order of first appearance.
//!
//! [`Formula::parse`] is a recursive-descent parser of our own (nothing is executed but
//! the expression); its errors name the offending text and its 1-based column.
//! [`tape::Tape`] compiles a formula once into a flat instruction list evaluated over a
//! batch of points, with a reverse sweep for the gradient in every parameter and in `mu`.
//! [`priors`] reads the priors' text (`a~lognormal(-2,1); b~normal(0,1)`) and
//! [`units`] infers each parameter's units, from which a parameter without a stated prior
//! gets one scaled to the data.

mod parse;
pub mod priors;
pub mod tape;
pub mod units;

use std::fmt;

/// Longest formula or priors text accepted, in characters.
pub const MAX_LEN: usize = 1000;
/// Deepest nesting of parentheses, calls, signs and exponents (the parser recurses).
pub const MAX_DEPTH: usize = 50;
/// Most parameters a formula may have.
pub const MAX_PARAMS: usize = 32;

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    Exp,
    Log,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Softplus,
    Sigmoid,
    Min,
    Max,
}

impl Func {
    pub const ALL: [Func; 11] = [
        Func::Exp,
        Func::Log,
        Func::Sqrt,
        Func::Abs,
        Func::Sin,
        Func::Cos,
        Func::Tanh,
        Func::Softplus,
        Func::Sigmoid,
        Func::Min,
        Func::Max,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Log => "log",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tanh => "tanh",
            Func::Softplus => "softplus",
            Func::Sigmoid => "sigmoid",
            Func::Min => "min",
            Func::Max => "max",
        }
    }
    pub fn from_name(s: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == s)
    }
    pub fn arity(self) -> usize {
        match self {
            Func::Min | Func::Max => 2,
            _ => 1,
        }
    }
}

/// A variable that changes from point to point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Var {
    X,
    Mu,
}

impl Var {
    pub fn name(self) -> &'static str {
        match self {
            Var::X => "x",
            Var::Mu => "mu",
        }
    }
}

/// A constant of the training data (data units).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataConst {
    XMin,
    XMax,
    MeanX,
    SdX,
    SdY,
}

impl DataConst {
    pub const ALL: [DataConst; 5] = [DataConst::XMin, DataConst::XMax, DataConst::MeanX, DataConst::SdX, DataConst::SdY];
    pub fn name(self) -> &'static str {
        match self {
            DataConst::XMin => "x_min",
            DataConst::XMax => "x_max",
            DataConst::MeanX => "mean_x",
            DataConst::SdX => "sd_x",
            DataConst::SdY => "sd_y",
        }
    }
    pub fn from_name(s: &str) -> Option<DataConst> {
        DataConst::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// The values of the data constants for one data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DataConsts {
    pub x_min: f64,
    pub x_max: f64,
    pub mean_x: f64,
    pub sd_x: f64,
    pub sd_y: f64,
}

impl DataConsts {
    /// Of training data in data units (population sds; a zero or non-finite sd is 1).
    pub fn of(x: &[f64], y: &[f64]) -> DataConsts {
        let (mean_x, sd_x) = mean_sd(x);
        let (_, sd_y) = mean_sd(y);
        let (x_min, x_max) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let (x_min, x_max) = if x_min <= x_max { (x_min, x_max) } else { (0.0, 1.0) };
        DataConsts { x_min, x_max, mean_x, sd_x, sd_y }
    }
    pub fn get(&self, c: DataConst) -> f64 {
        match c {
            DataConst::XMin => self.x_min,
            DataConst::XMax => self.x_max,
            DataConst::MeanX => self.mean_x,
            DataConst::SdX => self.sd_x,
            DataConst::SdY => self.sd_y,
        }
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len().max(1) as f64;
    let m = v.iter().sum::<f64>() / n;
    let s = (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / n).sqrt();
    (if m.is_finite() { m } else { 0.0 }, if s > 0.0 && s.is_finite() { s } else { 1.0 })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

impl BinOp {
    pub fn symbol(self) -> char {
        match self {
            BinOp::Add => '+',
            BinOp::Sub => '-',
            BinOp::Mul => '*',
            BinOp::Div => '/',
            BinOp::Pow => '^',
        }
    }
}

/// A node of a parsed formula with the 1-based column it starts at (of its operator
/// for a binary operation). Equality ignores the columns: two formulas are equal when
/// they have the same structure.
#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: Kind,
    pub col: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A non-negative number as written (a minus sign is a `Neg`).
    Num(f64),
    Pi,
    Var(Var),
    Data(DataConst),
    /// The formula's parameter with this index (see [`Formula::params`]).
    Param(usize),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.kind == other.kind
    }
}

impl Expr {
    pub fn new(kind: Kind) -> Expr {
        Expr { kind, col: 0 }
    }
    /// Whether `f` holds for this node or any node below it.
    pub fn any(&self, f: &dyn Fn(&Kind) -> bool) -> bool {
        if f(&self.kind) {
            return true;
        }
        match &self.kind {
            Kind::Neg(a) => a.any(f),
            Kind::Bin(_, a, b) => a.any(f) || b.any(f),
            Kind::Call(_, args) => args.iter().any(|a| a.any(f)),
            _ => false,
        }
    }
    /// The value of an expression without variables or parameters (a prior's location
    /// or scale), given the data constants; `None` when it has a variable or parameter.
    pub fn eval_const(&self, data: &DataConsts) -> Option<f64> {
        Some(match &self.kind {
            Kind::Num(v) => *v,
            Kind::Pi => std::f64::consts::PI,
            Kind::Data(c) => data.get(*c),
            Kind::Var(_) | Kind::Param(_) => return None,
            Kind::Neg(a) => -a.eval_const(data)?,
            Kind::Bin(op, a, b) => tape::binary(*op, a.eval_const(data)?, b.eval_const(data)?),
            Kind::Call(f, args) => {
                let a = args[0].eval_const(data)?;
                let b = if args.len() > 1 { args[1].eval_const(data)? } else { 0.0 };
                tape::call(*f, a, b)
            }
        })
    }
}

/// An error in a formula or a priors text, in words for the user ("unknown function
/// 'expp' at column 3"), with the column when there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaError {
    pub message: String,
    pub column: Option<usize>,
}

impl FormulaError {
    pub fn at(column: usize, message: impl Into<String>) -> FormulaError {
        FormulaError { message: message.into(), column: Some(column) }
    }
    pub fn plain(message: impl Into<String>) -> FormulaError {
        FormulaError { message: message.into(), column: None }
    }
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for FormulaError {}

/// A parsed noise formula.
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    pub expr: Expr,
    /// Parameter names in order of first appearance (`a*exp(b*x)`: a, b).
    pub params: Vec<String>,
}

impl Formula {
    /// Parse a formula; at least one parameter is required.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let f = parse::formula(text)?;
        if f.params.is_empty() {
            return Err(FormulaError::plain("the formula does not depend on any parameter"));
        }
        Ok(f)
    }
    /// Whether the formula reads the network's mean `mu`.
    pub fn uses_mu(&self) -> bool {
        self.expr.any(&|k| matches!(k, Kind::Var(Var::Mu)))
    }
    /// Whether the formula reads `x`.
    pub fn uses_x(&self) -> bool {
        self.expr.any(&|k| matches!(k, Kind::Var(Var::X)))
    }
}

// ------------------------------------------------------------------ printing

/// Binding strength when printing: sums 1, products 2, unary minus 3, powers 4, atoms 5.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        Kind::Bin(BinOp::Add | BinOp::Sub, ..) => 1,
        Kind::Bin(BinOp::Mul | BinOp::Div, ..) => 2,
        Kind::Neg(_) => 3,
        Kind::Bin(BinOp::Pow, ..) => 4,
        _ => 5,
    }
}

/// A number in the shortest text that reads back to the same f64.
pub fn number_text(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

struct Printer<'a> {
    e: &'a Expr,
    names: &'a [String],
}

impl Printer<'_> {
    fn sub<'b>(&'b self, e: &'b Expr) -> Printer<'b> {
        Printer { e, names: self.names }
    }
    fn wrap(&self, f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool) -> fmt::Result {
        if parens {
            write!(f, "({})", self.sub(e))
        } else {
            write!(f, "{}", self.sub(e))
        }
    }
}

impl fmt::Display for Printer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.e.kind {
            Kind::Num(v) => f.write_str(&number_text(*v)),
            Kind::Pi => f.write_str("pi"),
            Kind::Var(v) => f.write_str(v.name()),
            Kind::Data(c) => f.write_str(c.name()),
            Kind::Param(i) => f.write_str(self.names.get(*i).map_or("?", |s| s.as_str())),
            Kind::Neg(a) => {
                f.write_str("-")?;
                // The operand of a unary minus parses as a unary expression (a power or
                // another minus).
                self.wrap(f, a, prec(a) < 3)
            }
            Kind::Bin(BinOp::Pow, a, b) => {
                // Right-associative; the exponent may carry its own minus (2^-x).
                self.wrap(f, a, prec(a) <= 4)?;
                f.write_str("^")?;
                self.wrap(f, b, prec(b) < 3)
            }
            Kind::Bin(op, a, b) => {
                let p = if matches!(op, BinOp::Add | BinOp::Sub) { 1 } else { 2 };
                self.wrap(f, a, prec(a) < p)?;
                match op {
                    BinOp::Add | BinOp::Sub => write!(f, " {} ", op.symbol())?,
                    _ => write!(f, "{}", op.symbol())?,
                }
                // Left-associative: an operand of the same strength on the right keeps
                // its parentheses, so the tree reads back as it was.
                self.wrap(f, b, prec(b) <= p)
            }
            Kind::Call(func, args) => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", self.sub(a))?;
                }
                f.write_str(")")
            }
        }
    }
}

impl Expr {
    /// The expression as text, with `names` for its parameters.
    pub fn to_text(&self, names: &[String]) -> String {
        Printer { e: self, names }.to_string()
    }
}

impl fmt::Display for Formula {
    /// The canonical text: reads back to an equal formula.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Printer { e: &self.expr, names: &self.params })
    }
}

#[cfg(test)]
mod tests;
