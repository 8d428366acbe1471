import ArgumentParser
public struct ArachneCommand: ParsableCommand { public init() {} }
