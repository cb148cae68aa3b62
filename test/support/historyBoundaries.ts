/**
 * Where activity results become durable in a workflow's history. A regular activity's result lands alone
 * (ActivityTaskCompleted); local activities' results land as markers, all those of one workflow task together when
 * that task completes. Each such landing is one "recording point": a crash just after it leaves a different
 * history than a crash just before it.
 */
import { isGrpcServiceError, type Client, type WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
type HistoryResponse = Awaited<ReturnType<Client['workflowService']['getWorkflowExecutionHistory']>>;

export interface RecordingPoint {
  workflowId: string;
  /** 1-based, among the workflow's recording points after the event the count started from. */
  ordinal: number;
  eventId: number;
  /** The activities whose results landed here. */
  activities: string[];
}

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

function localActivityType(event: HistoryEvent): string {
  const payload = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
  try {
    return (JSON.parse(Buffer.from(payload ?? []).toString()) as { activity_type?: string }).activity_type ?? '?';
  } catch {
    return '?';
  }
}

/** Feeds events in order; says which of them start a recording point. */
export class RecordingPoints {
  readonly points: RecordingPoint[] = [];
  private readonly scheduled = new Map<number, string>();
  private task = 0;
  private taskCounted = -1;

  constructor(
    private readonly workflowId: string,
    private readonly afterEventId = 0,
  ) {}

  feed(event: HistoryEvent): RecordingPoint | undefined {
    const id = Number(event.eventId);
    if (event.workflowTaskCompletedEventAttributes) this.task = id;
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) this.scheduled.set(id, scheduled.activityType?.name ?? '?');
    if (id <= this.afterEventId) return undefined;
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed) return this.add(id, this.scheduled.get(Number(completed.scheduledEventId)) ?? '?');
    if (event.markerRecordedEventAttributes?.markerName !== LOCAL_ACTIVITY_MARKER) return undefined;
    if (this.taskCounted === this.task) {
      this.points.at(-1)!.activities.push(localActivityType(event));
      return undefined;
    }
    this.taskCounted = this.task;
    return this.add(id, localActivityType(event));
  }

  private add(eventId: number, activity: string): RecordingPoint {
    const point = { workflowId: this.workflowId, ordinal: this.points.length + 1, eventId, activities: [activity] };
    this.points.push(point);
    return point;
  }
}

export async function recordingPointsOf(
  client: Client,
  workflowId: string,
  afterEventId = 0,
): Promise<RecordingPoint[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const points = new RecordingPoints(workflowId, afterEventId);
  for (const event of history.events ?? []) points.feed(event);
  return points.points;
}

/** The id of the workflow's last event so far. */
export async function lastEventId(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return Number(history.events?.at(-1)?.eventId ?? 0);
}

/**
 * Resolves as soon as the workflow's `ordinal`-th recording point is in its history (a long poll: the server
 * answers when events are appended), waiting for the workflow to exist first. Rejects if it closes before.
 */
export async function waitForRecordingPoint(
  client: Client,
  workflowId: string,
  ordinal: number,
  afterEventId = 0,
  signal?: AbortSignal,
): Promise<RecordingPoint> {
  const points = new RecordingPoints(workflowId, afterEventId);
  let nextPageToken: Uint8Array | undefined;
  for (;;) {
    signal?.throwIfAborted();
    let response: HistoryResponse;
    try {
      response = await client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId },
        waitNewEvent: true,
        nextPageToken,
      });
    } catch (error) {
      // NOT_FOUND: a child not started yet.
      if (isGrpcServiceError(error) && Number(error.code) === 5) {
        await sleep(100);
        continue;
      }
      throw error;
    }
    for (const event of response.history?.events ?? []) {
      const point = points.feed(event);
      if (point?.ordinal === ordinal) return point;
    }
    if (!response.nextPageToken?.length) {
      throw new Error(`${workflowId} closed with ${points.points.length} recording points; waited for #${ordinal}`);
    }
    nextPageToken = response.nextPageToken;
  }
}
