//! Invoices and credit notes as PDF: one A4 page (continued when the lines need more),
//! in the embedded font, and amounts in pounds.

use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};
use tenant_router::TenantConfig;

use identity::store::entity::organisation;

use super::{CREDIT_NOTE, lines_of, uk_day};
use crate::BookingError;
use crate::pdf_font::{Fonts, Weight};
use crate::store::entity::invoice;

/// Pounds and pence (`£1,234.50`, `-£45.00`).
pub use catalogue::domain::money::pounds;

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const LEFT: f32 = 56.0;
const RIGHT: f32 = WIDTH - 56.0;

/// The invoice or credit note as a one-page A4 PDF (continued on further pages when the
/// lines need them).
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
    // Each row: weight, size, text at the left, text at the right.
    let mut rows: Vec<(Weight, f32, String, String)> = vec![
        (b, 12.0, cfg.display_name.clone(), String::new()),
        (r, 10.0, cfg.controller.name.clone(), String::new()),
    ];
    rows.extend(
        cfg.controller
            .address
            .iter()
            .map(|a| (r, 10.0, a.clone(), String::new())),
    );
    rows.push((b, 24.0, format!("{heading} {}", inv.number), String::new()));
    rows.push((
        r,
        11.0,
        format!("Issued {}", uk_day(inv.issued_at)),
        String::new(),
    ));
    rows.push((r, 11.0, format!("Order {order_number}"), String::new()));
    if let Some(credited) = &inv.credits_number {
        rows.push((
            r,
            11.0,
            format!("Credits invoice {credited}"),
            String::new(),
        ));
    }
    rows.push((b, 11.0, format!("Billed to {}", org.name), String::new()));
    rows.push((b, 11.0, "Item".to_owned(), "Amount".to_owned()));
    for l in lines_of(inv)? {
        let amount = pounds(l.amount_pence);
        let room = RIGHT - LEFT - Fonts::width(r, &amount, 10.0) - 24.0;
        let mut wrapped = wrap_to(&l.description, room, 10.0).into_iter();
        rows.push((r, 10.0, wrapped.next().unwrap_or_default(), amount));
        rows.extend(wrapped.map(|more| (r, 10.0, more, String::new())));
        if l.discount_pence > 0 {
            rows.push((
                r,
                9.0,
                format!(
                    "    List price {}, less {} at the SLA rate",
                    pounds(l.list_pence),
                    pounds(l.discount_pence)
                ),
                String::new(),
            ));
        }
    }
    rows.push((b, 12.0, "Total".to_owned(), pounds(inv.total_pence)));

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let info = Ref::new(3);
    let (regular, bold) = (Ref::new(4), Ref::new(5));
    let mut next = Ref::new(6);
    let (f1, f2) = (Name(b"F1"), Name(b"F2"));
    let title = format!("{heading} {}", inv.number);
    pdf.catalog(catalog).pages(pages).lang(TextStr("en-GB"));
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&cfg.display_name));
    let mut page_ids = Vec::new();
    let mut contents: Vec<Content> = vec![Content::new()];
    let mut y = HEIGHT - 64.0;
    for (weight, size, left, right) in &rows {
        if y < 64.0 {
            contents.push(Content::new());
            y = HEIGHT - 64.0;
        }
        let font = if *weight == b { f2 } else { f1 };
        let content = contents.last_mut().ok_or(BookingError::NotFound)?;
        content
            .begin_text()
            .set_font(font, *size)
            .next_line(LEFT, y)
            .show(Str(&fonts.encode(*weight, left)))
            .end_text();
        if !right.is_empty() {
            let x = RIGHT - Fonts::width(*weight, right, *size);
            content
                .begin_text()
                .set_font(font, *size)
                .next_line(x, y)
                .show(Str(&fonts.encode(*weight, right)))
                .end_text();
        }
        y -= size * 1.7;
    }
    for content in contents {
        let (page, body) = (next.bump(), next.bump());
        let mut p = pdf.page(page);
        p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        p.parent(pages);
        p.contents(body);
        p.resources().fonts().pair(f1, regular).pair(f2, bold);
        p.finish();
        pdf.stream(body, &content.finish());
        page_ids.push(page);
    }
    let count = i32::try_from(page_ids.len()).unwrap_or(1);
    pdf.pages(pages).kids(page_ids).count(count);
    fonts.write(&mut pdf, r, regular, &mut next)?;
    fonts.write(&mut pdf, b, bold, &mut next)?;
    Ok(pdf.finish())
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
