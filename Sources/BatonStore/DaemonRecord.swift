/// One daemon (`baton run`, `baton serve`) as the store knows it: who it is, what
/// schedules it runs on, and when it was last heard of. Every daemon refreshes its own
/// row every few seconds (`RunStore.heartbeat`), so any of them can tell which others
/// are alive and whether their schedule files match its own.
public struct DaemonRecord: Sendable, Equatable {
    /// `HOST:PID:START`, the owner a daemon's leases name.
    public var owner: String
    public var host: String
    /// When the process started (Unix ms, its own clock).
    public var startedAt: Int64
    /// When its row was last refreshed, by the store's clock (Unix ms); set by the store.
    public var seenAt: Int64
    /// One digest of every job definition it runs on (`ScheduleSet.digest`).
    public var schedules: String
    /// Each job's definition digest, by job name: what tells which jobs differ.
    public var jobs: [String: String]

    public init(owner: String, host: String, startedAt: Int64, seenAt: Int64 = 0, schedules: String, jobs: [String: String]) {
        self.owner = owner; self.host = host; self.startedAt = startedAt; self.seenAt = seenAt
        self.schedules = schedules; self.jobs = jobs
    }
}

extension DaemonRecord {
    /// `jobs` as stored: one `DIGEST NAME` line per job, in name order (job names are
    /// single words, digests hex).
    public var jobsText: String {
        jobs.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: "\n")
    }

    /// Reads `jobsText` back; lines that are not `DIGEST NAME` are skipped.
    public static func jobs(fromText text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            out[String(line[line.index(after: space)...])] = String(line[..<space])
        }
        return out
    }
}
