//! A formula compiled once into a flat instruction list (SSA: instruction i writes slot
//! i and reads only earlier slots), evaluated over a batch of points at a time, with a
//! reverse sweep for the gradient in every parameter and in `mu`.
//!
//! Compilation folds constant subexpressions (numbers, `pi`, the data constants), shares
//! equal subexpressions and drops what the result does not read. Instructions that do not
//! depend on `x` or `mu` ("uniform": parameters and what is computed from them alone) come
//! first and are computed once per batch; the rest ("varying") once per point, one
//! instruction over the whole batch at a time. Nothing is allocated per point: the values
//! and adjoints live in one caller-owned buffer.

use std::collections::HashMap;

use super::{BinOp, DataConsts, Expr, Formula, Func, Kind, Var};

/// What an instruction computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    X,
    Mu,
    Param(usize),
    Const(f64),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    /// a^b for a b that depends on nothing (its derivative is not needed).
    PowConst,
    /// a^k, integer k.
    PowI(i32),
    /// a^b with b depending on parameters: d/db = a^b ln a.
    Pow,
    /// A built-in function of one argument, or of two (min, max).
    Call(Func),
}

impl Op {
    /// The operation as the user wrote it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Op::X => "x",
            Op::Mu => "mu",
            Op::Param(_) => "a parameter",
            Op::Const(_) => "a constant",
            Op::Neg => "'-'",
            Op::Add => "'+'",
            Op::Sub => "'-'",
            Op::Mul => "'*'",
            Op::Div => "'/'",
            Op::PowConst | Op::PowI(_) | Op::Pow => "'^'",
            Op::Call(f) => f.name(),
        }
    }
    fn arity(self) -> usize {
        match self {
            Op::X | Op::Mu | Op::Param(_) | Op::Const(_) => 0,
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::PowConst | Op::Pow => 2,
            Op::Call(f) => f.arity(),
            _ => 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Instr {
    pub op: Op,
    pub a: usize,
    pub b: usize,
    /// Column of the formula it comes from (0: none).
    pub col: usize,
    /// Depends on x or mu (one value per point) rather than one value per batch.
    pub varying: bool,
    /// Depends on a parameter or on mu (an adjoint is needed).
    pub grad: bool,
}

/// The compiled formula.
#[derive(Clone, Debug, PartialEq)]
pub struct Tape {
    pub instrs: Vec<Instr>,
    /// Instructions 0..n_uniform are uniform, the rest varying.
    pub n_uniform: usize,
    pub n_params: usize,
    /// The slot of each parameter (None: the parameter is folded away, e.g. `0*a`).
    pub param_slot: Vec<Option<usize>>,
    pub mu_slot: Option<usize>,
}

/// x_data = x_map.0 + x_map.1 * x[i]: the batch's inputs in the units they are stored in
/// (fitting units), mapped to data units as they are read; the same for mu.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub x: &'a [f64],
    pub x_map: (f64, f64),
    pub mu: &'a [f64],
    pub mu_map: (f64, f64),
}

impl<'a> Inputs<'a> {
    /// Points in data units.
    pub fn data(x: &'a [f64], mu: &'a [f64]) -> Inputs<'a> {
        Inputs { x, x_map: (0.0, 1.0), mu, mu_map: (0.0, 1.0) }
    }
    pub fn len(&self) -> usize {
        self.x.len()
    }
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }
}

/// Where a batch's values and adjoints live in the caller's buffer.
#[derive(Clone, Copy, Debug)]
struct Layout {
    n: usize,
    nu: usize,
    nv: usize,
}

impl Layout {
    /// [uniform values | varying values | uniform adjoints | varying adjoints]
    fn len(&self) -> usize {
        2 * (self.nu + self.nv * self.n)
    }
}

/// One value of a binary operation (constant folding and prior expressions use it too).
pub fn binary(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Pow => a.powf(b),
    }
}

/// One value of a function (`b` only read by min and max).
#[inline(always)]
pub fn call(f: Func, a: f64, b: f64) -> f64 {
    match f {
        Func::Exp => a.exp(),
        Func::Log => a.ln(),
        Func::Sqrt => a.sqrt(),
        Func::Abs => a.abs(),
        Func::Sin => a.sin(),
        Func::Cos => a.cos(),
        Func::Tanh => a.tanh(),
        Func::Softplus => softplus(a),
        Func::Sigmoid => sigmoid(a),
        Func::Min => a.min(b),
        Func::Max => a.max(b),
    }
}

