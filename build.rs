// The fixtures are built into the binary (include_dir); rebuild when any of them changes.
fn main() {
    println!("cargo:rerun-if-changed=fixtures");
    println!("cargo:rerun-if-changed=migrations");
}
