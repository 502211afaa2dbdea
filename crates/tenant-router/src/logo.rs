//! Checks a tenant's logo before anyone sees it: at most [`MAX_BYTES`], a PNG that is a PNG,
//! or an SVG that is a drawing and nothing else. An SVG can carry scripts, event handlers,
//! embedded HTML, style sheets and links to other sites, so an allowlist applies: drawing
//! elements only, all in the SVG namespace; attributes without a namespace (or `xlink:href`,
//! `xml:space`, `xml:lang`); no `on…` attribute; references only inside the file
//! (`#id`, `url(#id)`) or to an embedded PNG or JPEG; no processing instruction, style
//! element or DTD. A logo can then never run code or fetch anything.

/// Largest logo accepted (200 KB).
pub const MAX_BYTES: usize = 200 * 1024;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const SVG_NS: &str = "http://www.w3.org/2000/svg";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The elements a drawing needs.
const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "title",
    "desc",
    "metadata",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "textPath",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "image",
    "marker",
    "filter",
    "feGaussianBlur",
    "feOffset",
    "feBlend",
    "feColorMatrix",
    "feFlood",
    "feComposite",
    "feMerge",
    "feMergeNode",
];

/// Why a logo is refused, or `Ok` when it may be shown.
///
/// # Errors
/// What is wrong, in words for the operator.
pub fn check(name: &str, bytes: &[u8]) -> Result<(), String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "`{name}` is {} KB; a logo may be at most {} KB",
            bytes.len().div_ceil(1024),
            MAX_BYTES / 1024
        ));
    }
    if name.ends_with(".png") {
        return if bytes.starts_with(PNG_SIGNATURE) {
            Ok(())
        } else {
            Err(format!("`{name}` is not a PNG image"))
        };
    }
    let text = std::str::from_utf8(bytes).map_err(|_| format!("`{name}` is not UTF-8 SVG"))?;
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| format!("`{name}` is not a well-formed SVG: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" || root.tag_name().namespace() != Some(SVG_NS) {
        return Err(format!("`{name}` is not an SVG drawing"));
    }
    for node in doc.descendants() {
        if node.is_pi() {
            return Err(format!(
                "`{name}` has a processing instruction, which a logo may not"
            ));
        }
        if !node.is_element() {
            continue;
        }
        let tag = node.tag_name();
        if tag.namespace() != Some(SVG_NS) || !ELEMENTS.contains(&tag.name()) {
            return Err(format!(
                "`{name}` contains a <{}> element, which a logo may not",
                tag.name()
            ));
        }
        for a in node.attributes() {
            attribute(name, a.namespace(), a.name(), a.value())?;
        }
    }
    Ok(())
}

/// One attribute: allowed namespaces, no handler, references only inside the file.
fn attribute(file: &str, ns: Option<&str>, attr: &str, value: &str) -> Result<(), String> {
    let allowed_ns = match ns {
        None => true,
        Some(XLINK_NS) => attr == "href",
        Some(XML_NS) => attr == "space" || attr == "lang",
        Some(_) => false,
    };
    if !allowed_ns {
        return Err(format!(
            "`{file}` has an attribute `{attr}` from another vocabulary"
        ));
    }
    if attr.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("on")) {
        return Err(format!(
            "`{file}` has an `{attr}` event handler, which a logo may not"
        ));
    }
    // What a browser would read: no spaces, tabs or line breaks, any case.
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    if squeezed.contains("javascript:") || squeezed.contains('\\') || squeezed.contains("@import") {
        return Err(format!("`{file}` has a script or an escape in `{attr}`"));
    }
    if attr == "href"
        && !(value.starts_with('#')
            || squeezed.starts_with("data:image/png")
            || squeezed.starts_with("data:image/jpeg"))
    {
        return Err(format!(
            "`{file}` refers to `{value}`; a logo may only refer to itself or embed a PNG or JPEG"
        ));
    }
    let mut rest = squeezed.as_str();
    while let Some(at) = rest.find("url(") {
        rest = &rest[at + 4..];
        if !rest.starts_with('#') && !rest.starts_with("'#") && !rest.starts_with("\"#") {
            return Err(format!("`{file}` refers outside itself in `{attr}`"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><defs><linearGradient id="g"/></defs><rect width="10" height="10" fill="url(#g)"/><use href="#g"/></svg>"##;

    #[test]
    fn drawings_pass_and_scripts_do_not() {
        assert_eq!(check("logo.svg", OK.as_bytes()), Ok(()));
        assert_eq!(check("logo.png", b"\x89PNG\r\n\x1a\nrest"), Ok(()));
        for (bad, why) in [
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#,
                "<script>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#,
                "onload",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>"#,
                "foreignObject",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><use x:href="javascript:alert(1)"/></svg>"#,
                "a script",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>"#,
                "refers to",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/)"/></svg>"#,
                "outside itself",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://evil.example/#x)"/></svg>"#,
                "outside itself",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect filter="u\72l(x)"/></svg>"#,
                "escape",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(x.css);</style></svg>"#,
                "<style>",
            ),
            (
                r#"<?xml-stylesheet href="x.xsl"?><svg xmlns="http://www.w3.org/2000/svg"/>"#,
                "processing instruction",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml"><h:meta http-equiv="refresh" content="0;url=https://phish.example"/></svg>"#,
                "<meta>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><a href="java&#9;script:alert(1)"><rect/></a></svg>"#,
                "<a>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect fill="java&#9;script:x"/></svg>"#,
                "a script",
            ),
            (
                r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"#,
                "well-formed",
            ),
            (r#"<svg><rect/></svg>"#, "not an SVG"),
            (r#"<html><body/></html>"#, "not an SVG"),
            ("not xml", "well-formed"),
        ] {
            let err = check("logo.svg", bad.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
        // A name that is not ASCII is read, not a panic.
        assert!(
            check(
                "logo.svg",
                r#"<svg xmlns="http://www.w3.org/2000/svg" 中x="1"/>"#.as_bytes()
            )
            .is_ok()
        );
        assert!(
            check("logo.png", b"<svg/>")
                .unwrap_err()
                .contains("not a PNG")
        );
        let big = vec![b' '; MAX_BYTES + 1];
        assert!(
            check("logo.svg", &big)
                .unwrap_err()
                .contains("at most 200 KB")
        );
    }
}