#[inline]
fn softplus(a: f64) -> f64 {
    a.max(0.0) + (-a.abs()).exp().ln_1p()
}

#[inline]
fn sigmoid(a: f64) -> f64 {
    if a >= 0.0 {
        1.0 / (1.0 + (-a).exp())
    } else {
        let e = a.exp();
        e / (1.0 + e)
    }
}

#[inline(always)]
fn unary_value(op: Op, a: f64) -> f64 {
    match op {
        Op::Neg => -a,
        Op::PowI(k) => a.powi(k),
        Op::Call(f) => call(f, a, f64::NAN),
        _ => f64::NAN,
    }
}

/// d out / d a of a unary operation, given a and out.
#[inline(always)]
fn unary_slope(op: Op, a: f64, out: f64) -> f64 {
    match op {
        Op::Neg => -1.0,
        Op::PowI(k) => k as f64 * a.powi(k - 1),
        Op::Call(Func::Exp) => out,
        Op::Call(Func::Log) => 1.0 / a,
        Op::Call(Func::Sqrt) => 0.5 / out,
        Op::Call(Func::Abs) => {
            if a > 0.0 {
                1.0
            } else if a < 0.0 {
                -1.0
            } else {
                0.0
            }
        }
        Op::Call(Func::Sin) => a.cos(),
        Op::Call(Func::Cos) => -a.sin(),
        Op::Call(Func::Tanh) => 1.0 - out * out,
        Op::Call(Func::Softplus) => sigmoid(a),
        Op::Call(Func::Sigmoid) => out * (1.0 - out),
        _ => f64::NAN,
    }
}

#[inline(always)]
fn binary_value(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
        Op::PowConst | Op::Pow => a.powf(b),
        Op::Call(f) => call(f, a, b),
        _ => f64::NAN,
    }
}

/// (d out / d a, d out / d b) of a binary operation.
#[inline(always)]
fn binary_slopes(op: Op, a: f64, b: f64, out: f64) -> (f64, f64) {
    match op {
        Op::Add => (1.0, 1.0),
        Op::Sub => (1.0, -1.0),
        Op::Mul => (b, a),
        Op::Div => (1.0 / b, -out / b),
        Op::PowConst => (b * a.powf(b - 1.0), 0.0),
        Op::Pow => (b * a.powf(b - 1.0), out * a.ln()),
        // Ties go to the first argument.
        Op::Call(Func::Min) => {
            if a <= b {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            }
        }
        Op::Call(Func::Max) => {
            if a >= b {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            }
        }
        _ => (f64::NAN, f64::NAN),
    }
}

/// Builds the instruction list with folding and sharing.
struct Builder {
    instrs: Vec<Instr>,
    seen: HashMap<(u8, u64, usize, usize), usize>,
}

fn op_key(op: Op) -> (u8, u64) {
    match op {
        Op::X => (0, 0),
        Op::Mu => (1, 0),
        Op::Param(k) => (2, k as u64),
        Op::Const(v) => (3, v.to_bits()),
        Op::Neg => (4, 0),
        Op::Add => (5, 0),
        Op::Sub => (6, 0),
        Op::Mul => (7, 0),
        Op::Div => (8, 0),
        Op::PowConst => (9, 0),
        Op::PowI(k) => (10, k as u32 as u64),
        Op::Pow => (11, 0),
        Op::Call(f) => (12, f as u64),
    }
}

impl Builder {
    fn push(&mut self, op: Op, a: usize, b: usize, col: usize) -> usize {
        let (a, b) = match op.arity() {
            0 => (0, 0),
            1 => (a, 0),
            _ => (a, b),
        };
        let (tag, bits) = op_key(op);
        if let Some(&i) = self.seen.get(&(tag, bits, a, b)) {
            return i;
        }
        let (varying, grad) = match op {
            Op::X => (true, false),
            Op::Mu => (true, true),
            Op::Param(_) => (false, true),
            Op::Const(_) => (false, false),
            _ => {
                let ia = &self.instrs[a];
                let (mut v, mut g) = (ia.varying, ia.grad);
                if op.arity() == 2 {
                    v |= self.instrs[b].varying;
                    g |= self.instrs[b].grad;
                }
                (v, g)
            }
        };
        // Fold: every operand a constant and the result finite (a non-finite constant
        // stays an instruction, so that the check before a fit can name it).
        if op.arity() > 0 {
            let c = |i: usize| match self.instrs[i].op {
                Op::Const(v) => Some(v),
                _ => None,
            };
            let folded = match op.arity() {
                1 => c(a).map(|va| unary_value(op, va)),
                _ => c(a).zip(c(b)).map(|(va, vb)| binary_value(op, va, vb)),
            };
            if let Some(v) = folded.filter(|v| v.is_finite()) {
                return self.push(Op::Const(v), 0, 0, col);
            }
        }
        self.instrs.push(Instr { op, a, b, col, varying, grad });
        let i = self.instrs.len() - 1;
        self.seen.insert((tag, bits, a, b), i);
        i
    }

