import BatonCore
import BatonStore
import BatonSupervisor

extension SliceExecution {
    /// The handler never ran its own code: it could not be executed (ENOENT, EACCES), or
    /// the shell running it said 126 (found but not executable) or 127 (not found).
    static func cannotStart(_ exit: SpawnResult) -> Bool {
        switch exit {
        case .failure: true
        case let .success(e): e.termination == .exited(126) || e.termination == .exited(127)
        }
    }

    enum SpawnResult: Sendable {
        case success(SliceExit)
        case failure(String, String)
    }

    /// Decides the slice's outcome from how the process ended and what it printed;
    /// returns the result when it stands.
    func classify(_ e: SliceExit, into slice: inout SliceRecord) -> SliceResult? {
        let budget = "its budget of \(DurationText.format(.milliseconds(budgetMs)))"
        if options.mode == .plain {
            switch e.termination {
            case .exited(0):
                slice.outcome = .succeeded
                return SliceResult(cursor: nil, hasMore: false)
            case let .exited(code):
                slice.outcome = code == 75 ? .tempfail : .failed
                slice.error = "exit status \(code)"
            case let .signaled(sig):
                slice.outcome = e.stopped == .requested ? .cancelled : .killed
                slice.error = e.stopped == .budget ? "stopped at \(budget)" : "killed by signal \(sig)"
            }
            return nil
        }
        if e.statusLost {
            slice.outcome = .failed
            slice.error = "its exit status could not be read (waitpid failed); treated as failed"
            return nil
        }
        if e.outputTruncated {
            slice.outcome = .failed
            slice.error = "result larger than 1 MiB (cut); print one small JSON object"
            return nil
        }
        switch e.termination {
        case .exited(0):
            do {
                let r = try SliceResult.parse(e.output)
                slice.outcome = .succeeded
                slice.cursorOut = r.cursor
                slice.counts = r.counts
                slice.message = r.message
                slice.retryAfterMs = r.retryAfterMs
                slice.usage = r.usage
                return r
            } catch {
                slice.outcome = .failed
                slice.error = error.message
            }
        case .exited(75):
            slice.outcome = .tempfail
            slice.error = "temporary failure (exit 75)"
            let partial = try? SliceResult.parse(e.output)
            slice.retryAfterMs = partial?.retryAfterMs
            slice.usage = partial?.usage ?? TokenUsage()
        case .exited(126):
            slice.outcome = .failed
            slice.error = "exit status 126: a command the handler runs was found but could not be executed"
        case .exited(127):
            slice.outcome = .failed
            slice.error = "exit status 127: the handler, or a command it runs, was not found"
        case let .exited(code):
            slice.outcome = .failed
            slice.error = "exit status \(code)"
            // Spent is spent: a failed slice may still say what its AI calls cost.
            slice.usage = (try? SliceResult.parse(e.output))?.usage ?? TokenUsage()
        case let .signaled(sig):
            switch e.stopped {
            case .budget?:
                slice.outcome = .killed
                slice.error = e.killed ? "killed at \(budget) (SIGTERM, then SIGKILL after grace)" : "stopped at \(budget) (SIGTERM)"
            case .requested?:
                slice.outcome = .cancelled
                slice.error = "stopped by a cancel"
            case nil:
                slice.outcome = .failed
                slice.error = "killed by signal \(sig)"
            }
        }
        return nil
    }
}
