//! The three figures, drawn with plotters on any backend (HiDPI canvas on the page,
//! an offscreen canvas for the PNG, SVG for the vector download).
//!
//! Colours are Okabe-Ito; the bands also differ without colour: the total band is
//! pale with solid edges, the aleatoric band medium with dashed edges, the
//! epistemic band dense with no edge; the truth is always a dashed black line.

use std::error::Error;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::data::Dataset;
use crate::summary::PredictiveSummary;

pub const INK: RGBColor = RGBColor(34, 34, 34);
pub const MUTED: RGBColor = RGBColor(96, 96, 96);
pub const GRID: RGBColor = RGBColor(232, 232, 232);
/// Okabe-Ito.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const SKY: RGBColor = RGBColor(86, 180, 233);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const PURPLE: RGBColor = RGBColor(204, 121, 167);

pub const TOTAL_ALPHA: f64 = 0.22;
pub const ALEATORIC_ALPHA: f64 = 0.30;
pub const EPISTEMIC_ALPHA: f64 = 0.55;
use crate::summary::metrics::Z95;

type Res<T> = Result<T, Box<dyn Error>>;

/// Everything a figure needs.
pub struct View<'a> {
    pub data: &'a Dataset,
    pub summary: Option<&'a PredictiveSummary>,
    /// (x, f(x), sigma(x)) of the generating process, when known.
    pub truth: Option<(Vec<f64>, Vec<f64>, Vec<f64>)>,
    pub trace: &'a [(usize, f64)],
    pub loss_label: &'a str,
    /// Where the warm start and the burn-in end (steps; 0 = no such phase), and the
    /// names of the phases after them: the loss plot shades them.
    pub phases: (usize, usize),
    pub burn_name: &'a str,
    /// Chains that started again: (index, start, end of their fresh warm-up), shaded.
    pub restarts: &'a [(usize, usize, usize)],
    /// Device pixels per CSS pixel: fonts, lines and markers scale with it.
    pub scale: f64,
    /// The fit shown is of the previous data (after a hand edit): drawn grey.
    pub stale: bool,
    /// Which data points are held out of the fit (drawn hollow); empty: none.
    pub held: Vec<bool>,
    /// Which bands to draw, and whether the posterior draws (the legend's toggles).
    pub shown: crate::ui::compare::Shown,
    /// Mean functions of some posterior draws on `summary.x` (thin lines when shown).
    pub draws: &'a [Vec<f64>],
    /// Axes fixed from outside (a comparison draws both fits on the same axes):
    /// the main plot's x and y ranges and the top of the sigma plot.
    pub fixed: Option<Axes>,
    /// The other fit of a comparison, drawn over this one (overlay).
    pub overlay: Option<&'a PredictiveSummary>,
    /// A title line over the legend ("Fit A: homoskedastic, pSGLD").
    pub title: Option<String>,
    /// Where to measure next (the acquisition's pick): a dashed line at that x.
    pub next_x: Option<f64>,
}

/// Axis ranges of the main and sigma plots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axes {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub sigma_top: f64,
}

impl Axes {
    /// The smallest ranges holding both.
    pub fn union(self, o: Axes) -> Axes {
        Axes {
            x: (self.x.0.min(o.x.0), self.x.1.max(o.x.1)),
            y: (self.y.0.min(o.y.0), self.y.1.max(o.y.1)),
            sigma_top: self.sigma_top.max(o.sigma_top),
        }
    }
}

/// Posterior draws' mean functions: the mean's blue at 45% over white, opaque.
pub const DRAW_LINE: RGBColor = RGBColor(140, 192, 220);
/// Colour of fit A drawn over fit B.
pub const OVERLAY: RGBColor = VERMILLION;

/// Grey for a fit of the previous data.
pub const STALE: RGBColor = RGBColor(150, 150, 150);
pub const STALE_LABEL: &str = "fit of the previous data";

