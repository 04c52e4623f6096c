/**
 * One message understood, exactly as ../shared/nlu/CONTRACT.md defines it (the fields of
 * `npm run -s nlu`). Dates are Shanghai days, times 'HH:MM'.
 */
export interface Understanding {
  intent: string;
  dates?: string[];
  start?: string;
  end?: string;
  meal?: 'breakfast' | 'lunch' | 'dinner';
  mode?: 'delivery' | 'dine_in' | 'pickup';
  quantity?: number;
  people?: number;
  dietary?: string[];
  forOther?: true;
  choice?: number;
}
