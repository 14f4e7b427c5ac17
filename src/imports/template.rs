//! The CSV template scripts and spreadsheets start from: the header and one example row.

use crate::error::{ApiError, ApiResult};
use crate::events::sheet::{COLUMNS, Kind};

/// The example row, by column; read-only columns stay empty (a new event has no id yet).
fn example(column: &str) -> &'static str {
    match column {
        "external_id" => "atelier-rennes-01",
        "edition" => "2030",
        "title" => "Atelier : concevoir un service avec ses usagers",
        "summary" => "Deux heures pour tester un parcours usager avec celles et ceux qui le vivent.",
        "format" => "workshop",
        "mode" => "onsite",
        "audience" => "public_agents",
        "starts_at" => "14/11/2030 14:00",
        "ends_at" => "14/11/2030 16:00",
        "timezone" => "Europe/Paris",
        "venue_name" => "Préfecture d'Ille-et-Vilaine",
        "venue_address" => "3 avenue de la Préfecture",
        "postal_code" => "35000",
        "city" => "Rennes",
        "department" => "35",
        "region" => "53",
        "latitude" => "48,1173",
        "longitude" => "-1,6778",
        "registration_required" => "oui",
        "registration_url" => "https://www.example.fr/inscription",
        "capacity" => "30",
        "language" => "fr",
        "tags" => "usagers | design",
        "status" => "scheduled",
        _ => "",
    }
}

/// `;`-separated, UTF-8 with a byte order mark: what Excel set to French opens as columns.
pub fn csv() -> ApiResult<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let writable = || COLUMNS.iter().filter(|c| !matches!(c.kind, Kind::ReadOnly) || c.name == "id");
    writer.write_record(writable().map(|c| c.name)).map_err(ApiError::internal)?;
    // A longitude west of Greenwich starts with `-`: a spreadsheet would take it for a formula,
    // so it is written as the number it is (a decimal comma, as French spreadsheets do).
    writer.write_record(writable().map(|c| example(c.name))).map_err(ApiError::internal)?;
    writer.into_inner().map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::sheet::{Header, read_row};
    use crate::http::language::Lang;

    #[test]
    fn the_example_row_reads_as_an_event_form() {
        let bytes = csv().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let text = text.strip_prefix('\u{feff}').unwrap();
        let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(text.as_bytes());
        let records: Vec<Vec<String>> =
            reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        let header = Header::read(&records[0], Lang::En).unwrap();
        let row = read_row(&header, &records[1], Lang::En).unwrap();
        assert_eq!(row.fields["venue"]["longitude"], serde_json::json!(-1.6778));
        assert_eq!(row.fields["sessions"][0]["starts_at"], "2030-11-14T14:00:00");
    }
}
