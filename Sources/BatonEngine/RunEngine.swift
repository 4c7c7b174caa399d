import BatonCore
import BatonStore
import BatonSupervisor
import Foundation

/// Drives runs: a chain of slices, each committed with its cursor before the next
/// starts. `baton invoke`, the daemon, tick and webhooks all go through here.
public final class RunEngine: Sendable {
    public let store: any RunStore
    public let environment: EngineEnvironment
    let observer: (any RunObserver)?

    public init(store: any RunStore, environment: EngineEnvironment, observer: (any RunObserver)? = nil) {
        self.store = store; self.environment = environment; self.observer = observer
    }

    /// Records a new run of `job` (not yet started).
    /// - Throws: `EngineError` when the store refuses it.
    public func createRun(job: JobRunSpec, trigger: Trigger, scheduledAt: Int64? = nil, params: String = "{}",
                          payload: String? = nil, cursor: String? = nil, parentRun: String? = nil,
                          command: [String]? = nil) async throws(EngineError) -> RunRecord {
        let now = Self.nowMs()
        let new = NewRun(id: RunID.make(now), job: job.name, trigger: trigger, scheduledAt: scheduledAt ?? now,
                         createdAt: now, cursor: cursor, params: params, payload: payload, command: command,
                         parentRun: parentRun, owner: environment.owner, leaseExpiresAt: now + lease(job))
        do { return try await store.createRun(new) } catch { throw .store(error) }
    }

    /// Runs slices of `runId` until the run finishes, `control` says stop, or (with
    /// `once`) after one slice. Returns the run as stored.
    /// - Throws: `EngineError` when the store fails or another process holds the run.
    public func drive(runId: String, job: JobRunSpec, control: RunControl = RunControl(), once: Bool = false,
                      budget: Duration? = nil) async throws(EngineError) -> RunRecord {
        var run = try await claim(runId, job: job)
        run = try await repairLostSlice(run)
        defer { Task { [store, owner = environment.owner] in await Self.release(runId, owner: owner, store: store) } }
        var started = false  // the next slice's start record is already committed
        while true {
            if run.status.isFinished { return run }
            switch control.current {
            case .cancel: return try await finish(run, .cancelled, "cancelled")
            case .drain, .kill: return run
            case .none: break
            }
            if run.cancelRequested { return try await finish(run, .cancelled, "cancelled") }
            var budgetMs = Self.ms(budget ?? job.options.budget)
            if let deadline = job.options.deadline {
                let left = run.createdAt + Self.ms(deadline) - Self.nowMs()
                if left <= 0 {
                    return try await finish(run, .partial, "deadline of \(DurationText.format(deadline)) reached; resume continues from the cursor")
                }
                budgetMs = min(budgetMs, left)
            }
            var execution = SliceExecution(engine: self, job: job, run: run, budgetMs: budgetMs, control: control)
            execution.startRecorded = started
            execution.chainNext = !once
            let outcome = try await execution.run()
            started = outcome.nextStarted
            run = outcome.run
            observer?.event(.sliceFinished(run: run, slice: outcome.slice))
            if run.status.isFinished {
                observer?.event(.runFinished(run: run))
                if run.job != JobRunSpec.adhocName { _ = try? await store.prune(job: run.job, keep: job.options.history) }
                return run
            }
            if once || outcome.stopAfter { return run }
            let wait = outcome.delayMs
            if wait > 0 {
                if outcome.isRetry { observer?.event(.retryScheduled(run: run, delayMs: wait, reason: outcome.slice.error ?? "")) }
                if try await sleep(wait, run: run.id, control: control) == false { continue }
            }
        }
    }

    /// Ends a run without a slice (cancel before start, deadline, max-slices).
    func finish(_ run: RunRecord, _ status: RunStatus, _ why: String?) async throws(EngineError) -> RunRecord {
        var r = run
        r.status = status
        r.error = status == .succeeded ? nil : why
        r.finishedAt = Self.nowMs()
        r.updatedAt = r.finishedAt!
        do { r = try await store.updateRun(r) } catch { throw .store(error) }
        observer?.event(.runFinished(run: r))
        return r
    }

    /// Takes ownership. A run owned by a dead process of this host, or whose lease
    /// ran out, is taken over.
    func claim(_ runId: String, job: JobRunSpec) async throws(EngineError) -> RunRecord {
        let now = Self.nowMs()
        do {
            guard var run = try await store.run(id: runId) else { throw EngineError.noSuchRun(runId) }
            if run.status.isFinished { return run }
            if let owner = run.owner, owner != environment.owner, RunID.isDeadLocalOwner(owner) {
                run.owner = nil
                run.leaseExpiresAt = nil
                run = try await store.updateRun(run)
            }
            guard let claimed = try await store.claim(runId: runId, owner: environment.owner, now: now,
                                                      leaseExpiresAt: now + lease(job)) else {
                throw EngineError.heldElsewhere(runId, owner: run.owner ?? "another process")
            }
            return claimed
        } catch let e as EngineError {
            throw e
        } catch let e as StoreError {
            throw .store(e)
        } catch {
            throw .store(StoreError(.io, location: "store", "\(error)"))
        }
    }

    /// A slice left `running` by a driver that died (kill -9) is marked lost; the
    /// next attempt of the same slice runs with the same cursor.
    func repairLostSlice(_ run: RunRecord) async throws(EngineError) -> RunRecord {
        guard !run.status.isFinished else { return run }
        do {
            let slices = try await store.slices(runId: run.id)
            guard let lost = slices.last(where: { $0.outcome == .running }) else { return run }
            var r = run
            r.nextSlice = lost.number
            r.nextAttempt = lost.attempt + 1
            r.updatedAt = Self.nowMs()
            return try await store.markSliceLost(runId: run.id, number: lost.number, attempt: lost.attempt,
                                                 at: r.updatedAt, run: r)
        } catch {
            throw .store(error)
        }
    }

    static func release(_ runId: String, owner: String, store: any RunStore) async {
        guard var run = try? await store.run(id: runId), run.owner == owner else { return }
        run.owner = nil
        run.leaseExpiresAt = nil
        _ = try? await store.updateRun(run)
    }

    /// Sleeps `ms`, waking early for a cancel or drain. Returns false when woken.
    func sleep(_ ms: Int64, run: String, control: RunControl) async throws(EngineError) -> Bool {
        let end = Self.nowMs() + ms
        while Self.nowMs() < end {
            if control.current != .none { return false }
            if (try? await store.run(id: run))?.cancelRequested == true { return false }
            try? await Task.sleep(for: .milliseconds(min(250, max(1, end - Self.nowMs()))))
        }
        return true
    }

    func lease(_ job: JobRunSpec) -> Int64 { Self.ms(job.options.budget) + Self.ms(job.options.grace) + 60_000 }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    static func ms(_ d: Duration) -> Int64 { DurationText.milliseconds(d) }
}
