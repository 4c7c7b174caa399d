import BatonReport
import BatonEngine
import BatonStore
import Foundation
import Glibc
import Synchronization

/// Shows a run's progress while `invoke`, `resume` or `retry` drive it: on a terminal a
/// live bar on stderr (percent, counts, slices, ETA), off a terminal one plain line per
/// slice. Handler stderr is echoed line by line, prefixed with job and run id.
///
/// On a terminal the bar stays on the last line: every other line is printed above it
/// (clear the bar's line, print, redraw the bar) in one write under one lock, so log
/// lines scroll above the bar and never erase it (issue 11.5).
final class Progress: RunObserver {
    let terminal = isatty(2) == 1
    /// The bar as last drawn; nil when none is on screen. Every write to the terminal
    /// holds this lock.
    private let bar = Mutex<String?>(nil)
    /// Lines wait here for stderr, so a slow or blocked stderr never stalls the thread
    /// that watches the handler (and its budget). Past `maxPending` lines are dropped.
    private let writer = DispatchQueue(label: "baton.progress")
    private let pending = Mutex((queued: 0, dropped: 0))
    static let maxPending = 1000

    func event(_ event: RunEvent) {
        switch event {
        case let .sliceStarted(run, slice, attempt):
            if terminal { draw(run, note: "slice \(slice)" + (attempt > 1 ? " (attempt \(attempt))" : "") + " running") }
        case let .logLine(run, line):
            let accepted = pending.withLock { p -> Bool in
                if p.queued >= Self.maxPending { p.dropped += 1; return false }
                p.queued += 1
                return true
            }
            guard accepted else { return }
            writer.async { [self] in
                let dropped = pending.withLock { p -> Int in p.queued -= 1; defer { p.dropped = 0 }; return p.dropped }
                if dropped > 0 { write("[\(run.job) \(run.id)] (\(dropped) log lines not echoed: stderr was not keeping up; 'baton show \(run.id) --logs' has them)") }
                write("[\(run.job) \(run.id)] \(line)")
            }
        case let .sliceFinished(run, slice):
            let head = "slice \(slice.number)" + (slice.attempt > 1 ? " attempt \(slice.attempt)" : "")
            let what: String
            if slice.outcome == .succeeded {
                what = "ok, cursor \(RunText.cursor(slice.cursorIn)) -> \(RunText.cursor(slice.cursorOut)), +\(slice.counts.processed) processed"
            } else {
                what = "\(slice.outcome.rawValue): \(slice.error ?? "")"
            }
            if terminal { draw(run, note: "\(head) \(what)") } else { write("\(run.id) \(head) \(what); \(summary(run))") }
        case let .retryScheduled(run, delayMs, _):
            let line = "\(run.id) retrying slice \(run.nextSlice) (attempt \(run.nextAttempt)) in \(RunText.duration(delayMs))"
            if terminal { draw(run, note: "retry in \(RunText.duration(delayMs))") } else { write(line) }
        case .runFinished:
            break
        case let .storeTrouble(run, error):
            write("\(run.id) cannot commit slice \(run.nextSlice): \(error.description); its outcome is kept and the commit retried with back-off (Ctrl-C twice gives up: resume runs the slice again)")
        case let .storeRecovered(run):
            write("\(run.id) slice \(run.nextSlice) committed after all")
        case .startsHeld:
            break
        }
    }

    /// "42% 126/300, 3 slices, 1 failed, ETA 1m 20s"
    func summary(_ run: RunRecord) -> String {
        var parts: [String] = []
        if let p = RunText.percentText(run) { parts.append(p) }
        parts.append(run.total.map { "\(run.counts.processed)/\($0)" } ?? "\(run.counts.processed) processed")
        parts.append("\(run.slicesDone) slice\(run.slicesDone == 1 ? "" : "s")")
        if run.counts.failed > 0 { parts.append("\(run.counts.failed) failed") }
        if let eta = RunText.eta(run) { parts.append("ETA \(RunText.duration(eta))") }
        return parts.joined(separator: ", ")
    }

    func draw(_ run: RunRecord, note: String) {
        let width = 24
        let p = RunText.percent(run) ?? 0
        let filled = Int(Double(width) * p / 100)
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        // Wider than the terminal, it would wrap, and "clear the line" would clear only
        // its last part.
        let line = String("[\(bar)] \(summary(run)) | \(note)".prefix(max(20, Self.columns() - 1)))
        self.bar.withLock { shown in
            Console.write(2, "\r\u{1B}[2K" + line)
            shown = line
        }
    }

    /// Prints a line; on a terminal above the bar, which is drawn again below it.
    func write(_ line: String) {
        bar.withLock { shown in
            if let shown { Console.write(2, "\r\u{1B}[2K" + line + "\n" + shown) } else { Console.write(2, line + "\n") }
        }
    }

    /// Leaves the bar as it last stood, on a line of its own.
    func end() {
        writer.sync {}
        bar.withLock { shown in
            if shown != nil { Console.write(2, "\n") }
            shown = nil
        }
    }

    /// The terminal's width (`ioctl(TIOCGWINSZ)` on stderr), 80 when it will not say.
    static func columns() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
