import BatonCore

/// Bad usage: exit status 2, with a hint.
struct UsageError: Error {
    var message: String
    var hint: String?
}

/// The parsed command line of one subcommand: positionals, option values, flags.
/// Options may come before or after positionals; `--` ends options.
struct Arguments {
    var positional: [String] = []
    var values: [String: [String]] = [:]
    var flags: Set<String> = []

    /// Options every command takes (SPEC §4).
    static let globalValues: Set<String> = ["--schedules", "--state", "--tz", "--log-format", "--lease"]
    static let globalFlags: Set<String> = ["--help", "-h"]

    init(_ args: ArraySlice<String>, command: String, values valueOptions: Set<String>, flags flagOptions: Set<String>,
         stopAtFirstPositional: Bool = false) throws(UsageError) {
        let allValues = valueOptions.union(Self.globalValues)
        let allFlags = flagOptions.union(Self.globalFlags)
        var i = args.startIndex
        while i < args.endIndex {
            let arg = args[i]
            i += 1
            if arg == "--" { positional.append(contentsOf: args[i...]); break }
            guard arg.hasPrefix("-"), arg.count > 1, !(arg.dropFirst().first?.isNumber ?? false) else {
                positional.append(arg)
                if stopAtFirstPositional { positional.append(contentsOf: args[i...]); break }
                continue
            }
            var name = arg
            var inline: String?
            if let eq = arg.firstIndex(of: "="), arg.hasPrefix("--") {
                name = String(arg[..<eq]); inline = String(arg[arg.index(after: eq)...])
            }
            if allFlags.contains(name) {
                if inline != nil { throw UsageError(message: "\(name) takes no value", hint: "write \(name) alone") }
                flags.insert(name == "-h" ? "--help" : name)
            } else if allValues.contains(name) {
                if let inline { values[name, default: []].append(inline); continue }
                guard i < args.endIndex else {
                    throw UsageError(message: "\(name) needs a value", hint: "see 'baton \(command) --help'")
                }
                values[name, default: []].append(args[i])
                i += 1
            } else {
                let near = Suggest.nearest(name, in: Array(allValues.union(allFlags)).sorted())
                throw UsageError(message: "unknown option '\(name)' for 'baton \(command)'",
                                 hint: near.map { "did you mean '\($0)'?" } ?? "see 'baton \(command) --help'")
            }
        }
    }

    func value(_ name: String) -> String? { values[name]?.last }
    func has(_ flag: String) -> Bool { flags.contains(flag) }

    func integer(_ name: String, default d: Int, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let text = value(name) else { return d }
        guard let n = Int(text), range.contains(n) else {
            throw UsageError(message: "\(name) '\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)",
                             hint: "write e.g. \(name) \(d)")
        }
        return n
    }
}
