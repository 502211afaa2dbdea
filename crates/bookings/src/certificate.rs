//! Certificates of attendance: a one-page A4 PDF per CPD record, written with `pdf-writer`
//! in DejaVu Sans, embedded as a subset that covers Latin Extended ([`crate::pdf_font`]),
//! so every Latin name prints as written; kept in object storage at `certificates/{account}/{record}.pdf` under the tenant. The key names
//! the person, so erasing an account finds and deletes every certificate it has.

use chrono::NaiveDate;
use pdf_writer::types::StructRole;
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str};

use crate::pdf_font::{FontError, Fonts, Weight};
use crate::pdf_tags::Tags;

/// What a certificate says.
#[derive(Debug, Clone)]
pub struct Certificate<'a> {
    /// Who awards it: the tenant's service name.
    pub issuer: &'a str,
    /// The delegate's name.
    pub person: &'a str,
    /// The course's title.
    pub course: &'a str,
    /// The day it was completed (UK).
    pub completed_on: NaiveDate,
    /// CPD time, in minutes.
    pub minutes: i32,
    /// The CPD record's id, printed so the certificate can be checked.
    pub reference: &'a str,
}

/// Where a CPD record's certificate is kept, under the tenant.
#[must_use]
pub fn key(account_id: &str, record_id: &str) -> String {
    format!("{}{record_id}.pdf", prefix(account_id))
}

/// The folder of a person's certificates, under the tenant.
#[must_use]
pub fn prefix(account_id: &str) -> String {
    format!("certificates/{account_id}/")
}

/// The PDF's content type.
pub const CONTENT_TYPE: &str = "application/pdf";

const WIDTH: f32 = 842.0;
const HEIGHT: f32 = 595.0;
const MARGIN: f32 = 72.0;

/// The certificate as a tagged PDF (A4 landscape): a heading and paragraphs a screen
/// reader reads in order; the border is decoration.
///
/// # Errors
/// When the embedded font cannot be written (it always can).
pub fn render(c: &Certificate<'_>) -> Result<Vec<u8>, FontError> {
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let regular = Ref::new(4);
    let bold = Ref::new(5);
    let content_id = Ref::new(6);
    let info = Ref::new(7);
    let root = Ref::new(8);
    let metadata = Ref::new(9);
    let (f1, f2) = (Name(b"F1"), Name(b"F2"));

    let mut pdf = Pdf::new();
    let title = format!("Certificate of attendance: {}", c.course);
    Tags::catalog(&mut pdf, catalog, pages, root, metadata);
    Tags::describe(&mut pdf, info, metadata, &title, c.issuer);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    p.parent(pages);
    p.contents(content_id);
    p.struct_parents(0);
    p.resources().fonts().pair(f1, regular).pair(f2, bold);
    p.finish();
    let mut fonts = Fonts::default();
    let mut tags = Tags::new();
    tags.page();

    let mut content = Content::new();
    // A border inside the margin.
    Tags::artifact(&mut content);
    content
        .set_line_width(2.0)
        .rect(MARGIN / 2.0, MARGIN / 2.0, WIDTH - MARGIN, HEIGHT - MARGIN)
        .stroke();
    Tags::end(&mut content);
    let hours = f64::from(c.minutes) / 60.0;
    let hours = if c.minutes % 60 == 0 {
        format!("{hours:.0}")
    } else {
        format!("{hours:.1}")
    };
    let plural = if c.minutes == 60 { "" } else { "s" };
    let (r, b) = (Weight::Regular, Weight::Bold);
    // Each line: weight, size, text, and whether it starts an element (of that role) or
    // goes on with the one before (a wrapped title).
    let mut lines: Vec<(Weight, f32, String, Option<StructRole>)> = vec![
        (r, 14.0, c.issuer.to_owned(), Some(StructRole::P)),
        (
            b,
            30.0,
            "Certificate of attendance".to_owned(),
            Some(StructRole::H1),
        ),
        (
            r,
            14.0,
            "This is to certify that".to_owned(),
            Some(StructRole::P),
        ),
        (b, 24.0, c.person.to_owned(), Some(StructRole::P)),
        (r, 14.0, "attended".to_owned(), Some(StructRole::P)),
    ];
    lines.extend(
        wrap(c.course, 60)
            .into_iter()
            .enumerate()
            .map(|(i, l)| (b, 20.0, l, (i == 0).then_some(StructRole::P))),
    );
    lines.push((
        r,
        14.0,
        format!(
            "completed on {}, {hours} hour{plural} of continuing professional development.",
            c.completed_on.format("%-d %B %Y")
        ),
        Some(StructRole::P),
    ));
    let mut y = HEIGHT - MARGIN - 40.0;
    let mut el = Tags::document();
    for (weight, size, text, role) in &lines {
        if let Some(role) = role {
            el = tags.add(*role, Tags::document());
        }
        let font = if *weight == Weight::Bold { f2 } else { f1 };
        tags.begin(&mut content, el);
        content
            .begin_text()
            .set_font(font, *size)
            .next_line(MARGIN + 20.0, y)
            .show(Str(&fonts.encode(*weight, text)))
            .end_text();
        Tags::end(&mut content);
        y -= size * 1.9;
    }
    let reference = fonts.encode(r, &format!("Reference {}", c.reference));
    let el = tags.add(StructRole::P, Tags::document());
    tags.begin(&mut content, el);
    content
        .begin_text()
        .set_font(f1, 9.0)
        .next_line(MARGIN + 20.0, MARGIN)
        .show(Str(&reference))
        .end_text();
    Tags::end(&mut content);
    pdf.stream(content_id, &content.finish());
    let mut next = Ref::new(10);
    tags.write(&mut pdf, root, &[page], &mut next);
    fonts.write(&mut pdf, r, regular, &mut next)?;
    fonts.write(&mut pdf, b, bold, &mut next)?;
    Ok(pdf.finish())
}