    fn constant(&self, i: usize) -> Option<f64> {
        match self.instrs[i].op {
            Op::Const(v) => Some(v),
            _ => None,
        }
    }

    fn expr(&mut self, e: &Expr, data: &DataConsts) -> usize {
        let col = e.col;
        match &e.kind {
            Kind::Num(v) => self.push(Op::Const(*v), 0, 0, col),
            Kind::Pi => self.push(Op::Const(std::f64::consts::PI), 0, 0, col),
            Kind::Data(c) => self.push(Op::Const(data.get(*c)), 0, 0, col),
            Kind::Var(Var::X) => self.push(Op::X, 0, 0, col),
            Kind::Var(Var::Mu) => self.push(Op::Mu, 0, 0, col),
            Kind::Param(k) => self.push(Op::Param(*k), 0, 0, col),
            Kind::Neg(a) => {
                let a = self.expr(a, data);
                self.push(Op::Neg, a, 0, col)
            }
            Kind::Bin(op, a, b) => {
                let (a, b) = (self.expr(a, data), self.expr(b, data));
                let op = match op {
                    BinOp::Add => Op::Add,
                    BinOp::Sub => Op::Sub,
                    BinOp::Mul => Op::Mul,
                    BinOp::Div => Op::Div,
                    BinOp::Pow => match self.constant(b) {
                        Some(k) if k == k.round() && k.abs() <= 64.0 => {
                            return self.push(Op::PowI(k as i32), a, 0, col);
                        }
                        Some(_) => Op::PowConst,
                        None if !self.instrs[b].grad && !self.instrs[b].varying => Op::PowConst,
                        None if !self.instrs[b].grad => Op::PowConst,
                        None => Op::Pow,
                    },
                };
                self.push(op, a, b, col)
            }
            Kind::Call(f, args) => {
                let a = self.expr(&args[0], data);
                let b = if args.len() > 1 { self.expr(&args[1], data) } else { 0 };
                self.push(Op::Call(*f), a, b, col)
            }
        }
    }
}

/// Where the first non-finite value of a batch came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// The instruction that turned finite operands into a non-finite value.
    pub op: Op,
    pub col: usize,
    /// The point (index in the batch).
    pub point: usize,
    pub value: f64,
}

impl Tape {
    /// Compile `f` with the data constants `data`.
    pub fn compile(f: &Formula, data: &DataConsts) -> Tape {
        let mut b = Builder { instrs: Vec::new(), seen: HashMap::new() };
        let out = b.expr(&f.expr, data);
        // Keep what the result reads, uniform instructions first (a uniform one reads
        // only uniform ones, so the order stays topological).
        let mut live = vec![false; b.instrs.len()];
        live[out] = true;
        for i in (0..b.instrs.len()).rev() {
            if live[i] {
                let ins = b.instrs[i];
                match ins.op.arity() {
                    0 => {}
                    1 => live[ins.a] = true,
                    _ => {
                        live[ins.a] = true;
                        live[ins.b] = true;
                    }
                }
            }
        }
        let order: Vec<usize> = (0..b.instrs.len())
            .filter(|&i| live[i] && !b.instrs[i].varying)
            .chain((0..b.instrs.len()).filter(|&i| live[i] && b.instrs[i].varying))
            .collect();
        let mut new_index = vec![usize::MAX; b.instrs.len()];
        for (j, &i) in order.iter().enumerate() {
            new_index[i] = j;
        }
        let instrs: Vec<Instr> = order
            .iter()
            .map(|&i| {
                let mut ins = b.instrs[i];
                let arity = ins.op.arity();
                ins.a = if arity >= 1 { new_index[ins.a] } else { 0 };
                ins.b = if arity >= 2 { new_index[ins.b] } else { 0 };
                ins
            })
            .collect();
        let n_uniform = instrs.iter().filter(|i| !i.varying).count();
        let mut param_slot = vec![None; f.params.len()];
        let mut mu_slot = None;
        for (j, ins) in instrs.iter().enumerate() {
            match ins.op {
                Op::Param(k) => param_slot[k] = Some(j),
                Op::Mu => mu_slot = Some(j),
                _ => {}
            }
        }
        Tape { instrs, n_uniform, n_params: f.params.len(), param_slot, mu_slot }
    }

