/**
 * The turns this process answers at once; the others wait in the order they arrived (issue 20).
 *
 * With every message in flight at once, 200 residents writing together shared the CPU and the
 * database round by round: each answer waited for everybody's work interleaved with its own, so
 * the steps with most round trips (确认, which books) came last, seconds behind. In arrival
 * order the same work is done in the same time, but a message waits only for those that came
 * before it, and the database sees at most `limit` turns' queries at once. Urgent messages
 * (紧急求助) never enter the queue: the bot answers them before any turn.
 */
export class TurnQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a turn queue runs at least one turn at once, not ${limit}`);
  }

  /** Turns waiting for a place (for the metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `turn` when one of the `limit` places is free, after the turns that came before it. */
  async run<T>(turn: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    // The place is handed over by the turn that leaves it, so `running` never drops in between.
    else await new Promise<void>((take) => this.waiting.push(take));
    try {
      return await turn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
