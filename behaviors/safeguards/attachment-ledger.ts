/** Attachment signals tracked over study days, so staff see a trend rather than single remarks. */

/** Attachment flags counted on one study day. */
export interface DayCount {
  studyDay: number;
  count: number;
}

/** A trend summary over the days seen so far. */
export interface AttachmentTrend {
  days: DayCount[];
  total: number;
  /** Mean flags per active day over the last `window` days seen versus the days before. */
  recentMean: number;
  earlierMean: number;
  /** True when the last `window` days each had flags and their mean rose above the earlier mean. */
  rising: boolean;
}

/** Per-day counts of attachment flags; seed it from the store, then `record` each new flag. */
export class AttachmentLedger {
  private readonly counts = new Map<number, number>();

  constructor(initial: readonly DayCount[] = []) {
    for (const d of initial) this.counts.set(d.studyDay, (this.counts.get(d.studyDay) ?? 0) + d.count);
  }

  /** Count one attachment flag on a study day. */
  record(studyDay: number): void {
    this.counts.set(studyDay, (this.counts.get(studyDay) ?? 0) + 1);
  }

  /** Flags on one study day. */
  countOn(studyDay: number): number {
    return this.counts.get(studyDay) ?? 0;
  }

  /** Trend over days: `rising` when the last `window` consecutive days all had flags and outpace earlier days. */
  trend(window = 3): AttachmentTrend {
    const days = [...this.counts.entries()].sort((a, b) => a[0] - b[0]).map(([studyDay, count]) => ({ studyDay, count }));
    const total = days.reduce((s, d) => s + d.count, 0);
    const last = days.at(-1)?.studyDay;
    const recent = last === undefined ? [] : Array.from({ length: window }, (_, i) => this.countOn(last - window + 1 + i));
    const earlier = days.filter((d) => last !== undefined && d.studyDay <= last - window);
    const recentMean = recent.length ? recent.reduce((s, c) => s + c, 0) / recent.length : 0;
    const earlierSpan = earlier.length ? Math.max(1, earlier.at(-1)!.studyDay - days[0]!.studyDay + 1) : 0;
    const earlierMean = earlierSpan ? earlier.reduce((s, d) => s + d.count, 0) / earlierSpan : 0;
    const rising = recent.length === window && recent.every((c) => c > 0) && recentMean > earlierMean;
    return { days, total, recentMean, earlierMean, rising };
  }
}
