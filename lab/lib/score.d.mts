/** Types of lab/lib/score.mjs, for the TypeScript integration test (test/lab/lab.test.ts). */
export declare const CAUSES: readonly string[];

export interface CauseScore {
  truth: number;
  predicted: number;
  tp: number;
  precision: number | null;
  recall: number | null;
}

export interface LabScore {
  total: number;
  correct: number;
  accuracy: number;
  /** healthy users logdiag reported as failed */
  falseFailures: string[];
  perCause: Record<string, CauseScore>;
  verdicts: Record<string, string>;
  misses: { user: string; truth: string; got: string; finding?: unknown }[];
  unattributed: { cause: string; keys: unknown }[];
}

export declare function score(truthUsers: Record<string, string>, report: unknown): LabScore;
export declare function formatScore(name: string, s: LabScore): string;
