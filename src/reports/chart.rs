//! Breakdowns as SVG bar charts, drawn with `plotters`: one horizontal bar per row, its value at
//! its end, 600 px wide, in the colours of the French State design system, with system fonts
//! only (no web font, no script). The SVG names itself for screen readers: `role="img"`, a
//! `<title>` and a `<desc>` that lists every figure drawn.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{ApiError, ApiResult};

/// Width of every chart, in px.
pub const WIDTH: u32 = 600;
/// Bars drawn at most; a longer breakdown shows its first rows and says so.
pub const MAX_BARS: usize = 30;

const BAR_HEIGHT: u32 = 26;
const TOP: u32 = 64;
const BOTTOM: u32 = 24;
/// DSFR "bleu France" and the body text colour: contrast ratios well above 4.5:1 on white.
const BLUE_FRANCE: RGBColor = RGBColor(0x00, 0x00, 0x91);
const TEXT: RGBColor = RGBColor(0x16, 0x16, 0x16);
/// DSFR "gris" for secondary text: 5.7:1 on white.
const GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
const FONT: &str = "Marianne, Arial, sans-serif";
/// Characters of a line of a label drawn beside its bar.
const LABEL_CHARS: usize = 34;

/// One bar.
pub struct Bar {
    pub label: String,
    pub value: i64,
}

/// A chart: what it shows (`title`), over what (`subtitle`), and its bars in order.
pub struct Chart {
    pub title: String,
    pub subtitle: String,
    pub bars: Vec<Bar>,
}

/// A label as drawn: at most two lines of [`LABEL_CHARS`], cut between words, the rest elided
/// (the `<desc>` keeps the whole label).
fn wrapped(label: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in label.split_whitespace() {
        let fits = line.chars().count() + 1 + word.chars().count() <= LABEL_CHARS;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    if lines.len() > 2 {
        let rest = lines.split_off(1).join(" ");
        lines.push(rest);
    }
    lines
        .into_iter()
        .map(|line| {
            if line.chars().count() <= LABEL_CHARS {
                return line;
            }
            let kept: String = line.chars().take(LABEL_CHARS - 1).collect();
            format!("{}…", kept.trim_end())
        })
        .collect()
}

fn xml_escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// XML 1.0 has no way to write most control characters, even escaped: people's text (a tag, a
/// lab's name) loses them before it is drawn, so that a chart always parses.
fn xml_text(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && !matches!(c, '\t' | '\n' | '\r') { ' ' } else { c }).collect()
}

impl Chart {
    /// What a screen reader reads: the title, the subtitle, then every bar's label and value.
    fn description(&self, drawn: usize) -> String {
        let figures: Vec<String> =
            self.bars.iter().take(drawn).map(|bar| format!("{} : {}", bar.label, bar.value)).collect();
        let mut description = format!("{}. {}", self.subtitle, figures.join(" ; "));
        if self.bars.len() > drawn {
            description.push_str(&format!(" ; et {} autres valeurs non dessinées.", self.bars.len() - drawn));
        }
        description
    }

    pub fn to_svg(&self) -> ApiResult<String> {
        let clean = Chart {
            title: xml_text(&self.title),
            subtitle: xml_text(&self.subtitle),
            bars: self.bars.iter().map(|bar| Bar { label: xml_text(&bar.label), value: bar.value }).collect(),
        };
        clean.draw()
    }

