/// How a run started (SPEC §3, `BATON_TRIGGER`).
public enum Trigger: String, Sendable, CaseIterable, Codable {
    case cron, manual, webhook, retry, catchup, reboot
}

/// Where a run stands. `queued` waits behind an unfinished run of its job (overlap=queue);
/// `running` covers slices in flight and the pauses between them.
public enum RunStatus: String, Sendable, CaseIterable, Codable {
    case queued, running, succeeded, failed, cancelled, partial

    public var isFinished: Bool {
        switch self {
        case .queued, .running: false
        case .succeeded, .failed, .cancelled, .partial: true
        }
    }
}

/// What became of a fire.
public enum FireKind: String, Sendable, CaseIterable {
    /// On time: a run with trigger `cron`.
    case cron
    /// Missed while baton was down, run late (`misfire=once|all`): trigger `catchup`.
    case catchup
    /// Once per boot: trigger `reboot`.
    case reboot
    /// Not run: the job's previous run was unfinished (`overlap=skip`, or a queue full).
    case skipped
}

/// One fire to record: the job, its nominal time (epoch ms), what became of it, and the
/// run it starts (nil when skipped).
public struct FireRecord: Sendable, Equatable {
    public var job: String
    public var scheduledAt: Int64
    public var kind: FireKind
    public var run: NewRun?

    public init(job: String, scheduledAt: Int64, kind: FireKind, run: NewRun?) {
        self.job = job; self.scheduledAt = scheduledAt; self.kind = kind; self.run = run
    }
}

/// What the store keeps about a job itself (its schedule lives in the files).
public struct JobState: Sendable, Equatable {
    public var paused: Bool
    /// When `paused` last changed (epoch ms).
    public var changedAt: Int64

    public init(paused: Bool, changedAt: Int64) { self.paused = paused; self.changedAt = changedAt }
}

/// Per-item tallies a handler reports; they add up into the run's totals.
public struct Counts: Sendable, Equatable, Codable {
    public var processed = 0, succeeded = 0, skipped = 0, failed = 0

    public init(processed: Int = 0, succeeded: Int = 0, skipped: Int = 0, failed: Int = 0) {
        self.processed = processed; self.succeeded = succeeded; self.skipped = skipped; self.failed = failed
    }

    public static func + (a: Counts, b: Counts) -> Counts {
        Counts(processed: a.processed + b.processed, succeeded: a.succeeded + b.succeeded,
               skipped: a.skipped + b.skipped, failed: a.failed + b.failed)
    }
}

/// What a run's slices spent on AI providers (SPEC §3 `usage`), summed like `Counts`.
public struct TokenUsage: Sendable, Equatable {
    public var inputTokens = 0, outputTokens = 0
    public var costUsd = 0.0

    public init(inputTokens: Int = 0, outputTokens: Int = 0, costUsd: Double = 0) {
        self.inputTokens = inputTokens; self.outputTokens = outputTokens; self.costUsd = costUsd
    }

    public var tokens: Int { inputTokens + outputTokens }
    public var isZero: Bool { inputTokens == 0 && outputTokens == 0 && costUsd == 0 }

    public static func + (a: TokenUsage, b: TokenUsage) -> TokenUsage {
        TokenUsage(inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens,
                   costUsd: a.costUsd + b.costUsd)
    }
}

/// What is needed to start a run. Times are Unix epoch milliseconds throughout the store.
public struct NewRun: Sendable, Equatable {
    public var id: String
    public var job: String
    public var trigger: Trigger
    public var scheduledAt: Int64
    public var createdAt: Int64
    /// The first slice's cursor (`invoke --cursor`), usually nil.
    public var cursor: String?
    /// JSON object text.
    public var params: String
    /// JSON text or nil.
    public var payload: String?
    /// The argv of an ad-hoc run (`baton invoke -- CMD ...`); nil for a job's run.
    public var command: [String]?
    /// The run this one retries (`baton retry`).
    public var parentRun: String?
    /// `host:pid:start` of the process that will drive it; nil leaves it unclaimed.
    public var owner: String?
    /// With an owner: how long its first lease lasts, from the store's clock.
    public var leaseMs: Int64?
    public var status: RunStatus

