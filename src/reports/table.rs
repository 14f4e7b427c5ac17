//! Reports as CSV, with the `csv` crate: UTF-8, a header row of stable column names (documented
//! in the README), an optional byte order mark for Excel, and `;` with decimal commas for a
//! spreadsheet set to French.

use super::model::{
    BreakdownReport, BreakdownRow, Breakdowns, Delimiter, Dimension, EditionReport, EditionSeries, LabFigures,
    LabsReport, RegionReport, Totals,
};
use crate::error::{ApiError, ApiResult};

/// How to write a CSV document.
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    pub bom: bool,
    pub delimiter: Delimiter,
}

impl CsvOptions {
    /// The `bom` and `delimiter` parameters (reports, exports), a bad one a 400 naming it.
    pub fn from_query(bom: Option<bool>, delimiter: Option<&str>) -> ApiResult<CsvOptions> {
        let delimiter = match delimiter.map(str::trim) {
            None => Delimiter::Comma,
            Some(value) => Delimiter::parse(value)
                .ok_or_else(|| ApiError::bad_param("delimiter", "must be `comma` or `semicolon`"))?,
        };
        Ok(CsvOptions { bom: bom.unwrap_or(false), delimiter })
    }

    /// A decimal number: with a decimal comma after `;`.
    pub fn decimal(&self, value: f64) -> String {
        let written = value.to_string();
        match self.delimiter {
            Delimiter::Comma => written,
            Delimiter::Semicolon => written.replace('.', ","),
        }
    }

    /// What a document starts with: the byte order mark, when asked.
    pub fn preamble(&self) -> &'static [u8] {
        if self.bom { "\u{feff}".as_bytes() } else { b"" }
    }

    /// A CSV writer with these options (CRLF line ends, as RFC 4180 says).
    pub fn writer<W: std::io::Write>(&self, out: W) -> csv::Writer<W> {
        let delimiter = match self.delimiter {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
        };
        csv::WriterBuilder::new().delimiter(delimiter).terminator(csv::Terminator::CRLF).from_writer(out)
    }
}

/// A table being written: its cells are text, numbers and shares.
struct Table {
    options: CsvOptions,
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

/// Text that people typed, defused so that a spreadsheet never runs it as a formula.
fn text(value: &str) -> String {
    crate::events::sheet::defuse(value)
}

impl Table {
    fn new(options: CsvOptions, header: Vec<&'static str>) -> Self {
        Table { options, header, rows: Vec::new() }
    }

    fn decimal(&self, value: f64) -> String {
        self.options.decimal(value)
    }

    fn breakdown_cells(&self, row: &BreakdownRow) -> Vec<String> {
        vec![
            text(row.code.as_deref().unwrap_or_default()),
            text(&row.label),
            row.events.to_string(),
            row.sessions.to_string(),
            self.decimal(row.share),
            row.previous_events.map(|n| n.to_string()).unwrap_or_default(),
            row.change.map(|n| n.to_string()).unwrap_or_default(),
        ]
    }

    fn totals_cells(&self, totals: &Totals) -> Vec<String> {
        vec![
            totals.events.to_string(),
            totals.sessions.to_string(),
            totals.organizers.to_string(),
            totals.first_time_organizers.to_string(),
            totals.regions.to_string(),
            totals.departments.to_string(),
            totals.labs.to_string(),
            totals.online.to_string(),
            totals.hybrid.to_string(),
            totals.onsite.to_string(),
            self.decimal(totals.share_online),
            self.decimal(totals.share_hybrid),
            totals.cancelled.to_string(),
            totals.postponed.to_string(),
            totals.moved_online.to_string(),
        ]
    }

    fn finish(self) -> ApiResult<Vec<u8>> {
        let mut writer = self.options.writer(self.options.preamble().to_vec());
        writer.write_record(&self.header).map_err(ApiError::internal)?;
        for row in &self.rows {
            writer.write_record(row).map_err(ApiError::internal)?;
        }
        writer.into_inner().map_err(ApiError::internal)
    }
}

const BREAKDOWN_COLUMNS: [&str; 7] = ["code", "label", "events", "sessions", "share", "previous_events", "change"];

const TOTALS_COLUMNS: [&str; 15] = [
    "events",
    "sessions",
    "organizers",
    "first_time_organizers",
    "regions",
    "departments",
    "labs",
    "online",
    "hybrid",
    "onsite",
    "share_online",
    "share_hybrid",
    "cancelled",
    "postponed",
    "moved_online",
];

fn long_header() -> Vec<&'static str> {
    std::iter::once("dimension").chain(BREAKDOWN_COLUMNS).collect()
}