    pub fn len(&self) -> usize {
        self.instrs.len()
    }
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }
    /// Whether the result depends on x or mu (else it is one value for every point).
    pub fn varying(&self) -> bool {
        self.instrs.last().is_some_and(|i| i.varying)
    }

    fn layout(&self, n: usize) -> Layout {
        Layout { n, nu: self.n_uniform, nv: self.instrs.len() - self.n_uniform }
    }

    /// f64s of scratch a batch of `n` points needs.
    pub fn scratch_len(&self, n: usize) -> usize {
        self.layout(n).len()
    }

    /// Evaluate the formula at every point of the batch; `buf` (at least
    /// `scratch_len(n)` long) keeps the values for [`Tape::backward`] and [`Tape::value`].
    pub fn forward(&self, theta: &[f64], inp: &Inputs, buf: &mut [f64]) {
        let lay = self.layout(inp.len());
        let n = lay.n;
        let (vals, _) = buf.split_at_mut(lay.nu + lay.nv * n);
        let (u, v) = vals.split_at_mut(lay.nu);
        for (j, ins) in self.instrs[..lay.nu].iter().enumerate() {
            u[j] = match ins.op {
                Op::Param(k) => theta[k],
                Op::Const(c) => c,
                op if op.arity() == 1 => unary_value(op, u[ins.a]),
                op => binary_value(op, u[ins.a], u[ins.b]),
            };
        }
        for (jv, ins) in self.instrs[lay.nu..].iter().enumerate() {
            let (before, rest) = v.split_at_mut(jv * n);
            let out = &mut rest[..n];
            let src = |s: usize| -> Src { if s < lay.nu { Src::S(u[s]) } else { Src::V(&before[(s - lay.nu) * n..][..n]) } };
            match ins.op {
                Op::X => {
                    let (c, m) = inp.x_map;
                    for (o, &x) in out.iter_mut().zip(inp.x) {
                        *o = c + m * x;
                    }
                }
                Op::Mu => {
                    let (c, m) = inp.mu_map;
                    for (o, &x) in out.iter_mut().zip(inp.mu) {
                        *o = c + m * x;
                    }
                }
                op if op.arity() == 1 => {
                    let Src::V(a) = src(ins.a) else { unreachable!("a varying unary op reads a varying slot") };
                    for (o, &a) in out.iter_mut().zip(a) {
                        *o = unary_value(op, a);
                    }
                }
                op => match (src(ins.a), src(ins.b)) {
                    (Src::V(a), Src::V(b)) => {
                        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                            *o = binary_value(op, a, b);
                        }
                    }
                    (Src::V(a), Src::S(b)) => {
                        for (o, &a) in out.iter_mut().zip(a) {
                            *o = binary_value(op, a, b);
                        }
                    }
                    (Src::S(a), Src::V(b)) => {
                        for (o, &b) in out.iter_mut().zip(b) {
                            *o = binary_value(op, a, b);
                        }
                    }
                    (Src::S(_), Src::S(_)) => unreachable!("a varying op reads a varying slot"),
                },
            }
        }
    }

    /// The result at point i after [`Tape::forward`] over `n` points.
    #[inline]
    pub fn value(&self, buf: &[f64], n: usize, i: usize) -> f64 {
        let lay = self.layout(n);
        let last = self.instrs.len() - 1;
        if last < lay.nu {
            buf[last]
        } else {
            buf[lay.nu + (last - lay.nu) * n + i]
        }
    }

    /// The reverse sweep after [`Tape::forward`]: with `seed[i]` = dL/df at point i,
    /// adds dL/dtheta into `g_theta` and writes dL/d(mu input) at each point into `g_mu`
    /// (the input as stored, i.e. including `mu_map`'s factor; zeros when f ignores mu).
    pub fn backward(&self, inp: &Inputs, seed: &[f64], buf: &mut [f64], g_theta: &mut [f64], g_mu: Option<&mut [f64]>) {
        let lay = self.layout(inp.len());
        let n = lay.n;
        let (vals, adj) = buf.split_at_mut(lay.nu + lay.nv * n);
        let (u, v) = vals.split_at(lay.nu);
        let (au, av) = adj.split_at_mut(lay.nu);
        au.fill(0.0);
        av.fill(0.0);
        let last = self.instrs.len() - 1;
        if last < lay.nu {
            au[last] = seed[..n].iter().sum();
        } else {
            av[(last - lay.nu) * n..][..n].copy_from_slice(&seed[..n]);
        }
        for jv in (0..lay.nv).rev() {
            let ins = self.instrs[lay.nu + jv];
            if !ins.grad || ins.op.arity() == 0 {
                continue;
            }
            let (av_before, av_rest) = av.split_at_mut(jv * n);
            let g = &av_rest[..n];
            let out = &v[jv * n..][..n];
            let val = |s: usize| -> Src { if s < lay.nu { Src::S(u[s]) } else { Src::V(&v[(s - lay.nu) * n..][..n]) } };
            if ins.op.arity() == 1 {
                let Src::V(a) = val(ins.a) else { unreachable!() };
                let acc = &mut av_before[(ins.a - lay.nu) * n..][..n];
                for i in 0..n {
                    acc[i] += g[i] * unary_slope(ins.op, a[i], out[i]);
                }
                continue;
            }
            let (sa, sb) = (val(ins.a), val(ins.b));
            // Each operand in turn (a*a reads one slot twice).
            for (which, slot) in [(0, ins.a), (1, ins.b)] {
                if !self.instrs[slot].grad {
                    continue;
                }
                let slope = |i: usize| {
                    let s = binary_slopes(ins.op, sa.at(i), sb.at(i), out[i]);
                    if which == 0 {
                        s.0
                    } else {
                        s.1
                    }
                };
                if slot < lay.nu {
                    let mut sum = 0.0;
                    for i in 0..n {
                        sum += g[i] * slope(i);
                    }
                    au[slot] += sum;
                } else {
                    let acc = &mut av_before[(slot - lay.nu) * n..][..n];
                    for i in 0..n {
                        acc[i] += g[i] * slope(i);
                    }
                }
            }
        }
        for j in (0..lay.nu).rev() {
            let ins = self.instrs[j];
            if !ins.grad || ins.op.arity() == 0 {
                continue;
            }
            let g = au[j];
            if ins.op.arity() == 1 {
                au[ins.a] += g * unary_slope(ins.op, u[ins.a], u[j]);
            } else {
                let (da, db) = binary_slopes(ins.op, u[ins.a], u[ins.b], u[j]);
                if self.instrs[ins.a].grad {
                    au[ins.a] += g * da;
                }
                if self.instrs[ins.b].grad {
                    au[ins.b] += g * db;
                }
            }
        }
        for (k, slot) in self.param_slot.iter().enumerate() {
            if let Some(s) = slot {
                g_theta[k] += au[*s];
            }
        }
        if let Some(gm) = g_mu {
            match self.mu_slot {
                Some(s) => {
                    let m = inp.mu_map.1;
                    for (o, &a) in gm[..n].iter_mut().zip(&av[(s - lay.nu) * n..][..n]) {
                        *o = a * m;
                    }
                }
                None => gm[..n].fill(0.0),
            }
        }
    }

    /// After [`Tape::forward`]: the first instruction that made a non-finite value out of
    /// finite operands, at the first point where it did (None: every value finite).
    pub fn fault(&self, buf: &[f64], n: usize) -> Option<Fault> {
        let lay = self.layout(n);
        let at = |s: usize, i: usize| if s < lay.nu { buf[s] } else { buf[lay.nu + (s - lay.nu) * n + i] };
        for (j, ins) in self.instrs.iter().enumerate() {
            let points = if ins.varying { n } else { 1.min(n) };
            for i in 0..points {
                let val = at(j, i);
                if val.is_finite() {
                    continue;
                }
                let inputs_ok = match ins.op.arity() {
                    0 => true,
                    1 => at(ins.a, i).is_finite(),
                    _ => at(ins.a, i).is_finite() && at(ins.b, i).is_finite(),
                };
                if inputs_ok {
                    return Some(Fault { op: ins.op, col: ins.col, point: i, value: val });
                }
            }
        }
        None
    }
}

#[derive(Clone, Copy)]
enum Src<'a> {
    S(f64),
    V(&'a [f64]),
}

impl Src<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> f64 {
        match self {
            Src::S(v) => *v,
            Src::V(v) => v[i],
        }
    }
}
