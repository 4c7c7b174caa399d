import Foundation

/// The slow polls a daemon keeps while a store's change feed tells it of changes
/// (PostgreSQL's `LISTEN`), as a test may stretch them.
///
/// `BATON_BACKSTOP_MS` (for tests only, documented in docs/development.md) sets, while
/// the feed is live, how often a daemon looks for pauses and for unfinished runs nobody
/// holds, and how often a driver reads its runs' cancel flags (never less often than
/// its lease renewals): a test that stretches them to a minute shows what the feed
/// alone delivers. Unset, the defaults apply; SQLite stores have no feed and never
/// read it.
public enum Backstop {
    public static let override: Duration? = {
        guard let text = ProcessInfo.processInfo.environment["BATON_BACKSTOP_MS"], let ms = Int64(text), ms > 0 else {
            return nil
        }
        return .milliseconds(ms)
    }()
}
