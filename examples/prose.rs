//! Prints the prose paragraphs `deja doc` and `deja check` see in a file (after markup
//! blanking): `cargo run --release --example prose -- docs/index.rst`.

use deja::segment::{paragraphs_in, Markup};

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for s in paragraphs_in(&text, Markup::detect(&path, &text)) {
        println!(
            "{:>4} {:?}{} | {}",
            s.line,
            s.kind,
            if s.suppressed { " (suppressed)" } else { "" },
            deja::report::excerpt(s.span.slice(&text), 110)
        );
    }
}
