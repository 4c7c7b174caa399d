import BatonEngine
import Synchronization

/// Group commit for requests that start runs: a request waits while the commit before
/// it is in flight, then every request that arrived meanwhile is recorded in ONE
/// transaction (one fsync). An idle server commits a lone request at once; a busy one
/// amortises the fsync over the group. Nobody is answered before their commit.
final class IntakeQueue: Sendable {
    typealias Answer = Result<RequestResult, EngineError>
    private struct Pending {
        var waiting: [(RunRequest, CheckedContinuation<Answer, Never>)] = []
        var committing = false
    }

    /// Requests recorded per transaction, at most.
    static let maxGroup = 512
    let engine: RunEngine
    private let pending = Mutex(Pending())

    init(engine: RunEngine) { self.engine = engine }

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
            let group = pending.withLock { p -> [(RunRequest, CheckedContinuation<Answer, Never>)] in
                let n = min(p.waiting.count, Self.maxGroup)
                if n == 0 { p.committing = false }
                let group = Array(p.waiting.prefix(n))
                p.waiting.removeFirst(n)
                return group
            }
            if group.isEmpty { return }
            do {
                let results = try await engine.accept(group.map(\.0))
                for (i, (_, c)) in group.enumerated() { c.resume(returning: .success(results[i])) }
            } catch {
                for (_, c) in group { c.resume(returning: .failure(error)) }
            }
        }
    }
}
