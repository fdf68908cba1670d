//! Any text as a noise formula and as a priors text (issue 13): parsing never panics; a
//! formula that parses prints to text that parses back to the same formula, compiles, and
//! evaluates with its gradient without panicking; priors that parse print back the same.
#![no_main]

use bayesband::model::formula::priors;
use bayesband::model::formula::tape::{Inputs, Tape};
use bayesband::model::formula::{DataConsts, Formula};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    if let Ok(f) = Formula::parse(text) {
        let back = Formula::parse(&f.to_string()).expect("a printed formula parses");
        assert_eq!(back, f);
        let data = DataConsts { x_min: -1.0, x_max: 3.0, mean_x: 1.0, sd_x: 1.2, sd_y: 0.7 };
        let tape = Tape::compile(&f, &data);
        let (x, mu) = ([0.5, -2.0, 3.0], [0.1, 1.0, -4.0]);
        let inp = Inputs::data(&x, &mu);
        let mut buf = vec![0.0; tape.scratch_len(3)];
        let theta = vec![0.7; f.params.len()];
        tape.forward(&theta, &inp, &mut buf);
        let _ = tape.fault(&buf, 3);
        let (mut g, mut gm) = (vec![0.0; theta.len()], [0.0; 3]);
        tape.backward(&inp, &[1.0, -1.0, 0.5], &mut buf, &mut g, Some(&mut gm));
    }
    if let Ok(p) = priors::parse(text) {
        assert_eq!(priors::parse(&priors::text(&p)).expect("printed priors parse"), p);
    }
});
