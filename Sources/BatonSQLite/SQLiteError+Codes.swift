import CSQLite
import Foundation

extension SQLiteError {
    /// Maps an SQLite result code to a kind with a hint the operator can act
    /// on. The message names the failed call and SQLite's own text (`sqlite3_errmsg(3)`),
    /// which describes the failure, never the bound values: no cursor, payload or log
    /// text can end up in it.
    public static func sqlite(_ code: Int32, db: OpaquePointer?, path: String, call: String) -> SQLiteError {
        let text = db.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
        let systemErrno = db.map { sqlite3_system_errno($0) } ?? 0
        let detail = "\(call): \(text)"
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return SQLiteError(.busy, location: path, "the database stayed locked by another connection (\(detail))",
                              hint: "another baton or an sqlite3 shell held a write transaction on \(path) too long;"
                                  + " try again, and look for a process stuck inside a transaction", code: code)
        case SQLITE_FULL:
            return SQLiteError(.full, location: path, "the disk holding \(path) is full (\(detail))",
                              hint: "free space; the runs committed so far are safe", code: code)
        case SQLITE_READONLY, SQLITE_PERM:
            return SQLiteError(.readOnly, location: path, "cannot write the database (\(detail))",
                              hint: readOnlyHint(path: path), code: code)
        case SQLITE_CANTOPEN:
            return cantOpen(path: path, errno: systemErrno, detail: detail, code: code)
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return SQLiteError(.corrupt, location: path, "not a baton database, or damaged (\(detail))",
                              hint: "move \(path) aside (keep it for inspection) and start again with a new file,"
                                  + " or point --state elsewhere", code: code)
        case SQLITE_CONSTRAINT:
            return constraint(code, path: path, detail: detail)
        case SQLITE_IOERR:
            return SQLiteError(.io, location: path, "input/output error (\(detail))",
                              hint: "check the disk and the file system holding \(path) (dmesg may say more)", code: code)
        default:
            return SQLiteError(.io, location: path, detail, code: code)
        }
    }

    /// A duplicate key is `.conflict`, a reference to a missing row `.notFound`.
    private static func constraint(_ code: Int32, path: String, detail: String) -> SQLiteError {
        switch code {
        case CSQLITE_CONSTRAINT_PRIMARYKEY, CSQLITE_CONSTRAINT_UNIQUE:
            SQLiteError(.conflict, location: path, "the row exists already (\(detail))", code: code)
        case CSQLITE_CONSTRAINT_FOREIGNKEY:
            SQLiteError(.notFound, location: path, "a referenced row does not exist (\(detail))", code: code)
        default:
            SQLiteError(.io, location: path, detail, code: code)
        }
    }

    public static func readOnlyHint(path: String) -> String {
        "make \(path), its -wal and -shm files and the directory \(directory(of: path)) writable by this user,"
            + " or point --state elsewhere"
    }

    /// Why a file could not be opened, from the file system as it is now, since SQLite's
    /// last errno alone misleads.
    private static func cantOpen(path: String, errno: Int32, detail: String, code: Int32) -> SQLiteError {
        let dir = directory(of: path)
        // After EACCES on create SQLite retries read-only and reports that ENOENT: no use.
        let reason = errno == 0 || errno == ENOENT ? "" : ": " + String(cString: strerror(errno))
        let message = "cannot open or create the database (\(detail)\(reason))"
        if isDirectory(path) {
            return SQLiteError(.cantOpen, location: path, message, hint: "\(path) is a directory: point --state at a file inside it",
                              code: code)
        }
        if !isDirectory(dir) {
            return SQLiteError(.cantOpen, location: path, message, hint: "create the directory \(dir), or point --state elsewhere",
                              code: code)
        }
        switch errno {
        case EROFS:
            return SQLiteError(.readOnly, location: path, message,
                              hint: "\(dir) is on a read-only file system: point --state elsewhere", code: code)
        case EMFILE, ENFILE:
            return SQLiteError(.cantOpen, location: path, message,
                              hint: "too many open files: raise the limit (ulimit -n, LimitNOFILE=)", code: code)
        default:
            if access(dir, W_OK) != 0 || errno == EACCES || errno == EPERM {
                return SQLiteError(.readOnly, location: path, message,
                                  hint: "fix the permissions of \(dir): baton creates \(path) and its -wal and -shm files"
                                      + " there; or point --state elsewhere", code: code)
            }
            return SQLiteError(.cantOpen, location: path, message,
                              hint: "\(dir) takes no new files (a virtual file system?): point --state at a directory on a disk",
                              code: code)
        }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// The directory a database file lives in, for hints ("." for a bare file name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
