//! Project automation: `cargo xtask <command>`.
//!
//! - `deps`: checks the design card's dependency rules (types and codec stay free of IO crates;
//!   each crate depends only on crates listed above it). Also run by `cargo test`.

mod deps;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         deps    check the crate dependency rules (types/codec free of IO crates, layering)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("deps") => match deps::check_workspace() {
            Ok(report) => {
                println!("{report}");
                ExitCode::SUCCESS
            }
            Err(problems) => {
                for p in problems {
                    eprintln!("dependency rule violated: {p}");
                }
                ExitCode::FAILURE
            }
        },
        _ => usage(),
    }
}
