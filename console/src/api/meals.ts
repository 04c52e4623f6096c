/** Meal shapes the console reads (MealMenu, MealOrder, KitchenSheet, DeliverySheet in /openapi.json). */
export interface Dish { name: string; allergens: string[]; suitableFor: string[] }
export interface MealMenu {
  id: string; kitchen: string; kitchenName: string | null; date: string; meal: 'lunch' | 'dinner'; dishes: Dish[];
  price: number; capacity: number; remaining: number; cutoff: string; published: boolean; cutoffProcessedAt: string | null;
}
export interface MealOrder {
  id: string; date: string; meal: 'lunch' | 'dinner'; bookedFor: string; bookedForName: string | null; mode: string; quantity: number;
  status: string; note: string | null; breakdown: { toPay: number; subsidy: number };
}
export interface DeliveryStop {
  order: string; person: string; name: string | null; phone: string | null; building: string | null; unit: string | null; room: string | null;
  floor: number | null; quantity: number; dietaryNeeds: string[]; note: string | null; status: string;
}
export interface DeliverySheet { grid: string; buildings: string[]; portions: number; stops: DeliveryStop[] }

export const MEALS: Record<string, string> = { lunch: '午餐', dinner: '晚餐' };
export const MODES: Record<string, string> = { dine_in: '堂食', pickup: '自取', delivery: '送餐上门' };
export const ORDER_STATUS: Record<string, string> = { confirmed: '已订', cancelled: '已取消', delivered: '已送达', served: '已用餐', not_at_home: '不在家', needs_attention: '需要关注' };
