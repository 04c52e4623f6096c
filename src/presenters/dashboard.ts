import type { Types } from 'mongoose';
import type { DashboardFigures } from '../commands/dashboard.js';

/** The dashboard's figures: counts and hours only, no personal data. */
export function presentDashboard(community: Types.ObjectId, f: DashboardFigures) {
  return {
    community: String(community),
    from: f.from,
    to: f.to,
    days: f.days,
    rooms: f.rooms,
    meals: f.meals,
    childcare: f.childcare,
    volunteers: f.volunteers,
    visits: f.visits,
    ratings: f.ratings,
  };
}
