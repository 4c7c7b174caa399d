import BatonCore
import BatonStore
import BatonSupervisor
import Foundation
import Synchronization

/// One slice, from its start record to its committed outcome: start it in the store,
/// run the process, decide, commit. Nothing is decided or committed on the
/// supervisor's thread; the supervisor only hands back how the process ended.
struct SliceExecution: Sendable {
    struct Outcome {
        var run: RunRecord
        var slice: SliceRecord
        /// Pause before the next slice (pace, retry_after_ms, or retry backoff).
        var delayMs: Int64
        var isRetry: Bool
        /// A kill or drain asked the driver to stop after this slice.
        var stopAfter: Bool
    }

    let engine: RunEngine
    let job: JobRunSpec
    let run: RunRecord
    let lease: Lease
    let budgetMs: Int64
    let control: RunControl
    /// The budget was cut short to end at the run's deadline.
    var deadlineCut = false
    /// Slices done when this drive began (max-slices counts from there).
    var slicesAtStart = 0

    var options: JobOptions { job.options }

    func run() async throws(EngineError) -> Outcome {
        let store = engine.store
        let start = RunEngine.nowMs()
        let invocation = HandlerInvocation(job: job, run: run, slice: run.nextSlice, attempt: run.nextAttempt,
                                           budgetMs: budgetMs, deadlineMs: start + budgetMs, base: engine.environment)
        var started: RunRecord
        do {
            started = try await store.startSlice(lease, SliceStart(number: run.nextSlice, attempt: run.nextAttempt,
                                                                    startedAt: start, cursorIn: run.cursor),
                                                 leaseMs: engine.environment.leaseMs)
        } catch {
            throw EngineError(error, runId: run.id)
        }
        started.cancelRequested = started.cancelRequested || run.cancelRequested
        let slice = SliceRecord(runId: run.id, number: run.nextSlice, attempt: run.nextAttempt, startedAt: start,
                                cursorIn: run.cursor, owner: engine.environment.owner)
        engine.observer?.event(.sliceStarted(run: run, slice: slice.number, attempt: slice.attempt))
        let exit = await spawn(invocation)
        let decision = decide(exit, slice: slice, next: started)
        return decision.outcome(try await engine.commit(lease, decision.commit, run: started, control: control))
    }