/// How pixels of a drawn chart map to data (for clicks on the plot).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mapping {
    pub px: (f64, f64),
    pub py: (f64, f64),
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Mapping {
    /// Data coordinates of a backing-store pixel inside the plotting area.
    pub fn to_data(&self, px: f64, py: f64) -> Option<(f64, f64)> {
        if px < self.px.0 || px > self.px.1 || py < self.py.0 || py > self.py.1 || self.px.1 <= self.px.0 {
            return None;
        }
        let x = self.x.0 + (px - self.px.0) / (self.px.1 - self.px.0) * (self.x.1 - self.x.0);
        let y = self.y.1 - (py - self.py.0) / (self.py.1 - self.py.0) * (self.y.1 - self.y.0);
        Some((x, y))
    }
    /// Data units per backing-store pixel on each axis.
    pub fn units_per_px(&self) -> (f64, f64) {
        ((self.x.1 - self.x.0) / (self.px.1 - self.px.0).max(1.0), (self.y.1 - self.y.0) / (self.py.1 - self.py.0).max(1.0))
    }
}

fn font(size: f64, s: f64) -> TextStyle<'static> {
    ("sans-serif", size * s).into_font().color(&INK)
}

/// A legend swatch.
enum Swatch {
    Band(RGBColor, f64, Edge),
    Line(RGBColor, f64, bool),
    Dot(RGBColor),
    /// A hollow dot: held-out points.
    Ring(RGBColor),
}

#[derive(Clone, Copy, PartialEq)]
enum Edge {
    Solid,
    Dashed,
    None,
}

/// Draw legend items left to right, wrapping; returns the height used.
fn legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, items: &[(Swatch, String)], s: f64) -> Res<u32>
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let style = font(12.5, s);
    let (sw, gap, row_h, pad) = ((22.0 * s) as i32, (16.0 * s) as i32, (20.0 * s) as i32, (8.0 * s) as i32);
    let (mut x, mut y) = ((56.0 * s) as i32, pad);
    for (swatch, label) in items {
        let (tw, _) = area.estimate_text_size(label, &style)?;
        let item_w = sw + (6.0 * s) as i32 + tw as i32;
        if x + item_w > w as i32 - pad && x > (56.0 * s) as i32 {
            x = (56.0 * s) as i32;
            y += row_h;
        }
        let cy = y + row_h / 2;
        let (x0, x1) = (x, x + sw);
        match swatch {
            Swatch::Band(c, a, edge) => {
                let (t, b) = (cy - (6.0 * s) as i32, cy + (6.0 * s) as i32);
                area.draw(&Rectangle::new([(x0, t), (x1, b)], c.mix(*a).filled()))?;
                let st = c.stroke_width((1.2 * s).max(1.0) as u32);
                match edge {
                    Edge::Solid => {
                        area.draw(&PathElement::new(vec![(x0, t), (x1, t)], st))?;
                        area.draw(&PathElement::new(vec![(x0, b), (x1, b)], st))?;
                    }
                    Edge::Dashed => {
                        for yy in [t, b] {
                            area.draw(&DashedPathElement::new(vec![(x0, yy), (x1, yy)], (4.0 * s) as i32, (3.0 * s) as i32, st))?;
                        }
                    }
                    Edge::None => {}
                }
            }
            Swatch::Line(c, width, dashed) => {
                let st = c.stroke_width((width * s).max(1.0) as u32);
                if *dashed {
                    area.draw(&DashedPathElement::new(vec![(x0, cy), (x1, cy)], (5.0 * s) as i32, (3.0 * s) as i32, st))?;
                } else {
                    area.draw(&PathElement::new(vec![(x0, cy), (x1, cy)], st))?;
                }
            }
            Swatch::Dot(c) => {
                area.draw(&Circle::new(((x0 + x1) / 2, cy), (3.0 * s) as i32, c.mix(0.8).filled()))?;
            }
            Swatch::Ring(c) => {
                area.draw(&Circle::new(((x0 + x1) / 2, cy), (3.5 * s) as i32, c.stroke_width((1.5 * s).max(1.0) as u32)))?;
            }
        }
        area.draw_text(label, &style.pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        )), (x1 + (6.0 * s) as i32, cy))?;
        x += item_w + gap;
    }
    Ok((y + row_h + pad / 2) as u32)
}

