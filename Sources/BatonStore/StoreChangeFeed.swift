import Synchronization

/// A shared store's changes as they happen (`RunStore.changeFeed()`): PostgreSQL's
/// `LISTEN`/`NOTIFY`. A store only one process writes at a time (SQLite) has none;
/// its daemons poll.
///
/// The source (a listening connection) starts at the first `subscribe()`, so a
/// command that never subscribes (`baton runs`) opens nothing more. Delivery is best
/// effort: a change told while the feed was away is lost (`.resync` says so when it
/// is back), so a subscriber keeps a slow poll as its backstop.
public final class StoreChangeFeed: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<StoreChange>.Continuation] = [:]
        var next = 0
        var started = false
        var live = false
    }

    private let state = Mutex(State())
    private let start: @Sendable (StoreChangeFeed) -> Void

    /// How many changes a slow subscriber may have waiting; older ones are kept and
    /// newer ones dropped past it (the subscriber's poll finds what they said).
    public static let buffer = 4096

    /// - Parameter start: starts the source (once, at the first subscription); it
    ///   calls `publish` from then on.
    public init(start: @escaping @Sendable (StoreChangeFeed) -> Void) { self.start = start }

    /// Whether the source is connected now: a subscriber may poll slowly while it is.
    public var isLive: Bool { state.withLock { $0.live } }

    /// The changes from now on, until the stream's consumer stops iterating.
    public func subscribe() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: StoreChange.self, bufferingPolicy: .bufferingOldest(Self.buffer))
        let (id, first) = state.withLock { s -> (Int, Bool) in
            s.next += 1
            s.subscribers[s.next] = continuation
            defer { s.started = true }
            return (s.next, !s.started)
        }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) } }
        if first { start(self) }
        return stream
    }

    /// Tells every subscriber (the source calls it). `.resync` marks the feed live,
    /// `.lost` not.
    public func publish(_ change: StoreChange) {
        let targets = state.withLock { s -> [AsyncStream<StoreChange>.Continuation] in
            if change == .resync { s.live = true }
            if case .lost = change { s.live = false }
            return Array(s.subscribers.values)
        }
        for c in targets { c.yield(change) }
    }

    /// Ends every subscriber's stream (the store closed).
    public func finish() {
        let targets = state.withLock { s -> [AsyncStream<StoreChange>.Continuation] in
            s.live = false
            defer { s.subscribers.removeAll() }
            return Array(s.subscribers.values)
        }
        for c in targets { c.finish() }
    }
}
