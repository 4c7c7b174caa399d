/// The `postgres://` and `postgresql://` URLs libpq reads (`--state`, `BATON_STATE`),
/// and how they may be shown: never with a password.
public enum PostgresURL {
    /// Whether `url` names a PostgreSQL server.
    public static func isPostgres(_ url: String) -> Bool {
        url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")
    }

    /// `url` without credentials: the password of `user:password@` and any `password=`
    /// parameter are dropped, so the result may go into logs and error messages.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let head = url[..<scheme.upperBound]
        var rest = url[scheme.upperBound...]
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") { query = rest[rest.index(after: q)...]; rest = rest[..<q] }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") {
            let user = authority[..<at].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            authority = user + "@" + authority[authority.index(after: at)...]
        }
        let kept = query.split(separator: "&").filter { !$0.lowercased().hasPrefix("password=") }
        return head + authority + path + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }
}
