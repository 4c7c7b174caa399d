import BatonCore
import Foundation

/// Every job of a schedules directory (or of the files given to `baton check`), with
/// each job's zone resolved and every problem of every file collected.
public struct ScheduleSet: Sendable {
    public var files: [ScheduleFile] = []
    public var jobs: [Job] = []
    /// Problems that belong to no single file's parse: zones, commands, names across files.
    public var problems: [ScheduleError] = []
    public var zones: [String: ZoneRules] = [:]
    /// The text of each file read, for showing the line of a problem.
    public var sources: [String: String] = [:]

    public var allProblems: [ScheduleError] {
        (files.flatMap(\.problems) + problems).sorted {
            ($0.at.file, $0.at.line, $0.at.column) < ($1.at.file, $1.at.line, $1.at.column)
        }
    }

    public var hasErrors: Bool { allProblems.contains { $0.severity == .error } }

    public func job(named name: String) -> Job? { jobs.first { $0.name == name } }

    public func zone(of job: Job) -> ZoneRules { zones[job.zone] ?? .utc }
}
