/// How one execution of the handler ended.
public enum SliceOutcome: String, Sendable, CaseIterable, Codable {
    /// Started and not finished (or its driver died: see `lost`).
    case running
    /// Exit 0 with a valid result: the result stands.
    case succeeded
    /// Exit 75 (EX_TEMPFAIL): retried with the same cursor.
    case tempfail
    /// Any other exit, invalid output, or output past its bound.
    case failed
    /// Killed at its budget (SIGTERM, then SIGKILL after grace) without a valid result.
    case killed
    /// Stopped by a cancel (SIGTERM) without a valid result.
    case cancelled
    /// Found `running` when its driver was gone (kill -9 of baton); retried with its cursor.
    case lost
}

/// One execution of the handler: cursor in and out, outcome, counts, log.
public struct SliceRecord: Sendable, Equatable {
    public var runId: String
    public var number: Int
    public var attempt: Int
    public var startedAt: Int64
    public var finishedAt: Int64?
    public var cursorIn: String?
    public var cursorOut: String?
    public var outcome: SliceOutcome
    public var exitCode: Int?
    public var signal: Int?
    public var counts: Counts
    public var usage: TokenUsage
    public var error: String?
    public var message: String?
    /// Output went past its bound (result 1 MiB, log 4 MiB) and was cut.
    public var truncated: Bool
    public var retryAfterMs: Int64?
    /// The handler's stderr, bounded.
    public var log: String
    public var owner: String?

    public init(runId: String, number: Int, attempt: Int, startedAt: Int64, finishedAt: Int64? = nil,
                cursorIn: String? = nil, cursorOut: String? = nil, outcome: SliceOutcome = .running,
                exitCode: Int? = nil, signal: Int? = nil, counts: Counts = Counts(), usage: TokenUsage = TokenUsage(),
                error: String? = nil,
                message: String? = nil, truncated: Bool = false, retryAfterMs: Int64? = nil, log: String = "",
                owner: String? = nil) {
        self.runId = runId; self.number = number; self.attempt = attempt; self.startedAt = startedAt
        self.finishedAt = finishedAt; self.cursorIn = cursorIn; self.cursorOut = cursorOut; self.outcome = outcome
        self.exitCode = exitCode; self.signal = signal; self.counts = counts; self.usage = usage; self.error = error
        self.message = message
        self.truncated = truncated; self.retryAfterMs = retryAfterMs; self.log = log; self.owner = owner
    }
}

/// A per-item outcome a handler reported (`items` in its result).
public struct ItemRecord: Sendable, Equatable {
    public var runId: String
    public var slice: Int
    public var itemId: String
    public var status: String
    public var error: String?

    public init(runId: String, slice: Int, itemId: String, status: String, error: String? = nil) {
        self.runId = runId; self.slice = slice; self.itemId = itemId; self.status = status; self.error = error
    }
}

/// The start of a slice: which one, which attempt, when, and the cursor it is given.
public struct SliceStart: Sendable, Equatable {
    public var number: Int
    public var attempt: Int
    public var startedAt: Int64
    public var cursorIn: String?

    public init(number: Int, attempt: Int, startedAt: Int64, cursorIn: String?) {
        self.number = number; self.attempt = attempt; self.startedAt = startedAt; self.cursorIn = cursorIn
    }
}

/// What a finished slice changes of its run, as the engine decided it. Only these
/// columns are written: owner, epoch, cancel flag, params and the rest stay the store's.
public struct RunProgress: Sendable, Equatable {
    public var status: RunStatus
    public var cursor: String?
    public var nextSlice: Int
    public var nextAttempt: Int
    public var failedAttempts: Int
    public var slicesDone: Int
    public var counts: Counts
    public var usage: TokenUsage
    public var total: Int?
    public var message: String?
    public var error: String?
    public var updatedAt: Int64

    public init(_ run: RunRecord) {
        status = run.status; cursor = run.cursor; nextSlice = run.nextSlice; nextAttempt = run.nextAttempt
        failedAttempts = run.failedAttempts; slicesDone = run.slicesDone; counts = run.counts; usage = run.usage
        total = run.total; message = run.message; error = run.error; updatedAt = run.updatedAt
    }
}

/// Everything one finished slice changes, committed in ONE transaction: the slice row,
/// its items, and the run's progress.
public struct SliceCommit: Sendable, Equatable {
    public var slice: SliceRecord
    public var items: [ItemRecord]
    public var progress: RunProgress

    public init(slice: SliceRecord, items: [ItemRecord], progress: RunProgress) {
        self.slice = slice; self.items = items; self.progress = progress
    }
}
