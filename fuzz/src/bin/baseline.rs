//! AFL target `baseline`: see `deja_fuzz::checks::baseline` for what it holds deja to.

#[global_allocator]
static ALLOC: deja_fuzz::checks::Capped = deja_fuzz::checks::Capped;

fn main() {
    afl::fuzz!(|data: &[u8]| deja_fuzz::checks::baseline(data));
}
