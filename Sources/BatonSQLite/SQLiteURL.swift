/// The one reader of `sqlite:` URLs (`--state`, `--db`, `APP_DB`): `sqlite:PATH`, where
/// `sqlite:var/baton.db` is relative to the working directory and `sqlite:/srv/b.db`
/// and `sqlite:///srv/b.db` both name `/srv/b.db` (two slashes after the colon are an
/// empty authority, dropped).
public enum SQLiteURL {
    public static let scheme = "sqlite:"

    /// Whether `url` is written in the `sqlite:` scheme (it may still name no file).
    public static func isSQLite(_ url: String) -> Bool { url.hasPrefix(scheme) }

    /// Why a URL names no SQLite file; each caller wraps it in its own error type.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var hint: String
        public var description: String { "\(message) (hint: \(hint))" }
    }

    /// The file `url` names.
    /// - Parameters:
    ///   - setting: how the user gave it, for the message: `--state`, `APP_DB`.
    ///   - example: a URL that works there, for the hint: `sqlite:var/baton.db`.
    /// - Throws: `Problem` when `url` is not `sqlite:` or names no file.
    public static func path(_ url: String, setting: String, example: String) throws(Problem) -> String {
        let hint = "write sqlite:PATH, e.g. \(example)"
        guard isSQLite(url) else { throw Problem(message: "\(setting) '\(url)' is not an sqlite: URL", hint: hint) }
        var path = url.dropFirst(scheme.count)
        if path.hasPrefix("//") { path = path.dropFirst(2) }
        guard !path.isEmpty else { throw Problem(message: "\(setting) '\(url)' names no file", hint: hint) }
        return String(path)
    }
}
