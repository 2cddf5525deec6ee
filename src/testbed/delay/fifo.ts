/**
 * One queue's held packets. The delay of a queue is constant, so packets leave in the order they came:
 * a FIFO (ring of ids and due times) is enough, no heap (DESIGN.md "Testbed facts").
 */
export class Fifo {
  private ids = new Uint32Array(1024);
  private due = new Float64Array(1024);
  private head = 0;
  private count = 0;

  constructor(
    /** Index of the socket (namespace) this queue lives on. */
    readonly sock: number,
    readonly num: number,
    readonly delayNs: number,
  ) {}

  get size(): number {
    return this.count;
  }

  push(id: number, dueNs: number): void {
    if (this.count === this.ids.length) this.grow();
    const i = (this.head + this.count) & (this.ids.length - 1);
    this.ids[i] = id;
    this.due[i] = dueNs;
    this.count++;
  }

  /** Due time of the oldest packet, or Infinity. */
  nextDue(): number {
    return this.count ? this.due[this.head]! : Infinity;
  }

  /** Removes every packet due by `now`; returns the id of the last one, or -1 if none was due. */
  popDue(now: number): number {
    let last = -1;
    const mask = this.ids.length - 1;
    while (this.count && this.due[this.head]! <= now) {
      last = this.ids[this.head]!;
      this.head = (this.head + 1) & mask;
      this.count--;
    }
    return last;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Uint32Array(n), due = new Float64Array(n);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & (this.ids.length - 1);
      ids[k] = this.ids[i]!;
      due[k] = this.due[i]!;
    }
    this.ids = ids;
    this.due = due;
    this.head = 0;
  }
}
