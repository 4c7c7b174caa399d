import BatonEngine
import BatonStore
import Synchronization

/// Group commit for requests that start runs: a request waits while the commit before
/// it is in flight, then every request that arrived meanwhile is recorded in ONE
/// transaction (one fsync). An idle server commits a lone request at once; a busy one
/// amortises the fsync over the group. Nobody is answered before their commit.
///
/// Back-pressure: with a `maxBacklog`, a group is admitted only as far as the runs
/// `queued` in the store (recorded, not started) stay within it; the rest are answered
/// `.backlogFull` with nothing recorded.
final class IntakeQueue: Sendable {
    enum Answer: Sendable {
        case recorded(RequestResult)
        /// The backlog is full: nothing was recorded.
        case backlogFull
        case failed(EngineError)
    }

    private struct Pending {
        var waiting: [(RunRequest, CheckedContinuation<Answer, Never>)] = []
        var committing = false
    }

    /// What the intake knows of the backlog without asking the store: `counted` queued
    /// runs at `at`, plus the queued runs it recorded since. Runs only leave the queue
    /// (a driver starts them), so this never says less than the truth for this
    /// process's intake; it is counted again every `recount`, and whenever it says full.
    private struct Backlog {
        var counted = 0
        var added = 0
        var at: ContinuousClock.Instant?
    }

    /// Requests recorded per transaction, at most.
    static let maxGroup = 512
    static let recount: Duration = .milliseconds(500)
    let engine: RunEngine
    /// Runs `queued` at most (0: no limit).
    let maxBacklog: Int
    private let pending = Mutex(Pending())
    private let backlog = Mutex(Backlog())

    init(engine: RunEngine, maxBacklog: Int) { self.engine = engine; self.maxBacklog = maxBacklog }

    func submit(_ request: RunRequest) async -> Answer {
        await withCheckedContinuation { continuation in
            let lead = pending.withLock { p -> Bool in
                p.waiting.append((request, continuation))
                if p.committing { return false }
                p.committing = true
                return true
            }
            if lead { Task { await self.commitGroups() } }
        }
    }

    private func commitGroups() async {
        while true {
            var group = pending.withLock { p -> [(RunRequest, CheckedContinuation<Answer, Never>)] in
                let n = min(p.waiting.count, Self.maxGroup)
                if n == 0 { p.committing = false }
                let group = Array(p.waiting.prefix(n))
                p.waiting.removeFirst(n)
                return group
            }
            if group.isEmpty { return }
            let room: Int
            do { room = try await self.room(for: group.count) } catch {
                for (_, c) in group { c.resume(returning: .failed(.store(error))) }
                continue
            }
            if room < group.count {
                for (_, c) in group[room...] { c.resume(returning: .backlogFull) }
                group.removeSubrange(room...)
                if group.isEmpty { continue }
            }
            do {
                let results = try await engine.accept(group.map(\.0))
                var queued = 0
                for (i, (_, c)) in group.enumerated() {
                    if case let .started(run) = results[i], run.status == .queued { queued += 1 }
                    c.resume(returning: .recorded(results[i]))
                }
                backlog.withLock { $0.added += queued }
            } catch {
                for (_, c) in group { c.resume(returning: .failed(error)) }
            }
        }
    }

    /// How many of `wanted` requests the backlog has room for.
    private func room(for wanted: Int) async throws(StoreError) -> Int {
        guard maxBacklog > 0 else { return wanted }
        let now = ContinuousClock.now
        let estimate = backlog.withLock { b -> Int? in
            guard let at = b.at, now - at < Self.recount, b.counted + b.added + wanted <= maxBacklog else { return nil }
            return b.counted + b.added
        }
        if let estimate { return min(wanted, maxBacklog - estimate) }
        let counted = try await engine.store.countRuns(status: .queued, upTo: maxBacklog)
        backlog.withLock { $0 = Backlog(counted: counted, added: 0, at: now) }
        return max(0, min(wanted, maxBacklog - counted))
    }
}
