import ArachneTestSupport
import Foundation
import Testing

@Suite struct KeysCommandTests {
    @Test func generateWritesAPairInTheZeroMQCertificateFormat() throws {
        let directory = temporaryDirectory("keys") + "/hub"
        let result = try runArachne(["keys", "generate", directory, "--name", "hub"])
        #expect(result.status == 0, "\(result.stderr)")
        let publicText = try String(contentsOfFile: directory + "/hub.key", encoding: .utf8)
        let secretText = try String(contentsOfFile: directory + "/hub.key_secret", encoding: .utf8)
        let publicKey = try #require(result.stdout.split(separator: "\n").first?.split(separator: " ").last)
        #expect(publicText.contains("public-key = \"\(publicKey)\"") && publicText.contains("name = \"hub\""))
        #expect(!publicText.contains("secret-key") && secretText.contains("secret-key = \""))
        let mode = (try FileManager.default.attributesOfItem(atPath: directory + "/hub.key_secret"))[.posixPermissions]
        #expect(mode as? Int == 0o600)

        let again = try runArachne(["keys", "generate", directory, "--name", "hub"])
        #expect(again.status == 1 && again.stderr.contains("already exists"))
        #expect(try String(contentsOfFile: directory + "/hub.key", encoding: .utf8) == publicText)
        let badName = try runArachne(["keys", "generate", directory, "--name", "../escape"])
        #expect(badName.status == 2 && badName.stderr.contains("key name '../escape'"))
    }
}