use crate::ui::axes::{finite_range, padded};

/// The x axis of the main and sigma plots (see `axes::x_axis`).
fn x_range(v: &View) -> (f64, f64) {
    crate::ui::axes::x_axis(&v.data.x, v.summary.map(|m| m.x.as_slice()), crate::ui::state::GRID_PAD)
}

/// A filled band between `lo` and `hi` over `x`, clamped to the y range, with edges.
fn band<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    x: &[f64],
    lo: &[f64],
    hi: &[f64],
    (y0, y1): (f64, f64),
    color: RGBColor,
    alpha: f64,
    edge: Edge,
    s: f64,
) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let c = |v: f64| v.clamp(y0, y1);
    let ok: Vec<usize> = (0..x.len()).filter(|&i| lo[i].is_finite() && hi[i].is_finite() && x[i].is_finite()).collect();
    if ok.len() < 2 {
        return Ok(());
    }
    let mut poly: Vec<(f64, f64)> = ok.iter().map(|&i| (x[i], c(hi[i]))).collect();
    poly.extend(ok.iter().rev().map(|&i| (x[i], c(lo[i]))));
    chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(alpha).filled())))?;
    let st = color.stroke_width((1.2 * s).max(1.0) as u32);
    for edge_vals in [hi, lo] {
        let pts: Vec<(f64, f64)> = ok.iter().map(|&i| (x[i], c(edge_vals[i]))).collect();
        match edge {
            Edge::Solid => {
                chart.draw_series(LineSeries::new(pts, st))?;
            }
            Edge::Dashed => {
                chart.draw_series(DashedLineSeries::new(pts, (5.0 * s) as i32, (4.0 * s) as i32, st))?;
            }
            Edge::None => {}
        }
    }
    Ok(())
}

fn chart_on<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: (f64, f64),
    y: (f64, f64),
    s: f64,
) -> Res<ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>>
where
    DB::ErrorType: 'static,
{
    Ok(ChartBuilder::on(area)
        .margin_right((14.0 * s) as i32)
        .margin_top((4.0 * s) as i32)
        .x_label_area_size((40.0 * s) as i32)
        .y_label_area_size((58.0 * s) as i32)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)?)
}

/// An axis label. Tick positions are sums of float steps, so zero can come out as
/// -3.5e-17: anything within a billionth of the axis span from zero is zero.
pub fn tick_label(v: f64, span: f64) -> String {
    crate::ui::axes::tick_text(v, span)
}

fn mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    x_desc: &str,
    y_desc: &str,
    s: f64,
) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let drawn = std::cell::RefCell::new(Vec::new());
    let seen = &drawn;
    let snap = |span: f64| {
        move |v: &f64| {
            let t = tick_label(*v, span);
            seen.borrow_mut().push(t.clone());
            t
        }
    };
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let (xtick, ytick) = (snap(xr.end - xr.start), snap(yr.end - yr.start));
    chart
        .configure_mesh()
        .x_label_formatter(&xtick)
        .y_label_formatter(&ytick)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(8)
        .y_labels(6)
        .label_style(font(12.0, s).color(&MUTED))
        .axis_desc_style(font(13.0, s))
        .light_line_style(GRID.mix(0.0))
        .bold_line_style(GRID.stroke_width((1.0 * s).max(1.0) as u32))
        .axis_style(MUTED.stroke_width((1.0 * s).max(1.0) as u32))
        .draw()?;
    LAST_TICKS.with(|t| *t.borrow_mut() = drawn.take());
    Ok(())
}

