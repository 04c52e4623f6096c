import type { MonthlyReportDoc } from '../../models/monthlyReport.js';
import type { MonthlyFigures } from '../commands/monthlyReports.js';

/** A stored monthly report: the figures (no personal data in them) and when they were computed. */
export function presentMonthlyReport(report: MonthlyReportDoc) {
  const f = report.figures as MonthlyFigures;
  return {
    community: String(report.community ?? ''),
    month: report.month,
    partial: report.partial,
    generatedAt: report.generatedAt,
    meals: f.meals,
    subsidies: f.subsidies,
    childcare: f.childcare,
    rooms: f.rooms,
    volunteers: f.volunteers,
    ratings: f.ratings,
  };
}
