// Runs in main, the server, the CLI and tests. Decoded pixels held for reuse under a byte budget,
// least recently used first out. The budget is a setting (RESIGHT_FRAME_CACHE_MB, or set live),
// because a 100-image CR study decodes to far more memory than a workstation should keep.

/** 1 GiB: about 70 decoded 3,000 × 2,500 16-bit radiographs. */
export const DEFAULT_FRAME_CACHE_BYTES = 1024 ** 3;

export function frameCacheBudget(): number {
  const mb = Number(process.env.RESIGHT_FRAME_CACHE_MB);
  return Number.isFinite(mb) && mb > 0 ? Math.round(mb * 1024 ** 2) : DEFAULT_FRAME_CACHE_BYTES;
}

export class ByteBudgetCache<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private held = 0;
  /** Entries dropped to stay within the budget (for tests and diagnostics). */
  evictions = 0;

  constructor(
    private budget: number,
    private readonly sizeOf: (value: V) => number,
  ) {}

  /** Bytes held now. */
  get bytes(): number {
    return this.held;
  }

  get budgetBytes(): number {
    return this.budget;
  }

  get size(): number {
    return this.entries.size;
  }

  setBudget(bytes: number): void {
    this.budget = bytes;
    this.evict();
  }

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  /** A value larger than the whole budget is not kept: its caller holds it for as long as it needs. */
  put(key: string, value: V): void {
    this.delete(key);
    const bytes = this.sizeOf(value);
    if (bytes > this.budget) return;
    this.entries.set(key, { value, bytes });
    this.held += bytes;
    this.evict();
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.held -= old.bytes;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.held <= this.budget) return;
      this.entries.delete(key);
      this.held -= entry.bytes;
      this.evictions++;
    }
  }
}
