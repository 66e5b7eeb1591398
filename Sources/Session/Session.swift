/// Session policy (routing, defaults, restore, permissions): implements the decision protocols
/// `Graph` declares. Wired to `CompatPulse` only through `Graph`'s registry, in `sluiced`.
public enum Session {}
