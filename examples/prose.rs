//! Prints the prose paragraphs `deja check` sees in a file (after markup blanking):
//! `cargo run --release --example prose -- docs/index.rst`.

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let p = deja::check::markup::prepare(&text, deja::check::markup::Markup::detect(&path, &text));
    for s in deja::segment::paragraphs(&p.text) {
        println!(
            "{:>4} {:?} | {}",
            s.line,
            s.kind,
            deja::report::excerpt(s.span.slice(&text), 110)
        );
    }
}
