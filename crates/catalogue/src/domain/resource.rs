//! Resources: documents a provider publishes for download. The platform decides a file's
//! type from its name *and* its first bytes, so a script renamed `.pdf` is refused.

use identity::domain::signup::FieldError;
use tenant_router::TenantConfig;

use super::{Manager, SUMMARY_MAX, TITLE_MAX, error, text};

/// Largest file: 20 MiB.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;

/// Who may download.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone.
    Public,
    /// People signed in to the portal.
    SignedIn,
}

impl Access {
    /// Stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::SignedIn => "signed_in",
        }
    }

    /// Reads a stored name; anything unknown is the stricter choice.
    #[must_use]
    pub fn parse(s: &str) -> Self {
        if s == "public" {
            Self::Public
        } else {
            Self::SignedIn
        }
    }
}

/// An upload as submitted.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Provider id.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// `public` or `signed_in`.
    pub access: String,
    /// The file's name as uploaded.
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An upload that passed every check.
#[derive(Debug, Clone)]
pub struct ValidUpload {
    /// Provider id.
    pub provider_id: String,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Access.
    pub access: Access,
    /// A safe file name (`[A-Za-z0-9._-]`).
    pub file_name: String,
    /// The extension, lowercase.
    pub extension: &'static str,
    /// The content type the platform serves it with.
    pub content_type: &'static str,
}

/// (extension, content type, leading bytes the file must start with; empty: UTF-8 text)
const TYPES: [(&str, &str, &[u8]); 11] = [
    ("pdf", "application/pdf", b"%PDF-"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        b"PK\x03\x04",
    ),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        b"PK\x03\x04",
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        b"PK\x03\x04",
    ),
    (
        "odt",
        "application/vnd.oasis.opendocument.text",
        b"PK\x03\x04",
    ),
    (
        "ods",
        "application/vnd.oasis.opendocument.spreadsheet",
        b"PK\x03\x04",
    ),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n"),
    ("jpg", "image/jpeg", b"\xff\xd8\xff"),
    ("jpeg", "image/jpeg", b"\xff\xd8\xff"),
    ("txt", "text/plain; charset=utf-8", b""),
    ("csv", "text/csv; charset=utf-8", b""),
];

/// A file name safe for a header and a key: letters, digits, `.`, `_`, `-`; at most 100.
fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = cleaned.trim_matches(['-', '.']);
    let mut out: String = trimmed
        .chars()
        .rev()
        .take(100)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if out.is_empty() {
        out = "file".to_owned();
    }
    out
}

/// Checks an upload.
///
/// # Errors
/// Every problem found, each tied to its field.
pub fn validate(
    cfg: &TenantConfig,
    manager: &Manager,
    u: &Upload,
) -> Result<ValidUpload, Vec<FieldError>> {
    let mut errors = Vec::new();
    super::provider_for(&mut errors, cfg, manager, &u.provider_id);
    let title = text(&mut errors, "title", "a title", &u.title, true, TITLE_MAX);
    let summary = text(
        &mut errors,
        "summary",
        "a summary",
        &u.summary,
        false,
        SUMMARY_MAX,
    );
    let access = match u.access.trim() {
        "public" => Access::Public,
        "signed_in" | "" => Access::SignedIn,
        _ => {
            error(&mut errors, "access", "Select who can download it");
            Access::SignedIn
        }
    };
    let file_name = safe_name(&u.file_name);
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let kind = TYPES.iter().find(|(e, _, _)| *e == ext);
    if u.bytes.is_empty() {
        error(&mut errors, "file", "Select a file to upload");
    } else if u.bytes.len() > MAX_BYTES {
        error(&mut errors, "file", "The file must be 20 MB or smaller");
    } else {
        match kind {
            None => error(
                &mut errors,
                "file",
                "The file must be a PDF, Word, Excel, PowerPoint, OpenDocument, PNG, JPEG, text or CSV file",
            ),
            Some((_, _, magic)) if magic.is_empty() && std::str::from_utf8(&u.bytes).is_err() => {
                error(
                    &mut errors,
                    "file",
                    "A text or CSV file must be plain text (UTF-8)",
                );
            }
            Some((e, _, magic)) if !u.bytes.starts_with(magic) => {
                error(
                    &mut errors,
                    "file",
                    format!("The file's contents are not a {} file", e.to_uppercase()),
                );
            }
            Some(_) => {}
        }
    }
    match (errors.is_empty(), kind) {
        (true, Some((extension, content_type, _))) => Ok(ValidUpload {
            provider_id: u.provider_id.trim().to_owned(),
            title,
            summary,
            access,
            file_name,
            extension,
            content_type,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(
            safe_name("C:\\Users\\me\\Guide 2027 (final).pdf"),
            "Guide-2027--final-.pdf"
        );
        assert_eq!(safe_name("\"; evil=1.pdf"), "evil-1.pdf");
        assert_eq!(safe_name("..."), "file");
    }
}
