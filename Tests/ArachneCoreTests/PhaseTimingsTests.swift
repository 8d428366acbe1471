import Foundation
import Testing
import ArachneCore

@Suite struct PhaseTimingsTests {
    @Test func subscriptReadsAndWritesEveryPhase() {
        var timings = PhaseTimings()
        for (offset, phase) in Phase.allCases.enumerated() { timings[phase] = Int64(offset + 1) }
        #expect(Phase.allCases.map { timings[$0] } == [1, 2, 3, 4, 5, 6, 7])
    }

    @Test func recordEncodesWithContractKeys() throws {
        let record = FetchRecord(
            url: "http://a/", repetition: 0, worker: "w1", attempts: 1, status: 200, bytes: 5, finalURL: "http://a/",
            redirects: 0, timings: .zero, error: nil, body: nil, finishedAt: 1)
        let json = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(json.contains("\"final_url\""))
        #expect(json.contains("\"finished_at\""))
        #expect(try JSONDecoder().decode(FetchRecord.self, from: Data(json.utf8)) == record)
    }
}
