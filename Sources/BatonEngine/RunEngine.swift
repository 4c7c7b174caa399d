import BatonCore
import BatonStore
import BatonSupervisor
import Foundation
import Synchronization

/// Drives runs: a chain of slices, each committed with its cursor before the next
/// starts. `baton invoke`, the daemon, tick and webhooks all go through here.
///
/// The slice path runs one way: the engine starts a slice in the store, the supervisor
/// runs the process and hands back how it ended, the engine decides the outcome
/// (`SliceExecution.decide`, pure) and commits it, and the drive (or the scheduler)
/// decides what runs next. Every write names the drive's `Lease`; a refused one means
/// another process took the run over, and this drive stops at once.
public final class RunEngine: Sendable {
    public let store: any RunStore
    public let environment: EngineEnvironment
    let observer: (any RunObserver)?
    let watch: DriveWatch
    /// Runs finished per job by this engine, to prune `history=` every so many.
    let finishedRuns = Mutex<[String: Int]>([:])
    /// Slice results waiting for the store to take their commits (RunEngine+Commit).
    let held = HeldResults()

    public init(store: any RunStore, environment: EngineEnvironment, observer: (any RunObserver)? = nil) {
        self.store = store; self.environment = environment; self.observer = observer
        self.watch = DriveWatch(store: store)
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

    /// Records a new run of `job`, held by this process (`drive(…, claimed:)` takes it
    /// from there without another claim).
    /// - Throws: `EngineError` when the store refuses it.
    public func createRun(job: JobRunSpec, trigger: Trigger, scheduledAt: Int64? = nil, params: String = "{}",
                          payload: String? = nil, cursor: String? = nil, parentRun: String? = nil,
                          command: [String]? = nil) async throws(EngineError) -> RunRecord {
        let now = Self.nowMs()
        let new = NewRun(id: RunID.make(now), job: job.name, trigger: trigger, scheduledAt: scheduledAt ?? now,
                         createdAt: now, cursor: cursor, params: params, payload: payload, command: command,
                         parentRun: parentRun, owner: environment.owner, leaseMs: environment.leaseMs)
        do { return try await store.createRun(new) } catch { throw .store(error) }
    }

    /// Runs slices of `runId` until the run finishes, `control` says stop, or (with
    /// `once`) after one slice. Returns the run as stored. `deadline=` and
    /// `max-slices=` count from the start of this drive, so a resumed run gets them
    /// afresh. The drive claims the run first, unless `claimed` is the run as this
    /// process just claimed or created it; it holds it by a lease the watch renews.
    /// - Throws: `EngineError`: `.heldElsewhere` when another live process holds the run,
    ///   `.lost` when another took it over during the drive, `.store`.
    /// `known`: the run as the caller just read it, which saves reading it again.
    public func drive(runId: String, job: JobRunSpec, control: RunControl = RunControl(), once: Bool = false,
                      budget: Duration? = nil, known: RunRecord? = nil, claimed: RunRecord? = nil) async throws(EngineError) -> RunRecord {
        var hadOwner = false
        let run: RunRecord
        if let claimed, claimed.owner == environment.owner {
            run = claimed
            // Epoch 1 is its creation's; a higher one means someone held it before.
            hadOwner = claimed.epoch > 1
        } else {
            run = try await claim(runId, job: job, hadOwner: &hadOwner, known: known)
        }
        if run.status.isFinished { return run }
        guard let lease = Lease(run) else { throw .heldElsewhere(runId, owner: "nobody") }
        let hold = watch.begin(lease, leaseMs: environment.leaseMs, control: control)
        defer { watch.end(hold) }
        var state = DriveState(run: run, lease: lease, hadOwner: hadOwner)
        do {
            let done = try await loop(&state, hold: hold, job: job, control: control, once: once, budget: budget)
            // A run that ended let go of itself in its last commit.
            if !done.status.isFinished { _ = try? await store.release(lease) }
            return done
        } catch {
            if case .lost = error {} else { _ = try? await store.release(lease) }
            throw error
        }
    }

    struct DriveState {
        var run: RunRecord
        let lease: Lease
        /// Someone drove the run before this driver: it may have left a slice running.
        var hadOwner = false
    }

    func loop(_ state: inout DriveState, hold: DriveWatch.Hold, job: JobRunSpec, control: RunControl, once: Bool,
              budget: Duration?) async throws(EngineError) -> RunRecord {
        // A run that never started a slice has none to repair.
        if state.run.slicesDone > 0 || state.run.nextAttempt > 1 || state.hadOwner {
            state.run = try await repairLostSlice(state.run, lease: state.lease)
        }
        let driveStart = Self.nowMs()
        let slicesAtStart = state.run.slicesDone
        let deadlineEnd = job.options.deadline.map { driveStart + Self.ms($0) }
        while true {
            // No slice starts while a result of this engine waits for the store.
            await waitWhileResultsHeld(control)
            let run = state.run
            if run.status.isFinished { return run }
            if let lost = hold.lost { throw .lost(run.id, lost) }
            switch control.current {
            case .cancel: return try await end(state, .cancelled, "cancelled; resume continues from the cursor")
            case .drain, .kill: return run
            case .none: break
            }
            if run.cancelRequested { return try await end(state, .cancelled, "cancelled; resume continues from the cursor") }
            if let why = job.options.spendLimitReached(run.usage) {
                // Still over after a resume: the limit was not raised.
                return try await end(state, .partial, why)
            }
            if run.slicesDone - slicesAtStart >= job.options.maxSlices, run.slicesDone > slicesAtStart {
                return try await end(state, .partial, "stopped after \(job.options.maxSlices) slices (max-slices); resume continues from the cursor")
            }
            var budgetMs = Self.ms(budget ?? job.options.budget)
            var deadlineCut = false
            if let end = deadlineEnd {
                let left = end - Self.nowMs()
                if left <= 0 { return try await self.end(state, .partial, deadlineMessage(job)) }
                if left < budgetMs { budgetMs = left; deadlineCut = true }
            }
            var execution = SliceExecution(engine: self, job: job, run: run, lease: state.lease, budgetMs: budgetMs,
                                           control: control)
            execution.deadlineCut = deadlineCut
            execution.slicesAtStart = slicesAtStart
            let outcome = try await execution.run()
            state.run = outcome.run
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
                    return try await self.end(state, .partial, deadlineMessage(job))
                }
                if outcome.isRetry { observer?.event(.retryScheduled(run: state.run, delayMs: wait, reason: outcome.slice.error ?? "")) }
                // A cancel (here or, through the watch, from another process), a drain or
                // a lost lease ends the pause early.
                await control.pause(ms: wait)
            }
        }
    }

    func deadlineMessage(_ job: JobRunSpec) -> String {
        "deadline of \(DurationText.format(job.options.deadline ?? .zero)) reached; resume continues from the cursor"
    }

    /// Ends the run between slices (cancel, deadline, max-slices); it lets go of it.
    func end(_ state: DriveState, _ status: RunStatus, _ why: String?) async throws(EngineError) -> RunRecord {
        let r: RunRecord
        do {
            r = try await store.endRun(state.lease, status: status, error: status == .succeeded ? nil : why, at: Self.nowMs())
        } catch {
            throw EngineError(error, runId: state.run.id)
        }
        observer?.event(.runFinished(run: r))
        return r
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
    static func ms(_ d: Duration) -> Int64 { DurationText.milliseconds(d) }
}
