// Band opacities, as in src/ui/plots/draw.rs (TOTAL_ALPHA, ALEATORIC_ALPHA, EPISTEMIC_ALPHA).
export const TOTAL_ALPHA = 0.22;
export const ALEATORIC_ALPHA = 0.30;
export const EPISTEMIC_ALPHA = 0.55;
