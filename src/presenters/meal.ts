import type { DeliveryRunDoc } from '../../models/deliveryRun.js';
import type { FacilityDoc } from '../../models/facility.js';
import type { MealMenuDoc } from '../../models/mealMenu.js';
import type { MealOrderDoc } from '../../models/mealOrder.js';
import type { MealRatingDoc } from '../../models/mealRating.js';
import type { RecurringMealOrderDoc } from '../../models/recurringMealOrder.js';
import type { SubsidyRuleDoc } from '../../models/subsidyRule.js';
import type { WellnessAlertDoc } from '../../models/wellnessAlert.js';
import type { WellnessVisitDoc } from '../../models/wellnessVisit.js';
import type { MealQuote } from '../commands/mealOrders.js';

export function presentKitchen(k: FacilityDoc) {
  return {
    id: String(k._id),
    community: String(k.community),
    name: k.name,
    address: k.address,
    phone: k.phone ?? null,
    serviceArea: { grids: [...(k.serviceArea?.grids ?? [])], buildings: [...(k.serviceArea?.buildings ?? [])] },
    mealCutoffs: { lunch: k.mealCutoffs?.lunch ?? null, dinner: k.mealCutoffs?.dinner ?? null },
  };
}

export function presentMealMenu(m: MealMenuDoc, kitchen?: FacilityDoc, remaining?: number) {
  return {
    id: String(m._id),
    kitchen: String(m.kitchen),
    kitchenName: kitchen?.name ?? null,
    date: m.date,
    meal: m.meal,
    dishes: m.dishes.map((d) => ({ name: d.name, allergens: [...d.allergens], suitableFor: [...d.suitableFor] })),
    price: m.price,
    capacity: m.capacity,
    remaining: remaining ?? m.remaining,
    cutoff: m.cutoff,
    published: m.published,
    cutoffProcessedAt: m.cutoffProcessedAt ?? null,
  };
}

const breakdownOf = (b: MealOrderDoc['breakdown']) => ({
  unitPrice: b.unitPrice, quantity: b.quantity, tier: b.tier ?? null, subsidisedPrice: b.subsidisedPrice,
  subsidy: b.subsidy, deliveryFee: b.deliveryFee, toPay: b.toPay,
});

export function presentMealQuote(q: MealQuote) {
  return {
    menu: String(q.menu._id),
    kitchen: String(q.kitchen._id),
    date: q.menu.date,
    meal: q.menu.meal,
    forPerson: String(q.person._id),
    mode: q.mode,
    quantity: q.quantity,
    dietaryNeeds: q.dietaryNeeds,
    dietarySource: q.dietarySource,
    deliveryEligible: q.deliveryEligible,
    cutoff: q.menu.cutoff,
    breakdown: breakdownOf(q.breakdown),
  };
}

export function presentMealOrder(o: MealOrderDoc) {
  return {
    id: String(o._id),
    menu: String(o.menu),
    kitchen: String(o.kitchen),
    date: o.date,
    meal: o.meal,
    bookedFor: String(o.bookedFor),
    bookedBy: String(o.bookedBy),
    mode: o.mode,
    quantity: o.quantity,
    dietaryNeeds: [...o.dietaryNeeds],
    dietarySource: o.dietarySource,
    note: o.note ?? null,
    status: o.status,
    breakdown: breakdownOf(o.breakdown),
    recurring: o.recurring ? String(o.recurring) : null,
    outcome: o.outcome?.outcome
      ? { outcome: o.outcome.outcome, note: o.outcome.note ?? null, at: o.outcome.at ?? null, by: o.outcome.by ? String(o.outcome.by) : null }
      : null,
  };
}

export function presentRecurring(r: RecurringMealOrderDoc) {
  return {
    id: String(r._id),
    kitchen: String(r.kitchen),
    bookedFor: String(r.bookedFor),
    bookedBy: String(r.bookedBy),
    meal: r.meal,
    weekdays: [...r.weekdays],
    mode: r.mode,
    quantity: r.quantity,
    dietaryNeeds: r.dietaryNeeds ? [...r.dietaryNeeds] : null,
    from: r.from,
    until: r.until,
    status: r.status,
    suspensions: r.suspensions.map((s) => ({ from: s.from, resumeOn: s.resumeOn, reason: s.reason ?? null })),
  };
}

export function presentDeliveryRun(r: DeliveryRunDoc) {
  return {
    id: String(r._id),
    menu: String(r.menu),
    kitchen: String(r.kitchen),
    date: r.date,
    meal: r.meal,
    grid: r.grid,
    portions: r.portions,
    stops: r.stops.map((s) => ({
      order: String(s.order), person: String(s.person), building: s.building ?? null, unit: s.unit ?? null,
      room: s.room ?? null, quantity: s.quantity ?? 1, dietaryNeeds: [...(s.dietaryNeeds ?? [])],
    })),
    volunteerTask: r.volunteerTask ? String(r.volunteerTask) : null,
  };
}

export function presentWellnessAlert(a: WellnessAlertDoc) {
  return {
    id: String(a._id),
    order: String(a.order),
    elder: String(a.elder),
    kitchen: String(a.kitchen),
    kind: a.kind,
    note: a.note ?? null,
    raisedAt: a.raisedAt,
    raisedBy: String(a.raisedBy),
    recipients: a.recipients.map(String),
    status: a.status,
    closedBy: a.closedBy ? String(a.closedBy) : null,
    closedAt: a.closedAt ?? null,
    resolution: a.resolution ?? null,
  };
}

export function presentWellnessVisit(v: WellnessVisitDoc) {
  return { id: String(v._id), elder: String(v.elder), at: v.at, month: v.month, by: String(v.by), note: v.note ?? null, source: v.source };
}

export function presentMealRating(r: MealRatingDoc) {
  return {
    id: String(r._id), order: String(r.order), kitchen: String(r.kitchen), date: r.date, good: r.good,
    comment: r.comment ?? null, dishes: r.dishes.map((d) => ({ name: d.name, good: d.good })),
  };
}

export function presentSubsidyRule(r: SubsidyRuleDoc) {
  return {
    community: String(r.community),
    tiers: r.tiers.map((t) => ({
      label: t.label, minAge: t.minAge, maxAge: t.maxAge ?? null, requiresAnyTag: t.requiresAnyTag ? [...t.requiresAnyTag] : [], pay: t.pay,
    })),
    deliveryFee: r.deliveryFee,
  };
}
