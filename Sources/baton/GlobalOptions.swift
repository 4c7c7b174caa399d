import BatonConfig
import BatonCore
import BatonEngine
import Foundation

/// `--schedules`, `--tz`, `--state` (or `BATON_STATE`), resolved once per command.
struct GlobalOptions {
    var schedules: String
    var zoneName: String
    var zone: ZoneRules
    var state: String
    var logFormat: EventLog.Format
    /// `--lease`: how long a hold on a run lasts without renewal (EngineEnvironment.leaseMs).
    var leaseMs = EngineEnvironment.defaultLeaseMs

    init(_ args: Arguments) throws(UsageError) {
        let env = ProcessInfo.processInfo.environment
        schedules = args.value("--schedules") ?? "./schedules"
        state = args.value("--state") ?? env["BATON_STATE"] ?? "sqlite:var/baton.db"
        zoneName = args.value("--tz") ?? "UTC"
        let format = args.value("--log-format") ?? "logfmt"
        guard let f = EventLog.Format(rawValue: format) else {
            throw UsageError(message: "--log-format '\(format)' is not logfmt or json", hint: "write --log-format json")
        }
        logFormat = f
        if let text = args.value("--lease") {
            let ms: Int64
            do { ms = DurationText.milliseconds(try DurationText.parse(text)) } catch {
                throw UsageError(message: "--lease '\(text)': \(error.message)", hint: "write a duration, e.g. --lease 10s")
            }
            guard ms >= 1_000 else {
                throw UsageError(message: "--lease '\(text)' is shorter than 1s",
                                 hint: "the lease is renewed every third of it; 10s (the default) suits most machines")
            }
            leaseMs = ms
        }
        do {
            zone = try ZoneDatabase.shared.zone(zoneName)
        } catch {
            throw UsageError(message: "--tz: \(error.message)", hint: error.hint)
        }
    }

    func loader() -> ScheduleLoader { ScheduleLoader(defaultZone: zoneName) }

    /// A follow-up command to print (`baton resume RUN`), carrying the `--schedules` and
    /// `--state` this command was given, so that it works when pasted as printed.
    func command(_ verb: String, _ operand: String, _ extra: String...) -> String {
        var words = ["baton", verb, operand] + extra
        if schedules != "./schedules" { words += ["--schedules", Self.shellQuoted(schedules)] }
        if state != "sqlite:var/baton.db" { words += ["--state", Self.shellQuoted(state)] }
        return words.joined(separator: " ")
    }

    /// `text` as one shell word: unchanged when it is plain, else in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let plain = !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-:@%+=,".contains($0)) }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
