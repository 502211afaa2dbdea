//! Text in the PDFs the platform writes (certificates), in an embedded font that covers
//! Latin Extended, so Welsh ŵ and ŷ, Polish ł and ś and the rest print as themselves:
//! DejaVu Sans, regular and bold, cut down to the Latin blocks and common punctuation
//! (`fonts/README.md` says how, and under which licence), and cut again, per document, to
//! the glyphs it uses (`subsetter`).
//!
//! Text is written as two-byte codes equal to each character's code point (so a content
//! stream reads as UTF-16), mapped to the subset's glyphs by the font's `CIDToGIDMap`,
//! with a `ToUnicode` map so that readers can search and copy it and screen readers read
//! it. A character the font lacks prints as `?`.

use std::collections::BTreeSet;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish as _, Name, Pdf, Rect, Ref, Str};

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans-latin.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-latin.ttf");

const SYSTEM_INFO: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// A weight of the embedded font.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// DejaVu Sans.
    Regular,
    /// DejaVu Sans Bold.
    Bold,
}

impl Weight {
    fn data(self) -> &'static [u8] {
        match self {
            Self::Regular => REGULAR,
            Self::Bold => BOLD,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Regular => 0,
            Self::Bold => 1,
        }
    }

    fn base_font(self) -> &'static str {
        // A subset's name starts with six capital letters and `+`.
        match self {
            Self::Regular => "PORTAL+DejaVuSans",
            Self::Bold => "PORTAL+DejaVuSans-Bold",
        }
    }
}

/// The failure to write a font (the embedded file did not parse or subset).
#[derive(Debug, thiserror::Error)]
#[error("the embedded font could not be written: {0}")]
pub struct FontError(String);

/// The characters a document shows in each weight; then the fonts written for them.
#[derive(Debug, Default)]
pub struct Fonts {
    used: [BTreeSet<char>; 2],
}

impl Fonts {
    /// `text` as codes of the font in `weight`, for `Content::show`; every character the
    /// font cannot show becomes `?`.
    pub fn encode(&mut self, weight: Weight, text: &str) -> Vec<u8> {
        let face = ttf_parser::Face::parse(weight.data(), 0).ok();
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let shown = face
                .as_ref()
                .and_then(|f| f.glyph_index(ch))
                .and_then(|_| u16::try_from(u32::from(ch)).ok())
                .map_or('?', |_| ch);
            self.used[weight.index()].insert(shown);
            let code = u16::try_from(u32::from(shown)).unwrap_or(u16::from(b'?'));
            out.extend_from_slice(&code.to_be_bytes());
        }
        out
    }

    /// How wide `text` is at `size` points in `weight` (for right-aligned figures).
    #[must_use]
    pub fn width(weight: Weight, text: &str, size: f32) -> f32 {
        let Ok(face) = ttf_parser::Face::parse(weight.data(), 0) else {
            return 0.0;
        };
        let units: f32 = text
            .chars()
            .map(|ch| {
                let glyph = face.glyph_index(ch).or_else(|| face.glyph_index('?'));
                glyph
                    .and_then(|g| face.glyph_hor_advance(g))
                    .map_or(0.0, f32::from)
            })
            .sum();
        units * size / f32::from(face.units_per_em())
    }

    /// Writes the font for `weight` as the Type 0 font `id`, its parts taking references
    /// from `next` on: the font, cut to the characters [`Fonts::encode`] saw.
    ///
    /// # Errors
    /// When the embedded font does not parse or subset (it always does).
    pub fn write(
        &self,
        pdf: &mut Pdf,
        weight: Weight,
        id: Ref,
        next: &mut Ref,
    ) -> Result<(), FontError> {
        let data = weight.data();
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| FontError(e.to_string()))?;
        let chars = &self.used[weight.index()];
        let mut remapper = subsetter::GlyphRemapper::new();
        let glyphs: Vec<(char, u16)> = chars
            .iter()
            .map(|&ch| {
                let old = face.glyph_index(ch).map_or(0, |g| g.0);
                (ch, old)
            })
            .collect();
        for (_, old) in &glyphs {
            remapper.remap(*old);
        }
        let program =
            subsetter::subset(data, 0, &remapper).map_err(|e| FontError(e.to_string()))?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        let max = chars.iter().map(|c| u32::from(*c)).max().unwrap_or(0);
        let mut cid_to_gid = vec![0u8; (max as usize + 1) * 2];
        for (ch, old) in &glyphs {
            let at = u32::from(*ch) as usize * 2;
            let new = remapper.get(*old).unwrap_or(0);
            cid_to_gid[at..at + 2].copy_from_slice(&new.to_be_bytes());
        }
        let (cid, descriptor, file, map, unicode) = (
            next.bump(),
            next.bump(),
            next.bump(),
            next.bump(),
            next.bump(),
        );
        let base = Name(weight.base_font().as_bytes());

        pdf.type0_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid)
            .to_unicode(unicode);
        let mut font = pdf.cid_font(cid);
        font.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(SYSTEM_INFO)
            .font_descriptor(descriptor)
            .default_width(0.0)
            .cid_to_gid_map_stream(map);
        let mut widths = font.widths();
        for (ch, old) in &glyphs {
            let advance = face
                .glyph_hor_advance(ttf_parser::GlyphId(*old))
                .unwrap_or(0);
            let code = u16::try_from(u32::from(*ch)).unwrap_or(0);
            widths.consecutive(code, [f32::from(advance) * scale]);
        }
        widths.finish();
        font.finish();

        let b = face.global_bounding_box();
        let bold = weight == Weight::Bold;
        pdf.font_descriptor(descriptor)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                f32::from(b.x_min) * scale,
                f32::from(b.y_min) * scale,
                f32::from(b.x_max) * scale,
                f32::from(b.y_max) * scale,
            ))
            .italic_angle(0.0)
            .ascent(f32::from(face.ascender()) * scale)
            .descent(f32::from(face.descender()) * scale)
            .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
            .stem_v(if bold { 120.0 } else { 80.0 })
            .font_file2(file);
        let program_len = i32::try_from(program.len()).unwrap_or(i32::MAX);
        pdf.stream(file, &deflate(&program))
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), program_len);
        pdf.stream(map, &deflate(&cid_to_gid))
            .filter(Filter::FlateDecode);
        let mut cmap = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
        for &ch in chars {
            if let Ok(code) = u16::try_from(u32::from(ch)) {
                cmap.pair(code, ch);
            }
        }
        pdf.cmap(unicode, &cmap.finish());
        Ok(())
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The text a PDF written with [`Fonts`] shows, one line per string drawn (`Tj`), for
/// tests and checks: content streams are written uncompressed.
#[must_use]
pub fn shown_text(pdf: &[u8]) -> String {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < pdf.len() {
        let (token, end) = match pdf[i] {
            b'(' => literal(pdf, i + 1),
            b'<' if pdf.get(i + 1) != Some(&b'<') => hex(pdf, i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        let mut j = end;
        while pdf.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if pdf.get(j..j + 2) == Some(b"Tj") {
            let units: Vec<u16> = token
                .chunks(2)
                .map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)]))
                .collect();
            lines.push(String::from_utf16_lossy(&units));
        }
        i = end.max(i + 1);
    }
    lines.join("\n")
}

