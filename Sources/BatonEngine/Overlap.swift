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
    /// Unfinished (running or queued) runs of `jobs`, by job. Jobs with overlap=allow
    /// need none and are left out, so a job taking thousands of webhooks does not read
    /// its whole backlog for each.
    func unfinishedRuns(of jobs: [(name: String, policy: OverlapPolicy)]) async throws(StoreError) -> [String: [RunRecord]] {
        let names = Set(jobs.filter { $0.policy != .allow }.map(\.name))
        var out: [String: [RunRecord]] = [:]
        guard !names.isEmpty else { return out }
        for status in [RunStatus.running, .queued] {
            // One job: a short indexed read. Several: one read of every unfinished run.
            let rows = names.count == 1 ? try await store.runs(job: names.first, status: status, limit: 1000)
                : try await store.runs(job: nil, status: status, limit: 100_000)
            for run in rows where names.contains(run.job) { out[run.job, default: []].append(run) }
        }
        return out
    }
}
