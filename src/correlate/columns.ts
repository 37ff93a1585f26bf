/**
 * Growable columns of numbers: per-connection facts kept for a whole run (time-matching slots) cost
 * 4 or 8 bytes each instead of an object per row.
 */
abstract class Column<A extends Float64Array | Int32Array> {
  protected values: A;
  length = 0;

  constructor(private readonly make: (n: number) => A) {
    this.values = make(1024);
  }

  push(v: number): void {
    if (this.length === this.values.length) {
      const bigger = this.make(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = v;
  }

  get(i: number): number {
    return this.values[i];
  }
}

export class F64Column extends Column<Float64Array> {
  constructor() {
    super((n) => new Float64Array(n));
  }
}

export class I32Column extends Column<Int32Array> {
  constructor() {
    super((n) => new Int32Array(n));
  }
}