    public init(id: String, job: String, trigger: Trigger, scheduledAt: Int64, createdAt: Int64, cursor: String? = nil,
                params: String = "{}", payload: String? = nil, command: [String]? = nil, parentRun: String? = nil,
                owner: String? = nil, leaseMs: Int64? = nil, status: RunStatus = .running) {
        self.id = id; self.job = job; self.trigger = trigger; self.scheduledAt = scheduledAt; self.createdAt = createdAt
        self.cursor = cursor; self.params = params; self.payload = payload; self.command = command
        self.parentRun = parentRun; self.owner = owner; self.leaseMs = leaseMs; self.status = status
    }
}

/// A run as stored: a chain of slices, its committed cursor and totals.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var job: String
    public var trigger: Trigger
    public var status: RunStatus
    public var scheduledAt: Int64
    public var createdAt: Int64
    public var updatedAt: Int64
    public var finishedAt: Int64?
    /// The committed cursor: the input of the next slice.
    public var cursor: String?
    /// The next slice to run (1-based) and its attempt (1-based).
    public var nextSlice: Int
    public var nextAttempt: Int
    /// Failed attempts of the next slice so far (retries spent).
    public var failedAttempts: Int
    /// Slices that finished with their result standing (the cursor advanced or the run ended).
    public var slicesDone: Int
    public var counts: Counts
    /// AI spend of its slices so far.
    public var usage: TokenUsage
    public var total: Int?
    /// The handler's last `message`.
    public var message: String?
    /// Why the run failed, was cancelled or ended partial.
    public var error: String?
    public var params: String
    public var payload: String?
    public var command: [String]?
    public var parentRun: String?
    public var owner: String?
    /// When the owner's lease runs out (the store's clock, epoch ms).
    public var leaseExpiresAt: Int64?
    /// The ownership epoch (fencing token): raised by every claim or takeover.
    public var epoch: Int64
    public var cancelRequested: Bool

    public init(id: String, job: String, trigger: Trigger, status: RunStatus, scheduledAt: Int64, createdAt: Int64,
                updatedAt: Int64, finishedAt: Int64? = nil, cursor: String? = nil, nextSlice: Int = 1, nextAttempt: Int = 1,
                failedAttempts: Int = 0, slicesDone: Int = 0, counts: Counts = Counts(), usage: TokenUsage = TokenUsage(),
                total: Int? = nil,
                message: String? = nil, error: String? = nil, params: String = "{}", payload: String? = nil,
                command: [String]? = nil, parentRun: String? = nil, owner: String? = nil, leaseExpiresAt: Int64? = nil,
                epoch: Int64 = 0, cancelRequested: Bool = false) {
        self.id = id; self.job = job; self.trigger = trigger; self.status = status; self.scheduledAt = scheduledAt
        self.createdAt = createdAt; self.updatedAt = updatedAt; self.finishedAt = finishedAt; self.cursor = cursor
        self.nextSlice = nextSlice; self.nextAttempt = nextAttempt; self.failedAttempts = failedAttempts
        self.slicesDone = slicesDone; self.counts = counts; self.usage = usage; self.total = total; self.message = message
        self.error = error; self.params = params; self.payload = payload; self.command = command
        self.parentRun = parentRun; self.owner = owner; self.leaseExpiresAt = leaseExpiresAt
        self.epoch = epoch; self.cancelRequested = cancelRequested
    }

    /// The run reached its end but more of its items failed than `tolerate=` allows:
    /// `baton retry` redoes them; there is nothing left to resume. (A run failed by its
    /// slices has spent its retries, so `failedAttempts` is above zero.)
    public var failedOnItems: Bool { status == .failed && failedAttempts == 0 }
}
