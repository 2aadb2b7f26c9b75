//! AFL target `segment`: see `deja_fuzz::checks::segment` for what it holds deja to.

#[global_allocator]
static ALLOC: deja_fuzz::checks::Capped = deja_fuzz::checks::Capped;

fn main() {
    afl::fuzz!(|data: &[u8]| deja_fuzz::checks::segment(data));
}
