import BatonEngine
import BatonStore

/// Other processes' changes as the store tells them (`RunStore.changeFeed()`,
/// PostgreSQL's `LISTEN`): acted on at once, instead of at the next poll. While the
/// feed is live the polls slow down to a backstop (a notification sent while the
/// listener was reconnecting is lost; `.resync` looks at everything when it is back).
/// A store without a feed (SQLite) keeps the polls as they were.
extension Scheduler {
    /// How often pauses made elsewhere are read while the feed is live (else `pausePoll`).
    static let listeningPausePoll: Duration = .seconds(10)

    /// The pause look's and the unheld-run look's intervals now. The unheld-run look
    /// stays at 5 s with a feed too: a daemon that died sends no notification, and its
    /// runs must be taken over within 15 s of the death.
    func lookIntervals(_ feed: StoreChangeFeed?) -> (pauses: Duration, leftovers: Duration) {
        guard let feed, feed.isLive else { return (Self.pausePoll, Self.leftoversPoll) }
        if let stretched = Backstop.override { return (stretched, stretched) }
        return (Self.listeningPausePoll, Self.leftoversPoll)
    }

    /// Feeds the store's changes to `changed(_:)` until the task is cancelled.
    func listen(to feed: StoreChangeFeed) -> Task<Void, Never> {
        let changes = feed.subscribe()
        return Task { for await change in changes { await self.changed(change) } }
    }

    func changed(_ change: StoreChange) async {
        guard isRunning else { return }
        switch change {
        case .resync:
            if options.fires { await refreshPauses() }
            await driveLeftovers()
            retryLockWaiters()
        case let .lost(why):
            report(.listenerLost(why))
            // The polls go back to their quick pace at once.
            wake.signal()
        case .jobState:
            if options.fires { await refreshPauses() }
        case let .runWaiting(job, _):
            if set.job(named: job) != nil { drive(job: job) }
        case let .cancelRequested(_, run):
            // The driver's own watch would read the flag too; this is sooner.
            pool.active[run]?.request(.cancel)
        case let .runEnded(job, _):
            if pool.behindElsewhere.remove(job) != nil { drive(job: job) }
            retryLockWaiters()
        }
    }

    /// The jobs waiting for a lock= held elsewhere try again (a run ended somewhere).
    func retryLockWaiters() {
        for name in pool.lockWaiting.sorted() { driveQueue(name) }
    }
}