thread_local! {
    /// The tick labels the last figure drew (x and y), for the browser tests.
    static LAST_TICKS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The tick labels of the figure drawn last, x and y, as drawn.
pub fn last_tick_labels() -> Vec<String> {
    LAST_TICKS.with(|t| t.borrow().clone())
}

/// The main figure: data, predictive mean and the three 95% bands, true f dashed.
pub fn draw_main<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, v: &View) -> Res<Mapping>
where
    DB::ErrorType: 'static,
{
    let s = v.scale;
    area.fill(&WHITE)?;
    let n_held = v.held.iter().filter(|&&h| h).count();
    let mut items = if n_held > 0 {
        vec![
            (Swatch::Dot(INK), format!("fitted (N = {})", v.data.len() - n_held)),
            (Swatch::Ring(INK), format!("held out (N = {n_held})")),
        ]
    } else {
        vec![(Swatch::Dot(INK), format!("data (N = {})", v.data.len()))]
    };
    if v.summary.is_some() && v.stale {
        items.push((Swatch::Band(STALE, 0.25, Edge::Solid), STALE_LABEL.into()));
    } else if v.summary.is_some() {
        let b = if v.overlay.is_some() { "B: " } else { "" };
        items.push((Swatch::Line(BLUE, 2.5, false), format!("{b}predictive mean")));
        if v.shown.total {
            items.push((Swatch::Band(SKY, TOTAL_ALPHA, Edge::Solid), format!("{b}95% total band")));
        }
        if v.shown.aleatoric {
            items.push((Swatch::Band(ORANGE, ALEATORIC_ALPHA, Edge::Dashed), format!("{b}95% aleatoric (noise)")));
        }
        if v.shown.epistemic {
            items.push((Swatch::Band(GREEN, EPISTEMIC_ALPHA, Edge::None), format!("{b}95% epistemic (model)")));
        }
        if v.shown.draws && !v.draws.is_empty() {
            items.push((Swatch::Line(DRAW_LINE, 1.0, false), format!("{b}{} posterior draws", v.draws.len())));
        }
    }
    if v.overlay.is_some() && !v.stale {
        items.push((Swatch::Line(OVERLAY, 2.2, false), "A: predictive mean".into()));
        items.push((Swatch::Line(OVERLAY, 1.6, true), "A: 95% total band".into()));
    }
    if v.truth.is_some() {
        items.push((Swatch::Line(INK, 1.5, true), "true f(x)".into()));
    }
    let area = &titled(area, v)?;
    let lh = legend(area, &items, s)?;
    let (_, plot) = area.split_vertically(lh);
    let Axes { x: xr, y: yr, .. } = v.fixed.unwrap_or_else(|| axes_of(v));

    let mut chart = chart_on(&plot, xr, yr, s)?;
    mesh(&mut chart, &v.data.x_label, &v.data.y_label, s)?;
    draw_fit(&mut chart, v, yr)?;
    if let Some(x) = v.next_x.filter(|x| x.is_finite() && *x >= xr.0 && *x <= xr.1) {
        let style = ShapeStyle { color: PURPLE.to_rgba(), filled: false, stroke_width: (1.5 * s).round().max(1.0) as u32 };
        chart.draw_series(DashedLineSeries::new([(x, yr.0), (x, yr.1)], (6.0 * s) as i32, (4.0 * s) as i32, style))?;
        let label = font(11.0, s).color(&PURPLE);
        chart.draw_series(std::iter::once(Text::new("measure next", (x, yr.1), label)))?;
    }
    let (px, py) = chart.plotting_area().get_pixel_range();
    Ok(Mapping { px: (px.start as f64, px.end as f64), py: (py.start as f64, py.end as f64), x: xr, y: yr })
}

