import ArachneCore
import Foundation

/// The models `arachne ladder` knows, in ladder order: the order they run in and are listed in.
public struct ModelRegistry: Sendable {
    public let models: [any IOModel]

    /// A registry of `models`, in that order. Names must be unique.
    public init(_ models: [any IOModel]) {
        precondition(Set(models.map(\.name)).count == models.count, "IO model names must be unique")
        self.models = models
    }

    /// Steps 1–5, the raw-socket models of the tutorial.
    public static let tutorial = ModelRegistry([
        BlockingModel(), ThreadsModel(), NonBlockingModel(), CallbackModel(), CoroutineModel(),
    ])

    /// This registry with `more` added at the end of the ladder.
    public func appending(_ more: [any IOModel]) -> ModelRegistry { ModelRegistry(models + more) }

    public var names: [String] { models.map(\.name) }

    public func model(named name: String) -> (any IOModel)? { models.first { $0.name == name } }

    /// The models named in `requested` (each entry one name or a comma-separated list), in ladder order and each
    /// once; all of them when `requested` is empty. An unknown name is a usage error listing the valid ones.
    public func select(_ requested: [String]) throws(LadderUsageError) -> [any IOModel] {
        let wanted = requested.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        if wanted.isEmpty { return models }
        for name in wanted where model(named: name) == nil {
            throw LadderUsageError("unknown model '\(name)'; valid models: \(names.joined(separator: ", "))")
        }
        return models.filter { wanted.contains($0.name) }
    }
}
