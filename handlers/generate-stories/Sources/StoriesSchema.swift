import BatonHandlerKit

/// The application tables of generate-stories (HANDLERS.md names and columns). Columns
/// beyond HANDLERS.md's have defaults, so rows written with only those stay valid:
/// `story_runs.project_id` and `story_runs.position` (the run's order, frozen when it is
/// queued), and the lock table `story_run_locks` (one active run per project).
public enum StoriesSchema {
    static let component = "generate-stories"

    static func steps(_ d: AppDialect) -> [String] { ["""
        CREATE TABLE IF NOT EXISTS projects (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL DEFAULT '');
        CREATE TABLE IF NOT EXISTS epics (
            id TEXT PRIMARY KEY NOT NULL, project_id TEXT NOT NULL, code TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', priority INTEGER
        );
        CREATE INDEX IF NOT EXISTS epics_project ON epics (project_id);
        CREATE TABLE IF NOT EXISTS epic_cards (id TEXT PRIMARY KEY NOT NULL, epic_id TEXT NOT NULL, body TEXT NOT NULL DEFAULT '');
        CREATE INDEX IF NOT EXISTS epic_cards_epic ON epic_cards (epic_id);
        CREATE TABLE IF NOT EXISTS stories (
            id TEXT PRIMARY KEY NOT NULL, epic_id TEXT NOT NULL, title TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX IF NOT EXISTS stories_epic ON stories (epic_id);
        CREATE TABLE IF NOT EXISTS story_runs (
            run_id TEXT NOT NULL, epic_id TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
            stories_created INTEGER NOT NULL DEFAULT 0, error TEXT, started_at \(d.time), completed_at \(d.time),
            project_id TEXT, position INTEGER NOT NULL DEFAULT 0,
            UNIQUE (run_id, epic_id)
        );
        CREATE TABLE IF NOT EXISTS story_run_locks (
            project_id TEXT PRIMARY KEY NOT NULL, run_id TEXT NOT NULL, lease_until \(d.time) NOT NULL
        );
        """] }

    /// Creates the tables when missing; adds our extra columns to a `story_runs` a user
    /// created with only HANDLERS.md's.
    /// - Throws: `HandlerError` from `APP_DB`.
    public static func migrate(_ db: any AppDatabase) throws(HandlerError) {
        try db.migrate(component, steps(db.dialect))
        for (column, type) in [("project_id", "TEXT"), ("position", "INTEGER NOT NULL DEFAULT 0")] {
            do throws(HandlerError) { _ = try db.query("SELECT \(column) FROM story_runs LIMIT 0") } catch {
                try db.execute("ALTER TABLE story_runs ADD COLUMN \(column) \(type)")
            }
        }
    }

    /// `--seed N`: N demo epics in project `demo`, with cards: every fifth has none
    /// (skipped), every fourth has 12 (summarised), the rest 3 to 8.
    /// - Throws: `HandlerError` from `APP_DB`.
    public static func seed(_ db: any AppDatabase, epics n: Int) throws(HandlerError) -> String {
        try migrate(db)
        return try db.transaction { () throws(HandlerError) -> String in
            try db.execute("INSERT INTO projects (id, name) VALUES ('demo', 'Demo project') ON CONFLICT (id) DO NOTHING")
            let start = (try db.queryOne("SELECT count(*) FROM epics WHERE project_id = 'demo'")?.int(0) ?? 0) + 1
            var cards = 0
            for k in start..<(start + n) {
                let id = "demo-ep-\(pad(k))"
                try db.execute("INSERT INTO epics (id, project_id, code, title, description, priority) VALUES (?1, 'demo', ?2, ?3, ?4, ?5)",
                               [.text(id), .text("EP-\(pad(k))"), .text("Demo epic \(k)"),
                                .text("Epic \(k) of the demo project: a capability users asked for."), .int(k % 5 + 1)])
                let count = k % 5 == 0 ? 0 : (k % 4 == 0 ? 12 : 3 + k % 6)
                for c in 0..<count {
                    try db.execute("INSERT INTO epic_cards (id, epic_id, body) VALUES (?1, ?2, ?3)",
                                   [.text("\(id)-card-\(pad(c + 1))"), .text(id),
                                    .text("Use case \(c + 1) of epic \(k)\nA user needs step \(c + 1) to work without help.")])
                }
                cards += count
            }
            return "seeded \(n) epics and \(cards) cards in project demo"
        }
    }

    static func pad(_ k: Int) -> String {
        let s = String(k)
        return s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
    }
}
