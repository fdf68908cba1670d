//! The tokenizer and recursive-descent parser of formulas (and of the expressions in a
//! priors text). Grammar, loosest first:
//!
//! ```text
//! expr  = term (("+" | "-") term)*
//! term  = unary (("*" | "/") unary)*
//! unary = ("-" | "+") unary | power
//! power = atom ("^" unary)?          right-associative; 2^-x is allowed
//! atom  = number | name | name "(" expr ("," expr)* ")" | "(" expr ")"
//! ```

use super::{BinOp, DataConst, Expr, FormulaError, Func, Kind, Var, MAX_DEPTH, MAX_LEN, MAX_PARAMS};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    Num(f64),
    Name(String),
    Sym(char),
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// 1-based column of its first character.
    pub col: usize,
    /// As written.
    pub text: String,
}

/// A hint for characters people paste from typeset formulas.
fn char_hint(c: char) -> &'static str {
    match c {
        '·' | '×' | '⋅' | '∙' => " (write * for a product)",
        '−' | '–' | '—' => " (write - for a minus)",
        '²' | '³' => " (write ^2 or ^3 for a power)",
        'σ' | 'μ' | 'θ' => " (write Latin letters: mu for the mean)",
        '[' | ']' | '{' | '}' => " (use round parentheses)",
        _ => "",
    }
}

/// Split `text` into tokens; `extra` are symbols allowed besides `+ - * / ^ ( ) ,`.
pub(crate) fn lex(text: &str, extra: &[char]) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > MAX_LEN {
        return Err(FormulaError::plain(format!("too long ({} characters; at most {MAX_LEN})", chars.len())));
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let digit_at = |j: usize| chars.get(j).is_some_and(|c| c.is_ascii_digit());
        if c.is_ascii_digit() || (c == '.' && digit_at(i + 1)) {
            let start = i;
            while digit_at(i) {
                i += 1;
            }
            if chars.get(i) == Some(&'.') {
                i += 1;
                while digit_at(i) {
                    i += 1;
                }
            }
            if matches!(chars.get(i), Some('e' | 'E')) {
                let sign = matches!(chars.get(i + 1), Some('+' | '-'));
                let first = i + 1 + sign as usize;
                if digit_at(first) {
                    i = first;
                    while digit_at(i) {
                        i += 1;
                    }
                }
            }
            let s: String = chars[start..i].iter().collect();
            let v: f64 = s.parse().map_err(|_| FormulaError::at(col, format!("bad number '{s}' at column {col}")))?;
            if !v.is_finite() {
                return Err(FormulaError::at(col, format!("the number '{s}' at column {col} is too large")));
            }
            out.push(Token { tok: Tok::Num(v), col, text: s });
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while chars.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Token { tok: Tok::Name(s.clone()), col, text: s });
            continue;
        }
        if "+-*/^(),".contains(c) || extra.contains(&c) {
            out.push(Token { tok: Tok::Sym(c), col, text: c.to_string() });
            i += 1;
            continue;
        }
        return Err(FormulaError::at(col, format!("unexpected character '{c}' at column {col}{}", char_hint(c))));
    }
    out.push(Token { tok: Tok::End, col: chars.len() + 1, text: String::new() });
    Ok(out)
}

/// What names may stand for in the text being parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A noise formula: x, mu, data constants and parameters.
    Formula,
    /// A prior's location or scale: numbers, pi and data constants only.
    Prior,
}

pub(crate) struct Parser<'a> {
    toks: &'a [Token],
    pub pos: usize,
    pub params: Vec<String>,
    mode: Mode,
}

type R = Result<Expr, FormulaError>;

fn node(kind: Kind, col: usize) -> Expr {
    Expr { kind, col }
}

