//! Text that people type in markdown (course descriptions, privacy-notice prose) is served as
//! HTML that has been through an allow-list sanitiser, so nothing typed can run script in a
//! visitor's browser.

use pulldown_cmark::{Options, Parser, html};

/// Renders markdown to sanitised HTML. Raw HTML in the source is escaped by the sanitiser's
/// allow-list (no `script`, `style`, event handlers, `javascript:` links or images from
/// elsewhere); links get `rel="noopener noreferrer"`.
#[must_use]
pub fn to_safe_html(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .url_schemes(["https", "http", "mailto", "tel"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"))
        .clean(&raw)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn keeps_formatting() {
        let html =
            to_safe_html("## Who it is for\n\n- **Teachers**\n- [Leaders](https://example.org)");
        assert!(html.contains("<h2>Who it is for</h2>"));
        assert!(html.contains("<strong>Teachers</strong>"));
        assert!(html.contains(r#"<a href="https://example.org" rel="noopener noreferrer">"#));
    }

    #[test]
    fn removes_script_and_handlers() {
        for attack in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<div onclick=\"alert(1)\">x</div>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<style>body{display:none}</style>",
        ] {
            let html = to_safe_html(attack);
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "onclick",
                "<iframe",
                "<style",
                "<img",
            ] {
                assert!(!html.contains(bad), "{attack:?} gave {html:?}");
            }
        }
    }
}