/// A literal string's bytes from just after its `(`, and where it ends.
fn literal(pdf: &[u8], mut i: usize) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut depth = 0;
    while let Some(&b) = pdf.get(i) {
        i += 1;
        match b {
            b'\\' => {
                let Some(&e) = pdf.get(i) else { break };
                i += 1;
                match e {
                    b'n' => out.push(b'\n'),
                    b'r' => out.push(b'\r'),
                    b't' => out.push(b'\t'),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'0'..=b'7' => {
                        let mut v = u32::from(e - b'0');
                        for _ in 0..2 {
                            match pdf.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(u8::try_from(v & 0xff).unwrap_or(0));
                    }
                    other => out.push(other),
                }
            }
            b'(' => {
                depth += 1;
                out.push(b);
            }
            b')' if depth == 0 => return (out, i),
            b')' => {
                depth -= 1;
                out.push(b);
            }
            _ => out.push(b),
        }
    }
    (out, i)
}

/// A hex string's bytes from just after its `<`, and where it ends.
fn hex(pdf: &[u8], i: usize) -> (Vec<u8>, usize) {
    let Some(len) = pdf[i..].iter().position(|&b| b == b'>') else {
        return (Vec::new(), i);
    };
    let digits: Vec<u8> = pdf[i..i + len]
        .iter()
        .copied()
        .filter(u8::is_ascii_hexdigit)
        .collect();
    if digits.len()
        != pdf[i..i + len]
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .count()
    {
        return (Vec::new(), i);
    }
    let bytes = digits
        .chunks(2)
        .filter_map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(&format!("{s:0<2}"), 16).ok()
        })
        .collect();
    (bytes, i + len + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_extended_text_is_shown_as_itself_and_unknown_characters_as_question_marks() {
        let mut fonts = Fonts::default();
        let welsh = "Ŵyr Gŵyl Ŷd, Łódź, Zoë O’Neill, Şahin, € 5";
        let codes = fonts.encode(Weight::Regular, welsh);
        assert_eq!(codes.len(), welsh.chars().count() * 2);
        assert!(
            !String::from_utf16_lossy(
                &codes
                    .chunks(2)
                    .map(|p| u16::from_be_bytes([p[0], p[1]]))
                    .collect::<Vec<_>>()
            )
            .contains('?')
        );
        // Outside the cut-down font: CJK and emoji.
        let other = fonts.encode(Weight::Bold, "学校 🙂");
        assert_eq!(other, [0, b'?', 0, b'?', 0, b' ', 0, b'?']);
    }

    #[test]
    fn a_document_embeds_only_the_glyphs_it_uses_and_maps_them_back_to_text() {
        let mut fonts = Fonts::default();
        let mut pdf = Pdf::new();
        let shown = fonts.encode(Weight::Regular, "Gŵyl ddysgu (Łódź)");
        let mut content = pdf_writer::Content::new();
        content
            .begin_text()
            .set_font(Name(b"F1"), 12.0)
            .show(Str(&shown))
            .end_text();
        pdf.stream(Ref::new(1), &content.finish());
        let mut next = Ref::new(3);
        fonts
            .write(&mut pdf, Weight::Regular, Ref::new(2), &mut next)
            .unwrap();
        let bytes = pdf.finish();
        assert_eq!(shown_text(&bytes), "Gŵyl ddysgu (Łódź)");
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            "/FontFile2",
            "/Identity-H",
            "/ToUnicode",
            "PORTAL+DejaVuSans",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        // The whole cut-down font is about 68 KB; this document's subset is far smaller.
        assert!(bytes.len() < 20_000, "{}", bytes.len());
    }
}
