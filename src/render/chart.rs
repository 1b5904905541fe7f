//! Horizontal bar charts as inline SVG for the HTML report: one row a bar (stacked when it
//! has parts), its label on the left and its total on the right, a legend for the parts and
//! a value axis with round ticks in the chart's unit. Labels too long for their column are
//! cut with `…` and kept whole in a `<title>` (the browser's tooltip, no script).

use std::fmt::Write;

use super::html::escape;
use super::units;
use crate::diagnostic::{Chart, Unit};

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 290.0;
const VALUE_WIDTH: f64 = 100.0;
const ROW: f64 = 24.0;
const BAR: f64 = 16.0;
const LEGEND: f64 = 26.0;
const AXIS: f64 = 28.0;
/// Characters of a label that fit in [`LABEL_WIDTH`] at the 12 px font.
const LABEL_CHARS: usize = 38;
/// Part colours in legend order: distinguishable, and readable in grey print.
const PALETTE: [&str; 6] = [
    "#3b6ea5", "#e0a030", "#6aa84f", "#b04a5a", "#8e7cc3", "#76a5af",
];

/// The chart as an `<svg>` element, or a short paragraph when it has no bars.
pub fn svg(chart: &Chart) -> String {
    if chart.bars.is_empty() {
        return "<p class=\"empty\">no data</p>\n".to_owned();
    }
    let parts = part_names(chart);
    let legend = if parts.len() > 1 { LEGEND } else { 0.0 };
    let plot_x = LABEL_WIDTH;
    let plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let height = legend + ROW * chart.bars.len() as f64 + AXIS;
    let max = chart
        .bars
        .iter()
        .map(|b| total(&b.parts))
        .fold(0.0, f64::max);
    let ticks = ticks(max, chart.unit);
    let top = ticks.last().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    let x = |v: f64| plot_x + plot_width * v / top;

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape(&chart.title)
    );
    if legend > 0.0 {
        let mut at = plot_x;
        for (i, name) in parts.iter().enumerate() {
            let _ = writeln!(
                out,
                "<rect x=\"{at}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{}\"/>\
                 <text x=\"{}\" y=\"16\">{}</text>",
                colour(i),
                at + 16.0,
                escape(name)
            );
            at += 16.0 + 8.0 * name.chars().count() as f64 + 24.0;
        }
    }
    let plot_bottom = legend + ROW * chart.bars.len() as f64;
    for tick in &ticks {
        let tx = x(*tick);
        let _ = writeln!(
            out,
            "<line class=\"grid\" x1=\"{tx:.1}\" y1=\"{legend}\" x2=\"{tx:.1}\" y2=\"{plot_bottom}\"/>\
             <text class=\"tick\" x=\"{tx:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            plot_bottom + 16.0,
            // a bare 0: "0 bytes" or "0 ms" under the axis start says nothing
            if *tick == 0.0 {
                "0".to_owned()
            } else {
                escape(&units::of(chart.unit, *tick))
            }
        );
    }
    for (row, bar) in chart.bars.iter().enumerate() {
        let y = legend + ROW * row as f64;
        let mid = y + ROW / 2.0 + 4.0;
        let _ = writeln!(
            out,
            "<g><title>{}: {}</title>",
            escape(&bar.label),
            escape(&units::of(chart.unit, total(&bar.parts)))
        );
        let _ = writeln!(
            out,
            "<text class=\"label\" x=\"{}\" y=\"{mid}\" text-anchor=\"end\">{}</text>",
            plot_x - 8.0,
            escape(&shorten(&bar.label))
        );
        let mut at = 0.0;
        for (name, value) in &bar.parts {
            let width = x(at + value) - x(at);
            if width > 0.0 {
                let i = parts.iter().position(|p| p == name).unwrap_or(0);
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{}\" width=\"{width:.1}\" height=\"{BAR}\" fill=\"{}\">\
                     <title>{}: {}</title></rect>",
                    x(at),
                    y + (ROW - BAR) / 2.0,
                    colour(i),
                    escape(name),
                    escape(&units::of(chart.unit, *value))
                );
            }
            at += value;
        }
        let _ = writeln!(
            out,
            "<text class=\"value\" x=\"{:.1}\" y=\"{mid}\">{}</text></g>",
            x(at) + 6.0,
            escape(&units::of(chart.unit, at))
        );
    }
    out.push_str("</svg>\n");
    out
}

