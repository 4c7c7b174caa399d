import Foundation

/// Creates the directory a database file goes into (`mkdir -p`), so `--state
/// sqlite:var/baton.db` works in a fresh checkout.
public enum ParentDirectory {
    /// Wraps `mkdir(2)` for each missing component of the parent of `path`, mode 0755.
    /// - Throws: `.readOnly` when permission is denied or the file system is read-only,
    ///   `.cantOpen` otherwise (a component is a file, …); both name `path`.
    public static func create(for path: String) throws(SQLiteError) {
        let dir = SQLiteError.directory(of: path)
        if dir == "." || dir == "/" { return }
        var prefix = dir.hasPrefix("/") ? "/" : ""
        for component in dir.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0 {
                let code = errno
                if code != EEXIST { throw failure(dir: prefix, errno: code, path: path) }
                if !SQLiteError.isDirectory(prefix) { throw failure(dir: prefix, errno: ENOTDIR, path: path) }
            }
            prefix += "/"
        }
    }

    private static func failure(dir: String, errno code: Int32, path: String) -> SQLiteError {
        let message = "cannot create the directory \(dir): \(String(cString: strerror(code)))"
        switch code {
        case EACCES, EPERM, EROFS:
            return SQLiteError(.readOnly, location: path, message,
                              hint: "create \(SQLiteError.directory(of: path)) with write permission for this user,"
                                  + " or point --state elsewhere", code: code)
        case ENOTDIR:
            return SQLiteError(.cantOpen, location: path, "\(dir) is a file, not a directory",
                              hint: "move that file away, or point --state elsewhere", code: code)
        default:
            return SQLiteError(.cantOpen, location: path, message,
                              hint: "create \(SQLiteError.directory(of: path)) yourself, or point --state elsewhere",
                              code: code)
        }
    }
}
