import BatonCore
import BatonJSON
import Foundation

/// A handler's parameters (HANDLERS.md): from `--k v` arguments on the schedule line,
/// overridden by the slice's `params` (`--param K=V`, a webhook's params). Every read
/// names the parameter and what it expected when the value is wrong.
public struct Params: Sendable, Equatable {
    public private(set) var values: [String: JSONValue]

    public init(_ values: [String: JSONValue] = [:]) { self.values = values }

    mutating func merge(_ other: [String: JSONValue]) { values.merge(other) { $1 } }

    /// `--name value` and `--name=value` pairs; a flag followed by another flag or
    /// nothing is `true`. Names use `_` for `-` (`--only-pending` is `only_pending`).
    public static func fromArguments(_ args: [String]) throws(HandlerError) -> Params {
        var values: [String: JSONValue] = [:]
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            guard arg.hasPrefix("--"), arg.count > 2 else {
                throw HandlerError("argument '\(arg)' is not --name value",
                                   hint: "give parameters as --name value on the schedule line, or --param name=value to baton invoke")
            }
            var name = String(arg.dropFirst(2))
            var value: String
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            } else if i < args.count, !args[i].hasPrefix("--") {
                value = args[i]
                i += 1
            } else {
                value = "true"
            }
            values[name.replacingOccurrences(of: "-", with: "_")] = .string(value)
        }
        return Params(values)
    }

    /// The text of a parameter (numbers and booleans as written), or nil when unset.
    public func string(_ name: String) -> String? {
        switch values[name] {
        case let .string(s)?: s.isEmpty ? nil : s
        case let .number(n)?: n
        case let .bool(b)?: b ? "true" : "false"
        default: nil
        }
    }

    public func string(_ name: String, default d: String) -> String { string(name) ?? d }

    /// - Throws: when the value is not a whole number within `range`.
    public func int(_ name: String, default d: Int, range: ClosedRange<Int>) throws(HandlerError) -> Int {
        guard let text = string(name) else { return d }
        guard let n = Int(text), range.contains(n) else {
            throw bad(name, text, "a whole number from \(range.lowerBound) to \(range.upperBound)", example: "\(d)")
        }
        return n
    }

    /// - Throws: when the value is not a number within `range`.
    public func double(_ name: String, default d: Double, range: ClosedRange<Double>) throws(HandlerError) -> Double {
        guard let text = string(name) else { return d }
        guard let n = Double(text), n.isFinite, range.contains(n) else {
            throw bad(name, text, "a number from \(range.lowerBound) to \(range.upperBound)", example: "\(d)")
        }
        return n
    }

    /// `true`/`false`, `1`/`0`, `yes`/`no`.
    public func bool(_ name: String, default d: Bool) throws(HandlerError) -> Bool {
        guard let text = string(name)?.lowercased() else { return d }
        switch text {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw bad(name, text, "true or false", example: d ? "true" : "false")
        }
    }

    /// A duration such as `24h`, `30m` or `1h30m`.
    public func duration(_ name: String, default d: Duration) throws(HandlerError) -> Duration {
        guard let text = string(name) else { return d }
        let v: Duration
        do { v = try DurationText.parse(text) } catch {
            throw bad(name, text, "a duration such as 30s, 15m or 24h", example: DurationText.format(d))
        }
        guard v > .zero else { throw bad(name, text, "a duration longer than zero", example: DurationText.format(d)) }
        return v
    }

    /// One of `T`'s cases by name.
    public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default d: T) throws(HandlerError) -> T
    where T.RawValue == String {
        guard let text = string(name) else { return d }
        guard let v = T(rawValue: text.lowercased()) else {
            throw bad(name, text, "one of " + T.allCases.map(\.rawValue).joined(separator: ", "), example: d.rawValue)
        }
        return v
    }

    /// A comma list (`epics=E1,E2`) or a JSON array of strings; nil when unset.
    public func list(_ name: String) -> [String]? {
        switch values[name] {
        case let .array(a)?: a.compactMap { $0.string ?? $0.integer.map(String.init) }
        case .string?: string(name)?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        default: nil
        }
    }

    func bad(_ name: String, _ value: String, _ expected: String, example: String) -> HandlerError {
        HandlerError("parameter '\(name)' is '\(value)', not \(expected)", hint: "write e.g. --param \(name)=\(example)")
    }
}
