import BatonStore

extension RunText {
    /// The last non-blank line a slice wrote to stderr, cut to 200 characters with
    /// control characters dropped: what a failure summary quotes ("db locked"), since
    /// "exit status 3" alone rarely says what went wrong.
    public static func lastLogLine(_ slice: SliceRecord) -> String? {
        guard let line = slice.log.split(whereSeparator: \.isNewline)
            .last(where: { !$0.allSatisfy(\.isWhitespace) }) else { return nil }
        let clean = String(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }
            .map(Character.init)).trimmingWhitespace()
        return clean.count > 200 ? String(clean.prefix(199)) + "…" : clean
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
