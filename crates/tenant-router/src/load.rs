//! Strict loading of the `tenants/` folder.
//!
//! Every problem is reported, not just the first, each as `file: key: message`, so an
//! operator running `check` fixes a folder in one pass. Nothing here touches the database.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::TenantId;
use crate::config::TenantConfig;
use crate::config::validate::validate;

/// The file each tenant folder must hold.
pub const TENANT_FILE: &str = "tenant.toml";

/// A tenant file that passed every check.
#[derive(Debug, Clone)]
pub struct LoadedTenant {
    /// Path of the `tenant.toml` it came from.
    pub file: PathBuf,
    /// The parsed, validated configuration.
    pub config: TenantConfig,
    /// The logo's bytes, when the tenant has one.
    pub logo: Option<Vec<u8>>,
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file (or folder) concerned.
    pub file: PathBuf,
    /// The key path inside it, empty when the problem is the file as a whole.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

/// Every problem found in a tenants folder.
#[derive(Debug, Clone, thiserror::Error)]
pub struct LoadError(pub Vec<ConfigProblem>);

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the tenant configuration has {} problem(s):",
            self.0.len()
        )?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// Loads and validates every `<dir>/<slug>/tenant.toml`.
///
/// # Errors
/// [`LoadError`] listing every problem when any file is missing, unparsable or invalid, or
/// when two tenants claim the same hostname.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedTenant>, LoadError> {
    let mut problems = Vec::new();
    let whole = |file: &Path, message: String| ConfigProblem {
        file: file.to_owned(),
        key: String::new(),
        message,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return Err(LoadError(vec![whole(
                dir,
                format!("cannot read the folder: {e}"),
            )]));
        }
    };
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        // What a mounted volume adds beside the folders (a ConfigMap's `..data` and
        // `..2026_…`, a disk's `lost+found`, any hidden folder) is not a tenant.
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && n != "lost+found")
        })
        .collect();
    folders.sort();
    let mut tenants = Vec::new();
    for folder in folders {
        match load_one(&folder) {
            Ok(t) => tenants.push(t),
            Err(mut p) => problems.append(&mut p),
        }
    }
    if tenants.is_empty() && problems.is_empty() {
        problems.push(whole(dir, "holds no tenant folders".to_owned()));
    }
    problems.extend(hostname_clashes(&tenants));
    if problems.is_empty() {
        Ok(tenants)
    } else {
        Err(LoadError(problems))
    }
}

/// Loads one tenant folder.
///
/// # Errors
/// Every problem found in the folder's file.
pub fn load_one(folder: &Path) -> Result<LoadedTenant, Vec<ConfigProblem>> {
    let file = folder.join(TENANT_FILE);
    let problem = |key: &str, message: String| ConfigProblem {
        file: file.clone(),
        key: key.to_owned(),
        message,
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| vec![problem("", format!("cannot read the file: {e}"))])?;
    let config = parse(&text).map_err(|(key, msg)| vec![problem(&key, msg)])?;
    let mut problems: Vec<ConfigProblem> = validate(&config)
        .into_iter()
        .map(|p| problem(&p.key, p.message))
        .collect();
    let folder_name = folder.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if folder_name.parse::<TenantId>().is_err() || folder_name != config.slug.as_str() {
        problems.push(problem(
            "slug",
            format!(
                "`{}` must equal the folder name `{folder_name}`",
                config.slug
            ),
        ));
    }
    let logo = match &config.branding.logo {
        Some(name) if problems.is_empty() => match std::fs::read(folder.join(name)) {
            Ok(bytes) => match crate::logo::check(name, &bytes) {
                Ok(()) => Some(bytes),
                Err(why) => {
                    problems.push(problem("branding.logo", why));
                    None
                }
            },
            Err(e) => {
                problems.push(problem(
                    "branding.logo",
                    format!("cannot read `{name}`: {e}"),
                ));
                None
            }
        },
        _ => None,
    };
    if problems.is_empty() {
        Ok(LoadedTenant { file, config, logo })
    } else {
        Err(problems)
    }
}

/// Parses a tenant file's text, naming the key of the first error and its line.
///
/// # Errors
/// `(key, message)` for a syntax error, an unknown key, a missing key or a bad value.
pub fn parse(text: &str) -> Result<TenantConfig, (String, String)> {
    let de = toml::Deserializer::parse(text).map_err(|e| (String::new(), describe(text, &e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let key = if path == "." { String::new() } else { path };
        (key, describe(text, e.inner()))
    })
}

fn describe(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_owned();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{msg} (line {line})")
        }
        None => msg,
    }
}

fn hostname_clashes(tenants: &[LoadedTenant]) -> Vec<ConfigProblem> {
    let mut owner: BTreeMap<&str, &LoadedTenant> = BTreeMap::new();
    let mut problems = Vec::new();
    for t in tenants {
        for (i, h) in t.config.hostnames.iter().enumerate() {
            if let Some(first) = owner.get(h.as_str()) {
                problems.push(ConfigProblem {
                    file: t.file.clone(),
                    key: format!("hostnames[{i}]"),
                    message: format!(
                        "`{h}` is already a hostname of tenant `{}` ({})",
                        first.config.slug,
                        first.file.display()
                    ),
                });
            } else {
                owner.insert(h, t);
            }
        }
    }
    problems
}
