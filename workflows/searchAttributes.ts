import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the dev server by `npm run stack -- up`; in production, by `temporal operator
// search-attribute create`. They make every run findable in the Temporal UI by node and action.
// Values are public identifiers only: search attributes are stored unencrypted.
export const symbolNodeKey = defineSearchAttributeKey('SymbolNode', SearchAttributeType.KEYWORD);
export const kubernetesNamespaceKey = defineSearchAttributeKey('KubernetesNamespace', SearchAttributeType.KEYWORD);
export const symbolNetworkKey = defineSearchAttributeKey('SymbolNetwork', SearchAttributeType.KEYWORD);
export const nodeActionKey = defineSearchAttributeKey('NodeAction', SearchAttributeType.KEYWORD);

export const operatorSearchAttributes = [symbolNodeKey, kubernetesNamespaceKey, symbolNetworkKey, nodeActionKey];