fn total(parts: &[(String, f64)]) -> f64 {
    parts.iter().map(|(_, v)| v.max(0.0)).sum()
}

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Part names in order of first appearance: the legend, and each part's colour.
fn part_names(chart: &Chart) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in chart.bars.iter().flat_map(|b| &b.parts) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
}

/// One line, at most [`LABEL_CHARS`] characters.
fn shorten(label: &str) -> String {
    let line = label.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= LABEL_CHARS {
        return line;
    }
    let cut: String = line.chars().take(LABEL_CHARS - 1).collect();
    format!("{cut}…")
}

/// Steps of a time axis in milliseconds: what a clock reads (`30 s`, `2 min`, `6 h`).
const TIME_STEPS_MS: [f64; 17] = [
    1_000.0,
    2_000.0,
    5_000.0,
    10_000.0,
    15_000.0,
    30_000.0,
    60_000.0,
    120_000.0,
    300_000.0,
    600_000.0,
    900_000.0,
    1_800_000.0,
    3_600_000.0,
    7_200_000.0,
    21_600_000.0,
    43_200_000.0,
    86_400_000.0,
];

/// Round tick values from 0 to at least `max`, four or five of them: steps of 1, 2 or 5
/// times a power of ten, of 1024 for bytes (so ticks read `256 MB`, not `268 MB`), and of
/// clock units for times of a second or more.
fn ticks(max: f64, unit: Unit) -> Vec<f64> {
    if max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let clock_step = TIME_STEPS_MS.iter().find(|s| **s >= max / 4.0);
    if let (Unit::Milliseconds, Some(step)) = (unit, clock_step.filter(|_| max >= 4_000.0)) {
        let n = (max / step).ceil() as usize;
        return (0..=n).map(|i| i as f64 * step).collect();
    }
    let scale = match unit {
        Unit::Bytes => {
            let mut scale = 1.0;
            while max / scale >= 1024.0 {
                scale *= 1024.0;
            }
            scale
        }
        Unit::Milliseconds | Unit::Count => 1.0,
    };
    let rough = max / scale / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    // a count has no fractional ticks
    let step = if unit == Unit::Count {
        step.max(1.0)
    } else {
        step
    } * scale;
    let n = (max / step).ceil() as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Bar;

    fn bar(label: &str, parts: &[(&str, f64)]) -> Bar {
        Bar {
            label: label.to_owned(),
            parts: parts.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect(),
        }
    }

    #[test]
    fn ticks_are_round_and_cover_the_largest_bar() {
        assert_eq!(ticks(9.0, Unit::Count), [0.0, 5.0, 10.0]);
        assert_eq!(ticks(3.0, Unit::Count), [0.0, 1.0, 2.0, 3.0]);
        let mb = 1024.0 * 1024.0;
        assert_eq!(
            ticks(700.0 * mb, Unit::Bytes),
            [0.0, 200.0 * mb, 400.0 * mb, 600.0 * mb, 800.0 * mb]
        );
        assert_eq!(ticks(0.0, Unit::Milliseconds), [0.0, 1.0]);
        assert_eq!(
            ticks(40.0, Unit::Milliseconds),
            [0.0, 10.0, 20.0, 30.0, 40.0]
        );
        // 100 s: minutes, not 50 s steps
        assert_eq!(
            ticks(100_000.0, Unit::Milliseconds),
            [0.0, 30_000.0, 60_000.0, 90_000.0, 120_000.0]
        );
    }

    #[test]
    fn stacked_bars_have_a_legend_and_escaped_labels() {
        let chart = Chart {
            title: "Sizes".into(),
            unit: Unit::Bytes,
            bars: vec![
                bar("public.<script>", &[("table", 2048.0), ("indexes", 1024.0)]),
                bar(&"x".repeat(80), &[("table", 512.0)]),
            ],
        };
        let svg = svg(&chart);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("public.&lt;script&gt;"), "{svg}");
        assert_eq!(
            svg.matches("<rect").count(),
            2 + 3,
            "legend and bars: {svg}"
        );
        assert!(
            svg.contains(">3 kB</text>"),
            "the total after the bar: {svg}"
        );
        assert!(svg.contains(&format!("{}…", "x".repeat(LABEL_CHARS - 1))));
        assert!(svg.contains(&format!("<title>{}: 512 bytes</title>", "x".repeat(80))));
    }

    #[test]
    fn a_chart_without_bars_says_so() {
        let chart = Chart {
            title: "Top queries".into(),
            unit: Unit::Milliseconds,
            bars: Vec::new(),
        };
        assert!(svg(&chart).contains("no data"));
    }
}
