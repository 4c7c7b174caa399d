/// A named entry of a schedule file: when, what, and how.
public struct Job: Sendable, Equatable {
    public var name: String
    public var schedule: Schedule
    /// The IANA zone its schedule is read in (`CRON_TZ` above it, or the default).
    public var zone: String
    public var options: JobOptions
    /// The handler's argv; run directly, never through a shell.
    public var command: [String]
    /// `KEY=value` lines above the entry, in file order.
    public var environment: [EnvironmentEntry]
    /// Where the entry is written (the start of its line).
    public var location: SourceLocation
    /// Where the command starts, for warnings about it.
    public var commandLocation: SourceLocation
    /// Where `CRON_TZ` was set for it, for errors about the zone.
    public var zoneLocation: SourceLocation?
}

public struct EnvironmentEntry: Sendable, Equatable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
}

public enum OverlapPolicy: String, Sendable, CaseIterable { case skip, queue, replace, allow }
public enum MisfirePolicy: String, Sendable, CaseIterable { case skip, once, all }
public enum HandlerMode: String, Sendable, CaseIterable { case slice, plain }

/// The per-job options of SPEC §2, each with its default.
public struct JobOptions: Sendable, Equatable {
    public var budget: Duration = .seconds(55)
    public var grace: Duration = .seconds(5)
    public var overlap: OverlapPolicy = .skip
    public var misfire: MisfirePolicy = .once
    public var retries = 3
    public var backoff: Duration = .seconds(10)
    public var pace: Duration = .zero
    public var maxSlices = 10_000
    public var jitter: Duration = .zero
    public var passEnv: [String] = []
    public var mode: HandlerMode = .slice
    public var deadline: Duration?
    public var onFailure: String?
    public var history = 200
    public var lock: String?
    public var webhookSecretEnv = "BATON_WEBHOOK_SECRET"
    public var tolerate: Tolerance = .none
    /// AI spend limits of one run (tokens in and out; US dollars).
    public var maxTokens: Int?
    public var maxCost: Double?

    public init() {}

    /// Every option name, in the order the docs list them.
    public static let names = ["budget", "grace", "overlap", "misfire", "retries", "backoff", "pace",
                               "max-slices", "jitter", "pass-env", "mode", "deadline", "on-failure",
                               "history", "lock", "webhook-secret-env", "tolerate", "max-tokens", "max-cost"]