/// The area below the view's title line (all of it without a title).
fn titled<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, v: &View) -> Res<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let Some(t) = &v.title else { return Ok(area.clone()) };
    let s = v.scale;
    let style = ("sans-serif", 14.0 * s).into_font().style(FontStyle::Bold).color(&INK).pos(Pos::new(HPos::Left, VPos::Top));
    area.draw_text(t, &style, ((12.0 * s) as i32, (8.0 * s) as i32))?;
    let (_, rest) = area.split_vertically((26.0 * s) as u32);
    Ok(rest)
}

/// The axes `v` would draw on by itself: the main plot's ranges and the sigma plot's top.
pub fn axes_of(v: &View) -> Axes {
    Axes { x: x_range(v), y: main_y_range(v), sigma_top: sigma_top(v) }
}

/// The main plot's y range: the data (or the grid) first; bands may widen it, within
/// limits, so early wild bands do not squash the data into a line.
fn main_y_range(v: &View) -> (f64, f64) {
    let mut yr = finite_range(v.data.y.iter()).unwrap_or((0.0, 1.0));
    if let Some((_, f, _)) = &v.truth {
        if let Some(r) = finite_range(f.iter()) {
            yr = (yr.0.min(r.0), yr.1.max(r.1));
        }
    }
    let span = (yr.1 - yr.0).max(1e-9);
    if let Some(m) = v.summary {
        let lo = m.mean.iter().zip(&m.sd_total).map(|(a, b)| a - Z95 * b).filter(|v| v.is_finite()).fold(f64::INFINITY, f64::min);
        let hi = m.mean.iter().zip(&m.sd_total).map(|(a, b)| a + Z95 * b).filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() {
            yr.0 = yr.0.min(lo.max(yr.0 - 0.5 * span));
        }
        if hi.is_finite() {
            yr.1 = yr.1.max(hi.min(yr.1 + 0.5 * span));
        }
    }
    padded(yr, 0.06)
}

type Chart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>;

