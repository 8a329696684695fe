fn main() {
    // The migrations are embedded by sqlx::migrate!: rebuild when one is added or edited.
    println!("cargo:rerun-if-changed=migrations");
}
