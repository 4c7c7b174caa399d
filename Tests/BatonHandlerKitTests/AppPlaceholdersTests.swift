@testable import BatonHandlerKit
import XCTest

/// `?N` as PostgreSQL's `$N`, only where SQL would read a placeholder.
final class AppPlaceholdersTests: XCTestCase {
    func testPlaceholdersBecomeDollarsOutsideQuotesAndComments() {
        let cases: [(String, String, Int)] = [
            ("SELECT ?1, ?12 FROM t WHERE a = ?2", "SELECT $1, $12 FROM t WHERE a = $2", 12),
            ("SELECT 'it''s ?1', ?1", "SELECT 'it''s ?1', $1", 1),
            (#"SELECT E'a\'?1', ?2"#, #"SELECT E'a\'?1', $2"#, 2),
            (#"SELECT 'a\', ?1"#, #"SELECT 'a\', $1"#, 1),            // no E: the backslash is a character
            ("SELECT \"col?1\" FROM t WHERE x = ?1", "SELECT \"col?1\" FROM t WHERE x = $1", 1),
            ("SELECT ?1 -- ?2\n, ?3 /* ?4 */", "SELECT $1 -- ?2\n, $3 /* ?4 */", 3),
            ("SELECT $$ ?1 $$, $tag$ ?2 $tag$, ?3", "SELECT $$ ?1 $$, $tag$ ?2 $tag$, $3", 3),
            ("SELECT doc ? 'key', ?1", "SELECT doc ? 'key', $1", 1),   // jsonb's operator stays
            ("SELECT 1", "SELECT 1", 0),
        ]
        for (sql, expected, count) in cases {
            let out = AppPlaceholders.postgres(sql)
            XCTAssertEqual(out.sql, expected, sql)
            XCTAssertEqual(out.count, count, sql)
        }
    }

    func testTimestampsReadBackAsRFC3339() {
        XCTAssertEqual(PostgresAppDatabase.rfc3339("2026-11-22 10:30:00+00"), "2026-11-22T10:30:00Z")
        XCTAssertEqual(PostgresAppDatabase.rfc3339("2026-11-22 10:30:00.25+00"), "2026-11-22T10:30:00.25Z")
        XCTAssertEqual(PostgresAppDatabase.rfc3339("2026-11-22 10:30:00"), "2026-11-22T10:30:00Z")
        XCTAssertEqual(PostgresAppDatabase.rfc3339("infinity"), "infinity")
        XCTAssertEqual(AppDB.epochMs("2026-11-22T10:30:00.123456Z"), 1_795_343_400_123)
    }
}
