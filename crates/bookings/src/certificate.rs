//! Certificates of attendance: a one-page A4 PDF per CPD record, written with `pdf-writer`
//! in Helvetica (one of the fonts every PDF reader has, so nothing is embedded), kept in
//! object storage at `certificates/{account}/{record}.pdf` under the tenant. The key names
//! the person, so erasing an account finds and deletes every certificate it has.

use chrono::NaiveDate;
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str, TextStr};

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

/// The certificate as a PDF (A4 landscape).
#[must_use]
pub fn render(c: &Certificate<'_>) -> Vec<u8> {
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let regular = Ref::new(4);
    let bold = Ref::new(5);
    let content_id = Ref::new(6);
    let info = Ref::new(7);
    let (f1, f2) = (Name(b"F1"), Name(b"F2"));

    let mut pdf = Pdf::new();
    let title = format!("Certificate of attendance: {}", c.course);
    pdf.catalog(catalog).pages(pages).lang(TextStr("en-GB"));
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(c.issuer));
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
    p.parent(pages);
    p.contents(content_id);
    p.resources().fonts().pair(f1, regular).pair(f2, bold);
    p.finish();
    for (id, name) in [(regular, &b"Helvetica"[..]), (bold, b"Helvetica-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(name))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }

    let mut content = Content::new();
    // A border inside the margin.
    content
        .set_line_width(2.0)
        .rect(MARGIN / 2.0, MARGIN / 2.0, WIDTH - MARGIN, HEIGHT - MARGIN)
        .stroke();
    let hours = f64::from(c.minutes) / 60.0;
    let hours = if c.minutes % 60 == 0 {
        format!("{hours:.0}")
    } else {
        format!("{hours:.1}")
    };
    let plural = if c.minutes == 60 { "" } else { "s" };
    let mut lines: Vec<(Name<'_>, f32, String)> = vec![
        (f1, 14.0, c.issuer.to_owned()),
        (f2, 30.0, "Certificate of attendance".to_owned()),
        (f1, 14.0, "This is to certify that".to_owned()),
        (f2, 24.0, c.person.to_owned()),
        (f1, 14.0, "attended".to_owned()),
    ];
    lines.extend(wrap(c.course, 60).into_iter().map(|l| (f2, 20.0, l)));
    lines.push((
        f1,
        14.0,
        format!(
            "completed on {}, {hours} hour{plural} of continuing professional development.",
            c.completed_on.format("%-d %B %Y")
        ),
    ));
    let mut y = HEIGHT - MARGIN - 40.0;
    for (font, size, text) in &lines {
        content
            .begin_text()
            .set_font(*font, *size)
            .next_line(MARGIN + 20.0, y)
            .show(Str(&win_ansi(text)))
            .end_text();
        y -= size * 1.9;
    }
    content
        .begin_text()
        .set_font(f1, 9.0)
        .next_line(MARGIN + 20.0, MARGIN)
        .show(Str(&win_ansi(&format!("Reference {}", c.reference))))
        .end_text();
    pdf.stream(content_id, &content.finish());
    pdf.finish()
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

/// `text` in the Windows-1252 encoding the standard fonts use; anything it cannot show
/// becomes `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|ch| match ch {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => {
                u8::try_from(u32::from(ch)).unwrap_or(b'?')
            }
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_is_a_pdf_naming_the_person_course_and_hours() {
        let pdf = render(&Certificate {
            issuer: "Harrow School Support",
            person: "Zoë O’Neill",
            course: "Moderating writing at key stage 2",
            completed_on: NaiveDate::from_ymd_opt(2027, 3, 4).unwrap(),
            minutes: 90,
            reference: "0190-abc",
        });
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.ends_with(b"%%EOF") || pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        for needle in [
            "Helvetica-Bold",
            "WinAnsiEncoding",
            "(Moderating writing at key stage 2)",
            "1.5 hours",
            "4 March 2027",
            "Reference 0190-abc",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        // The name in Windows-1252 (ë is EB, the apostrophe 92), as a hex string.
        assert!(
            text.to_ascii_lowercase()
                .contains("<5a6feb204f924e65696c6c>"),
            "{text}"
        );
    }

    #[test]
    fn long_titles_wrap_at_spaces_and_unknown_characters_become_question_marks() {
        assert_eq!(wrap("a bb ccc", 4), ["a bb", "ccc"]);
        assert_eq!(wrap("", 10), [""]);
        assert_eq!(win_ansi("Łódź £5"), b"?\xF3d? \xA35");
    }
}
