/**
 * Importing this module registers every mongoose model on the default connection, so
 * ensureIndexes() at start sees them all. Each service issue adds its models here.
 */
export * from './community.js';
export * from './facility.js';
export * from './person.js';
export * from './identity.js';
export * from './proxyLink.js';
export * from './room.js';
export * from './mealMenu.js';
export * from './subsidyRule.js';
export * from './mealOrder.js';
export * from './recurringMealOrder.js';
export * from './deliveryRun.js';
export * from './wellnessAlert.js';
export * from './wellnessVisit.js';
export * from './mealRating.js';
export * from './serviceRating.js';
export * from './childcareSession.js';
export * from './child.js';
export * from './childcareBooking.js';
export * from './childcareWaitlist.js';
export * from './volunteerTask.js';
export * from './openingHours.js';
export * from './refreshToken.js';
export * from './auditEntry.js';
export * from './capacityClaim.js';
export * from './roomBooking.js';
export * from './blackout.js';
export * from './noShow.js';
export * from './notification.js';
export * from './bookingBlock.js';
export * from './volunteerAssignment.js';
export * from './volunteerAbsence.js';
export * from './timeBankEntry.js';
export * from './notificationDelivery.js';
export * from './subscriptionGrant.js';
export * from './jobRun.js';
export * from './monthlyReport.js';
export * from './urgentAlert.js';
export * from './idempotencyRecord.js';
export * from './notificationRead.js';
export * from './dailyFigures.js';
export * from './volunteerRecordCache.js';
export * from './personalDataExport.js';
export * from './listHorizon.js';
