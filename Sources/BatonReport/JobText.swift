import BatonCore
import BatonStore

/// How a job reads for `baton jobs --json` and `GET /jobs`.
public enum JobText {
    /// The job's schedule, zone, next fire (absent when paused or never again), last run
    /// and whether it is paused.
    public static func json(_ job: Job, zone: ZoneRules, next: Int64?, last: RunRecord?, paused: Bool, now: Int64) -> [String: Any] {
        var o: [String: Any] = ["job": job.name, "schedule": job.schedule.description, "tz": job.zone, "paused": paused,
                                "file": job.location.file, "line": job.location.line]
        if let next {
            o["next"] = TimeText.rfc3339(next, zone: zone)
            o["next_unix"] = next
            o["next_in"] = TimeText.relative(next - now)
        }
        // In the job's zone, as `next` is.
        if let last { o["last_run"] = ["run_id": last.id, "status": RunText.state(last), "started_at": TimeText.rfc3339(last.createdAt / 1000, zone: zone)] }
        return o
    }
}