/// Every breakdown as one long table (`dimension` first), after a `total` row.
fn long_rows(
    table: &mut Table,
    totals: &Totals,
    previous: Option<i64>,
    breakdowns: &Breakdowns,
    dimensions: &[Dimension],
) {
    let whole = if totals.events == 0 { 0.0 } else { 1.0 };
    let total = vec![
        "total".to_string(),
        String::new(),
        "Tous les événements".to_string(),
        totals.events.to_string(),
        totals.sessions.to_string(),
        table.decimal(whole),
        previous.map(|n| n.to_string()).unwrap_or_default(),
        previous.map(|n| (totals.events - n).to_string()).unwrap_or_default(),
    ];
    table.rows.push(total);
    for dimension in dimensions {
        for row in breakdowns.get(*dimension).into_iter().flatten() {
            let cells = std::iter::once(dimension.as_str().to_string()).chain(table.breakdown_cells(row)).collect();
            table.rows.push(cells);
        }
    }
}

fn all_dimensions(breakdowns: &Breakdowns) -> Vec<Dimension> {
    let mut dimensions = Dimension::PUBLIC.to_vec();
    if breakdowns.publication.is_some() {
        dimensions.push(Dimension::Publication);
    }
    dimensions
}

pub fn edition(report: &EditionReport, options: CsvOptions) -> ApiResult<Vec<u8>> {
    let mut table = Table::new(options, long_header());
    let previous = report.previous.as_ref().map(|p| p.totals.events);
    long_rows(&mut table, &report.totals, previous, &report.breakdowns, &all_dimensions(&report.breakdowns));
    table.finish()
}

pub fn breakdown(report: &BreakdownReport, options: CsvOptions) -> ApiResult<Vec<u8>> {
    let mut table = Table::new(options, BREAKDOWN_COLUMNS.to_vec());
    table.rows = report.rows.iter().map(|row| table.breakdown_cells(row)).collect();
    table.finish()
}

pub fn series(report: &EditionSeries, options: CsvOptions) -> ApiResult<Vec<u8>> {
    let header = ["year", "title", "theme"].into_iter().chain(TOTALS_COLUMNS).collect();
    let mut table = Table::new(options, header);
    for edition in &report.data {
        let mut cells =
            vec![edition.year.to_string(), text(&edition.title), text(edition.theme.as_deref().unwrap_or_default())];
        cells.extend(table.totals_cells(&edition.totals));
        table.rows.push(cells);
    }
    table.finish()
}

const LAB_COLUMNS: [&str; 11] = [
    "slug",
    "name",
    "region",
    "region_name",
    "active",
    "events",
    "sessions",
    "organizers",
    "projects_led",
    "projects_supported",
    "trainings",
];

fn lab_cells(lab: &LabFigures) -> Vec<String> {
    let optional = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_default();
    vec![
        text(&lab.slug),
        text(&lab.name),
        lab.region.code.clone(),
        text(&lab.region.name),
        lab.active.to_string(),
        lab.events.to_string(),
        lab.sessions.to_string(),
        lab.organizers.to_string(),
        optional(lab.projects_led),
        optional(lab.projects_supported),
        optional(lab.trainings),
    ]
}

pub fn labs(report: &LabsReport, options: CsvOptions) -> ApiResult<Vec<u8>> {
    let mut table = Table::new(options, LAB_COLUMNS.to_vec());
    table.rows = report.data.iter().map(lab_cells).collect();
    table.finish()
}

/// The region's breakdowns as one long table, then one `organizer` row per organizer.
pub fn region(report: &RegionReport, options: CsvOptions) -> ApiResult<Vec<u8>> {
    let mut table = Table::new(options, long_header());
    long_rows(&mut table, &report.totals, None, &report.breakdowns, &all_dimensions(&report.breakdowns));
    for organizer in &report.organizers {
        let share = super::assemble::share(organizer.events, report.totals.events);
        table.rows.push(vec![
            "organizer".into(),
            text(&organizer.slug),
            text(&organizer.name),
            organizer.events.to_string(),
            organizer.sessions.to_string(),
            table.decimal(share),
            String::new(),
            String::new(),
        ]);
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_a_spreadsheet_would_run_is_defused_and_numbers_are_not_touched() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("-2"), "'-2");
        assert_eq!(text("Bretagne"), "Bretagne");
    }

    #[test]
    fn semicolon_tables_write_decimal_commas_and_quote_what_needs_it() {
        let mut table = Table::new(CsvOptions { bom: true, delimiter: Delimiter::Semicolon }, vec!["label", "share"]);
        table.rows.push(vec!["Ateliers; tables rondes".into(), table.decimal(0.25)]);
        let bytes = table.finish().unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "\u{feff}label;share\r\n\"Ateliers; tables rondes\";0,25\r\n");
    }
}