/// Splits `text` into lines of at most about `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf_font::shown_text;

    #[test]
    fn a_certificate_is_a_pdf_naming_the_person_course_and_hours() {
        let pdf = render(&Certificate {
            issuer: "Harrow School Support",
            person: "Zoë O’Neill",
            course: "Moderating writing at key stage 2",
            completed_on: NaiveDate::from_ymd_opt(2027, 3, 4).unwrap(),
            minutes: 90,
            reference: "0190-abc",
        })
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
        let shown = shown_text(&pdf);
        for needle in [
            "Certificate of attendance",
            "Zoë O’Neill",
            "Moderating writing at key stage 2",
            "completed on 4 March 2027, 1.5 hours of continuing professional development.",
            "Reference 0190-abc",
        ] {
            assert!(shown.contains(needle), "{needle} in {shown}");
        }
    }

    #[test]
    fn welsh_and_polish_names_print_as_written() {
        let pdf = render(&Certificate {
            issuer: "Gwasanaethau Addysg",
            person: "Siôn Ŵyn Llŷr and Łucja Śliwińska",
            course: "Cymraeg yn y dosbarth: ŵ, ŷ, â, ê",
            completed_on: NaiveDate::from_ymd_opt(2027, 3, 4).unwrap(),
            minutes: 60,
            reference: "r",
        })
        .unwrap();
        let shown = shown_text(&pdf);
        assert!(
            shown.contains("Siôn Ŵyn Llŷr and Łucja Śliwińska"),
            "{shown}"
        );
        assert!(
            shown.contains("Cymraeg yn y dosbarth: ŵ, ŷ, â, ê"),
            "{shown}"
        );
        assert!(!shown.contains('?'), "{shown}");
        assert!(shown.contains("1 hour of"), "{shown}");
    }

    #[test]
    fn long_titles_wrap_at_spaces() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("", 10), [""]);
    }
}
