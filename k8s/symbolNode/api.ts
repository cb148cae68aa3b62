/** The SymbolNode API's identity: group, version, names, and the labels and annotations it puts on objects. */

export const GROUP = 'symbol.nodeoperator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;
export const KIND = 'SymbolNode';
export const LIST_KIND = 'SymbolNodeList';
export const PLURAL = 'symbolnodes';
export const SINGULAR = 'symbolnode';
export const SHORT_NAMES = ['sn'] as const;
export const CATEGORIES = ['symbol'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** Aliases in the naming style other modules use. */
export const symbolNodeGroup = GROUP;
export const symbolNodeVersion = VERSION;
export const symbolNodeApiVersion = API_VERSION;
export const symbolNodeKind = KIND;
export const symbolNodePlural = PLURAL;

/** Recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/). */
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_NETWORK = `${GROUP}/network`;
export const LABEL_ROLE = `${GROUP}/role`;
export const APP_NAME = 'symbol-node';
export const MANAGER_NAME = 'symbol-node-operator';

/** Pod-template annotation holding {@link configHash} of everything mounted, so a config change rolls the pod. */
export const ANNOTATION_CONFIG_HASH = `${GROUP}/config-hash`;
