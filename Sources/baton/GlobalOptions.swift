import BatonConfig
import BatonCore
import Foundation

/// `--schedules`, `--tz`, `--state` (or `BATON_STATE`), resolved once per command.
struct GlobalOptions {
    var schedules: String
    var zoneName: String
    var zone: ZoneRules
    var state: String

    init(_ args: Arguments) throws(UsageError) {
        let env = ProcessInfo.processInfo.environment
        schedules = args.value("--schedules") ?? "./schedules"
        state = args.value("--state") ?? env["BATON_STATE"] ?? "sqlite:var/baton.db"
        zoneName = args.value("--tz") ?? "UTC"
        do {
            zone = try ZoneDatabase.shared.zone(zoneName)
        } catch {
            throw UsageError(message: "--tz: \(error.message)", hint: error.hint)
        }
    }

    func loader() -> ScheduleLoader { ScheduleLoader(defaultZone: zoneName) }
}
