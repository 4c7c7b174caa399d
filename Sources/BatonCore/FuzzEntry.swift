/// Runs every parser (and, for what parses, the cron engine) over arbitrary text.
/// The fuzzer calls this; so do the regression tests for inputs it once found.
/// Must never trap or hang, whatever the input.
public func exerciseParsers(_ text: String, zones: [ZoneRules]) {
    _ = ScheduleFileParser(path: "fuzz.cron").parse(text)
    let firstLine = String(text.prefix { $0 != "\n" })
    guard let schedule = try? Schedule(firstLine) else { return }
    // A start instant taken from the input, within 1900-2100.
    var h: UInt64 = 1469598103934665603
    for b in text.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
    let from = Int64(h % 6_311_390_400) - 2_208_988_800
    for zone in zones {
        let fires = schedule.fires(after: from, zone: zone, count: 3)
        precondition(fires.allSatisfy { $0 > from }, "a fire at or before the start")
        precondition(fires == fires.sorted(), "fires out of order")
    }
}