    fn draw(&self) -> ApiResult<String> {
        let drawn = self.bars.len().min(MAX_BARS);
        let labels: Vec<Vec<String>> = self.bars.iter().take(drawn).map(|bar| wrapped(&bar.label)).collect();
        let two_lines = labels.iter().any(|lines| lines.len() > 1);
        let row_height = if two_lines { BAR_HEIGHT + 14 } else { BAR_HEIGHT };
        let height = TOP + BOTTOM + row_height * (drawn.max(1) as u32);
        let longest = labels.iter().flatten().map(|line| line.chars().count()).max().unwrap_or(0);
        // At most 8 px a character at 13 px (wide system fonts); labels take at most 45% of the width.
        let label_width = ((longest as u32) * 8 + 16).min(WIDTH * 9 / 20);
        let max_value = self.bars.iter().take(drawn).map(|bar| bar.value).max().unwrap_or(0).max(1);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
            let error = |e: DrawingAreaErrorKind<std::io::Error>| ApiError::internal(e.to_string());
            root.fill(&WHITE).map_err(error)?;
            // plotters writes 0.8 of the size it is given: 16 gives 13 px, the smallest text here.
            let title_style = TextStyle::from((FONT, 22).into_font()).color(&TEXT);
            root.draw_text(&self.title, &title_style, (12, 12)).map_err(error)?;
            let subtitle_style = TextStyle::from((FONT, 16).into_font()).color(&GREY);
            let mut subtitle = self.subtitle.clone();
            if self.bars.len() > drawn {
                subtitle.push_str(&format!(" ({drawn} premières valeurs sur {})", self.bars.len()));
            }
            root.draw_text(&subtitle, &subtitle_style, (12, 38)).map_err(error)?;
            let label_style =
                TextStyle::from((FONT, 16).into_font()).color(&TEXT).pos(Pos::new(HPos::Right, VPos::Center));
            let value_style =
                TextStyle::from((FONT, 16).into_font()).color(&TEXT).pos(Pos::new(HPos::Left, VPos::Center));
            // Room for the value after the longest bar.
            let plot_width = WIDTH.saturating_sub(label_width + 60) as f64;
            for (index, (bar, lines)) in self.bars.iter().zip(&labels).enumerate() {
                let top = (TOP + row_height * index as u32) as i32;
                let middle = top + (row_height / 2) as i32;
                let length = (plot_width * bar.value.max(0) as f64 / max_value as f64).round() as i32;
                let left = label_width as i32;
                let first_line = middle - 8 * (lines.len() as i32 - 1);
                for (number, line) in lines.iter().enumerate() {
                    root.draw_text(line, &label_style, (left - 8, first_line + 16 * number as i32)).map_err(error)?;
                }
                let bar_box = [(left, middle - 9), (left + length.max(1), middle + 9)];
                root.draw(&Rectangle::new(bar_box, BLUE_FRANCE.filled())).map_err(error)?;
                root.draw_text(&bar.value.to_string(), &value_style, (left + length + 6, middle)).map_err(error)?;
            }
            if self.bars.is_empty() {
                let empty = TextStyle::from((FONT, 16).into_font()).color(&GREY);
                root.draw_text("Aucun événement", &empty, (12, TOP as i32 + 4)).map_err(error)?;
            }
            root.present().map_err(error)?;
        }
        Ok(self.accessible(svg, drawn))
    }

    /// Adds `role`, `aria-labelledby`, `<title>` and `<desc>` right after the opening tag.
    fn accessible(&self, svg: String, drawn: usize) -> String {
        let Some(open_end) = svg.find('>') else { return svg };
        let (open, rest) = svg.split_at(open_end);
        let open = open.replacen("<svg ", "<svg role=\"img\" aria-labelledby=\"chart-title chart-desc\" ", 1);
        format!(
            "{open}>\n<title id=\"chart-title\">{}</title>\n<desc id=\"chart-desc\">{}</desc>{}",
            xml_escaped(&self.title),
            xml_escaped(&self.description(drawn)),
            rest.get(1..).unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_names_its_figures_for_screen_readers_and_escapes_text() {
        let chart = Chart {
            title: "Événements par région".into(),
            subtitle: "Mois de l'innovation publique 2021 & co".into(),
            bars: vec![Bar { label: "Bretagne <53>".into(), value: 12 }, Bar { label: "Corse".into(), value: 3 }],
        };
        let svg = chart.to_svg().unwrap();
        assert!(svg.starts_with("<svg role=\"img\""), "{svg}");
        assert!(svg.contains("<title id=\"chart-title\">Événements par région</title>"));
        assert!(svg.contains("Bretagne &lt;53&gt; : 12 ; Corse : 3"));
        assert!(svg.contains("2021 &amp; co"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn long_labels_wrap_on_two_lines_between_words() {
        assert_eq!(
            wrapped("L'innovation au service de l'expérience agent"),
            vec!["L'innovation au service de", "l'expérience agent"]
        );
        let long = wrapped("L'innovation au service de la relance et de l'impact de l'action publique");
        assert_eq!(long.len(), 2);
        assert!(long.iter().all(|line| line.chars().count() <= LABEL_CHARS));
        assert!(long[1].ends_with('…'));
    }

    #[test]
    fn control_characters_people_typed_never_make_the_chart_invalid_xml() {
        let chart =
            Chart { title: "t".into(), subtitle: "s".into(), bars: vec![Bar { label: "a\u{7}b".into(), value: 1 }] };
        let svg = chart.to_svg().unwrap();
        assert!(!svg.contains('\u{7}'));
        assert!(svg.contains("a b : 1"));
    }

    #[test]
    fn long_breakdowns_draw_their_first_bars_and_say_how_many_are_left() {
        let bars = (0..40).map(|i| Bar { label: format!("d{i}"), value: 40 - i }).collect();
        let svg = Chart { title: "t".into(), subtitle: "s".into(), bars }.to_svg().unwrap();
        assert!(svg.contains("et 10 autres valeurs"));
        assert!(svg.contains("30 premières valeurs sur 40"));
    }
}
