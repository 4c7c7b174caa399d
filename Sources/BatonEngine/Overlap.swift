import BatonCore
import BatonStore

/// What `overlap=` says of a new run of a job whose unfinished runs are `busy`
/// (SPEC §2), for cron fires, ticks and webhooks alike.
enum OverlapVerdict: Equatable {
    /// Start it with this status (`queued` waits behind the unfinished run).
    case start(RunStatus)
    /// Start it after asking these runs to cancel gracefully (overlap=replace).
    case replace([String])
    /// Start nothing, for this reason.
    case refuse(String)

    init(_ policy: OverlapPolicy, busy: [RunRecord]) {
        switch policy {
        case .allow:
            self = .start(.running)
        case .skip:
            if let b = busy.first { self = .refuse("run \(b.id) is unfinished (overlap=skip)") } else { self = .start(.running) }
        case .queue:
            // One run waits behind a running one; with none running, the oldest queued
            // run is the next to start, and one more may wait behind it.
            let waiting = busy.filter { $0.status == .queued }
            if let w = waiting.last, waiting.count >= (waiting.count < busy.count ? 1 : 2) {
                self = .refuse("run \(w.id) is already waiting (overlap=queue keeps one)")
            } else {
                self = .start(busy.isEmpty ? .running : .queued)
            }
        case .replace:
            self = busy.isEmpty ? .start(.running) : .replace(busy.map(\.id))
        }
    }
}

extension RunEngine {
    /// The oldest unfinished (running or queued) runs of `jobs`, by job, in one indexed
    /// store call. Jobs with overlap=allow need none and are left out, so a job taking
    /// thousands of webhooks does not read its backlog for each. Under the other
    /// policies a job has few unfinished runs; `overlapReadLimit` bounds the read anyway
    /// (overlap=replace cancels at most that many at once, the oldest).
    func unfinishedRuns(of jobs: [(name: String, policy: OverlapPolicy)]) async throws(StoreError) -> [String: [RunRecord]] {
        let names = Set(jobs.filter { $0.policy != .allow }.map(\.name))
        guard !names.isEmpty else { return [:] }
        return try await store.unfinishedRuns(jobs: names.sorted(), limit: Self.overlapReadLimit)
    }

    static let overlapReadLimit = 100
}