    /// Sets one option from its text.
    /// - Throws: `ExpressionError` whose column counts within `value`.
    public mutating func set(_ name: String, _ value: Substring) throws(ExpressionError) {
        switch name {
        case "budget": budget = try Self.duration(value, name, positive: true)
        case "grace": grace = try Self.duration(value, name)
        case "backoff": backoff = try Self.duration(value, name)
        case "pace": pace = try Self.duration(value, name)
        case "jitter": jitter = try Self.duration(value, name)
        case "deadline": deadline = try Self.duration(value, name, positive: true)
        case "overlap": overlap = try Self.choice(value, name)
        case "misfire": misfire = try Self.choice(value, name)
        case "mode": mode = try Self.choice(value, name)
        case "retries": retries = try Self.integer(value, name, 0...1000)
        case "max-slices": maxSlices = try Self.integer(value, name, 1...100_000_000)
        case "history": history = try Self.integer(value, name, 1...1_000_000)
        case "tolerate": tolerate = try Tolerance.parse(value)
        case "max-tokens":
            // 500000, 500k or 2M.
            let scale = value.last.map { $0 == "k" || $0 == "K" ? 1_000 : $0 == "M" ? 1_000_000 : 1 } ?? 1
            let digits = scale == 1 ? value : value.dropLast()
            guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = Int(digits), n > 0, n <= Int(Int32.max) / scale * 1000 else {
                throw ExpressionError(column: 1, "max-tokens '\(value)' is not a positive whole number of tokens",
                                      hint: "write e.g. 'max-tokens=200000' or 'max-tokens=200k'")
            }
            maxTokens = n * scale
        case "max-cost":
            let digits = value.hasPrefix("$") ? value.dropFirst() : value
            guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  let d = Double(digits), d > 0 else {
                throw ExpressionError(column: 1, "max-cost '\(value)' is not a positive amount of US dollars",
                                      hint: "write e.g. 'max-cost=5' or 'max-cost=0.50'")
            }
            maxCost = d
        case "pass-env":
            passEnv = []
            var col = 1
            for v in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard Self.isVariableName(v) else {
                    throw ExpressionError(column: col, "'\(v)' is not an environment variable name",
                                          hint: "write a comma list of names, e.g. 'pass-env=OPENAI_API_KEY,TWILIO_AUTH_TOKEN'")
                }
                passEnv.append(String(v)); col += v.count + 1
            }
        case "on-failure":
            guard Job.isValidName(value) else {
                throw ExpressionError(column: 1, "'\(value)' is not a job name",
                                      hint: "name another job of the schedules directory, e.g. 'on-failure=notify-ops'")
            }
            onFailure = String(value)
        case "lock":
            guard !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw ExpressionError(column: 1, "'\(value)' is not a lock name",
                                      hint: "use letters, digits, '.', '_' and '-', e.g. 'lock=provider-twilio'")
            }
            lock = String(value)
        case "webhook-secret-env":
            guard Self.isVariableName(value) else {
                throw ExpressionError(column: 1, "'\(value)' is not an environment variable name",
                                      hint: "write e.g. 'webhook-secret-env=DIGEST_WEBHOOK_SECRET'")
            }
            webhookSecretEnv = String(value)
        default:
            preconditionFailure("unknown option \(name) passed to JobOptions.set")
        }
    }

    public static func isVariableName(_ s: Substring) -> Bool {
        guard let f = s.first, f == "_" || (f.isASCII && f.isLetter) else { return false }
        return s.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    }

    static func duration(_ v: Substring, _ name: String, positive: Bool = false) throws(ExpressionError) -> Duration {
        let d = try DurationText.parse(v)
        if positive && d <= .zero {
            throw ExpressionError(column: 1, "\(name) must be longer than zero", hint: "write e.g. '\(name)=30s'")
        }
        return d
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ v: Substring, _ name: String) throws(ExpressionError) -> T
    where T.RawValue == String {
        if let c = T(rawValue: v.lowercased()) { return c }
        let all = T.allCases.map(\.rawValue)
        let near = Suggest.nearest(String(v), in: all).map { " (did you mean '\($0)'?)" } ?? ""
        throw ExpressionError(column: 1, "\(name) '\(v)' is not one of \(all.joined(separator: ", "))",
                              hint: "write \(name)=\(all[0])\(near)")
    }

    static func integer(_ v: Substring, _ name: String, _ range: ClosedRange<Int>) throws(ExpressionError) -> Int {
        guard v.allSatisfy({ $0.isASCII && $0.isNumber }), v.count <= 10, let n = Int(v), range.contains(n) else {
            throw ExpressionError(column: 1, "\(name) '\(v)' is not a whole number from \(range.lowerBound) to \(range.upperBound)",
                                  hint: "write e.g. '\(name)=\(range.lowerBound + (range.lowerBound == 0 ? 3 : 0))'")
        }
        return n
    }
}

extension Job {
    /// `[a-z][a-z0-9._-]*`
    public static func isValidName(_ s: some StringProtocol) -> Bool {
        guard let f = s.first, f >= "a", f <= "z" else { return false }
        return s.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// A name that is also a valid cron field (`mon`, `l`, `jan-mar`) would be read as
    /// a sixth field, so it is refused.
    public static func isCronField(_ s: Substring) -> Bool {
        CronFieldKind.allCases.contains { kind in
            (try? CronFieldParser(kind: kind, text: s, column: 1).parse()) != nil
        }
    }
}