impl<'a> Parser<'a> {
    pub fn new(toks: &'a [Token], mode: Mode) -> Parser<'a> {
        Parser { toks, pos: 0, params: Vec::new(), mode }
    }

    pub fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_sym(&self, c: char) -> bool {
        self.peek().tok == Tok::Sym(c)
    }

    fn deep(&self, depth: usize) -> Result<(), FormulaError> {
        if depth > MAX_DEPTH {
            let col = self.peek().col;
            return Err(FormulaError::at(col, format!("nested too deeply at column {col} (at most {MAX_DEPTH} levels)")));
        }
        Ok(())
    }

    /// `depth` counts nesting levels (parentheses, calls, signs, exponents), so that
    /// no input runs the recursion out of stack.
    pub fn expr(&mut self, depth: usize) -> R {
        let mut lhs = self.term(depth)?;
        loop {
            let op = match self.peek().tok {
                Tok::Sym('+') => BinOp::Add,
                Tok::Sym('-') => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let col = self.advance().col;
            let rhs = self.term(depth)?;
            lhs = node(Kind::Bin(op, Box::new(lhs), Box::new(rhs)), col);
        }
    }

    fn term(&mut self, depth: usize) -> R {
        let mut lhs = self.unary(depth)?;
        loop {
            let op = match self.peek().tok {
                Tok::Sym('*') => BinOp::Mul,
                Tok::Sym('/') => BinOp::Div,
                _ => return Ok(lhs),
            };
            let col = self.advance().col;
            let rhs = self.unary(depth)?;
            lhs = node(Kind::Bin(op, Box::new(lhs), Box::new(rhs)), col);
        }
    }

    fn unary(&mut self, depth: usize) -> R {
        self.deep(depth)?;
        if self.is_sym('-') {
            let col = self.advance().col;
            let a = self.unary(depth + 1)?;
            return Ok(node(Kind::Neg(Box::new(a)), col));
        }
        if self.is_sym('+') {
            self.advance();
            return self.unary(depth + 1);
        }
        self.power(depth)
    }

    fn power(&mut self, depth: usize) -> R {
        let base = self.atom(depth)?;
        if self.is_sym('^') {
            let col = self.advance().col;
            let e = self.unary(depth + 1)?;
            return Ok(node(Kind::Bin(BinOp::Pow, Box::new(base), Box::new(e)), col));
        }
        Ok(base)
    }

    fn expect_close(&mut self) -> Result<(), FormulaError> {
        if self.is_sym(')') {
            self.advance();
            return Ok(());
        }
        let col = self.peek().col;
        Err(FormulaError::at(col, format!("missing ')' at column {col}")))
    }

    fn atom(&mut self, depth: usize) -> R {
        self.deep(depth)?;
        let t = self.advance();
        let col = t.col;
        match t.tok {
            Tok::Num(v) => Ok(node(Kind::Num(v), col)),
            Tok::Sym('(') => {
                let e = self.expr(depth + 1)?;
                self.expect_close()?;
                Ok(e)
            }
            Tok::Name(name) if self.is_sym('(') => self.call(&name, col, depth),
            Tok::Name(name) => self.name(&name, col),
            Tok::End => Err(FormulaError::at(col, format!("missing a number, name or '(' at column {col}"))),
            Tok::Sym(c) => Err(FormulaError::at(col, format!("unexpected '{c}' at column {col}"))),
        }
    }

    fn call(&mut self, name: &str, col: usize, depth: usize) -> R {
        let Some(func) = Func::from_name(name) else {
            if self.known_name(name) {
                return Err(FormulaError::at(col, format!("'{name}' at column {col} is not a function")));
            }
            return Err(FormulaError::at(col, format!("unknown function '{name}' at column {col}")));
        };
        self.advance(); // '('
        let mut args = Vec::new();
        if !self.is_sym(')') {
            loop {
                args.push(self.expr(depth + 1)?);
                if self.is_sym(',') {
                    self.advance();
                    continue;
                }
                break;
            }
        }
        self.expect_close()?;
        if args.len() != func.arity() {
            let want = if func.arity() == 1 { "1 argument".to_string() } else { format!("{} arguments", func.arity()) };
            return Err(FormulaError::at(col, format!("'{name}' needs {want} (got {}) at column {col}", args.len())));
        }
        Ok(node(Kind::Call(func, args), col))
    }

    fn known_name(&self, name: &str) -> bool {
        matches!(name, "x" | "mu" | "pi") || DataConst::from_name(name).is_some()
    }

    fn name(&mut self, name: &str, col: usize) -> R {
        if Func::from_name(name).is_some() {
            return Err(FormulaError::at(col, format!("'{name}' at column {col} is a function: write {name}(...)")));
        }
        let kind = match name {
            "pi" => Kind::Pi,
            "x" | "mu" if self.mode == Mode::Prior => {
                return Err(FormulaError::at(col, format!("a prior cannot depend on '{name}' (column {col})")));
            }
            "x" => Kind::Var(Var::X),
            "mu" => Kind::Var(Var::Mu),
            _ => match DataConst::from_name(name) {
                Some(c) => Kind::Data(c),
                None if self.mode == Mode::Prior => {
                    return Err(FormulaError::at(
                        col,
                        format!(
                            "unknown name '{name}' at column {col}: a prior's location and scale may use numbers, pi \
                             and the data's x_min, x_max, mean_x, sd_x, sd_y"
                        ),
                    ));
                }
                None => {
                    let i = match self.params.iter().position(|p| p == name) {
                        Some(i) => i,
                        None => {
                            if self.params.len() == MAX_PARAMS {
                                return Err(FormulaError::at(col, format!("too many parameters at column {col} (at most {MAX_PARAMS})")));
                            }
                            self.params.push(name.to_string());
                            self.params.len() - 1
                        }
                    };
                    Kind::Param(i)
                }
            },
        };
        Ok(node(kind, col))
    }

    /// The error for a token left over after a complete expression.
    pub fn leftover(&self) -> FormulaError {
        let t = self.peek();
        let col = t.col;
        match &t.tok {
            Tok::Sym(')') => FormulaError::at(col, format!("unexpected ')' at column {col} (no '(' to close)")),
            Tok::Num(_) | Tok::Name(_) | Tok::Sym('(') => {
                FormulaError::at(col, format!("missing operator before '{}' at column {col} (write 2*x for a product)", t.text))
            }
            _ => FormulaError::at(col, format!("unexpected '{}' at column {col}", t.text)),
        }
    }
}

/// Parse all of `text` as one expression (`empty`: the message when there is nothing to
/// parse): the expression and the parameters it names.
pub(crate) fn whole(text: &str, mode: Mode, empty: &str) -> Result<(Expr, Vec<String>), FormulaError> {
    let toks = lex(text, &[])?;
    if toks.len() == 1 {
        return Err(FormulaError::plain(empty));
    }
    let mut p = Parser::new(&toks, mode);
    let expr = p.expr(0)?;
    if p.peek().tok != Tok::End {
        return Err(p.leftover());
    }
    Ok((expr, p.params))
}

/// Parse a whole formula (parameters may be absent: [`super::Formula::parse`] insists).
pub(crate) fn formula(text: &str) -> Result<super::Formula, FormulaError> {
    let (expr, params) = whole(text, Mode::Formula, "the formula is empty")?;
    Ok(super::Formula { expr, params })
}
