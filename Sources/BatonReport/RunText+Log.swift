import BatonStore

extension RunText {
    /// The last non-blank line a slice wrote to stderr, cut to 200 characters with
    /// control characters dropped: what a failure summary quotes ("db locked"), since
    /// "exit status 3" alone rarely says what went wrong. Only the log's last 4 KiB is
    /// read: a log may hold 4 MiB on one line.
    public static func lastLogLine(_ slice: SliceRecord) -> String? {
        let tail = String(decoding: Array(slice.log.utf8.suffix(4096)), as: UTF8.self)
        guard let line = tail.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return nil }
        var clean = String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        while clean.last?.isWhitespace == true { clean.removeLast() }
        while clean.first?.isWhitespace == true { clean.removeFirst() }
        return clean.count > 200 ? "…" + String(clean.suffix(199)) : clean
    }
}
