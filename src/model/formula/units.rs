//! The units of a formula's parameters, inferred from the formula, so that a parameter
//! without a stated prior gets one scaled to the data: in `a*exp(b*x)`, sigma is in y's
//! units, so a is too, and b*x must be a pure number, so b is in 1/x's units; a real b
//! then gets normal(0, 1/sd_x), a positive a lognormal(log(sd_y), 2).
//!
//! A unit is a pair of exponents (of x's unit, of y's unit). Every expression's unit is
//! an affine function of the unknown units of the parameters; `+ - min max` equate their
//! operands' units, `exp log sin cos tanh sigmoid` want pure numbers, `sqrt` halves,
//! `abs softplus` keep, and the whole formula is in y's units. Numbers adapt (`x - 1`,
//! `2*w`). The equations are solved by Gaussian elimination; one that contradicts the
//! earlier ones (`log(x)`) is dropped. A parameter whose unit the equations leave open
//! (`a*x^c`) is treated as a pure number.

use super::{BinOp, DataConst, Expr, Formula, Func, Kind, Var};

/// Exponents of (x's unit, y's unit).
pub type Unit = [f64; 2];

const X: Unit = [1.0, 0.0];
const Y: Unit = [0.0, 1.0];
const EPS: f64 = 1e-9;

/// An expression's unit: `c + sum_k m[k] * U_k` over the unknowns U_k, or a bare
/// number's (whatever its context needs).
#[derive(Clone, Debug)]
enum U {
    Wild,
    Aff { c: Unit, m: Vec<f64> },
}

struct Solver {
    n: usize,
    /// Reduced rows: (coefficients, right-hand side, pivot).
    rows: Vec<(Vec<f64>, Unit, usize)>,
    /// Unknowns beyond the parameters (the result of a power with a parameter exponent).
    fresh: usize,
}

impl Solver {
    fn aff(&self, c: Unit) -> U {
        U::Aff { c, m: vec![0.0; self.n] }
    }

    fn fresh(&mut self) -> U {
        let k = self.fresh;
        self.fresh += 1;
        let mut m = vec![0.0; self.n];
        if k < self.n {
            m[k] = 1.0;
        }
        U::Aff { c: [0.0, 0.0], m }
    }

    /// Add the equation a = b (when both have units).
    fn equate(&mut self, a: &U, b: &U) {
        let (U::Aff { c: ca, m: ma }, U::Aff { c: cb, m: mb }) = (a, b) else { return };
        let mut row: Vec<f64> = ma.iter().zip(mb).map(|(x, y)| x - y).collect();
        let mut rhs = [cb[0] - ca[0], cb[1] - ca[1]];
        for (r, rr, p) in &self.rows {
            let f = row[*p];
            if f != 0.0 {
                row.iter_mut().zip(r).for_each(|(x, y)| *x -= f * y);
                rhs[0] -= f * rr[0];
                rhs[1] -= f * rr[1];
            }
        }
        let Some(p) = (0..row.len()).filter(|&k| row[k].abs() > EPS).max_by(|&i, &j| row[i].abs().total_cmp(&row[j].abs())) else {
            return; // redundant, or a contradiction: dropped either way
        };
        let f = row[p];
        row.iter_mut().for_each(|x| *x /= f);
        rhs[0] /= f;
        rhs[1] /= f;
        for (r, rr, _) in &mut self.rows {
            let g = r[p];
            if g != 0.0 {
                r.iter_mut().zip(&row).for_each(|(x, y)| *x -= g * y);
                rr[0] -= g * rhs[0];
                rr[1] -= g * rhs[1];
            }
        }
        self.rows.push((row, rhs, p));
    }

