/**
 * The webhook alert sink. Events and the SymbolNode status are written by the workflows themselves; this is the
 * optional channel that reaches a person. The URL is a credential kept in a Secret: it is read when an alert is
 * sent (so a rotated URL applies at once), never logged and never passed through workflow history.
 */
import { readSecret } from './apply.js';
import type { KubeClients } from '../k8s/client.js';
import { WebhookNotifier, webhookUrlFromSecret, type AlertSeverity, type WebhookResult } from './notifier.js';
import type { NodeRef } from './types.js';

export interface SecretKeyLocation {
  namespace: string;
  name: string;
  key: string;
}

export interface AlertRequest {
  ref: NodeRef;
  severity: AlertSeverity;
  reason: string;
  message: string;
  /** Decided by the node's lifecycle for this alert: the same on every retry of its delivery (header and body). */
  idempotencyKey?: string;
}

export type AlertOutcome = WebhookResult | { status: 'disabled' } | { status: 'misconfigured'; error: string };

export class WebhookAlerts {
  /** One notifier per URL: its rate limit and idempotency guard must outlive a single alert. */
  private readonly notifiers = new Map<string, WebhookNotifier>();

  constructor(
    private readonly kube: KubeClients,
    private readonly secret: SecretKeyLocation | undefined,
    private readonly log: (line: string) => void = (line) => console.log(`[alerts] ${line}`),
  ) {}

  async send(request: AlertRequest): Promise<AlertOutcome> {
    if (!this.secret) return { status: 'disabled' };
    const { namespace, name, key } = this.secret;
    let url: string;
    try {
      const secret = await readSecret(this.kube, namespace, name);
      if (!secret) throw new Error(`Secret ${namespace}/${name} for the alert webhook does not exist`);
      url = webhookUrlFromSecret(secret, key);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(message);
      return { status: 'misconfigured', error: message };
    }
    let notifier = this.notifiers.get(url);
    if (!notifier) {
      notifier = new WebhookNotifier({ url, log: this.log });
      this.notifiers.set(url, notifier);
    }
    return notifier.send({
      node: { namespace: request.ref.namespace, name: request.ref.name },
      severity: request.severity,
      reason: request.reason,
      message: request.message,
      at: new Date(),
      ...(request.idempotencyKey ? { idempotencyKey: request.idempotencyKey } : {}),
    });
  }
}
