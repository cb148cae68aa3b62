/**
 * Symbol domain library: everything the operator needs to know about a Symbol (catapult) node's files, as pure
 * TypeScript with no Kubernetes or Temporal dependency, so it can be used from activities and tested offline.
 *
 * - `networkPackage`: load shoestring-format network packages (zip or directory), verify pinned checksums,
 *   presets `mainnet` and `sai`, parse `shoestring.ini`.
 * - `properties`: read and edit catapult `.properties` files without disturbing comments or layout; unknown keys
 *   and values that would inject lines are rejected.
 * - `nodeConfig`: the `/userconfig` files (properties, peer lists, rest.json) for a peer / light API / dual node,
 *   matching shoestring 0.2.3 `setup` except for the pod-networking deviations listed in that file.
 * - `peers`: starting peers from nodewatch's answer (chosen as shoestring does) or a pinned list per preset.
 * - `keys`: main/node/remote/vrf accounts via symbol-sdk; private keys are `PrivateKeySecret`s that print as
 *   `[redacted]`.
 * - `certificates`: CA + node certificates for catapult's TLS (Ed25519, 2-certificate chain), and readers/checkers
 *   for existing ones.
 *
 * The reference for behaviour is Symbol's own setup tool: test/unit/symbol-shoestring-reference.test.ts runs
 * shoestring 0.2.3 offline and compares its output with ours.
 */
export * from './certificates.js';
export * from './keys.js';
export * from './networkPackage.js';
export * from './nodeConfig.js';
export * from './peers.js';
export * from './properties.js';
