//! Invoices and credit notes as PDF: one A4 page (continued when the lines need more),
//! in the embedded font, and amounts in pounds.

use pdf_writer::types::StructRole;
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str};
use tenant_router::TenantConfig;

use identity::store::entity::organisation;

use super::{CREDIT_NOTE, lines_of, uk_day};
use crate::BookingError;
use crate::pdf_font::{Fonts, Weight};
use crate::pdf_tags::Tags;
use crate::store::entity::invoice;

/// Pounds and pence (`£1,234.50`, `-£45.00`).
pub use catalogue::domain::money::pounds;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 56.0;
const RIGHT: f32 = WIDTH - 56.0;

/// The invoice or credit note as a tagged A4 PDF, one page or more when the lines need
/// them: a heading, paragraphs, and a table of the lines with its header row and total.
///
/// # Errors
/// When the stored lines do not parse or the font cannot be written.
pub fn pdf(
    cfg: &TenantConfig,
    org: &organisation::Model,
    order_number: &str,
    inv: &invoice::Model,
) -> Result<Vec<u8>, BookingError> {
    let (r, b) = (Weight::Regular, Weight::Bold);
    let credit = inv.kind == CREDIT_NOTE;
    let heading = if credit { "Credit note" } else { "Invoice" };
    let mut fonts = Fonts::default();
    let mut rows: Vec<Row> = vec![
        Row::new(Part::P, b, 12.0, cfg.display_name.clone()),
        Row::new(Part::P, r, 10.0, cfg.controller.name.clone()),
    ];
    rows.extend(
        cfg.controller
            .address
            .iter()
            .map(|a| Row::new(Part::P, r, 10.0, a.clone())),
    );
    rows.push(Row::new(
        Part::H1,
        b,
        24.0,
        format!("{heading} {}", inv.number),
    ));
    rows.push(Row::new(
        Part::P,
        r,
        11.0,
        format!("Issued {}", uk_day(inv.issued_at)),
    ));
    rows.push(Row::new(Part::P, r, 11.0, format!("Order {order_number}")));
    if let Some(credited) = &inv.credits_number {
        rows.push(Row::new(
            Part::P,
            r,
            11.0,
            format!("Credits invoice {credited}"),
        ));
    }
    rows.push(Row::new(
        Part::P,
        b,
        11.0,
        format!("Billed to {}", org.name),
    ));
    rows.push(Row::new(Part::Head, b, 11.0, "Item".to_owned()).right("Amount"));
    for l in lines_of(inv)? {
        let amount = pounds(l.amount_pence);
        let room = RIGHT - LEFT - Fonts::width(r, &amount, 10.0) - 24.0;
        let mut wrapped = wrap_to(&l.description, room, 10.0).into_iter();
        rows.push(Row::new(Part::Line, r, 10.0, wrapped.next().unwrap_or_default()).right(&amount));
        rows.extend(wrapped.map(|more| Row::new(Part::More, r, 10.0, more)));
        if l.discount_pence > 0 {
            rows.push(Row::new(
                Part::More,
                r,
                9.0,
                format!(
                    "    List price {}, less {} at the SLA rate",
                    pounds(l.list_pence),
                    pounds(l.discount_pence)
                ),
            ));
        }
    }
    rows.push(Row::new(Part::Total, b, 12.0, "Total".to_owned()).right(&pounds(inv.total_pence)));

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let info = Ref::new(3);
    let (regular, bold) = (Ref::new(4), Ref::new(5));
    let root = Ref::new(6);
    let metadata = Ref::new(7);
    let mut next = Ref::new(8);
    let (f1, f2) = (Name(b"F1"), Name(b"F2"));
    let title = format!("{heading} {}", inv.number);
    Tags::catalog(&mut pdf, catalog, pages, root, metadata);
    Tags::describe(&mut pdf, info, metadata, &title, &cfg.display_name);
    let mut tags = Tags::new();
    tags.page();
    let mut contents: Vec<Content> = vec![Content::new()];
    let mut y = HEIGHT - 64.0;
    let doc = Tags::document();
    let (mut table, mut cell) = (doc, doc);
    for row in &rows {
        if y < 64.0 {
            contents.push(Content::new());
            tags.page();
            y = HEIGHT - 64.0;
        }
        // The element the left text belongs to, and the right text's (a table row's
        // second cell).
        let (left, right) = match row.part {
            Part::P => (tags.add(StructRole::P, doc), None),
            Part::H1 => (tags.add(StructRole::H1, doc), None),
            Part::Head => {
                table = tags.add(StructRole::Table, doc);
                let tr = tags.add(StructRole::TR, table);
                (
                    tags.add(StructRole::TH, tr),
                    Some(tags.add(StructRole::TH, tr)),
                )
            }
            Part::Line => {
                let tr = tags.add(StructRole::TR, table);
                cell = tags.add(StructRole::TD, tr);
                (cell, Some(tags.add(StructRole::TD, tr)))
            }
            Part::More => (cell, None),
            Part::Total => {
                let tr = tags.add(StructRole::TR, table);
                (tags.add_row_header(tr), Some(tags.add(StructRole::TD, tr)))
            }
        };
        let font = if row.weight == b { f2 } else { f1 };
        let content = contents.last_mut().ok_or(BookingError::NotFound)?;
        let mut show = |x: f32, el, text: &str| {
            tags.begin(content, el);
            content
                .begin_text()
                .set_font(font, row.size)
                .next_line(x, y)
                .show(Str(&fonts.encode(row.weight, text)))
                .end_text();
            Tags::end(content);
        };
        show(LEFT, left, &row.left);
        if let Some(el) = right {
            let x = RIGHT - Fonts::width(row.weight, &row.right, row.size);
            show(x, el, &row.right);
        }
        y -= row.size * 1.7;
    }
    let mut page_ids = Vec::new();
    for (key, content) in contents.into_iter().enumerate() {
        let (page, body) = (next.bump(), next.bump());
        let mut p = pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        p.parent(pages);
        p.contents(body);
        p.struct_parents(i32::try_from(key).unwrap_or(i32::MAX));
        p.resources().fonts().pair(f1, regular).pair(f2, bold);
        p.finish();
        pdf.stream(body, &content.finish());
        page_ids.push(page);
    }
    let count = i32::try_from(page_ids.len()).unwrap_or(1);
    pdf.pages(pages).kids(page_ids.iter().copied()).count(count);
    tags.write(&mut pdf, root, &page_ids, &mut next);
    fonts.write(&mut pdf, r, regular, &mut next)?;
    fonts.write(&mut pdf, b, bold, &mut next)?;
    Ok(pdf.finish())
}

