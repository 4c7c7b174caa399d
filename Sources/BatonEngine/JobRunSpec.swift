import BatonCore

/// What the engine needs of a job: its command, environment lines and options.
public struct JobRunSpec: Sendable {
    public var name: String
    public var command: [String]
    public var environment: [EnvironmentEntry]
    public var options: JobOptions
    /// The job's zone name, passed as TZ when baton itself has no TZ.
    public var zone: String

    public init(name: String, command: [String], environment: [EnvironmentEntry] = [], options: JobOptions = JobOptions(),
                zone: String = "UTC") {
        self.name = name; self.command = command; self.environment = environment; self.options = options; self.zone = zone
    }

    public init(_ job: Job) {
        self.init(name: job.name, command: job.command, environment: job.environment, options: job.options, zone: job.zone)
    }

    /// The job name of runs started by `baton invoke -- CMD ARGS...`.
    public static let adhocName = "adhoc"
}

/// baton's own process: its environment (the source of PATH, HOME, … and pass-env
/// variables), working directory, and identity as a run owner.
public struct EngineEnvironment: Sendable {
    public var variables: [String: String]
    public var workingDirectory: String
    /// `host:pid`, written as the owner of the runs this process drives.
    public var owner: String
    /// How long a hold on a run lasts without a renewal (`--lease`): the drive renews it
    /// every third of that, and another process may take the run over once it has run
    /// out (by the store's clock).
    public var leaseMs: Int64

    /// The default `--lease`: a frozen or cut-off process's runs are taken over within
    /// about 10 s (and a dead local process's at once).
    public static let defaultLeaseMs: Int64 = 10_000

    public init(variables: [String: String], workingDirectory: String, owner: String, leaseMs: Int64 = defaultLeaseMs) {
        self.variables = variables; self.workingDirectory = workingDirectory; self.owner = owner; self.leaseMs = leaseMs
    }
}
