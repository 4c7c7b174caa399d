import BatonCore
import Foundation
import Synchronization

/// Loads IANA zones from the system's tz database (`$TZDIR`, else
/// `/usr/share/zoneinfo`), once per name per process.
public final class ZoneDatabase: Sendable {
    public static let shared = ZoneDatabase()

    let directory: String
    private let cache = Mutex<[String: ZoneRules]>([:])

    public init(directory: String? = nil) {
        self.directory = directory ?? ProcessInfo.processInfo.environment["TZDIR"] ?? "/usr/share/zoneinfo"
    }

    /// The rules of zone `name` (`UTC`, `America/New_York`, …).
    /// - Throws: `ZoneError` with a hint (the nearest known name) when there is none.
    public func zone(_ name: String) throws(ZoneError) -> ZoneRules {
        if name == "UTC" || name == "Etc/UTC" { return .utc }
        if let z = cache.withLock({ $0[name] }) { return z }
        let valid = !name.isEmpty && !name.hasPrefix("/") && !name.contains("..")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/_+-".contains($0)) }
        guard valid, let data = FileManager.default.contents(atPath: directory + "/" + name),
              data.starts(with: Array("TZif".utf8)) else {
            let near = Suggest.nearest(name, in: knownNames())
            throw ZoneError(zone: name, message: "unknown time zone '\(name)'",
                            hint: near.map { "did you mean '\($0)'?" }
                                ?? "use an IANA name such as 'UTC', 'Europe/Berlin' or 'America/New_York' (see \(directory))")
        }
        let rules = try ZoneRules(identifier: name, tzif: [UInt8](data))
        cache.withLock { $0[name] = rules }
        return rules
    }

    /// Zone names listed in the database's tables, for suggestions.
    func knownNames() -> [String] {
        var names = ["UTC"]
        for table in ["tzdata.zi", "zone1970.tab", "zone.tab"] {
            guard let text = try? String(contentsOfFile: directory + "/" + table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let cols = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
                if table == "tzdata.zi" {
                    if cols.first == "Z", cols.count > 1 { names.append(String(cols[1])) }
                    if cols.first == "L", cols.count > 2 { names.append(String(cols[2])) }
                } else if cols.count > 2 {
                    names.append(String(cols[2]))
                }
            }
            if names.count > 1 { break }
        }
        return names
    }
}
