import CLibPQ
import Foundation

/// The rows (or the row count) one statement returned, in text format. Owns its
/// `PGresult` and frees it (`PQclear(3)`) when released.
public final class PostgresResult {
    let result: OpaquePointer
    /// Rows returned (`PQntuples`).
    public let count: Int

    init(_ result: OpaquePointer) {
        self.result = result
        self.count = Int(PQntuples(result))
    }

    deinit { PQclear(result) }

    /// Rows an INSERT, UPDATE or DELETE touched (`PQcmdTuples`), 0 for other statements.
    public var affected: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    /// Row `index` (0-based), for decoding.
    public func row(_ index: Int) -> PostgresRow {
        precondition(index >= 0 && index < count, "row \(index) of \(count)")
        return PostgresRow(owner: self, index: Int32(index))
    }

    public var rows: [PostgresRow] { (0..<count).map(row) }

    /// Columns of each row (`PQnfields`).
    public var columnCount: Int { Int(PQnfields(result)) }

    /// The type of column `index` (`PQftype`): its `pg_type` OID, e.g. 20 for bigint.
    public func columnType(_ index: Int) -> UInt32 { UInt32(PQftype(result, Int32(index))) }
}

/// One row of a `PostgresResult`, read column by column (0-based) in the statement's
/// order; it keeps its result alive. A NULL read through a non-optional accessor reads
/// as 0, false or "".
public struct PostgresRow {
    let owner: PostgresResult
    let index: Int32
    private var result: OpaquePointer { owner.result }

    public func isNull(_ column: Int) -> Bool { PQgetisnull(result, index, Int32(column)) == 1 }

    private func bytes(_ column: Int) -> UnsafeMutablePointer<CChar> { PQgetvalue(result, index, Int32(column)) }

    public func string(_ column: Int) -> String { String(cString: bytes(column)) }
    public func optionalString(_ column: Int) -> String? { isNull(column) ? nil : string(column) }
    public func int64(_ column: Int) -> Int64 { strtoll(bytes(column), nil, 10) }
    public func optionalInt64(_ column: Int) -> Int64? { isNull(column) ? nil : int64(column) }
    public func int(_ column: Int) -> Int { Int(int64(column)) }
    public func optionalInt(_ column: Int) -> Int? { isNull(column) ? nil : int(column) }
    /// A boolean column (text format `t` / `f`).
    public func bool(_ column: Int) -> Bool { bytes(column).pointee == CChar(UInt8(ascii: "t")) }
    public func double(_ column: Int) -> Double { strtod(bytes(column), nil) }
}
