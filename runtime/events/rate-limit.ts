/**
 * Per-target rate limits (events per second, as EventBridge API destinations and the DSL's
 * rate-limit extension have them): a sliding window that grants at most `perSecond` sends in
 * any second. A send that would exceed it is told how long to wait; the delivery loop puts
 * the event back in the queue for that long, so excess is delayed, never dropped.
 *
 * The window is kept per worker: with several workers a target may see up to that many times
 * the limit.
 */

/** Extra spacing on top of the second, so network jitter does not let a target see one more. */
const MARGIN_MS = 20;

export class RateLimiter {
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes a slot for `key` now and returns 0, or returns how many ms until one frees up. */
  reserve(key: string, perSecond: number): number {
    const now = this.now();
    const limit = Math.max(1, Math.floor(perSecond));
    let sent = this.windows.get(key);
    if (!sent) {
      sent = [];
      this.windows.set(key, sent);
    }
    while (sent.length > 0 && now - sent[0]! >= 1000 + MARGIN_MS) sent.shift();
    if (sent.length < limit) {
      sent.push(now);
      return 0;
    }
    return sent[0]! + 1000 + MARGIN_MS - now;
  }
}