/// The bands, draws, truth, mean and data of `v` on a drawn chart.
fn draw_fit<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, v: &View, yr: (f64, f64)) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let s = v.scale;
    if let (Some(m), true) = (v.summary, v.stale) {
        let b = |sd: &Vec<f64>, sign: f64| -> Vec<f64> { m.mean.iter().zip(sd).map(|(a, b)| a + sign * Z95 * b).collect() };
        band(chart, &m.x, &b(&m.sd_total, -1.0), &b(&m.sd_total, 1.0), yr, STALE, 0.18, Edge::Solid, s)?;
    } else if let Some(m) = v.summary {
        let b = |sd: &Vec<f64>, sign: f64| -> Vec<f64> { m.mean.iter().zip(sd).map(|(a, b)| a + sign * Z95 * b).collect() };
        if v.shown.total {
            band(chart, &m.x, &b(&m.sd_total, -1.0), &b(&m.sd_total, 1.0), yr, SKY, TOTAL_ALPHA, Edge::Solid, s)?;
        }
        if v.shown.aleatoric {
            band(chart, &m.x, &b(&m.sd_aleatoric, -1.0), &b(&m.sd_aleatoric, 1.0), yr, ORANGE, ALEATORIC_ALPHA, Edge::Dashed, s)?;
        }
        if v.shown.epistemic {
            band(chart, &m.x, &b(&m.sd_epistemic, -1.0), &b(&m.sd_epistemic, 1.0), yr, GREEN, EPISTEMIC_ALPHA, Edge::None, s)?;
        }
        if v.shown.draws {
            let st = DRAW_LINE.stroke_width((1.0 * s).max(1.0) as u32);
            for d in v.draws.iter().filter(|d| d.len() == m.x.len()) {
                let pts: Vec<(f64, f64)> =
                    m.x.iter().zip(d).filter(|(_, y)| y.is_finite()).map(|(a, b)| (*a, b.clamp(yr.0, yr.1))).collect();
                chart.draw_series(LineSeries::new(pts, st))?;
            }
        }
    }
    if let (Some(o), false) = (v.overlay, v.stale) {
        // The other fit: its mean and its 95% total band's edges, in one colour.
        let st = OVERLAY.stroke_width((1.6 * s).max(1.0) as u32);
        for sign in [-1.0, 1.0] {
            let pts: Vec<(f64, f64)> = (0..o.x.len())
                .map(|i| (o.x[i], o.mean[i] + sign * Z95 * o.sd_total.get(i).copied().unwrap_or(f64::NAN)))
                .filter(|(_, y)| y.is_finite())
                .map(|(a, b)| (a, b.clamp(yr.0, yr.1)))
                .collect();
            chart.draw_series(DashedLineSeries::new(pts, (6.0 * s) as i32, (3.0 * s) as i32, st))?;
        }
        let pts: Vec<(f64, f64)> = o.x.iter().zip(&o.mean).filter(|(_, y)| y.is_finite()).map(|(a, b)| (*a, b.clamp(yr.0, yr.1))).collect();
        chart.draw_series(LineSeries::new(pts, OVERLAY.stroke_width((2.2 * s).max(1.0) as u32)))?;
    }
    if let Some((x, f, _)) = &v.truth {
        let pts: Vec<(f64, f64)> = x.iter().zip(f).filter(|(_, f)| f.is_finite()).map(|(a, b)| (*a, b.clamp(yr.0, yr.1))).collect();
        chart.draw_series(DashedLineSeries::new(pts, (7.0 * s) as i32, (5.0 * s) as i32, INK.stroke_width((1.5 * s).max(1.0) as u32)))?;
    }
    if let Some(m) = v.summary {
        let pts: Vec<(f64, f64)> =
            m.x.iter().zip(&m.mean).filter(|(_, y)| y.is_finite()).map(|(a, b)| (*a, b.clamp(yr.0, yr.1))).collect();
        let colour = if v.stale { STALE } else { BLUE };
        chart.draw_series(LineSeries::new(pts, colour.stroke_width((2.5 * s).max(1.0) as u32)))?;
    }
    let r = (if v.data.len() > 500 { 1.8 } else { 2.8 } * s).max(1.0) as i32;
    let held = |i: usize| v.held.get(i).copied().unwrap_or(false);
    let finite = |i: &usize| v.data.x[*i].is_finite() && v.data.y[*i].is_finite();
    chart.draw_series(
        (0..v.data.len()).filter(finite).filter(|&i| !held(i)).map(|i| Circle::new((v.data.x[i], v.data.y[i]), r, INK.mix(0.72).filled())),
    )?;
    let ring = INK.stroke_width((1.4 * s).max(1.0) as u32);
    chart.draw_series(
        (0..v.data.len()).filter(finite).filter(|&i| held(i)).map(|i| Circle::new((v.data.x[i], v.data.y[i]), r + (0.8 * s) as i32, ring)),
    )?;
    Ok(())
}

