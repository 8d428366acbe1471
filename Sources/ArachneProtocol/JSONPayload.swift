import Foundation

/// JSON for the payloads that travel rarely (job settings, control messages). Encoding cannot fail: non-finite doubles
/// are written as strings rather than rejected.
enum JSONPayload {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN"
        )
        do {
            return Array(try encoder.encode(value))
        } catch {
            preconditionFailure("JSON encoding of \(type(of: value)) failed: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: ArraySlice<UInt8>, message: String)
        throws(ProtocolError) -> T
    {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN"
        )
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ProtocolError(.invalidJSON, "'\(message)' message has an invalid JSON payload: \(describe(error))")
        } catch {
            throw ProtocolError(.invalidJSON, "'\(message)' message has an invalid JSON payload: \(error)")
        }
    }

    /// A short, readable account of a decoding error: which field, what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let parts = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            return parts.isEmpty ? "the top level" : "'" + parts.joined(separator: ".") + "'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing field '\(key.stringValue)'\(parent)"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) should be \(describeType(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null, expected \(describeType(type))"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "not valid JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func describeType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: "\(type)"
        }
    }
}
