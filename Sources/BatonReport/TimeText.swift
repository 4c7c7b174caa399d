import BatonCore

/// RFC 3339 times and "in 3h 12m" phrases for people.
public enum TimeText {
    /// `2026-03-08T03:00:00-04:00` (or `…Z` when `utc`).
    public static func rfc3339(_ instant: Int64, zone: ZoneRules, utc: Bool = false) -> String {
        let offset = utc ? 0 : Int(zone.offset(utc: instant))
        let f = LocalFields(localSeconds: instant + Int64(offset))
        let date = "\(pad(f.year, 4))-\(pad(f.month))-\(pad(f.day))T\(pad(f.hour)):\(pad(f.minute)):\(pad(f.second))"
        if utc { return date + "Z" }
        let sign = offset < 0 ? "-" : "+"
        let a = abs(offset)
        return date + "\(sign)\(pad(a / 3600)):\(pad(a / 60 % 60))"
    }

    public static func pad(_ v: Int, _ width: Int = 2) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    /// "in 3h 12m", "in 45s", "now", "3h 12m ago".
    public static func relative(_ seconds: Int64) -> String {
        if seconds == 0 { return "now" }
        let a = abs(seconds)
        var parts: [String] = []
        let d = a / 86_400, h = a / 3600 % 24, m = a / 60 % 60, s = a % 60
        if d > 0 { parts.append("\(d)d") }
        if h > 0 { parts.append("\(h)h") }
        if m > 0 && d < 10 { parts.append("\(m)m") }
        if s > 0 && d == 0 && h == 0 { parts.append("\(s)s") }
        let text = parts.prefix(3).joined(separator: " ")
        return seconds > 0 ? "in \(text)" : "\(text) ago"
    }

    /// Parses `--from`: RFC 3339 with `Z` or an offset, a local time (read in `zone`;
    /// the earlier of two), a date (its midnight), `@UNIX`, or `now`.
    public static func parse(_ text: String, zone: ZoneRules, now: Int64) -> Int64? {
        if text == "now" { return now }
        if text.hasPrefix("@") { return Int64(text.dropFirst()) }
        let chars = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= chars.count else { return nil }
            var v = 0
            for c in chars[from..<from + len] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let y = num(0, 4), chars.count >= 10, chars[4] == 45, let mo = num(5, 2), chars[7] == 45, let d = num(8, 2),
              (1...12).contains(mo), (1...CivilTime.daysInMonth(year: y, month: mo)).contains(d) else { return nil }
        var fields = LocalFields(year: y, month: mo, day: d)
        var i = 10
        if chars.count > 10 {
            guard chars[10] == 84 || chars[10] == 116 || chars[10] == 32, let h = num(11, 2), chars.count > 13, chars[13] == 58,
                  let mi = num(14, 2), h < 24, mi < 60 else { return nil }
            fields.hour = h; fields.minute = mi
            i = 16
            if i < chars.count, chars[i] == 58 {
                guard let s = num(17, 2), s < 60 else { return nil }
                fields.second = s; i = 19
            }
            if i < chars.count, chars[i] == 46 {  // fraction: dropped (fires are whole seconds)
                i += 1
                while i < chars.count, chars[i] >= 48, chars[i] <= 57 { i += 1 }
            }
        }
        let local = fields.localSeconds
        if i == chars.count { return zone.utc(local: local, fold: false) }
        if chars[i] == 90 || chars[i] == 122, i + 1 == chars.count { return local }
        guard chars[i] == 43 || chars[i] == 45, let oh = num(i + 1, 2), i + 3 < chars.count, chars[i + 3] == 58,
              let om = num(i + 4, 2), i + 6 == chars.count else { return nil }
        let offset = Int64(oh * 3600 + om * 60) * (chars[i] == 45 ? -1 : 1)
        return local - offset
    }
}
