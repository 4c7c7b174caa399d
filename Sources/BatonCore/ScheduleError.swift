/// Where in a schedule file (or a command-line expression) something was written.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String, line: Int, column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file; self.line = line; self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A mistake in user input, located to the column, with a hint saying what to write.
public struct ScheduleError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var at: SourceLocation
    public var message: String
    public var hint: String?
    public var severity: Severity

    public init(at: SourceLocation, _ message: String, hint: String? = nil, severity: Severity = .error) {
        self.at = at; self.message = message; self.hint = hint; self.severity = severity
    }

    public var description: String {
        let head = "\(at): \(severity.rawValue): \(message)"
        return hint.map { head + "\n  hint: \($0)" } ?? head
    }
}

/// Every error found in one piece of input, in the order they appear.
public struct ScheduleErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ScheduleError]

    public init(_ errors: [ScheduleError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// An error inside an expression, before it is placed in a file: `column` counts from
/// 1 at the expression's first character.
public struct ExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var column: Int
    public var message: String
    public var hint: String?

    public init(column: Int, _ message: String, hint: String? = nil) {
        self.column = column; self.message = message; self.hint = hint
    }

    public var description: String { "column \(column): \(message)" }

    /// The same error placed in a file whose expression starts at `origin`.
    public func located(at origin: SourceLocation) -> ScheduleError {
        ScheduleError(at: SourceLocation(file: origin.file, line: origin.line, column: origin.column + column - 1),
                      message, hint: hint)
    }
}
