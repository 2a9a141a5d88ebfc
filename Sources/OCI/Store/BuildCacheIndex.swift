/// The store's build cache: cache records (typed `CacheKey` digest → layer and result), the
/// inputs each step last ran with (for miss explanations), and the record of each build
/// (`history --builds`). It names layers the content part holds; a record whose layer blob is
/// gone reads as no record.
public struct BuildCacheIndex: Sendable {
    let index: StoreIndex
    let content: ContentStore

    init(index: StoreIndex, content: ContentStore) {
        self.index = index
        self.content = content
    }
}
