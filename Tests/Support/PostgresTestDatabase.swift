import BatonPostgres
import Foundation
import XCTest

/// A database of its own for one test (the store's suites and the handler kit's) on the server `BATON_TEST_PG_URL` names
/// (`make test` starts one: ops/test-postgres.sh), created in setUp and dropped,
/// with any connection still open to it, in tearDown.
public final class PostgresTestDatabase {
    public static let skipMessage = "PostgreSQL tests skipped: BATON_TEST_PG_URL is not set (make test starts a server)"

    public let name: String
    public let url: String
    private let adminURL: String

    /// - Throws: `XCTSkip` when `BATON_TEST_PG_URL` is unset; `PostgresError`.
    public init() throws {
        guard let admin = ProcessInfo.processInfo.environment["BATON_TEST_PG_URL"], !admin.isEmpty else {
            throw XCTSkip(Self.skipMessage)
        }
        adminURL = admin
        name = "baton_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        url = Self.url(admin, database: name)
        let db = try PostgresConnection(url: admin)
        defer { db.close() }
        try db.executeScript("CREATE DATABASE \(name)")
    }

    /// Drops the database, ending the sessions still connected to it.
    public func drop() {
        guard let db = try? PostgresConnection(url: adminURL) else { return }
        defer { db.close() }
        _ = try? db.executeScript("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// `url` naming `database` instead of its own (libpq URI: the path after host:port).
    public static func url(_ url: String, database: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        let beforeQuery = rest.prefix { $0 != "?" }
        let authority = beforeQuery.prefix { $0 != "/" }
        return String(url[..<scheme.upperBound]) + authority + "/" + database + query
    }
}
