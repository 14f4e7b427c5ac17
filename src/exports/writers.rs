//! The files an export writes, a chunk of events at a time: CSV and NDJSON stream as they are
//! written; an XLSX workbook is a zip that is only whole once finished, so it is built in a
//! temporary file first (see `routes::events_xlsx`).

use std::io::{Read, Seek, SeekFrom};

use actix_web::web::{self, Bytes};
use futures_util::Stream;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::model::{ExportLine, ExportRow};
use super::walk::{Origin, Walk};
use crate::error::{ApiError, ApiResult};
use crate::events::sheet::{self, Cell, Kind};
use crate::reports::table::CsvOptions;

/// A text format written a chunk at a time.
pub trait ChunkWriter: Clone + Send + 'static {
    /// What the file starts with (its header).
    fn start(&self) -> ApiResult<Vec<u8>>;
    /// A chunk of events, in order.
    fn rows(&self, rows: &[ExportRow]) -> ApiResult<Vec<u8>>;
}

/// CSV: the header of `sheet::header()`, a row per event with `Cell::text()` (text that looks
/// like a formula is defused), decimal commas after `;`.
#[derive(Debug, Clone, Copy)]
pub struct CsvExport(pub CsvOptions);

impl CsvExport {
    fn cell(&self, cell: &Cell) -> String {
        match cell {
            Cell::Number(number) => self.0.decimal(*number),
            other => other.text(),
        }
    }
}

impl ChunkWriter for CsvExport {
    fn start(&self) -> ApiResult<Vec<u8>> {
        let mut writer = self.0.writer(self.0.preamble().to_vec());
        writer.write_record(sheet::header()).map_err(ApiError::internal)?;
        writer.into_inner().map_err(ApiError::internal)
    }

    fn rows(&self, rows: &[ExportRow]) -> ApiResult<Vec<u8>> {
        let mut writer = self.0.writer(Vec::new());
        for row in rows {
            let cells = sheet::cells(&row.sheet());
            writer.write_record(cells.iter().map(|cell| self.cell(cell))).map_err(ApiError::internal)?;
        }
        writer.into_inner().map_err(ApiError::internal)
    }
}

/// NDJSON: one JSON object per line, the event form with `id`, `slug` and `publication`.
#[derive(Debug, Clone, Copy)]
pub struct NdjsonExport;

impl ChunkWriter for NdjsonExport {
    fn start(&self) -> ApiResult<Vec<u8>> {
        Ok(Vec::new())
    }

    fn rows(&self, rows: &[ExportRow]) -> ApiResult<Vec<u8>> {
        let mut out = Vec::new();
        for row in rows {
            serde_json::to_writer(&mut out, &ExportLine::from(row)).map_err(ApiError::internal)?;
            out.push(b'\n');
        }
        Ok(out)
    }
}

/// Where a streamed body is: the chunk read before the first byte was sent, then the walk.
struct Streaming<W> {
    walk: Walk,
    writer: W,
    pending: Option<Vec<ExportRow>>,
    started: bool,
}

/// The body of a text export: the header and `first` (read before the answer began, so that
/// its failure was still a problem document), then each next chunk once the previous one was
/// taken by the connection. A failure from then on ends the body with an error: logged with the
/// request id, seen by the client as a truncated transfer, never as a file that looks whole.
pub fn text_body<W: ChunkWriter>(
    walk: Walk,
    first: Option<Vec<ExportRow>>,
    writer: W,
) -> impl Stream<Item = Result<Bytes, ApiError>> + 'static {
    let state = Streaming { walk, writer, pending: first, started: false };
    futures_util::stream::try_unfold(state, |mut state| async move {
        match next_bytes(&mut state).await {
            Ok(Some(bytes)) => Ok(Some((bytes, state))),
            Ok(None) => Ok(None),
            Err(error) => {
                state.walk.origin.cut(&error);
                Err(error)
            }
        }
    })
}

async fn next_bytes<W: ChunkWriter>(state: &mut Streaming<W>) -> ApiResult<Option<Bytes>> {
    let rows = match state.pending.take() {
        Some(rows) => rows,
        None if !state.started => Vec::new(),
        None => match state.walk.next().await? {
            Some(rows) => rows,
            None => return Ok(None),
        },
    };
    let (writer, start) = (state.writer.clone(), !state.started);
    state.started = true;
    // Writing a chunk is CPU work: on the blocking pool, off the server's threads.
    let bytes = web::block(move || {
        let mut bytes = if start { writer.start()? } else { Vec::new() };
        bytes.extend(writer.rows(&rows)?);
        Ok::<_, ApiError>(bytes)
    })
    .await??;
    Ok(Some(Bytes::from(bytes)))
}

/// The most rows a worksheet holds (Excel's limit), header included.
const XLSX_MAX_ROWS: u32 = 1_048_576;

