//! Charts drawn on the server as SVG: bars per day, or a line when the range is longer than
//! two months. No script and no inline style: the look is `roster.css`'s (`.chart …`); each
//! chart is an image with a title and a description, and the page puts the same numbers in a
//! table beside it.

use std::fmt::Write;

use roster_core::model::{Lang, escape_html as esc};

/// The drawing's size, in its own units (it scales to its box).
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room for the labels: left of the plot, and below it.
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 22.0;
const TOP: f64 = 8.0;
/// Ranges longer than this are drawn as a line.
const BARS_UP_TO_DAYS: usize = 62;

/// What a chart shows.
pub struct ChartData<'a> {
    /// Unique on the page (the title's and description's ids derive from it).
    pub id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    /// One label (`YYYY-MM-DD`) per value.
    pub days: &'a [String],
    pub values: &'a [i64],
    pub lang: Lang,
}

/// A round top for the scale: 1, 2 or 5 times a power of ten, at least the peak.
fn scale_top(peak: i64) -> i64 {
    if peak <= 0 {
        return 1;
    }
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= peak {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// The chart as SVG markup (safe to put in a page as it is: every text is escaped).
pub fn draw(c: &ChartData<'_>) -> String {
    let n = c.values.len().max(1);
    let top = scale_top(c.values.iter().copied().max().unwrap_or(0));
    let plot_w = WIDTH - LEFT - 4.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = plot_w / n as f64;
    let y_of = |v: i64| TOP + plot_h - plot_h * (v as f64 / top as f64);
    let id = esc(c.id);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\" preserveAspectRatio=\"none\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        esc(c.title),
        esc(c.description)
    );
    // The scale: its top, its middle and zero.
    for v in [top, top / 2, 0] {
        let y = y_of(v);
        let _ = write!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{WIDTH}\" y2=\"{y:.1}\"/>\
             <text class=\"tick\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LEFT - 6.0,
            y + 4.0,
            esc(&c.lang.number(v))
        );
    }
    if c.values.len() <= BARS_UP_TO_DAYS {
        for (i, (&v, day)) in c.values.iter().zip(c.days).enumerate() {
            let x = LEFT + slot * i as f64 + slot * 0.15;
            // A day with anything at all stays visible.
            let y = if v > 0 {
                y_of(v).min(TOP + plot_h - 1.5)
            } else {
                y_of(v)
            };
            let _ = write!(
                svg,
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\">\
                 <title>{}: {}</title></rect>",
                slot * 0.7,
                TOP + plot_h - y,
                esc(day),
                esc(&c.lang.number(v))
            );
        }
    } else {
        let points: Vec<String> = c
            .values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", LEFT + slot * (i as f64 + 0.5), y_of(v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline class=\"line\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    // The first and the last day under the plot.
    if let (Some(first), Some(last)) = (c.days.first(), c.days.last()) {
        let y = HEIGHT - 6.0;
        let _ = write!(
            svg,
            "<text class=\"day\" x=\"{LEFT}\" y=\"{y}\">{}</text>\
             <text class=\"day end\" x=\"{WIDTH}\" y=\"{y}\">{}</text>",
            esc(first),
            esc(last)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn a_short_range_is_drawn_as_bars_with_their_numbers() {
        let d = days(3);
        let svg = draw(&ChartData {
            id: "c1",
            title: "SMS <sent>",
            description: "Per day",
            days: &d,
            values: &[3, 0, 1200],
            lang: Lang::En,
        });
        assert!(svg.starts_with("<svg class=\"chart\""));
        assert!(svg.contains("role=\"img\" aria-labelledby=\"c1-title c1-desc\""));
        assert!(svg.contains("<title id=\"c1-title\">SMS &lt;sent&gt;</title>"));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        assert!(svg.contains("<title>2026-11-03: 1,200</title>"));
        // The scale rounds up to 2,000; the tallest bar is 60 % of the plot.
        assert!(svg.contains(">2,000</text>"), "{svg}");
        assert!(!svg.contains("style"), "no inline style");
        assert_eq!(
            svg,
            "<svg class=\"chart\" viewBox=\"0 0 640 180\" role=\"img\" aria-labelledby=\"c1-title c1-desc\" preserveAspectRatio=\"none\"><title id=\"c1-title\">SMS &lt;sent&gt;</title><desc id=\"c1-desc\">Per day</desc><line class=\"grid\" x1=\"48\" y1=\"8.0\" x2=\"640\" y2=\"8.0\"/><text class=\"tick\" x=\"42.0\" y=\"12.0\">2,000</text><line class=\"grid\" x1=\"48\" y1=\"83.0\" x2=\"640\" y2=\"83.0\"/><text class=\"tick\" x=\"42.0\" y=\"87.0\">1,000</text><line class=\"grid\" x1=\"48\" y1=\"158.0\" x2=\"640\" y2=\"158.0\"/><text class=\"tick\" x=\"42.0\" y=\"162.0\">0</text><rect class=\"bar\" x=\"77.4\" y=\"156.5\" width=\"137.2\" height=\"1.5\"><title>2026-11-01: 3</title></rect><rect class=\"bar\" x=\"273.4\" y=\"158.0\" width=\"137.2\" height=\"0.0\"><title>2026-11-02: 0</title></rect><rect class=\"bar\" x=\"469.4\" y=\"68.0\" width=\"137.2\" height=\"90.0\"><title>2026-11-03: 1,200</title></rect><text class=\"day\" x=\"48\" y=\"174\">2026-11-01</text><text class=\"day end\" x=\"640\" y=\"174\">2026-11-03</text></svg>"
        );
    }

    #[test]
    fn a_long_range_is_a_line_in_the_readers_numbers() {
        let d: Vec<String> = (0..90).map(|i| format!("day {i}")).collect();
        let values: Vec<i64> = (0..90).collect();
        let svg = draw(&ChartData {
            id: "c2",
            title: "t",
            description: "d",
            days: &d,
            values: &values,
            lang: Lang::Sv,
        });
        assert!(svg.contains("<polyline class=\"line\""));
        assert!(!svg.contains("<rect"));
        assert!(svg.contains(">100</text>"));
        assert_eq!(scale_top(0), 1);
        assert_eq!(scale_top(7), 10);
        assert_eq!(scale_top(1_001), 2_000);
        let big = draw(&ChartData {
            id: "c3",
            title: "t",
            description: "d",
            days: &d[..2],
            values: &[12_000, 1],
            lang: Lang::Sv,
        });
        assert!(big.contains(">20\u{a0}000</text>"), "{big}");
    }
}
