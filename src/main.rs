// The runner allocates and frees small buffers for every event it delivers
// (the Kafka message, the HTTP call, the typed delivery event and its
// history). With glibc's malloc, `malloc`/`free` and their consolidation were
// 20 % of `ftl dev`'s CPU at 32 partitions, against 12 % in a hand-written
// runner doing the same calls (BENCHMARKS.md, "Runner CPU per event").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ftl::run()
}
