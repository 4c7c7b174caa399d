import Foundation

/// Writes to stdout and stderr without buffering surprises between the two.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// `baton: message` plus `  hint: …` on stderr.
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
