import ArachneCore
import ArachneLadder
import ArachneSystem
import Foundation
import Testing

@Suite struct LadderTableTests {
    let runs = [
        ModelRun(model: "blocking", requests: 300, succeeded: 300, failed: 0, wallSeconds: 2.0, cpuSeconds: 0.5),
        ModelRun(model: "threads", requests: 300, succeeded: 300, failed: 0, wallSeconds: 0.5, cpuSeconds: 0.75),
        ModelRun(
            model: "nonblocking", requests: 300, succeeded: 100, failed: 20, wallSeconds: 30.0, cpuSeconds: 29.9,
            errors: ["connect": 20], firstError: "connect: refused"),
        ModelRun(model: "coroutines", requests: 10000, succeeded: 10000, failed: 0, wallSeconds: 1.25, cpuSeconds: 1),
    ]

    @Test func speedUpIsThroughputAgainstBlockingAtTheSameN() {
        let table = LadderTable(runs: runs)
        #expect(table.speedUp(of: runs[0]) == 1)
        #expect(table.speedUp(of: runs[1]) == 4)
        // 120 completions in 30 s (4/s) against blocking's 150/s.
        #expect(table.speedUp(of: runs[2]).map { abs($0 - 4.0 / 150.0) < 1e-12 } == true)
        #expect(table.speedUp(of: runs[3]) == nil)  // no blocking run at N = 10000
    }

    @Test func theTableIsAligned() {
        let text = LadderTable(runs: runs).render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "model            N  spend time  req/s   CPU s  failures  speed-up  note")
        #expect(lines[1] == "blocking       300     2.000 s    150   0.500         0      1.0x")
        #expect(lines[2] == "threads        300     0.500 s    600   0.750         0      4.0x")
        #expect(lines[3] == "nonblocking    300    30.000 s      4  29.900        20      0.0x  "
            + "over budget: stopped after 120 of 300; first failure: connect: refused")
        #expect(lines[4] == "coroutines   10000     1.250 s   8000   1.000         0         -")
        // Every right-aligned column ends at the same offset on every line.
        for header in ["N", "spend time", "req/s", "CPU s", "failures", "speed-up"] {
            let end = lines[0].range(of: header)!.upperBound.utf16Offset(in: lines[0])
            for line in lines.dropFirst() {
                let index = line.index(line.startIndex, offsetBy: end - 1)
                #expect(line[index] != " ", "column \(header) in: \(line)")
                #expect(line.count == end || line[line.index(after: index)] == " ", "column \(header) in: \(line)")
            }
        }
    }

    @Test func aClusterRunOnTwoCoresWithALoopbackServerGetsANote() {
        let cluster = ModelRun(model: "cluster", requests: 300, succeeded: 300, failed: 0, wallSeconds: 0.1,
                               cpuSeconds: 0.1)
        let withCluster = LadderTable(runs: runs + [cluster])
        let note = withCluster.sharedCoresNote(server: .loopback(port: 8080), cores: 2)
        #expect(note?.hasPrefix("note: on 2 cores the cluster's worker and coordinator share the CPU") == true)
        #expect(withCluster.sharedCoresNote(server: .loopback(port: 8080), cores: 1)?.contains("on 1 core the") == true)
        #expect(withCluster.sharedCoresNote(server: .loopback(port: 8080), cores: 4) == nil)
        #expect(withCluster.sharedCoresNote(server: IPv4Address(address: 0x0A00_0001, port: 80), cores: 2) == nil)
        #expect(LadderTable(runs: runs).sharedCoresNote(server: .loopback(port: 8080), cores: 2) == nil)
    }

    @Test func jsonHasEveryRowWithItsSpeedUp() throws {
        let url = try TargetURL(validating: "http://127.0.0.1:8080/")
        let job = LadderJob(url: url, address: .loopback(port: 8080), requests: 1, concurrency: 64)
        let text = try LadderTable(runs: runs).json(job: job, budget: .seconds(30))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "arachne.ladder/1")
        #expect(object["budget_seconds"] as? Double == 30)
        #expect(object["expected_body_length"] is NSNull)
        let rows = try #require(object["runs"] as? [[String: Any]])
        #expect(rows.count == 4)
        #expect(rows[1]["speed_up"] as? Double == 4)
        #expect(rows[2]["over_budget"] as? Bool == true)
        #expect(rows[2]["completed"] as? Int == 120)
        #expect(rows[2]["errors"] as? [String: Int] == ["connect": 20])
        #expect(rows[3]["speed_up"] is NSNull)
        #expect(Set(rows[0].keys) == [
            "model", "requests", "completed", "succeeded", "failed", "wall_seconds", "requests_per_second",
            "cpu_seconds", "over_budget", "speed_up", "bytes_received", "errors", "first_error", "note",
        ])
    }
}
