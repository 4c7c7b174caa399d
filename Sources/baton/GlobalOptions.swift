import BatonConfig
import BatonCore
import Foundation

/// `--schedules`, `--tz`, `--state` (or `BATON_STATE`), resolved once per command.
struct GlobalOptions {
    var schedules: String
    var zoneName: String
    var zone: ZoneRules
    var state: String
    var logFormat: EventLog.Format

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
        do {
            zone = try ZoneDatabase.shared.zone(zoneName)
        } catch {
            throw UsageError(message: "--tz: \(error.message)", hint: error.hint)
        }
    }

    func loader() -> ScheduleLoader { ScheduleLoader(defaultZone: zoneName) }
}
