/// Reads a job's URL list by index range, a window at a time: what lets a job of millions of URLs run while its
/// coordinator (or `arachne fetch`) holds a few windows of the list, never the list. The store's list of a chunked
/// submission and a `--url-file` read in place are two such lists. Each implementation says which threads may
/// call it.
public protocol URLWindowReader: AnyObject {
    /// The URLs of indices `range`, in order; fewer when the list is shorter.
    func urls(_ range: Range<Int>) throws -> [String]

    /// Lets go of what the reader holds (a database connection, say); no call follows.
    func close()
}
