import Foundation

// libFuzzer entry point: the schedule-file parser, the expression parser, and (for
// expressions that parse) a few fire times in UTC and in a zone with odd DST rules.
// Compiled together with Sources/BatonCore by fuzz/run.sh; the same function runs
// the saved regressions in Tests/BatonCoreTests/FuzzRegressionTests.swift.

let fuzzZones: [ZoneRules] = ["America/St_Johns", "Australia/Lord_Howe", "America/Havana"].compactMap { name in
    guard let data = FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name) else { return nil }
    return try? ZoneRules(identifier: name, tzif: [UInt8](data))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    exerciseParsers(text, zones: [.utc] + fuzzZones)
    return 0
}
