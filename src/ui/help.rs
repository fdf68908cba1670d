//! "What am I looking at?": the two kinds of uncertainty and the models, in plain words.

use yew::prelude::*;

#[component]
pub fn Help() -> Html {
    html! {
        <section id="help" class="help" aria-labelledby="help-h">
            <h2 id="help-h">{"What am I looking at?"}</h2>
            <div class="help-grid">
                <div>
                    <h3>{"Two kinds of uncertainty"}</h3>
                    <p>
                        <strong>{"Epistemic"}</strong>{" (green, dense, no edge) is the model's own doubt: many networks fit the data about equally well and they disagree where data are scarce. It shrinks as you add data and grows when you extrapolate beyond them."}
                    </p>
                    <p>
                        <strong>{"Aleatoric"}</strong>{" (orange, dashed edges) is the noise in the data themselves: even the true curve cannot predict it. More data do not shrink it; they only pin it down. It is heteroskedastic when it changes with x."}
                    </p>
                    <p>
                        <strong>{"Total"}</strong>{" (pale blue, solid edges) combines both (their variances add): a fresh measurement at x should fall inside it 95% of the time. The second panel shows the inferred noise level σ(x) itself, the third how the fit's objective evolves."}
                    </p>
                </div>
                <div>
                    <h3>{"Which model?"}</h3>
                    <p>
                        <strong>{"Homoskedastic"}</strong>{": one noise level everywhere. Use it as a baseline; when the noise really varies it is too wide in quiet regions and too narrow in noisy ones."}
                    </p>
                    <p>
                        <strong>{"Two-head"}</strong>{": the network learns the noise level σ(x) alongside the mean. Use it when you have no idea how the noise behaves and enough data (a few dozen points or more) to learn it."}
                    </p>
                    <p>
                        <strong>{"Noise model"}</strong>{": you choose a formula for σ(x) (constant, linear, exponential, step, bump, …) and the fit infers its few parameters, reported with 95% intervals in data units. Use it when physics or experience tells you the shape of the noise, or when data are few: a good formula needs far less data than a second network head."}
                    </p>
                </div>
                <div>
                    <h3>{"How it is fitted"}</h3>
                    <p>{"NUTS (the default) samples networks from the posterior with the No-U-Turn Sampler that NeuroBayes uses: after its warm-up draws it keeps every draw, and it draws more while the chains still disagree. The bands are computed from the kept draws; R-hat near 1 means the chains agree. pSGLD is faster and approximate: it first finds a good fit with Adam, then takes noisy, preconditioned gradient steps, and on small data its chains may not have mixed when it stops (the warnings say so). VI fits a simple Gaussian to the posterior: fast, but its bands tend to be too narrow."}</p>
                    <p>{"All computation happens in Web Workers in this tab, one per chain up to the cores your browser reports (at least two): the chains run side by side, the page pools what they send and stays responsive, and no data leave your computer."}</p>
                </div>
                <div>
                    <h3>{"Where to measure next"}</h3>
                    <p>{"A finished fit says where a new measurement would teach the model most. Epistemic variance (the default) points where the network is least sure of the mean. Total variance, the usual choice (NeuroBayes's too), adds the noise: with noise that changes with x it points at the noisiest x, where one measurement teaches little. Information gain weighs the two. UCB and expected improvement look for the largest (or smallest) y instead."}</p>
                    <p>{"Measure next adds that point (drawn from the true curve for generated data; for your own data you type what you measured) and fits again, starting from the current posterior. Auto repeats it and draws learning curves: run it with two acquisitions from the same start to see which one learns the curve with fewer points."}</p>
                </div>
            </div>
        </section>
    }
}
