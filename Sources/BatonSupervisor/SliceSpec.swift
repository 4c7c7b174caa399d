/// What to run for one slice, and under which limits.
public struct SliceSpec: Sendable {
    /// The resolved path of the executable (see `Supervisor.resolve`).
    public var executable: String
    /// argv, argv[0] included.
    public var arguments: [String]
    /// The complete environment, `KEY=value` each: nothing is inherited.
    public var environment: [String]
    public var workingDirectory: String?
    /// Written to the child's stdin, which is then closed.
    public var input: [UInt8]
    /// At the budget the group gets SIGTERM; after `grace` more, SIGKILL.
    public var budget: Duration
    public var grace: Duration
    /// stdout past this many bytes is read and discarded (result bound, 1 MiB).
    public var outputLimit: Int
    /// stderr past this many bytes is read and discarded (log bound, 4 MiB).
    public var logLimit: Int
    /// An environment entry (e.g. `BATON_RUN_ID=r_…`) that marks descendants of this
    /// slice, so ones that left its process group can still be found and stopped.
    public var marker: String?
    /// stdout is log too (a classic cron command, `mode=plain`): kept and echoed
    /// with stderr, under the log's bound.
    public var stdoutIsLog = false

    public init(executable: String, arguments: [String], environment: [String], workingDirectory: String? = nil,
                input: [UInt8] = [], budget: Duration, grace: Duration = .seconds(5),
                outputLimit: Int = 1 << 20, logLimit: Int = 4 << 20, marker: String? = nil) {
        self.executable = executable; self.arguments = arguments; self.environment = environment
        self.workingDirectory = workingDirectory; self.input = input; self.budget = budget; self.grace = grace
        self.outputLimit = outputLimit; self.logLimit = logLimit; self.marker = marker
    }
}

/// How a slice's process ended, and what it wrote.
public struct SliceExit: Sendable {
    public enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    /// Why baton signalled the group, if it did.
    public enum StopReason: Sendable, Equatable {
        case budget
        case requested
    }

    public var termination: Termination
    public var output: [UInt8]
    public var outputTruncated: Bool
    public var log: [UInt8]
    public var logTruncated: Bool
    /// SIGTERM was sent to the group, and why.
    public var stopped: StopReason?
    /// SIGKILL was sent to the group (after grace, or on a hard stop).
    public var killed: Bool
    public var durationMilliseconds: Int64
    /// Descendants that had left the process group and were stopped afterwards.
    public var strays: Int
    /// `waitpid` failed, so `termination` is not known (never a clean exit).
    public var statusLost = false
}
