import BatonJSON

public enum JSON {
    /// Compact JSON with sorted keys, so output is stable: through BatonJSON's one
    /// encoder (`JSONValue.text`).
    public static func encode(_ value: Any) -> String {
        JSONValue(any: value).text
    }
}
