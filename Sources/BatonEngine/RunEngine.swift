import BatonCore
import BatonStore
import BatonSupervisor
import Foundation
import Synchronization

/// Drives runs: a chain of slices, each committed with its cursor before the next
/// starts. `baton invoke`, the daemon, tick and webhooks all go through here.
public final class RunEngine: Sendable {
    public let store: any RunStore
    public let environment: EngineEnvironment
    let observer: (any RunObserver)?
    /// Runs finished per job by this engine, to prune `history=` every so many.
    let finishedRuns = Mutex<[String: Int]>([:])

    public init(store: any RunStore, environment: EngineEnvironment, observer: (any RunObserver)? = nil) {
        self.store = store; self.environment = environment; self.observer = observer
    }

    /// Prunes the job's runs beyond `history=` on its first finished run in this process
    /// and then every history/10 (at most 50): pruning walks the job's kept runs, so a
    /// busy job does not pay that walk for every run, and keeps at most that many extra.
    func pruneIfDue(_ job: JobRunSpec) async {
        let history = job.options.history
        let step = max(1, min(50, history / 10))
        let n = finishedRuns.withLock { counts -> Int in
            counts[job.name, default: 0] += 1
            return counts[job.name]!
        }
        if n % step == 1 || step == 1 { _ = try? await store.prune(job: job.name, keep: history) }
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
    /// `once`) after one slice. Returns the run as stored. `deadline=` and
    /// `max-slices=` count from the start of this drive, so a resumed run gets them
    /// afresh. Ownership is held by a lease renewed as it runs low; a driver that
    /// loses it stops at once.
    /// - Throws: `EngineError` when the store fails or another process holds the run.
    /// `known`: the run as the caller just read it, which saves reading it again.
    /// `startRecorded`: `known` came from `fireAll(prepare: true)`, owned by this
    /// process with its first slice's start already recorded.
    public func drive(runId: String, job: JobRunSpec, control: RunControl = RunControl(), once: Bool = false,
                      budget: Duration? = nil, known: RunRecord? = nil, startRecorded: Bool = false) async throws(EngineError) -> RunRecord {
        var hadOwner = false
        var run: RunRecord
        var startedHere = false
        if startRecorded, let known, known.owner == environment.owner {
            run = known
        } else if let taken = try await startQueued(known, job: job) {
            // A queued run nobody holds: claimed with its first slice's start, one commit.
            run = taken
            startedHere = true
        } else {
            run = try await claim(runId, job: job, hadOwner: &hadOwner, known: known)
        }
        if run.status == .queued {
            // Its turn has come. The store makes it `running` with its first slice's start
            // record (`startSlice`), not in a commit of its own: a run stopped before
            // that stays `queued`, as nothing of it has started.
            run.status = .running
        }
        var state = DriveState(run: run, leaseUntil: run.leaseExpiresAt ?? 0, hadOwner: hadOwner)
        state.pendingStart = startedHere || (startRecorded && known?.owner == environment.owner)
        let result: Result<RunRecord, EngineError>
        do {
            result = .success(try await loop(&state, job: job, control: control, once: once, budget: budget))
        } catch {
            result = .failure(error)
        }
        if state.pendingStart {
            // Stopped before the slice whose start rode in the last commit: take it back.
            _ = try? await store.discardSlice(runId: runId, number: state.run.nextSlice, attempt: state.run.nextAttempt)
        }
        // A run that ended let go of itself in its last commit.
        if case let .success(run) = result, run.status.isFinished, run.owner == nil, !state.pendingStart {
            return run
        }
        _ = try? await store.release(runId: runId, owner: environment.owner)
        return try result.get()
    }

    /// Takes `known` when it is a queued run that nobody (or this process) holds, with
    /// its first slice's start; nil to go the usual way (claim, then start).
    func startQueued(_ known: RunRecord?, job: JobRunSpec) async throws(EngineError) -> RunRecord? {
        guard let known, known.status == .queued, known.slicesDone == 0, known.nextAttempt == 1,
              known.owner == nil || known.owner == environment.owner else { return nil }
        let now = Self.nowMs()
        let slice = SliceRecord(runId: known.id, number: known.nextSlice, attempt: known.nextAttempt, startedAt: now,
                                cursorIn: known.cursor, owner: environment.owner)
        do { return try await store.startQueued(slice, leaseExpiresAt: now + lease(job), now: now) } catch { throw .store(error) }
    }

    struct DriveState {
        var run: RunRecord
        var leaseUntil: Int64
        /// Someone drove the run before this driver: it may have left a slice running.
        var hadOwner = false
        /// The next slice's start record is committed but the slice has not run.
        var pendingStart = false
    }

    func loop(_ state: inout DriveState, job: JobRunSpec, control: RunControl, once: Bool,
              budget: Duration?) async throws(EngineError) -> RunRecord {
        // A run that never started a slice has none to repair.
        if state.run.slicesDone > 0 || state.run.nextAttempt > 1 || state.hadOwner {
            state.run = try await repairLostSlice(state.run)
        }
        let driveStart = Self.nowMs()
        let slicesAtStart = state.run.slicesDone
        let deadlineEnd = job.options.deadline.map { driveStart + Self.ms($0) }
        while true {
            let run = state.run
            if run.status.isFinished { return run }
            switch control.current {
            case .cancel: return try await finish(run, .cancelled, "cancelled; resume continues from the cursor")
            case .drain, .kill: return run
            case .none: break
            }
            if run.cancelRequested { return try await finish(run, .cancelled, "cancelled; resume continues from the cursor") }
            if let why = job.options.spendLimitReached(run.usage) {
                // Still over after a resume: the limit was not raised.
                return try await finish(run, .partial, why)
            }
            if run.slicesDone - slicesAtStart >= job.options.maxSlices, run.slicesDone > slicesAtStart {
                return try await finish(run, .partial, "stopped after \(job.options.maxSlices) slices (max-slices); resume continues from the cursor")
            }
            var budgetMs = Self.ms(budget ?? job.options.budget)
            var deadlineCut = false
            if let end = deadlineEnd {
                let left = end - Self.nowMs()
                if left <= 0 { return try await finish(run, .partial, deadlineMessage(job)) }
                if left < budgetMs { budgetMs = left; deadlineCut = true }
            }
            try await renewLease(&state, job: job, budgetMs: budgetMs)
            var execution = SliceExecution(engine: self, job: job, run: state.run, budgetMs: budgetMs, control: control)
            execution.startRecorded = state.pendingStart
            execution.chainNext = !once
            execution.deadlineCut = deadlineCut
            execution.slicesAtStart = slicesAtStart
            let outcome = try await execution.run()
            state.run = outcome.run
            state.pendingStart = outcome.nextStarted
            observer?.event(.sliceFinished(run: state.run, slice: outcome.slice))
            if state.run.status.isFinished {
                observer?.event(.runFinished(run: state.run))
                await pruneIfDue(job)
                return state.run
            }
            if once || outcome.stopAfter { return state.run }
            let wait = outcome.delayMs
            if wait > 0 {
                if let end = deadlineEnd, Self.nowMs() + wait >= end {
                    return try await finish(state.run, .partial, deadlineMessage(job))
                }
                if outcome.isRetry { observer?.event(.retryScheduled(run: state.run, delayMs: wait, reason: outcome.slice.error ?? "")) }
                try await sleep(wait, state: &state, job: job, control: control)
                // Whatever happened meanwhile (a cancel, another process) is in the store.
                do { state.run = try await store.run(id: state.run.id) ?? state.run } catch { throw .store(error) }
            }
        }
    }

    func deadlineMessage(_ job: JobRunSpec) -> String {
        "deadline of \(DurationText.format(job.options.deadline ?? .zero)) reached; resume continues from the cursor"
    }

    /// Renews the lease when less than half of it is left; a lease that is gone means
    /// another process took the run over, and this driver must stop.
    func renewLease(_ state: inout DriveState, job: JobRunSpec, budgetMs: Int64) async throws(EngineError) {
        let now = Self.nowMs()
        let length = lease(job)
        guard state.leaseUntil - now < length / 2 + budgetMs else { return }
        do {
            guard let r = try await store.claim(runId: state.run.id, owner: environment.owner, now: now,
                                                leaseExpiresAt: now + length) else {
                throw EngineError.heldElsewhere(state.run.id, owner: (try? await store.run(id: state.run.id))?.owner ?? "another process")
            }
            state.leaseUntil = now + length
            state.run.leaseExpiresAt = r.leaseExpiresAt
            state.run.owner = r.owner
        } catch {
            throw EngineError(error)
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

    /// Takes a cancelled, failed or partial run (or one whose driver died) back up:
    /// claims it, then reopens it with a conditional update that changes only status,
    /// cancel flag, error and retry count, so nothing its last driver committed is
    /// rolled back. `drive` then continues it from its cursor.
    /// - Throws: `.heldElsewhere` when a live process drives it.
    public func reopen(runId: String, job: JobRunSpec) async throws(EngineError) -> RunRecord {
        var run = try await claim(runId, job: job, evenIfFinished: true)
        if run.status.isFinished || run.cancelRequested {
            do {
                guard let r = try await store.reopen(runId: runId, owner: environment.owner, at: Self.nowMs()) else {
                    throw EngineError.heldElsewhere(runId, owner: "another process")
                }
                run = r
            } catch {
                throw EngineError(error)
            }
        }
        return run
    }

    /// Cancels a run nobody drives any more (its driver died, or its lease ran out):
    /// takes it over, stops a handler it left behind, and ends it cancelled. Returns
    /// nil when a live process holds it (that process acts on the cancel flag).
    public func cancelAbandoned(runId: String) async throws(EngineError) -> RunRecord? {
        let job = JobRunSpec(name: "", command: [])
        let run: RunRecord
        do {
            run = try await claim(runId, job: job)
        } catch {
            if case .heldElsewhere = error { return nil }
            throw error
        }
        if run.status.isFinished { return run }
        let repaired = try await repairLostSlice(run)
        let done = try await finish(repaired, .cancelled, "cancelled while nobody was driving it; resume continues from the cursor")
        _ = try? await store.release(runId: runId, owner: environment.owner)
        return done
    }

    /// Takes ownership. A run owned by a dead process of this host, or whose lease
    /// ran out, is taken over.
    func claim(_ runId: String, job: JobRunSpec, evenIfFinished: Bool = false) async throws(EngineError) -> RunRecord {
        var ignored = false
        return try await claim(runId, job: job, evenIfFinished: evenIfFinished, hadOwner: &ignored)
    }

    /// `hadOwner`: the run had an owner before (it may have left a slice running).
    func claim(_ runId: String, job: JobRunSpec, evenIfFinished: Bool = false,
               hadOwner: inout Bool, known: RunRecord? = nil) async throws(EngineError) -> RunRecord {
        let now = Self.nowMs()
        do {
            var read = known
            if read == nil { read = try await store.run(id: runId) }
            guard var run = read else { throw EngineError.noSuchRun(runId) }
            hadOwner = run.owner != nil
            if run.status.isFinished && !evenIfFinished { return run }
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
        } catch {
            throw EngineError(error)
        }
    }

    /// A slice left `running` by a driver that died (kill -9) is marked lost; the
    /// next attempt of the same slice runs with the same cursor.
    func repairLostSlice(_ run: RunRecord) async throws(EngineError) -> RunRecord {
        guard !run.status.isFinished else { return run }
        do {
            let slices = try await store.slices(runId: run.id)
            guard let lost = slices.last(where: { $0.outcome == .running }) else { return run }
            // A driver killed with -9 leaves its handler running: stop it (it carries the
            // run's id in its environment) before the same cursor runs again.
            Supervisor.stopEverywhere(marker: "BATON_RUN_ID=\(run.id)")
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

    /// Sleeps `ms`, waking early for a cancel, a drain or the store's cancel flag, and
    /// keeping the lease alive meanwhile.
    func sleep(_ ms: Int64, state: inout DriveState, job: JobRunSpec, control: RunControl) async throws(EngineError) {
        let end = Self.nowMs() + ms
        while Self.nowMs() < end {
            if control.current != .none { return }
            if (try? await store.run(id: state.run.id))?.cancelRequested == true { return }
            try await renewLease(&state, job: job, budgetMs: 0)
            try? await Task.sleep(for: .milliseconds(min(250, max(1, end - Self.nowMs()))))
        }
    }

    func lease(_ job: JobRunSpec) -> Int64 { Self.ms(job.options.budget) + Self.ms(job.options.grace) + 60_000 }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    static func ms(_ d: Duration) -> Int64 { DurationText.milliseconds(d) }
}
