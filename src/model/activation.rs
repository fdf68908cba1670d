//! Hidden-layer activations and their derivatives, written in terms of the
//! pre-activation z and the output a = act(z) so the backward pass needs no recompute.

use crate::config::Activation;

impl Activation {
    #[inline]
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Tanh => z.tanh(),
            Activation::Silu => z / (1.0 + (-z).exp()),
            Activation::Relu => z.max(0.0),
        }
    }

    /// d act / d z, given z and a = act(z).
    #[inline]
    pub fn derivative(self, z: f64, a: f64) -> f64 {
        match self {
            Activation::Tanh => 1.0 - a * a,
            Activation::Silu => {
                let s = 1.0 / (1.0 + (-z).exp());
                s * (1.0 + z * (1.0 - s))
            }
            Activation::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }
}

/// softplus(z) = log(1 + e^z), computed without overflow.
#[inline]
pub fn softplus(z: f64) -> f64 {
    if z > 30.0 {
        z
    } else if z < -30.0 {
        z.exp()
    } else {
        z.exp().ln_1p()
    }
}

/// The logistic function, d softplus / dz.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The inverse of softplus for s > 0.
#[inline]
pub fn softplus_inv(s: f64) -> f64 {
    if s > 30.0 {
        s
    } else {
        s.exp_m1().ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_central_differences() {
        for act in [Activation::Tanh, Activation::Silu, Activation::Relu] {
            for &z in &[-2.3, -0.4, 0.3, 1.7] {
                let h = 1e-6;
                let fd = (act.apply(z + h) - act.apply(z - h)) / (2.0 * h);
                let an = act.derivative(z, act.apply(z));
                assert!((fd - an).abs() < 1e-8, "{act:?} at {z}: {fd} vs {an}");
            }
        }
    }

    #[test]
    fn softplus_inverse_round_trips() {
        for &s in &[1e-8, 1e-3, 0.5, 2.0, 40.0] {
            assert!((softplus(softplus_inv(s)) - s).abs() <= 1e-12 * s.max(1.0));
        }
        let h = 1e-6;
        let fd = (softplus(0.7 + h) - softplus(0.7 - h)) / (2.0 * h);
        assert!((fd - sigmoid(0.7)).abs() < 1e-9);
    }
}
