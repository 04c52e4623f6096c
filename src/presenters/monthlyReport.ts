import type { MonthlyReportDoc } from '../../models/monthlyReport.js';
import type { MonthlyFigures } from '../commands/monthlyReports.js';

/** A stored monthly report: the figures (no personal data in them) and when they were computed. */
export function presentMonthlyReport(report: MonthlyReportDoc) {
  // A report stored by an older version may lack a section: shown as null, never a crash.
  const f = (report.figures ?? {}) as Partial<MonthlyFigures>;
  return {
    community: String(report.community ?? ''),
    month: report.month,
    partial: report.partial ?? false,
    generatedAt: report.generatedAt,
    meals: f.meals ?? null,
    subsidies: f.subsidies ?? null,
    childcare: f.childcare ?? null,
    rooms: f.rooms ?? null,
    volunteers: f.volunteers ?? null,
    ratings: f.ratings ?? null,
  };
}
