/// The version table both backends keep: one row per component, its version the number
/// of steps applied. Each backend runs `apply` in a transaction of its own, ordered
/// against other openers its own way (SQLite's write lock, PostgreSQL's advisory lock).
enum AppMigrations {
    static let createTable = "CREATE TABLE IF NOT EXISTS app_migrations (component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL)"

    /// Applies `steps[k]` for every version k+1 above the one recorded, through
    /// `script` (a step may hold several statements), then records the new version.
    /// - Throws: `HandlerError` from the database; the caller's transaction rolls back.
    static func apply(_ db: any AppDatabase, _ component: String, _ steps: [String],
                      script: (String) throws(HandlerError) -> Void) throws(HandlerError) {
        try db.execute(createTable)
        let found = try db.queryOne("SELECT version FROM app_migrations WHERE component = ?1", [.text(component)])?.int(0) ?? 0
        guard found < steps.count else { return }
        for step in steps[found...] { try script(step) }
        try db.execute("INSERT INTO app_migrations (component, version) VALUES (?1, ?2) "
                       + "ON CONFLICT (component) DO UPDATE SET version = excluded.version", [.text(component), .int(steps.count)])
    }
}