fn xlsx_error(error: XlsxError) -> ApiError {
    ApiError::internal(format!("writing the workbook: {error}"))
}

/// An XLSX workbook being written: one sheet, `events`, in constant memory (rows go to a
/// temporary file as they are written, never all held), a bold frozen header, typed cells.
pub struct XlsxExport {
    workbook: Workbook,
    next_row: u32,
    datetime: Format,
}

impl XlsxExport {
    pub fn new() -> ApiResult<Self> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let datetime = Format::new().set_num_format("dd/mm/yyyy hh:mm");
        let sheet = workbook.add_worksheet_with_constant_memory().map_err(xlsx_error)?;
        sheet.set_name("events").map_err(xlsx_error)?;
        for (index, column) in (0u16..).zip(sheet::COLUMNS) {
            if matches!(column.kind, Kind::DateTime) {
                sheet.set_column_width(index, 16).map_err(xlsx_error)?;
            }
            sheet.write_string_with_format(0, index, column.name, &bold).map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(XlsxExport { workbook, next_row: 1, datetime })
    }

    /// Writes a chunk of events below the previous ones.
    pub fn rows(&mut self, rows: &[ExportRow]) -> ApiResult<()> {
        let sheet = self.workbook.worksheet_from_index(0).map_err(xlsx_error)?;
        for row in rows {
            if self.next_row >= XLSX_MAX_ROWS {
                return Err(ApiError::BadRequest {
                    detail: format!(
                        "a spreadsheet holds at most {} events: narrow the filters, or export CSV or NDJSON",
                        XLSX_MAX_ROWS - 1
                    ),
                    errors: Vec::new(),
                });
            }
            for (index, cell) in (0u16..).zip(sheet::cells(&row.sheet())) {
                let at = (self.next_row, index);
                match &cell {
                    Cell::Empty => continue,
                    // Written as a string, text is never run as a formula: no apostrophe needed.
                    Cell::Text(text) => sheet.write_string(at.0, at.1, text),
                    Cell::Number(number) => sheet.write_number(at.0, at.1, *number),
                    Cell::Boolean(flag) => sheet.write_boolean(at.0, at.1, *flag),
                    Cell::DateTime(local) => match excel_datetime(local) {
                        Some(excel) => sheet.write_datetime_with_format(at.0, at.1, &excel, &self.datetime),
                        // Before 1900 or after 9999, which Excel cannot hold: as text.
                        None => sheet.write_string(at.0, at.1, cell.text()),
                    },
                }
                .map_err(xlsx_error)?;
            }
            self.next_row += 1;
        }
        Ok(())
    }

    /// Finishes the workbook into an anonymous temporary file (gone when closed, whatever
    /// happens), ready to be read from its start.
    pub fn finish(mut self) -> ApiResult<std::fs::File> {
        let mut file = tempfile::tempfile().map_err(ApiError::internal)?;
        self.workbook.save_to_writer(&mut file).map_err(xlsx_error)?;
        file.seek(SeekFrom::Start(0)).map_err(ApiError::internal)?;
        Ok(file)
    }
}

fn excel_datetime(local: &chrono::NaiveDateTime) -> Option<ExcelDateTime> {
    use chrono::{Datelike, Timelike};
    let year = u16::try_from(local.year()).ok()?;
    let (month, day) = (u8::try_from(local.month()).ok()?, u8::try_from(local.day()).ok()?);
    let (hour, minute) = (u16::try_from(local.hour()).ok()?, u8::try_from(local.minute()).ok()?);
    ExcelDateTime::from_ymd(year, month, day).ok()?.and_hms(hour, minute, local.second()).ok()
}

/// How much of a finished file each read sends.
const FILE_BLOCK: usize = 256 * 1024;

/// The body of a finished file, read a block at a time on the blocking pool. A failure ends
/// the body with an error (logged with the request id): a truncated transfer.
pub fn file_body(file: std::fs::File, origin: Origin) -> impl Stream<Item = Result<Bytes, ApiError>> + 'static {
    futures_util::stream::try_unfold(Some(file), move |file| {
        let origin = origin.clone();
        async move {
            let Some(mut file) = file else { return Ok(None) };
            let read = web::block(move || {
                let mut block = vec![0; FILE_BLOCK];
                let n = file.read(&mut block)?;
                block.truncate(n);
                Ok::<_, std::io::Error>((file, block))
            })
            .await
            .map_err(ApiError::from)
            .and_then(|read| read.map_err(ApiError::internal));
            match read {
                Ok((_, block)) if block.is_empty() => Ok(None),
                Ok((file, block)) => Ok(Some((Bytes::from(block), Some(file)))),
                Err(error) => {
                    origin.cut(&error);
                    Err(error)
                }
            }
        }
    })
}
