import Foundation

/// The slow polls a daemon keeps while a store's change feed tells it of changes
/// (PostgreSQL's `LISTEN`), as a test may stretch them.
///
/// `BATON_BACKSTOP_MS` (for tests only, documented in docs/development.md) sets how
/// often a daemon looks for pauses and for unfinished runs nobody holds while its feed
/// is live, and how often a driver reads its runs' cancel flags (whatever the store;
/// never less often than a third of its lease, so renewals stay on time): a test that
/// stretches them to a minute shows what the feed alone delivers. Unset, nothing
/// changes.
public enum Backstop {
    public static let override: Duration? = {
        guard let text = ProcessInfo.processInfo.environment["BATON_BACKSTOP_MS"], let ms = Int64(text), ms > 0 else {
            return nil
        }
        return .milliseconds(ms)
    }()
}
