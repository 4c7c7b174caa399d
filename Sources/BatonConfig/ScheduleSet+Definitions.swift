import BatonCore

extension ScheduleSet {
    /// Each job's definition as one canonical text, by job name: the words of its line
    /// (however they are spaced), the zone its schedule is read in and the environment
    /// lines above it, in file order. Two hosts with equal texts for a job run the same
    /// job; which file or line holds it does not matter.
    public func definitions() -> [String: String] {
        var lines: [String: [Substring]] = [:]
        var out: [String: String] = [:]
        for job in jobs {
            let file = lines[job.location.file] ?? {
                let split = (sources[job.location.file] ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                lines[job.location.file] = split
                return split
            }()
            let line = job.location.line - 1 < file.count && job.location.line >= 1 ? file[job.location.line - 1] : ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            let environment = job.environment.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
            out[job.name] = words + "\nzone " + job.zone + "\n" + environment
        }
        return out
    }
}