/// What a row of the invoice is, for its tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// A paragraph.
    P,
    /// The heading.
    H1,
    /// The table's header row.
    Head,
    /// A line of the invoice: a row of the table.
    Line,
    /// More of the line above's description (wrapped, or its discount).
    More,
    /// The total: the table's last row.
    Total,
}

/// A row drawn: text at the left, and at the right for a table row.
struct Row {
    part: Part,
    weight: Weight,
    size: f32,
    left: String,
    right: String,
}

impl Row {
    fn new(part: Part, weight: Weight, size: f32, left: String) -> Self {
        Self {
            part,
            weight,
            size,
            left,
            right: String::new(),
        }
    }

    fn right(mut self, text: &str) -> Self {
        text.clone_into(&mut self.right);
        self
    }
}

/// `text` in lines no wider than `room` points at `size` (a word longer than that stands
/// alone on its line).
fn wrap_to(text: &str, room: f32, size: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && Fonts::width(Weight::Regular, &candidate, size) > room {
            lines.push(std::mem::replace(&mut line, word.to_owned()));
        } else {
            line = candidate;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_are_grouped_and_signed() {
        assert_eq!(pounds(0), "£0.00");
        assert_eq!(pounds(4_500), "£45.00");
        assert_eq!(pounds(123_456_789), "£1,234,567.89");
        assert_eq!(pounds(-12_050), "-£120.50");
    }

    #[test]
    fn long_descriptions_wrap_inside_the_room_left_by_the_amount() {
        let title = "Supporting pupils with speech, language and communication needs in the \
                     early years foundation stage and key stage 1, 4 March 2027";
        let lines = wrap_to(title, 300.0, 10.0);
        assert!(lines.len() > 1, "{lines:?}");
        assert_eq!(lines.join(" "), title);
        for l in &lines {
            assert!(Fonts::width(Weight::Regular, l, 10.0) <= 300.0, "{l}");
        }
        assert_eq!(wrap_to("", 100.0, 10.0), [""]);
    }
}
