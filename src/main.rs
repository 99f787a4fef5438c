fn main() -> std::process::ExitCode {
    ftl::run()
}
