import BatonCore
import Foundation

/// Reads schedule files from disk: `baton check`, `baton next JOB`, and (later) the
/// daemon's loads and reloads all go through here, so they judge files alike.
public struct ScheduleLoader: Sendable {
    public var defaultZone: String
    public var zones: ZoneDatabase
    /// Relative command paths resolve against this directory (baton's working directory).
    public var workingDirectory: String
    public var searchPath: String

    public init(defaultZone: String = "UTC", zones: ZoneDatabase = .shared,
                workingDirectory: String = FileManager.default.currentDirectoryPath,
                searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") {
        self.defaultZone = defaultZone; self.zones = zones
        self.workingDirectory = workingDirectory; self.searchPath = searchPath
    }

    /// Loads `*.cron` files: each path is a file, or a directory whose `*.cron` files
    /// are read in name order.
    public func load(paths: [String]) -> ScheduleSet {
        var set = ScheduleSet()
        for path in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                set.problems.append(ScheduleError(at: SourceLocation(file: path, line: 0, column: 0),
                                                  "no such file or directory",
                                                  hint: "give a schedules directory or a .cron file (default ./schedules)"))
                continue
            }
            if isDir.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                    .filter { $0.hasSuffix(".cron") && !$0.hasPrefix(".") }.sorted()
                if names.isEmpty {
                    set.problems.append(ScheduleError(at: SourceLocation(file: path, line: 0, column: 0),
                                                      "no *.cron files in this directory",
                                                      hint: "add a file such as \(path)/jobs.cron with lines like '*/5 * * * * poll handlers/poll'",
                                                      severity: .warning))
                }
                for name in names { read(path.hasSuffix("/") ? path + name : path + "/" + name, into: &set) }
            } else {
                read(path, into: &set)
            }
        }
        link(&set)
        return set
    }

    private func read(_ path: String, into set: inout ScheduleSet) {
        guard let data = FileManager.default.contents(atPath: path) else {
            set.problems.append(ScheduleError(at: SourceLocation(file: path, line: 0, column: 0),
                                              "cannot read this file", hint: "check its permissions"))
            return
        }
        guard let text = String(data: data, encoding: .utf8) else {
            set.problems.append(ScheduleError(at: SourceLocation(file: path, line: 1, column: 1),
                                              "this file is not UTF-8 text", hint: "save it as UTF-8"))
            return
        }
        set.sources[path] = text
        set.files.append(ScheduleFileParser(path: path, defaultZone: defaultZone).parse(text))
    }

    /// Checks that need every file: unique names, `on-failure` targets, zones, commands.
    private func link(_ set: inout ScheduleSet) {
        var byName: [String: Job] = [:]
        // A bad CRON_TZ line is one mistake however many jobs sit below it: reported
        // once, and those jobs are still checked for everything else.
        var zoneReported: Set<SourceLocation> = []
        var zoneless: Set<String> = []
        for file in set.files {
            for job in file.jobs {
                if let first = byName[job.name] {
                    set.problems.append(ScheduleError(at: job.location, "job '\(job.name)' is already defined at \(first.location)",
                                                      hint: "job names are unique across the schedules directory; rename one of them"))
                    continue
                }
                byName[job.name] = job
                do {
                    if set.zones[job.zone] == nil { set.zones[job.zone] = try zones.zone(job.zone) }
                } catch {
                    let at = job.zoneLocation ?? job.location
                    if zoneReported.insert(at).inserted { set.problems.append(ScheduleError(at: at, error.message, hint: error.hint)) }
                    zoneless.insert(job.name)
                }
                set.jobs.append(job)
                if let warning = checkCommand(job) { set.problems.append(warning) }
            }
        }
        for job in set.jobs {
            guard let target = job.options.onFailure else { continue }
            if target == job.name {
                set.problems.append(ScheduleError(at: job.location, "job '\(job.name)' names itself in on-failure=",
                                                  hint: "name a separate job that reports the failure"))
            } else if byName[target] == nil {
                let near = Suggest.nearest(target, in: Array(byName.keys))
                set.problems.append(ScheduleError(at: job.location, "on-failure=\(target) names no job",
                                                  hint: near.map { "did you mean '\($0)'?" } ?? "define a job named '\(target)' or fix the name"))
            }
        }
        let bad = Set(set.problems.filter { $0.severity == .error }.map(\.at))
        set.jobs.removeAll { bad.contains($0.location) || zoneless.contains($0.name) }
    }

    /// A warning (not an error: it may be installed later) for a missing or
    /// non-executable command.
    func checkCommand(_ job: Job) -> ScheduleError? {
        guard let cmd = job.command.first else { return nil }
        let candidates: [String]
        if cmd.contains("/") {
            candidates = [cmd.hasPrefix("/") ? cmd : workingDirectory + "/" + cmd]
        } else {
            candidates = searchPath.split(separator: ":").map { "\($0)/\(cmd)" }
        }
        for path in candidates {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
            if FileManager.default.isExecutableFile(atPath: path) { return nil }
            return ScheduleError(at: job.commandLocation, "command '\(cmd)' is not executable",
                                 hint: "chmod +x \(path)", severity: .warning)
        }
        return ScheduleError(at: job.commandLocation,
                             cmd.contains("/") ? "command '\(cmd)' does not exist (relative to \(workingDirectory))"
                                               : "command '\(cmd)' is not on PATH",
                             hint: "install it, or fix the path; baton runs it without a shell", severity: .warning)
    }
}
