import Foundation

/// This machine's boot, for `@reboot` (once per boot, not once per baton start).
public enum Boot {
    /// The boot time in Unix seconds, from /proc/stat's `btime`.
    public static func time() -> Int64? {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }) else { return nil }
        return Int64(line.dropFirst(6))
    }
}
