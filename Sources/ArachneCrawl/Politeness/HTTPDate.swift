/// HTTP dates (RFC 9110 §5.6.7): the IMF-fixdate form senders must use (`Sun, 06 Nov 1994 08:49:37 GMT`), and the
/// obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms recipients
/// must accept.
public enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The date as Unix seconds, or nil when it is none of the three forms.
    public static func parse(_ text: String) -> Double? {
        let tokens = text.split(whereSeparator: { " ,-:".contains($0) }).map { $0.lowercased() }
        guard tokens.count >= 7 else { return nil }
        let day: Int?, month: Int?, year: Int?, clock: ArraySlice<String>
        if let asctimeMonth = months.firstIndex(of: tokens[1]) {
            // asctime: weekday month day hh mm ss year
            month = asctimeMonth + 1
            day = Int(tokens[2])
            clock = tokens[3...5]
            year = Int(tokens[6])
        } else {
            // IMF-fixdate and RFC 850: weekday day month year hh mm ss GMT
            guard tokens.count == 8, tokens[7] == "gmt" else { return nil }
            day = Int(tokens[1])
            month = months.firstIndex(of: tokens[2]).map { $0 + 1 }
            year = Int(tokens[3]).map { tokens[3].count == 2 ? ($0 < 70 ? 2000 + $0 : 1900 + $0) : $0 }
            clock = tokens[4...6]
        }
        let parts = clock.compactMap { Int($0) }
        guard let day, let month, let year, parts.count == 3, (1...31).contains(day), (0...23).contains(parts[0]),
            (0...59).contains(parts[1]), (0...60).contains(parts[2])
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86_400 + parts[0] * 3_600 + parts[1] * 60 + parts[2])
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
