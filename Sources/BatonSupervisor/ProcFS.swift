import Glibc

/// Small, allocation-light reads of /proc with plain system calls (this runs after
/// every slice; Foundation's file APIs cost milliseconds here).
enum ProcFS {
    struct Stat { var state: UInt8; var parent: pid_t; var startTicks: Int64 }

    /// This process's children: /proc/self/task/*/children (each thread's own).
    /// With `threads`, only those threads' children.
    static func childrenOfSelf(threads: [pid_t]? = nil) -> [pid_t] {
        var out: [pid_t] = []
        for tid in threads ?? numericEntries("/proc/self/task") {
            guard let bytes = read("/proc/self/task/\(tid)/children", limit: 64 * 1024) else { continue }
            for field in bytes.split(separator: UInt8(ascii: " ")) {
                let v = field.reduce(0) { $0 * 10 + pid_t($1) - 48 }
                if v > 0 { out.append(v) }
            }
        }
        return out
    }

    /// Every numeric entry of a /proc directory. Wraps `opendir(3)` / `readdir(3)`.
    static func numericEntries(_ path: String) -> [pid_t] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [pid_t] = []
        while let entry = readdir(dir) {
            let pid: pid_t? = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                var v: pid_t = 0
                for b in raw {
                    if b == 0 { break }
                    guard b >= 48 && b <= 57 else { return nil }
                    v = v * 10 + pid_t(b - 48)
                }
                return v > 0 ? v : nil
            }
            if let pid { out.append(pid) }
        }
        return out
    }

    /// Reads up to `limit` bytes of a file. Wraps `open(2)` / `read(2)`.
    static func read(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        var total = 0
        while total < limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + total, limit - total) }
            if n <= 0 { break }
            total += n
        }
        buffer.removeSubrange(total...)
        return buffer
    }

    /// State, parent and start time from /proc/PID/stat (fields 3, 4 and 22).
    static func stat(_ pid: pid_t) -> Stat? {
        guard let bytes = read("/proc/\(pid)/stat", limit: 1024), let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 19, let state = fields[0].first else { return nil }
        func int(_ f: ArraySlice<UInt8>) -> Int64 { f.reduce(0) { $0 * 10 + Int64($1) - 48 } }
        return Stat(state: state, parent: pid_t(int(fields[1])), startTicks: int(fields[19]))
    }

    /// True when /proc/PID/environ holds exactly `entry` (`KEY=value`).
    static func environContains(_ pid: pid_t, _ entry: [UInt8]) -> Bool {
        guard let bytes = read("/proc/\(pid)/environ", limit: 256 * 1024) else { return false }
        return bytes.split(separator: 0).contains { $0.elementsEqual(entry) }
    }
}
