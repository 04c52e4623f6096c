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
import { idOf, listOf } from './fields.js';

export function presentKitchen(k: FacilityDoc) {
  return {
    id: idOf(k._id),
    community: idOf(k.community),
    name: k.name,
    address: k.address,
    phone: k.phone ?? null,
    serviceArea: { grids: [...(k.serviceArea?.grids ?? [])], buildings: [...(k.serviceArea?.buildings ?? [])] },
    mealCutoffs: { lunch: k.mealCutoffs?.lunch ?? null, dinner: k.mealCutoffs?.dinner ?? null },
  };
}

export function presentMealMenu(m: MealMenuDoc, kitchen?: FacilityDoc, remaining?: number) {
  return {
    id: idOf(m._id),
    kitchen: idOf(m.kitchen),
    kitchenName: kitchen?.name ?? null,
    date: m.date,
    meal: m.meal,
    dishes: listOf(m.dishes).map((d) => ({ name: d.name, allergens: listOf(d.allergens), suitableFor: listOf(d.suitableFor) })),
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
    menu: idOf(q.menu._id),
    kitchen: idOf(q.kitchen._id),
    date: q.menu.date,
    meal: q.menu.meal,
    forPerson: idOf(q.person._id),
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
    id: idOf(o._id),
    menu: idOf(o.menu),
    kitchen: idOf(o.kitchen),
    date: o.date,
    meal: o.meal,
    bookedFor: idOf(o.bookedFor),
    bookedBy: idOf(o.bookedBy),
    mode: o.mode,
    quantity: o.quantity,
    dietaryNeeds: listOf(o.dietaryNeeds),
    dietarySource: o.dietarySource,
    note: o.note ?? null,
    status: o.status,
    breakdown: breakdownOf(o.breakdown),
    recurring: o.recurring ? idOf(o.recurring) : null,
    outcome: o.outcome?.outcome
      ? { outcome: o.outcome.outcome, note: o.outcome.note ?? null, at: o.outcome.at ?? null, by: o.outcome.by ? String(o.outcome.by) : null }
      : null,
  };
}

export function presentRecurring(r: RecurringMealOrderDoc) {
  return {
    id: idOf(r._id),
    kitchen: idOf(r.kitchen),
    bookedFor: idOf(r.bookedFor),
    bookedBy: idOf(r.bookedBy),
    meal: r.meal,
    weekdays: listOf(r.weekdays),
    mode: r.mode,
    quantity: r.quantity,
    dietaryNeeds: r.dietaryNeeds ? listOf(r.dietaryNeeds) : null,
    from: r.from,
    until: r.until,
    status: r.status,
    suspensions: listOf(r.suspensions).map((s) => ({ from: s.from, resumeOn: s.resumeOn, reason: s.reason ?? null })),
  };
}

export function presentDeliveryRun(r: DeliveryRunDoc) {
  return {
    id: idOf(r._id),
    menu: idOf(r.menu),
    kitchen: idOf(r.kitchen),
    date: r.date,
    meal: r.meal,
    grid: r.grid,
    portions: r.portions,
    stops: listOf(r.stops).map((s) => ({
      order: idOf(s.order), person: idOf(s.person), building: s.building ?? null, unit: s.unit ?? null,
      room: s.room ?? null, quantity: s.quantity ?? 1, dietaryNeeds: [...(s.dietaryNeeds ?? [])],
    })),
    volunteerTask: r.volunteerTask ? idOf(r.volunteerTask) : null,
  };
}

export function presentWellnessAlert(a: WellnessAlertDoc) {
  return {
    id: idOf(a._id),
    order: idOf(a.order),
    elder: idOf(a.elder),
    kitchen: idOf(a.kitchen),
    kind: a.kind,
    note: a.note ?? null,
    raisedAt: a.raisedAt,
    raisedBy: idOf(a.raisedBy),
    recipients: listOf(a.recipients).map(idOf),
    status: a.status,
    closedBy: a.closedBy ? idOf(a.closedBy) : null,
    closedAt: a.closedAt ?? null,
    resolution: a.resolution ?? null,
  };
}

export function presentWellnessVisit(v: WellnessVisitDoc) {
  return { id: idOf(v._id), elder: idOf(v.elder), at: v.at, month: v.month, by: idOf(v.by), note: v.note ?? null, source: v.source };
}

export function presentMealRating(r: MealRatingDoc) {
  return {
    id: idOf(r._id), order: idOf(r.order), kitchen: idOf(r.kitchen), date: r.date, good: r.good,
    comment: r.comment ?? null, dishes: listOf(r.dishes).map((d) => ({ name: d.name, good: d.good })),
  };
}

export function presentSubsidyRule(r: SubsidyRuleDoc) {
  return {
    community: idOf(r.community),
    tiers: listOf(r.tiers).map((t) => ({
      label: t.label, minAge: t.minAge, maxAge: t.maxAge ?? null, requiresAnyTag: listOf(t.requiresAnyTag), pay: t.pay,
    })),
    deliveryFee: r.deliveryFee,
  };
}
