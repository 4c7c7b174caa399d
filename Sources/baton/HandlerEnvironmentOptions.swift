import BatonCore
import BatonEngine
import Foundation

/// `--env K=V` and `--pass-env VAR` of invoke, resume and retry: environment for the
/// handler of the run this command drives, added to the job's own (its file's
/// `KEY=value` lines and `pass-env=`). Handlers get a clean environment (SPEC §3), so
/// without these an ad-hoc run could not be given a provider's key. Neither is stored
/// with the run: a later `resume` names them again.
enum HandlerEnvironmentOptions {
    static let values: Set<String> = ["--env", "--pass-env"]

    static let help = """
      --env K=V         a variable for the handler (repeatable), on top of the job's
      --pass-env VAR    pass VAR from this shell's environment (repeatable, or a
                        comma list): the handler's environment is otherwise clean
    """

    /// Adds the options' variables to `job`.
    /// - Throws: `UsageError` for a malformed pair, a bad name, or a variable to pass
    ///   that is not set here.
    static func apply(_ args: Arguments, to job: inout JobRunSpec,
                      environment: [String: String] = ProcessInfo.processInfo.environment) throws(UsageError) {
        for pair in args.values["--env"] ?? [] {
            guard let eq = pair.firstIndex(of: "="), JobOptions.isVariableName(pair[..<eq]) else {
                throw UsageError(message: "--env '\(pair)' is not NAME=VALUE with a variable name",
                                 hint: "write e.g. --env TWILIO_BASE_URL=http://127.0.0.1:9090")
            }
            let key = String(pair[..<eq])
            job.environment.removeAll { $0.key == key }
            job.environment.append(EnvironmentEntry(key: key, value: String(pair[pair.index(after: eq)...])))
        }
        for list in args.values["--pass-env"] ?? [] {
            for name in list.split(separator: ",", omittingEmptySubsequences: false) {
                guard JobOptions.isVariableName(name) else {
                    throw UsageError(message: "--pass-env '\(name)' is not a variable name", hint: "write e.g. --pass-env TWILIO_AUTH_TOKEN")
                }
                guard environment[String(name)] != nil else {
                    throw UsageError(message: "--pass-env \(name): \(name) is not set in this shell",
                                     hint: "export \(name)=… first, or give the value with --env \(name)=…")
                }
                if !job.options.passEnv.contains(String(name)) { job.options.passEnv.append(String(name)) }
            }
        }
    }
}