    /// Runs the handler and hands back how it ended. A cancel or kill raised on the
    /// control (a signal, a shutdown, the watch seeing a cancel flag or a lost lease)
    /// reaches the process at once.
    func spawn(_ invocation: HandlerInvocation) async -> SpawnResult {
        let env = engine.environment
        let path = invocation.environment.first { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) } ?? ""
        guard let first = job.command.first,
              let executable = Supervisor.resolve(first, searchPath: path, workingDirectory: env.workingDirectory) else {
            let name = job.command.first ?? "(none)"
            let where_ = name.contains("/") ? "relative to \(env.workingDirectory)" : "on PATH \(path)"
            return .failure("cannot start '\(name)': no executable file \(where_)", "")
        }
        var spec = SliceSpec(executable: executable, arguments: job.command, environment: invocation.environment,
                             workingDirectory: env.workingDirectory,
                             input: options.mode == .plain ? [] : invocation.input,
                             budget: .milliseconds(budgetMs), grace: options.grace,
                             marker: "BATON_RUN_ID=\(run.id)")
        spec.stdoutIsLog = options.mode == .plain
        let observer = engine.observer
        let current = run
        let process = Supervisor.launch(spec, onLogLine: { line in observer?.event(.logLine(run: current, line: line)) })
        let stop = { @Sendable (r: RunControl.Request) in
            switch r {
            case .kill: process.kill()
            case .cancel: process.terminate()
            case .none, .drain: break
            }
        }
        let token = control.listen(stop)
        stop(control.current)  // raised before the listener was in place
        let result = await process.result()
        control.stopListening(token)
        switch result {
        case let .success(exit): return .success(exit)
        case let .failure(error): return .failure(error.description, "")
        }
    }

    /// What a finished slice comes to: the commit to make, and how the driver goes on.
    struct Decision: Sendable {
        var commit: SliceCommit
        var delayMs: Int64
        var isRetry: Bool
        var stopAfter: Bool

        func outcome(_ stored: RunRecord) -> Outcome {
            Outcome(run: stored, slice: commit.slice, delayMs: delayMs, isRetry: isRetry, stopAfter: stopAfter)
        }
    }

    /// Decides a slice's outcome from how it ended: the slice record, the run as it
    /// goes on, retries and pacing. Pure: no store, no waiting.
    func decide(_ exit: SpawnResult, slice started: SliceRecord, next run: RunRecord) -> Decision {
        var slice = started
        var next = run
        slice.finishedAt = RunEngine.nowMs()
        var exitWasCancel = false
        var stoppedAtDeadline = false
        if case let .success(e) = exit {
            exitWasCancel = e.stopped == .requested && control.current != .kill
            stoppedAtDeadline = e.stopped == .budget && deadlineCut
        }
        var parsed: SliceResult?
        var delay: Int64 = 0
        var isRetry = false
        var stopAfter = false

        switch exit {
        case let .failure(message, log):
            slice.outcome = .failed
            slice.error = message
            slice.log = log
        case let .success(e):
            slice.log = String(decoding: options.mode == .plain ? e.output + e.log : e.log, as: UTF8.self)
            slice.truncated = e.outputTruncated || e.logTruncated
            if case let .exited(code) = e.termination { slice.exitCode = Int(code) }
            if case let .signaled(sig) = e.termination { slice.signal = Int(sig) }
            parsed = classify(e, into: &slice)
        }

        // A cancel flagged in the store while the slice ran was seen by the watcher; one
        // flagged in the last instant is seen by the driver's next look at the run.
        let cancelRequested = control.current == .cancel || exitWasCancel
        // Spent is spent: a failed slice's reported usage counts against the limits too.
        next.usage = next.usage + slice.usage
        if slice.outcome == .succeeded {
            next.cursor = slice.cursorOut
            next.counts = next.counts + slice.counts
            if let t = parsed?.total { next.total = t }
            if let m = slice.message { next.message = m }
            next.slicesDone += 1
            next.nextSlice += 1
            next.nextAttempt = 1
            next.failedAttempts = 0
            if !(parsed?.hasMore ?? false) {
                // The run reached its end; its failed items decide whether it succeeded.
                if options.tolerate.allows(failed: next.counts.failed, processed: next.counts.processed) {
                    next.status = .succeeded
                    next.error = nil
                } else {
                    next.status = .failed
                    next.error = "\(next.counts.failed) item(s) failed, more than tolerate=\(options.tolerate) allows"
                }
            } else if cancelRequested {
                next.status = .cancelled
                next.error = "cancelled; resume continues from cursor \(next.cursor.map { "\"\($0)\"" } ?? "null")"
            } else if next.slicesDone - slicesAtStart >= options.maxSlices {
                next.status = .partial
                next.error = "stopped after \(options.maxSlices) slices (max-slices); resume continues from the cursor"
            } else if let why = options.spendLimitReached(next.usage) {
                next.status = .partial
                next.error = why
            } else {
                delay = slice.retryAfterMs ?? RunEngine.ms(options.pace)
            }
        } else if stoppedAtDeadline {
            // The deadline, not the handler, ended it: no retry is spent.
            next.nextAttempt += 1
            next.status = .partial
            next.error = "deadline of \(DurationText.format(options.deadline ?? .zero)) reached during slice \(slice.number); resume continues from the cursor"
        } else if cancelRequested || control.current == .kill || slice.outcome == .cancelled {
            // Not the handler's fault: no retry is spent; the same cursor runs next time.
            if control.current == .kill {
                slice.outcome = .killed
                slice.error = "stopped at once (a second interrupt or a hard shutdown); resume runs it again"
            } else if slice.outcome != .killed {
                slice.outcome = .cancelled
            }
            next.nextAttempt += 1
            if cancelRequested {
                next.status = .cancelled
                next.error = "cancelled during slice \(slice.number); resume continues from cursor \(next.cursor.map { "\"\($0)\"" } ?? "null")"
            } else {
                stopAfter = true
            }
        } else {
            next.failedAttempts += 1
            next.nextAttempt += 1
            let policy = RetryPolicy(backoffMs: RunEngine.ms(options.backoff), retries: options.retries)
            if Self.cannotStart(exit) {
                // Retrying cannot help until a person fixes the command (issue 11).
                next.status = .failed
                next.error = "\(slice.error ?? "the handler could not start"); not retried: fix the command, then resume the run"
            } else if next.failedAttempts > options.retries {
                next.status = .failed
                next.error = "slice \(slice.number) failed \(next.failedAttempts) time(s): \(slice.error ?? "failed")"
            } else {
                delay = policy.delay(afterFailures: next.failedAttempts, retryAfterMs: slice.retryAfterMs) { Int64.random(in: $0) }
                isRetry = true
            }
        }
        if control.current == .drain { stopAfter = true }
        next.updatedAt = RunEngine.nowMs()
        let items = (parsed?.items ?? []).map { ItemRecord(runId: run.id, slice: slice.number, itemId: $0.id, status: $0.status, error: $0.error) }
        return Decision(commit: SliceCommit(slice: slice, items: items, progress: RunProgress(next)),
                        delayMs: delay, isRetry: isRetry, stopAfter: stopAfter)
    }
}
