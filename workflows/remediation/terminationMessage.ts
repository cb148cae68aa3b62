/**
 * Turns a failed container's termination message (with FallbackToLogsOnError, the tail of its log) into the one
 * line the pod classification (containers.ts) puts into the problem it reports. Pure code.
 */

/** What catapult (or seed-init) printed last, as it reaches a condition message and an Event. */
export const MAX_LOG_DETAIL = 400;

// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
/** `2016-04-24 12:22:06.358231 0x00007FFF774EB000: <fatal> (process::ProcessMain.cpp@139) message` (utils/Logging.cpp). */
const CATAPULT_LOG_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: 0x[0-9A-Fa-f]+:)? <([a-z]+)> \([^)]*\) ?(.*)$/;

/**
 * One line out of a container's termination message, which with `FallbackToLogsOnError` is the tail of its log
 * (up to 80 lines): catapult's colour codes, time stamps, thread ids and source locations dropped; its last
 * `<fatal>`/`<error>` lines if there are any (what went wrong, not the shutdown chatter after it), else the last
 * lines; at most `max` characters, keeping the end, where the cause is.
 */
export function summariseTerminationMessage(text: string | undefined, max = MAX_LOG_DETAIL): string {
  const lines = (text ?? '')
    .replace(ANSI_ESCAPE, '')
    .split(/\r\n|\r|\n/)
    .map((raw) => {
      const line = raw.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
      const match = CATAPULT_LOG_LINE.exec(line);
      if (!match) return { level: undefined, text: line };
      return { level: match[1], text: `<${match[1]}> ${(match[2] ?? '').trim()}`.trim() };
    })
    .filter((line) => line.text !== '');
  const serious = lines.filter((line) => line.level === 'fatal' || line.level === 'error');
  const chosen = (serious.length > 0 ? serious : lines).slice(-3).map((line) => line.text);
  const joined = chosen.join(' | ');
  return joined.length <= max ? joined : `…${joined.slice(joined.length - (max - 1))}`;
}
