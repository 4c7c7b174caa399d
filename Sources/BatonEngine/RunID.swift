import Foundation
import Glibc

/// Run identifiers and owner names.
public enum RunID {
    static let digits = Array("0123456789abcdefghijklmnopqrstuvwxyz")

    /// `r_` + 9 base-36 digits of the creation time in ms (so ids sort by time) + 7
    /// random ones.
    public static func make(_ nowMs: Int64) -> String {
        var t = max(0, nowMs)
        var time: [Character] = []
        for _ in 0..<9 { time.append(digits[Int(t % 36)]); t /= 36 }
        let random = (0..<7).map { _ in digits[Int.random(in: 0..<36)] }
        return "r_" + String(time.reversed()) + String(random)
    }

    /// `host:pid:start` of this process; the start time (in clock ticks since boot)
    /// tells a reused pid from the owner that died.
    public static func localOwner() -> String {
        "\(ProcessInfo.processInfo.hostName):\(getpid()):\(startTime(getpid()) ?? "0")"
    }

    /// True when `owner` names a process of this host that no longer exists (or is a
    /// zombie, or is another process that reused its pid).
    public static func isDeadLocalOwner(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == ProcessInfo.processInfo.hostName, let pid = pid_t(parts[1]) else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.first == "Z" { return true }
        return fields.count > 19 && fields[19] != parts[2]
    }

    /// Field 22 of /proc/PID/stat: when the process started.
    static func startTime(_ pid: pid_t) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