/// The noise panel: inferred sigma(x) with its 95% posterior band, true sigma dashed.
pub fn draw_sigma<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, v: &View) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let s = v.scale;
    area.fill(&WHITE)?;
    let ink = if v.stale { STALE } else { VERMILLION };
    let mut items = if v.stale && v.summary.is_some() {
        vec![(Swatch::Line(STALE, 2.5, false), format!("σ(x): {STALE_LABEL}"))]
    } else {
        vec![
            (Swatch::Line(VERMILLION, 2.5, false), "posterior mean σ(x)".to_string()),
            (Swatch::Band(VERMILLION, 0.22, Edge::Dashed), "95% interval".to_string()),
        ]
    };
    if v.truth.is_some() {
        items.push((Swatch::Line(INK, 1.5, true), "true σ(x)".into()));
    }
    let area = &titled(area, v)?;
    let lh = legend(area, &items, s)?;
    let (_, plot) = area.split_vertically(lh);
    let (xr, top) = match v.fixed {
        Some(a) => (a.x, a.sigma_top),
        None => (x_range(v), sigma_top(v)),
    };
    let yr = (0.0, top);
    let mut chart = chart_on(&plot, xr, yr, s)?;
    mesh(&mut chart, &v.data.x_label, "noise sd σ(x)", s)?;
    if let Some(m) = v.summary {
        band(&mut chart, &m.x, &m.sigma_lo, &m.sigma_hi, yr, ink, 0.22, Edge::Dashed, s)?;
    }
    if let Some((x, _, sg)) = &v.truth {
        let pts: Vec<(f64, f64)> = x.iter().zip(sg).filter(|(_, v)| v.is_finite()).map(|(a, b)| (*a, b.min(yr.1))).collect();
        chart.draw_series(DashedLineSeries::new(pts, (7.0 * s) as i32, (5.0 * s) as i32, INK.stroke_width((1.5 * s).max(1.0) as u32)))?;
    }
    if v.summary.is_none() {
        note(&chart, "the inferred noise sd σ(x) appears when training starts", s)?;
    }
    if let Some(m) = v.summary {
        let pts: Vec<(f64, f64)> =
            m.x.iter().zip(&m.sigma_mean).filter(|(_, y)| y.is_finite()).map(|(a, b)| (*a, b.clamp(yr.0, yr.1))).collect();
        chart.draw_series(LineSeries::new(pts, ink.stroke_width((2.5 * s).max(1.0) as u32)))?;
    }
    Ok(())
}

/// The top of the sigma plot `v` would draw by itself.
fn sigma_top(v: &View) -> f64 {
    let mut top = 0.0f64;
    if let Some(m) = v.summary {
        let mean_top = finite_range(m.sigma_mean.iter()).map(|r| r.1).unwrap_or(0.0);
        let hi_top = finite_range(m.sigma_hi.iter()).map(|r| r.1).unwrap_or(0.0);
        top = top.max(hi_top.min(2.5 * mean_top)).max(1.15 * mean_top);
    }
    if let Some((_, _, sg)) = &v.truth {
        top = top.max(finite_range(sg.iter()).map(|r| r.1 * 1.25).unwrap_or(0.0));
    }
    if !(top > 0.0) {
        top = finite_range(v.data.y.iter()).map(|r| (r.1 - r.0) / 4.0).unwrap_or(1.0).max(1e-6);
    }
    top
}

/// A grey note in the middle of an empty plotting area.
fn note<DB: DrawingBackend>(
    chart: &ChartContext<DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
    text: &str,
    s: f64,
) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let area = chart.plotting_area();
    let (px, py) = area.get_pixel_range();
    let style = font(13.0, s).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    let root = area.strip_coord_spec();
    root.draw_text(text, &style, ((px.end - px.start) / 2, (py.end - py.start) / 2))?;
    Ok(())
}

