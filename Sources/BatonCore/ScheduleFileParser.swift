/// The jobs of one schedule file, and every problem found in it.
public struct ScheduleFile: Sendable {
    public var path: String
    public var jobs: [Job] = []
    /// Errors and warnings, in line order. The file is usable when none is an error.
    public var problems: [ScheduleError] = []

    public var errors: [ScheduleError] { problems.filter { $0.severity == .error } }
}

/// Reads the text of a `*.cron` file (SPEC §2). Collects every error of every line
/// rather than stopping at the first; never traps on any input.
public struct ScheduleFileParser {
    public var path: String
    public var defaultZone: String

    public init(path: String, defaultZone: String = "UTC") {
        self.path = path; self.defaultZone = defaultZone
    }

    public func parse(_ text: String) -> ScheduleFile {
        var file = ScheduleFile(path: path)
        var environment: [EnvironmentEntry] = []
        var zone = defaultZone
        var zoneLocation: SourceLocation?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let tokens: [LineToken]
            do throws(ExpressionError) {
                tokens = try LineTokenizer.split(line)
            } catch {
                file.problems.append(error.located(at: at(lineNumber, 1)))
                continue
            }
            guard let first = tokens.first else { continue }
            if let eq = first.text.firstIndex(of: "="), !first.quoted, JobOptions.isVariableName(first.text[..<eq]) {
                let key = String(first.text[..<eq])
                let value = String(first.text[first.text.index(after: eq)...])
                if tokens.count > 1 {
                    file.problems.append(ScheduleError(
                        at: at(lineNumber, tokens[1].column), "the value of \(key) has a space in it",
                        hint: "quote the value: \(key)=\"\(value) \(tokens[1].text)…\""))
                    continue
                }
                if key == "CRON_TZ" {
                    zone = value.isEmpty ? defaultZone : value
                    zoneLocation = at(lineNumber, first.column + key.count + 1)
                } else {
                    environment.removeAll { $0.key == key }
                    environment.append(EnvironmentEntry(key: key, value: value))
                }
                continue
            }
            if let job = parseEntry(tokens, line: lineNumber, into: &file.problems) {
                var job = job
                job.zone = zone
                job.zoneLocation = zoneLocation
                job.environment = environment
                if let dup = file.jobs.first(where: { $0.name == job.name }) {
                    file.problems.append(ScheduleError(
                        at: job.location, "job '\(job.name)' is already defined at \(dup.location)",
                        hint: "job names are unique across the schedules directory; rename one of them"))
                } else {
                    file.jobs.append(job)
                }
            }
        }
        return file
    }

    private func at(_ line: Int, _ column: Int) -> SourceLocation {
        SourceLocation(file: path, line: line, column: column)
    }

    /// `<schedule> <job-name> [option=value ...] <command> [args ...]`
    private func parseEntry(_ tokens: [LineToken], line: Int, into problems: inout [ScheduleError]) -> Job? {
        var failed = false
        func report(_ e: ScheduleError) { problems.append(e); failed = true }

        // The schedule: a macro (with its argument for @every), or five or six fields.
        var schedule: Schedule?
        var next: Int
        var six = false
        if tokens[0].text.hasPrefix("@") {
            let word = tokens[0].text
            next = 1
            do throws(ExpressionError) {
                if word.lowercased() == "@every" {
                    guard tokens.count > 1 else {
                        report(ScheduleError(at: at(line, tokens[0].column + word.count), "@every needs a duration",
                                             hint: "write e.g. '@every 15s send-batches handlers/send-batches'"))
                        return nil
                    }
                    next = 2
                    schedule = try Schedule.every(tokens[1].text, column: tokens[1].column)
                } else {
                    schedule = try Schedule.macro(String(word), column: tokens[0].column)
                }
            } catch {
                report(ScheduleError(at: at(line, error.column), error.message, hint: error.hint))
            }
        } else {
            six = tokens.count > 5 && !tokens[5].quoted && Job.isCronField(tokens[5].text)
            next = six ? 6 : 5
            if tokens.count < next {
                report(ScheduleError(at: at(line, tokens.last!.column + tokens.last!.text.count),
                                     "this entry ends after \(tokens.count) field(s)",
                                     hint: "write '<minute> <hour> <day-of-month> <month> <day-of-week> <job-name> <command>', e.g. '*/5 * * * * poll-feed handlers/poll'"))
                return nil
            }
            do throws(ExpressionError) {
                let e = try CronExpression(fields: tokens[0..<next].map { ($0.text, $0.column) })
                schedule = .cron(e, macro: nil)
            } catch {
                report(ScheduleError(at: at(line, error.column), error.message, hint: error.hint))
            }
        }

        // `0 12 * * * 5 /bin/true`: the name `5` was taken as a sixth (day-of-week)
        // field, so what follows makes no sense as name and command. Say so, rather than
        // "'/bin/true' is not a valid job name". A `*` there means six fields were meant.
        if six, !tokens[5].text.contains("*"),
           next + 1 >= tokens.count || !Job.isValidName(String(tokens[next].text)) {
            let word = tokens[5].text
            report(ScheduleError(at: at(line, tokens[5].column),
                                 "'\(word)' was read as a sixth time field (six fields: seconds first), so no job name and command follow it",
                                 hint: "if '\(word)' is the job name, rename it: a job name starts with a letter and is never a valid cron field, e.g. 'job-\(word.lowercased())'"))
            return nil
        }

        // The job name.
        guard next < tokens.count else {
            report(ScheduleError(at: at(line, tokens.last!.column + tokens.last!.text.count),
                                 "missing job name and command after the schedule",
                                 hint: "write '<schedule> <job-name> [option=value ...] <command>', e.g. '@hourly tidy-up ./bin/tidy'"))
            return nil
        }
        let nameToken = tokens[next]
        let name = String(nameToken.text)
        if !Job.isValidName(name) {
            let suggestion = name.lowercased().map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" }
            report(ScheduleError(at: at(line, nameToken.column), "'\(name)' is not a valid job name",
                                 hint: "job names start with a lowercase letter and use a-z, 0-9, '.', '_' and '-', e.g. '\(String(suggestion).trimmingLeadingNonLetters)'"))
        } else if Job.isCronField(nameToken.text) {
            report(ScheduleError(at: at(line, nameToken.column), "job name '\(name)' is also a valid cron field",
                                 hint: "it would be read as a schedule field; rename it, e.g. '\(name)-job'"))
        }
        next += 1

        // Options, up to the first word that is not `name=value` with a known name.
        var options = JobOptions()
        var seen: Set<String> = []
        while next < tokens.count, !tokens[next].quoted, let eq = tokens[next].text.firstIndex(of: "=") {
            let tok = tokens[next]
            let key = String(tok.text[..<eq])
            guard key.allSatisfy({ ($0 >= "a" && $0 <= "z") || $0 == "-" }), !key.isEmpty else { break }
            next += 1
            guard JobOptions.names.contains(key) else {
                let near = Suggest.nearest(key, in: JobOptions.names)
                report(ScheduleError(at: at(line, tok.column), "unknown option '\(key)'",
                                     hint: near.map { "did you mean '\($0)='?" } ?? "options are \(JobOptions.names.joined(separator: ", "))"))
                continue
            }
            if !seen.insert(key).inserted {
                report(ScheduleError(at: at(line, tok.column), "option '\(key)' is given twice", hint: "keep one \(key)= per entry"))
                continue
            }
            do throws(ExpressionError) {
                try options.set(key, tok.text[tok.text.index(after: eq)...])
            } catch {
                report(ScheduleError(at: at(line, tok.column + key.count + error.column), error.message, hint: error.hint))
            }
        }

        guard next < tokens.count else {
            report(ScheduleError(at: at(line, tokens.last!.column + tokens.last!.text.count),
                                 "job '\(name)' has no command",
                                 hint: "add the handler to run after the options, e.g. 'handlers/\(name)'"))
            return nil
        }
        guard !failed, let schedule else { return nil }
        return Job(name: name, schedule: schedule, zone: defaultZone, options: options,
                   command: tokens[next...].map { String($0.text) }, environment: [],
                   location: at(line, tokens[0].column), commandLocation: at(line, tokens[next].column),
                   zoneLocation: nil)
    }
}

extension String {
    var trimmingLeadingNonLetters: String {
        let s = drop { !($0 >= "a" && $0 <= "z") }
        return s.isEmpty ? "my-job" : String(s)
    }
}