    fn expr(&mut self, e: &Expr) -> U {
        match &e.kind {
            Kind::Num(_) | Kind::Pi => U::Wild,
            Kind::Data(DataConst::SdY) => self.aff(Y),
            Kind::Data(_) => self.aff(X),
            Kind::Var(Var::X) => self.aff(X),
            Kind::Var(Var::Mu) => self.aff(Y),
            Kind::Param(k) => {
                let mut m = vec![0.0; self.n];
                m[*k] = 1.0;
                U::Aff { c: [0.0, 0.0], m }
            }
            Kind::Neg(a) => self.expr(a),
            Kind::Bin(op, a, b) => {
                let (ua, ub) = (self.expr(a), self.expr(b));
                match op {
                    BinOp::Add | BinOp::Sub => self.same(ua, ub),
                    BinOp::Mul => combine(ua, ub, 1.0),
                    BinOp::Div => combine(ua, ub, -1.0),
                    BinOp::Pow => {
                        let k = if b.any(&|k| matches!(k, Kind::Var(_) | Kind::Param(_) | Kind::Data(_))) {
                            None
                        } else {
                            b.eval_const(&super::DataConsts { x_min: 0.0, x_max: 1.0, mean_x: 0.0, sd_x: 1.0, sd_y: 1.0 })
                        };
                        match (k, ua) {
                            (Some(k), U::Aff { c, m }) => U::Aff { c: [k * c[0], k * c[1]], m: m.iter().map(|v| k * v).collect() },
                            (Some(_), U::Wild) => U::Wild,
                            (None, ua) => {
                                let zero = self.aff([0.0, 0.0]);
                                self.equate(&ub, &zero);
                                match ua {
                                    U::Wild => zero,
                                    U::Aff { .. } => self.fresh(),
                                }
                            }
                        }
                    }
                }
            }
            Kind::Call(f, args) => {
                let ua = self.expr(&args[0]);
                match f {
                    Func::Min | Func::Max => {
                        let ub = self.expr(&args[1]);
                        self.same(ua, ub)
                    }
                    Func::Abs | Func::Softplus => ua,
                    Func::Sqrt => match ua {
                        U::Aff { c, m } => U::Aff { c: [0.5 * c[0], 0.5 * c[1]], m: m.iter().map(|v| 0.5 * v).collect() },
                        w => w,
                    },
                    _ => match ua {
                        U::Wild => U::Wild,
                        ua => {
                            let zero = self.aff([0.0, 0.0]);
                            self.equate(&ua, &zero);
                            zero
                        }
                    },
                }
            }
        }
    }

    fn same(&mut self, a: U, b: U) -> U {
        match (&a, &b) {
            (U::Wild, _) => b,
            (_, U::Wild) => a,
            _ => {
                self.equate(&a, &b);
                a
            }
        }
    }
}

fn combine(a: U, b: U, sign: f64) -> U {
    match (a, b) {
        (U::Wild, U::Wild) => U::Wild,
        (U::Aff { c, m }, U::Wild) => U::Aff { c, m },
        (U::Wild, U::Aff { c, m }) => U::Aff { c: [sign * c[0], sign * c[1]], m: m.iter().map(|v| sign * v).collect() },
        (U::Aff { c: ca, m: ma }, U::Aff { c: cb, m: mb }) => {
            U::Aff { c: [ca[0] + sign * cb[0], ca[1] + sign * cb[1]], m: ma.iter().zip(&mb).map(|(x, y)| x + sign * y).collect() }
        }
    }
}

/// Count the unknowns a formula needs: its parameters plus one per power whose exponent
/// is not a plain number.
fn powers(e: &Expr) -> usize {
    match &e.kind {
        Kind::Neg(a) => powers(a),
        Kind::Bin(op, a, b) => {
            let here = (*op == BinOp::Pow && b.any(&|k| matches!(k, Kind::Var(_) | Kind::Param(_) | Kind::Data(_)))) as usize;
            here + powers(a) + powers(b)
        }
        Kind::Call(_, args) => args.iter().map(powers).sum(),
        _ => 0,
    }
}

/// Each parameter's unit, when the formula determines it.
pub fn infer(f: &Formula) -> Vec<Option<Unit>> {
    let k = f.params.len();
    let n = k + powers(&f.expr);
    let mut s = Solver { n, rows: Vec::new(), fresh: k };
    let top = s.expr(&f.expr);
    let y = s.aff(Y);
    s.equate(&top, &y);
    (0..k)
        .map(|p| {
            s.rows
                .iter()
                .find(|(r, _, piv)| *piv == p && r.iter().enumerate().all(|(j, v)| j == p || v.abs() <= EPS))
                .map(|(_, rhs, _)| [clean(rhs[0]), clean(rhs[1])])
        })
        .collect()
}

/// Round exponents that are integers or halves up to float noise.
fn clean(v: f64) -> f64 {
    let r = (2.0 * v).round() / 2.0;
    if (v - r).abs() < 1e-6 {
        r + 0.0
    } else {
        v
    }
}
