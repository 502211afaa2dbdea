//! The `portal` binary's subcommands: exit codes and messages an operator relies on.
//! (HTTP behaviour is tested in the workspace's `tests/` binary; this one needs the built
//! executable, which only this package's tests can name.)

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tenants_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tenants")
}

/// Runs `portal` with a private data folder and no inherited database settings.
fn portal(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("APP__DATABASE__DATA_DIR", data)
        .env("APP__TENANTS__DIR", tenants_dir())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_the_launch_tenants() {
    let data = tempfile::tempdir().unwrap();
    let out = portal(data.path(), &["check"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for slug in ["harrow", "havering", "segfl", "somerset", "stockport"] {
        assert!(stdout.contains(&format!("ok  {slug}")), "{stdout}");
    }
    assert!(stdout.contains("5 tenant(s) valid"), "{stdout}");
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "check touched the data folder"
    );
}

#[test]
fn check_names_the_file_and_key_of_a_broken_tenant_and_fails() {
    let data = tempfile::tempdir().unwrap();
    let broken = tempfile::tempdir().unwrap();
    let folder = broken.path().join("harrow");
    std::fs::create_dir_all(&folder).unwrap();
    let original = std::fs::read_to_string(tenants_dir().join("harrow/tenant.toml")).unwrap();
    std::fs::write(
        folder.join("tenant.toml"),
        original.replacen("display_name =", "dispaly_name =", 1),
    )
    .unwrap();
    let out = portal(data.path(), &["check", broken.path().to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("harrow/tenant.toml"), "{stderr}");
    assert!(stderr.contains("dispaly_name"), "{stderr}");
}

#[test]
fn check_of_a_missing_folder_fails_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let out = portal(data.path(), &["check", "/no/such/folder"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("/no/such/folder"), "{stderr}");
}

#[test]
fn migrate_then_tenants_list_on_an_empty_database() {
    let data = tempfile::tempdir().unwrap();
    let listed = portal(data.path(), &["tenants", "list"]);
    assert!(
        !listed.status.success(),
        "listing before migrating must fail"
    );
    let stderr = text(&listed.stderr);
    assert!(stderr.contains("portal migrate"), "{stderr}");

    let out = portal(data.path(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(data.path().join("portal.sqlite").exists());
    let listed = portal(data.path(), &["tenants", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert_eq!(text(&listed.stdout), "", "no tenant is imported by migrate");
}

#[test]
fn an_unknown_setting_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let out = portal(data.path(), &["check"]);
    assert!(out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("check")
        .env("APP__HTTP__PROT", "8080")
        .env("APP__DATABASE__DATA_DIR", data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("prot"), "{stderr}");
}

#[test]
fn secrets_can_come_from_files_and_a_missing_file_is_named() {
    let data = tempfile::tempdir().unwrap();
    let key_file = data.path().join("key");
    std::fs::write(&key_file, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n").unwrap();
    let ok = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("check")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("APP__SECURITY__MASTER_KEY_FILE", &key_file)
        .env("APP__DATABASE__DATA_DIR", data.path())
        .env("APP__TENANTS__DIR", tenants_dir())
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let missing = Command::new(env!("CARGO_BIN_EXE_portal"))
        .arg("check")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("APP__SECURITY__MASTER_KEY_FILE", "/no/such/key")
        .env("APP__DATABASE__DATA_DIR", data.path())
        .env("APP__TENANTS__DIR", tenants_dir())
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("APP__SECURITY__MASTER_KEY_FILE"),
        "{stderr}"
    );
}

#[test]
fn grant_role_names_what_is_wrong() {
    let data = tempfile::tempdir().unwrap();
    assert!(portal(data.path(), &["migrate"]).status.success());
    let out = portal(
        data.path(),
        &[
            "accounts",
            "grant-role",
            "--tenant",
            "harrow",
            "--email",
            "x@y.uk",
            "--role",
            "king",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown role"),
        "{}",
        text(&out.stderr)
    );
    let out = portal(
        data.path(),
        &[
            "accounts",
            "grant-role",
            "--tenant",
            "nowhere",
            "--email",
            "x@y.uk",
            "--role",
            "tenant-admin",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no tenant `nowhere`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn retention_plans_every_tenant_and_refuses_bad_input_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let out = portal(data.path(), &["retention", "plan", "--today", "2031-01-01"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for slug in ["harrow", "havering", "segfl", "somerset", "stockport"] {
        assert!(
            stdout.contains(&format!("{slug} on 2031-01-01 (would be done")),
            "{stdout}"
        );
    }
    assert!(stdout.contains("[inclusion] not acted on"), "{stdout}");
    let out = portal(
        data.path(),
        &["retention", "plan", "--tenant", "json", "--json"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no tenant `json`"),
        "{}",
        text(&out.stderr)
    );
    let out = portal(
        data.path(),
        &["retention", "run", "--tenant", "segfl", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reports[0]["tenant"], "segfl");
    assert_eq!(reports[0]["applied"], true);
    for (args, message) in [
        (
            vec![
                "retention",
                "hold",
                "--tenant",
                "harrow",
                "--email",
                "x@y.uk",
                "--kind",
                "whim",
                "--reason",
                "r",
            ],
            "unknown hold kind `whim`",
        ),
        (
            vec![
                "retention",
                "hold",
                "--tenant",
                "harrow",
                "--email",
                "x@y.uk",
                "--kind",
                "legal_claim",
                "--reason",
                "r",
            ],
            "no account with email `x@y.uk` in tenant `harrow`",
        ),
        (
            vec![
                "retention",
                "release",
                "--tenant",
                "harrow",
                "--hold",
                "nope",
            ],
            "no hold `nope` in force",
        ),
        (
            vec!["retention", "holds", "--tenant", "nowhere"],
            "no tenant `nowhere`",
        ),
    ] {
        let out = portal(data.path(), &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(message),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn demo_admin_prints_working_credentials_once_and_refuses_postgres() {
    let data = tempfile::tempdir().unwrap();
    let out = portal(
        data.path(),
        &["accounts", "demo-admin", "--tenant", "harrow"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("email:      admin@demo.localhost"),
        "{stdout}"
    );
    assert!(stdout.contains("password:   try-"), "{stdout}");
    let codes = stdout
        .lines()
        .filter(|l| l.trim().len() == 11 && l.trim().as_bytes()[5] == b'-')
        .count();
    assert_eq!(codes, 10, "{stdout}");
    // Twice is refused, naming the address.
    let again = portal(
        data.path(),
        &["accounts", "demo-admin", "--tenant", "harrow"],
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already has an account"));
    let unknown = portal(
        data.path(),
        &["accounts", "demo-admin", "--tenant", "nowhere"],
    );
    assert!(!unknown.status.success());
    assert!(text(&unknown.stderr).contains("no tenant `nowhere`"));
    // Never with a real database.
    let pg = Command::new(env!("CARGO_BIN_EXE_portal"))
        .args(["accounts", "demo-admin", "--tenant", "harrow"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("APP__KEYS__LOCAL_DIR", data.path().join("keys"))
        .env("APP__TENANTS__DIR", tenants_dir())
        .output()
        .unwrap();
    assert!(!pg.status.success());
    assert!(text(&pg.stderr).contains("embedded default only"));
}

#[test]
fn tenants_add_onboards_a_folder_and_refuses_a_broken_one_untouched() {
    let data = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("newtown");
    std::fs::create_dir_all(&folder).unwrap();
    let harrow = std::fs::read_to_string(tenants_dir().join("harrow/tenant.toml")).unwrap();
    let newtown = harrow
        .replacen("slug = \"harrow\"", "slug = \"newtown\"", 1)
        .replacen(
            "hostnames = [\"harrow.localhost\", \"www.ss4eharrow.uk\"]",
            "hostnames = [\"newtown.localhost\"]",
            1,
        );
    std::fs::write(
        folder.join("tenant.toml"),
        newtown.replacen("display_name =", "dispaly_name =", 1),
    )
    .unwrap();
    let dir = folder.to_str().unwrap();
    let out = portal(data.path(), &["tenants", "add", dir]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("dispaly_name") && stderr.contains("nothing was applied"),
        "{stderr}"
    );
    assert!(
        std::fs::read_dir(data.path()).unwrap().next().is_none(),
        "a broken folder touched the data folder"
    );

    std::fs::write(folder.join("tenant.toml"), &newtown).unwrap();
    let out = portal(data.path(), &["tenants", "add", dir]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("newtown: onboarded"),
        "{}",
        text(&out.stdout)
    );
    let listed = text(&portal(data.path(), &["tenants", "list"]).stdout);
    assert!(
        listed.contains("newtown\tSupport Services for Education Harrow"),
        "{listed}"
    );
    let again = portal(data.path(), &["tenants", "add", dir]);
    assert!(again.status.success());
    assert!(
        text(&again.stdout).contains("nothing to do"),
        "{}",
        text(&again.stdout)
    );
}

#[test]
fn check_ignores_what_a_mounted_volume_adds_beside_the_folders() {
    let data = tempfile::tempdir().unwrap();
    let mounted = tempfile::tempdir().unwrap();
    let harrow = mounted.path().join("harrow");
    std::fs::create_dir_all(&harrow).unwrap();
    std::fs::copy(
        tenants_dir().join("harrow/tenant.toml"),
        harrow.join("tenant.toml"),
    )
    .unwrap();
    // A ConfigMap volume's bookkeeping and a disk's lost+found.
    std::fs::create_dir_all(mounted.path().join("..2026_12_05_10_00_00.123")).unwrap();
    std::fs::create_dir_all(mounted.path().join("lost+found")).unwrap();
    std::os::unix::fs::symlink(
        mounted.path().join("..2026_12_05_10_00_00.123"),
        mounted.path().join("..data"),
    )
    .unwrap();
    let out = portal(data.path(), &["check", mounted.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 tenant(s) valid"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn tenants_offboard_wants_the_slug_twice_then_leaves_nothing_of_the_council() {
    let data = tempfile::tempdir().unwrap();
    assert!(portal(data.path(), &["migrate"]).status.success());
    // Start-up imports the five councils and gives each its data key in the key store.
    let listed = portal(data.path(), &["tenants", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let out = portal(data.path(), &["retention", "plan"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(data.path().join("keys/segfl").exists());

    let refused = portal(data.path(), &["tenants", "offboard", "segfl"]);
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("--confirm segfl") && stderr.contains("Nothing was done"),
        "{stderr}"
    );
    let wrong = portal(
        data.path(),
        &["tenants", "offboard", "segfl", "--confirm", "harrow"],
    );
    assert!(!wrong.status.success());
    assert!(data.path().join("keys/segfl").exists());

    // `tenants offboard SLUG --confirm SLUG --passphrase-file` with the passphrase `text`.
    let offboard_with = |slug: &str, text: &str| {
        let file = data.path().join(format!("passphrase-{}", text.len()));
        std::fs::write(&file, format!("{text}\n")).unwrap();
        let file = file.to_str().unwrap().to_owned();
        portal(
            data.path(),
            &[
                "tenants",
                "offboard",
                slug,
                "--confirm",
                slug,
                "--passphrase-file",
                &file,
            ],
        )
    };
    let unknown = offboard_with("nowhere", "correct horse battery staple");
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("there is no tenant `nowhere`"),
        "{}",
        text(&unknown.stderr)
    );

    // The archive is encrypted under the operator's passphrase: none, or a short one, and
    // nothing is done.
    let no_passphrase = portal(
        data.path(),
        &["tenants", "offboard", "segfl", "--confirm", "segfl"],
    );
    assert!(!no_passphrase.status.success());
    assert!(
        text(&no_passphrase.stderr).contains("--passphrase-file FILE"),
        "{}",
        text(&no_passphrase.stderr)
    );
    let refused = offboard_with("segfl", "too short");
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("at least 16 characters"),
        "{}",
        text(&refused.stderr)
    );
    assert!(data.path().join("keys/segfl").exists());
    let passphrase = data.path().join("passphrase");
    std::fs::write(&passphrase, "correct horse battery staple\n").unwrap();
    let done = portal(
        data.path(),
        &[
            "tenants",
            "offboard",
            "segfl",
            "--confirm",
            "segfl",
            "--passphrase-file",
            passphrase.to_str().unwrap(),
            "--grace-secs",
            "0",
        ],
    );
    let stdout = text(&done.stdout);
    assert!(done.status.success(), "{stdout}{}", text(&done.stderr));
    assert!(stdout.contains("segfl: offboarded"), "{stdout}");
    let archive = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("archive for the council: "))
        .unwrap();
    assert!(Path::new(archive).is_file(), "{archive}");
    // It opens with the passphrase in the file (its line break not part of it), and only so.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(archive).unwrap()).unwrap();
    assert!(zip.by_name("manifest.json").is_err());
    let mut manifest = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name_decrypt("manifest.json", b"correct horse battery staple")
            .unwrap(),
        &mut manifest,
    )
    .unwrap();
    assert!(manifest.contains("\"tenant\": \"segfl\""), "{manifest}");
    assert!(!data.path().join("keys/segfl").exists());
    let listed = text(&portal(data.path(), &["tenants", "list"]).stdout);
    assert!(!listed.contains("segfl"), "{listed}");
    assert!(listed.contains("harrow"), "{listed}");
    // Its folder is still in the tenants directory: start-up does not bring it back.
    let restarted = portal(data.path(), &["retention", "plan"]);
    assert!(restarted.status.success(), "{}", text(&restarted.stderr));
    assert!(!text(&restarted.stdout).contains("segfl"));
    let listed = text(&portal(data.path(), &["tenants", "list"]).stdout);
    assert!(!listed.contains("segfl"), "{listed}");
}

#[test]
fn invoices_issue_missing_counts_issues_and_refuses_an_unknown_tenant() {
    let data = tempfile::tempdir().unwrap();
    let dry = portal(
        data.path(),
        &[
            "invoices",
            "issue-missing",
            "--tenant",
            "harrow",
            "--dry-run",
        ],
    );
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("tenant `harrow`: 0 orders")
            && text(&dry.stdout).contains("none issued"),
        "{}",
        text(&dry.stdout)
    );
    let done = portal(
        data.path(),
        &["invoices", "issue-missing", "--tenant", "harrow"],
    );
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(
        text(&done.stdout).contains("invoiced 0 orders"),
        "{}",
        text(&done.stdout)
    );
    let unknown = portal(
        data.path(),
        &["invoices", "issue-missing", "--tenant", "nowhere"],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("no tenant `nowhere`"),
        "{}",
        text(&unknown.stderr)
    );
}