/// The optimisation / sampling trace.
pub fn draw_trace<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, v: &View) -> Res<()>
where
    DB::ErrorType: 'static,
{
    let s = v.scale;
    area.fill(&WHITE)?;
    let ink = if v.stale { STALE } else { PURPLE };
    let label = if v.stale && !v.trace.is_empty() { format!("{}: {STALE_LABEL}", v.loss_label) } else { v.loss_label.to_string() };
    let items = vec![(Swatch::Line(ink, 2.0, false), label)];
    let lh = legend(area, &items, s)?;
    let (_, plot) = area.split_vertically(lh);
    let pts: Vec<(f64, f64)> = v.trace.iter().filter(|(_, l)| l.is_finite()).map(|(a, b)| (*a as f64, *b)).collect();
    let xr = if pts.len() >= 2 { (pts[0].0, pts[pts.len() - 1].0.max(pts[0].0 + 1.0)) } else { (0.0, 1.0) };
    let yr = crate::ui::axes::trace_y_range(&pts);
    let mut chart = chart_on(&plot, xr, yr, s)?;
    mesh(&mut chart, "step", "loss", s)?;
    if pts.len() < 2 {
        note(&chart, "the loss trace appears when training starts", s)?;
    }
    if pts.len() >= 2 {
        // The phases: warm start and burn-in shaded (lighter for burn-in), each named
        // at the top when there is room; what is left is sampling.
        let (w_end, b_end) = (v.phases.0 as f64, v.phases.1 as f64);
        let label = font(11.0, s).color(&MUTED).pos(Pos::new(HPos::Left, VPos::Top));
        let top = yr.1;
        let span = xr.1 - xr.0;
        let shade = [(0.0, w_end, RGBColor(225, 225, 232), "warm start"), (w_end, b_end, RGBColor(240, 240, 245), v.burn_name)];
        for (a, b, colour, name) in shade {
            let (a, b) = (a.max(xr.0), b.min(xr.1));
            if b > a {
                chart.draw_series(std::iter::once(Rectangle::new([(a, yr.0), (b, yr.1)], colour.filled())))?;
                if (b - a) / span > 0.12 {
                    chart.draw_series(std::iter::once(Text::new(name.to_string(), (a + 0.01 * span, top), label.clone())))?;
                }
            }
        }
        // A restarted chain's fresh warm-up, inside sampling: where the loss jumps.
        for &(chain, a, b) in v.restarts {
            let (a, b) = ((a as f64).max(xr.0), (b as f64).min(xr.1));
            if b > a {
                chart.draw_series(std::iter::once(Rectangle::new([(a, yr.0), (b, yr.1)], RGBColor(240, 240, 245).filled())))?;
                if (xr.1 - a) / span > 0.3 {
                    let name = format!("chain {} starts again", chain + 1);
                    chart.draw_series(std::iter::once(Text::new(name, (a + 0.01 * span, top), label.clone())))?;
                }
            }
        }
        let sampling_room = v.restarts.first().map_or(xr.1, |r| r.1 as f64);
        if b_end < xr.1 && (sampling_room - b_end.max(xr.0)) / span > 0.12 && v.phases.1 > 0 {
            chart.draw_series(std::iter::once(Text::new("sampling".to_string(), (b_end.max(xr.0) + 0.01 * span, top), label)))?;
        }
        let c: Vec<(f64, f64)> = pts.iter().map(|(a, b)| (*a, b.clamp(yr.0, yr.1))).collect();
        chart.draw_series(LineSeries::new(c, ink.stroke_width((2.0 * s).max(1.0) as u32)))?;
    }
    Ok(())
}

/// All three figures on one area (PNG and SVG downloads): main on top, the other
/// two side by side below.
pub fn draw_all<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, v: &View) -> Res<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = area.split_vertically((h as f64 * 0.58) as u32);
    draw_main(&top, v)?;
    let (w, _) = bottom.dim_in_pixel();
    let (left, right) = bottom.split_horizontally(w / 2);
    draw_sigma(&left, v)?;
    draw_trace(&right, v)?;
    Ok(())
}

/// Both fits of a comparison on one area (PNG and SVG downloads), on the same axes:
/// the two main plots side by side (or one overlaid plot), the two sigma plots below.
pub fn draw_compare_all<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, a: &View, b: &View, overlay: bool) -> Res<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    let (w, h) = area.dim_in_pixel();
    let (top, bottom) = area.split_vertically((h as f64 * 0.62) as u32);
    if overlay {
        draw_main(&top, b)?;
    } else {
        let (l, r) = top.split_horizontally(w / 2);
        draw_main(&l, a)?;
        draw_main(&r, b)?;
    }
    let (l, r) = bottom.split_horizontally(w / 2);
    draw_sigma(&l, a)?;
    draw_sigma(&r, b)?;
    Ok(())
}
