import Glibc

/// Writes to stdout and stderr with plain `write(2)`. A reader that went away (EPIPE:
/// `baton runs | head -1`) ends the output quietly instead of trapping, as Foundation's
/// FileHandle.write would; the work itself goes on and is committed.
enum Console {
    static func out(_ text: String) { write(1, text + "\n") }

    static func err(_ text: String) { write(2, text + "\n") }

    /// Writes all of `text` unless the descriptor fails (EPIPE, EBADF, …).
    static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            return
        }
        bytes.removeAll()
    }

    /// `baton: error: message` plus `  hint: …` on stderr.
    static func fail(_ message: String, hint: String? = nil) {
        err("baton: error: \(message)")
        if let hint { err("  hint: \(hint)") }
    }
}

/// SPEC §4: 0 success, 1 failure of the work, 2 bad usage or bad input.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case usage = 2
}
