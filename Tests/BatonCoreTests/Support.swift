import BatonCore
import Foundation

/// Loads a real zone from the system's tz database (the tests need tzdata installed).
func zone(_ name: String) -> ZoneRules {
    if name == "UTC" { return .utc }
    let data = FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name)!
    return try! ZoneRules(identifier: name, tzif: [UInt8](data))
}

/// Parses RFC 3339 with an explicit offset ("2026-03-08T03:00:00-04:00" or "…Z").
func instant(_ text: String) -> Int64 {
    let c = Array(text.utf8)
    func n(_ i: Int, _ l: Int) -> Int { Int(String(decoding: c[i..<i + l], as: UTF8.self))! }
    let local = LocalFields(year: n(0, 4), month: n(5, 2), day: n(8, 2), hour: n(11, 2), minute: n(14, 2), second: n(17, 2)).localSeconds
    if c[19] == UInt8(ascii: "Z") { return local }
    let off = Int64(n(20, 2) * 3600 + n(23, 2) * 60)
    return c[19] == UInt8(ascii: "-") ? local + off : local - off
}

/// Formats an instant in a zone with its offset, as `baton next` does.
func rfc3339(_ t: Int64, _ z: ZoneRules) -> String {
    let off = Int(z.offset(utc: t))
    let f = LocalFields(localSeconds: t + Int64(off))
    let a = abs(off)
    return String(format: "%04d-%02d-%02dT%02d:%02d:%02d%@%02d:%02d", f.year, f.month, f.day, f.hour, f.minute, f.second,
                  off < 0 ? "-" : "+", a / 3600, a / 60 % 60)
}

func fires(_ expr: String, _ zoneName: String, from: String, count: Int) throws -> [String] {
    let z = zone(zoneName)
    return try Schedule(expr).fires(after: instant(from), zone: z, count: count).map { rfc3339($0, z) }
}
