//! Checks a tenant's logo before anyone sees it: at most [`MAX_BYTES`], a PNG that is a PNG,
//! or an SVG that is a drawing and nothing else. An SVG can carry scripts, event handlers,
//! embedded HTML and links to other sites; an allowlist of what a drawing needs is applied
//! (no script, no `foreignObject`, no `on…` attributes, no reference outside the file except
//! an embedded image, no DTD), so a logo can never run code in a tenant's pages.

/// Largest logo accepted (200 KB).
pub const MAX_BYTES: usize = 200 * 1024;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Elements an SVG logo may not contain.
const FORBIDDEN: &[&str] = &[
    "script",
    "foreignObject",
    "iframe",
    "embed",
    "object",
    "audio",
    "video",
    "animate",
    "set",
    "handler",
    "listener",
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
    if root.tag_name().name() != "svg" {
        return Err(format!("`{name}` is not an SVG drawing"));
    }
    for node in doc.descendants().filter(roxmltree::Node::is_element) {
        let tag = node.tag_name().name();
        if FORBIDDEN.iter().any(|f| f.eq_ignore_ascii_case(tag)) {
            return Err(format!(
                "`{name}` contains a <{tag}> element, which a logo may not"
            ));
        }
        for a in node.attributes() {
            let attr = a.name();
            if attr.len() > 2 && attr[..2].eq_ignore_ascii_case("on") {
                return Err(format!(
                    "`{name}` has an `{attr}` event handler, which a logo may not"
                ));
            }
            let value = a.value().trim();
            if attr == "href"
                && !(value.starts_with('#')
                    || value.starts_with("data:image/png")
                    || value.starts_with("data:image/jpeg"))
            {
                return Err(format!(
                    "`{name}` refers to `{value}`; a logo may only refer to itself or embed a PNG or JPEG"
                ));
            }
            if value.to_ascii_lowercase().contains("javascript:")
                || (attr == "style" && value.to_ascii_lowercase().contains("url("))
            {
                return Err(format!(
                    "`{name}` has a script or an outside reference in `{attr}`"
                ));
            }
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
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><a x:href="javascript:alert(1)"><rect/></a></svg>"#,
                "javascript:",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>"#,
                "refers to",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/)"/></svg>"#,
                "outside reference",
            ),
            (
                r#"<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"#,
                "well-formed",
            ),
            (r#"<html><body/></html>"#, "not an SVG"),
            ("not xml", "well-formed"),
        ] {
            let err = check("logo.svg", bad.as_bytes()).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
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
