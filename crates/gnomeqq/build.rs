//! Compiles the translations of `po/` into `OUT_DIR/locale`, where a `cargo run` finds
//! them (`config::LOCALEDIR`). Without `msgfmt` the app still builds and speaks English.

use std::path::Path;
use std::process::Command;

fn main() {
    let po_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../po");
    println!("cargo:rerun-if-changed={}", po_dir.display());
    let Ok(out_dir) = std::env::var("OUT_DIR") else {
        return;
    };
    let Ok(linguas) = std::fs::read_to_string(po_dir.join("LINGUAS")) else {
        println!("cargo:warning=po/LINGUAS is missing: no translations");
        return;
    };
    for language in linguas
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
    {
        let po = po_dir.join(format!("{language}.po"));
        println!("cargo:rerun-if-changed={}", po.display());
        let target = Path::new(&out_dir)
            .join("locale")
            .join(language)
            .join("LC_MESSAGES");
        if let Err(error) = std::fs::create_dir_all(&target) {
            println!(
                "cargo:warning=could not create {}: {error}",
                target.display()
            );
            continue;
        }
        let compiled = Command::new("msgfmt")
            .arg("--check")
            .arg("-o")
            .arg(target.join("gnomeqq.mo"))
            .arg(&po)
            .status();
        match compiled {
            Ok(status) if status.success() => {}
            Ok(status) => panic!("msgfmt rejected {}: {status}", po.display()),
            Err(error) => println!(
                "cargo:warning=msgfmt not found ({error}): {language} is not compiled; install gettext"
            ),
        }
    }
}
