/// The mutable tree the TOML parser fills; frozen into `TOMLTable` values at the end.
///
/// Reference types because a header (`[a.b]`, `[[a.c]]`) reaches back into tables created many lines
/// earlier, and an array of tables grows one element per `[[x]]`.
final class TOMLTableBuilder {
    /// How a table came to exist; decides whether a later header or dotted key may add to it (TOML 1.0 §Table).
    enum Origin {
        case root
        /// Opened by a `[x]` or `[[x]]` header.
        case header
        /// Created as an intermediate of a header path; a later `[x]` header may still define it.
        case implicit
        /// Created by dotted keys; only more dotted keys in the same section may add to it.
        case dotted
        /// An inline table `{ ... }` under construction.
        case inline
        /// Where keys go after a broken header, so they don't land in (and conflict with) the previous table.
        case detached
    }

    /// What a key holds.
    enum Item {
        case value(TOMLValue)
        case table(TOMLTableBuilder)
        case tables(TOMLTableArrayBuilder)
    }

    struct Slot {
        let key: String
        var item: Item
        var keyPosition: SourcePosition
        var valuePosition: SourcePosition
    }

    var origin: Origin
    var position: SourcePosition
    /// Full key path from the root, for messages.
    let path: [String]
    private(set) var slots: [Slot] = []
    private var indexByKey: [String: Int] = [:]

    init(origin: Origin, position: SourcePosition, path: [String]) {
        self.origin = origin
        self.position = position
        self.path = path
    }

    func slot(named key: String) -> Slot? {
        guard let index = indexByKey[key] else { return nil }
        return slots[index]
    }

    /// Adds a slot; the caller has checked that `key` is new.
    func append(_ slot: Slot) {
        indexByKey[slot.key] = slots.count
        slots.append(slot)
    }

    /// Moves the key and value positions of an existing slot (an implicit table getting its own header).
    func reposition(key: String, keyPosition: SourcePosition, valuePosition: SourcePosition) {
        guard let index = indexByKey[key] else { return }
        slots[index].keyPosition = keyPosition
        slots[index].valuePosition = valuePosition
    }

    func freeze() -> TOMLTable {
        TOMLTable(position: position, entries: slots.map { slot in
            let value: TOMLValue = switch slot.item {
            case .value(let value): value
            case .table(let table): .table(table.freeze())
            case .tables(let array): .array(array.tables.map { .table($0.freeze()) })
            }
            return TOMLEntry(key: slot.key, value: value, keyPosition: slot.keyPosition, valuePosition: slot.valuePosition)
        })
    }
}

/// The tables of one `[[name]]` array, in file order; never empty once created.
final class TOMLTableArrayBuilder {
    var tables: [TOMLTableBuilder]

    init(first: TOMLTableBuilder) {
        tables = [first]
    }
}
