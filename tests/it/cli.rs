//! The command line itself: help texts, completions, scaffolding.

use std::process::Command;

use predicates::prelude::PredicateBooleanExt;

use crate::harness::{ftl_bin, repo_root};

#[test]
fn pregenerated_completions_are_current() {
    for (shell, file) in [("bash", "ftl.bash"), ("zsh", "_ftl"), ("fish", "ftl.fish")] {
        let out = Command::new(ftl_bin())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success());
        let checked_in = std::fs::read(repo_root().join("completions").join(file))
            .unwrap_or_else(|_| panic!("completions/{file} is missing: run `ftl completions {shell} > completions/{file}`"));
        assert!(
            checked_in == out.stdout,
            "completions/{file} is stale: run `cargo run -- completions {shell} > completions/{file}`"
        );
    }
}

#[test]
fn help_texts() {
    for args in [
        vec!["--help"],
        vec!["pubsub", "--help"],
        vec!["pubsub", "tail", "--help"],
        vec!["dev", "--help"],
    ] {
        let out = Command::new(ftl_bin())
            .args(&args)
            .env("COLUMNS", "100")
            .env_remove("FTL_PROJECT")
            .env_remove("FTL_BROKER_KIND")
            .env_remove("FTL_BROKER_IMAGE")
            .output()
            .unwrap();
        assert!(out.status.success());
        insta::assert_snapshot!(
            format!("help {}", args.join(" ")),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn init_and_new_module_scaffold_a_valid_project() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("my-shop");
    let out = Command::new(ftl_bin())
        .arg("init")
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(ftl_bin())
        .args(["new", "module", "kitchen"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(ftl_bin())
        .args(["schema", "--format", "json"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["project"], "my-shop");
    let modules: Vec<&str> = v["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(modules, vec!["kitchen", "pizza"]);
    // A second init refuses to overwrite.
    let out = Command::new(ftl_bin())
        .arg("init")
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2_and_a_missing_project_says_what_to_do() {
    use predicates::str::contains;
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::new(ftl_bin())
        .arg("schema")
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(contains("no `ftl-project.yaml`").and(contains("ftl init")));
    assert_cmd::Command::new(ftl_bin())
        .arg("--frobnicate")
        .assert()
        .code(2)
        .stderr(contains("unexpected argument"));
    assert_cmd::Command::new(ftl_bin())
        .arg("--version")
        .assert()
        .success()
        .stdout(contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn the_example_project_is_what_ftl_init_writes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("pizzashop");
    let out = Command::new(ftl_bin())
        .arg("init")
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success());
    for rel in [
        "ftl-project.yaml",
        "pizza/ftl.yaml",
        "pizza/handlers/cook.py",
        "pizza/handlers/failed.py",
    ] {
        let written = std::fs::read_to_string(root.join(rel)).unwrap();
        let example =
            std::fs::read_to_string(repo_root().join("examples/pizzashop").join(rel)).unwrap();
        assert_eq!(written, example, "examples/pizzashop/{rel} differs from the template: run `ftl init examples/pizzashop` again");
    }
}
