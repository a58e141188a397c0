/**
 * Ports for replicas that are starting. A port found free stays reserved for a second, until
 * the replica that got it records it, so two concurrent starts never get the same port.
 */

/** Recently handed-out ports, kept out of the next searches along with the ports in use. */
export class PortReservations {
  readonly #pending = new Set<number>();

  /**
   * `find` returns a free loopback port outside `exclude`; `inUse` lists the ports replicas
   * have recorded.
   */
  constructor(
    private readonly find: (exclude: ReadonlySet<number>) => Promise<number>,
    private readonly inUse: () => readonly number[],
  ) {}

  /** A free port that no replica uses and no other start has reserved. */
  async allocate(): Promise<number> {
    const exclude = new Set([...this.#pending, ...this.inUse()]);
    const port = await this.find(exclude);
    // Held until the replica records it, so two concurrent starts never get the same port.
    this.#pending.add(port);
    setTimeout(() => this.#pending.delete(port), 1_000).unref();
    return port;
  }
}
