/// Why an image could not be copied from a source to a destination, whatever the two are.
/// (Transport failures keep their own errors: `RegistryError`, `StoreError`, …)
public enum TransferError: Error, CustomStringConvertible, Sendable, Equatable {
    /// An index with no entry for the requested platform (or a single-platform image of another).
    case noMatchingPlatform(wanted: String, available: [String])
    /// The image contradicts itself: a manifest and config that disagree, a nested index, a
    /// schema 1 manifest, a layer that does not unpack to the diff_id its config lists.
    case invalidImage(what: String, reason: String)

    public var description: String {
        switch self {
        case .noMatchingPlatform(let wanted, let available):
            return "no image for platform \(wanted) (available: \(available.isEmpty ? "none" : available.joined(separator: ", "))); choose one with --platform"
        case .invalidImage(let what, let reason):
            return "\(what): \(reason)"
        }
    }
}
