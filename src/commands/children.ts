import { Types } from 'mongoose';
import { Child, type ChildDoc } from '../../models/child.js';
import type { AuthUser } from '../auth/user.js';
import { BookingRuleError, NotFoundError } from '../errors.js';

export async function findChild(id: string): Promise<ChildDoc> {
  const child = Types.ObjectId.isValid(id) ? await Child.findById(id) : null;
  if (!child) throw NotFoundError('没有找到这个孩子的资料');
  return child;
}

export interface ChildProfile {
  name?: string;
  birthDate?: Date;
  allergies?: string[];
  healthNotes?: string;
}

/** Childcare is for children under 3: a birth date in the future or 3+ years ago is refused. */
function assertBirthDate(birthDate: Date, now: Date) {
  const age = now.getTime() - birthDate.getTime();
  if (age < 0 || age > 3 * 366 * 86_400_000) {
    throw BookingRuleError(400, 'child_age_out_of_range', '社区托育服务 0–3 岁婴幼儿，请核对出生日期');
  }
}

/** A parent registers their child; the caller is the (first) parent. */
export async function createChild(user: AuthUser, profile: Required<Pick<ChildProfile, 'name' | 'birthDate'>> & ChildProfile, now = new Date()) {
  assertBirthDate(profile.birthDate, now);
  return Child.create({
    parents: [user.person._id],
    name: profile.name,
    birthDate: profile.birthDate,
    allergies: profile.allergies ?? [],
    healthNotes: profile.healthNotes,
    guardians: [],
  });
}

export async function updateChild(child: ChildDoc, profile: ChildProfile, now = new Date()) {
  if (profile.birthDate) assertBirthDate(profile.birthDate, now);
  child.set(profile);
  await child.save();
  return child;
}

export interface GuardianRequest {
  name: string;
  relation: string;
  phone: string;
}

/**
 * A parent authorises someone else (a grandparent, a nanny) to pick the child up; the record
 * keeps which parent authorised them and when. Only a parent may do it (the policy decides).
 */
export async function addGuardian(user: AuthUser, child: ChildDoc, req: GuardianRequest, now = new Date()) {
  if (child.guardians.some((g) => g.phone === req.phone)) {
    throw BookingRuleError(409, 'guardian_exists', '这个手机号已是授权接送人，如需修改请先删除再添加');
  }
  const parent = child.parents.find((p) => String(p) === user.id);
  if (!parent) throw BookingRuleError(403, 'parent_authorisation_required', '只有孩子的父母可以授权接送人');
  child.guardians.push({ ...req, authorisedBy: parent, authorisedAt: now });
  await child.save();
  return child;
}

export async function removeGuardian(child: ChildDoc, guardianId: string) {
  const guardian = child.guardians.find((g) => String(g._id) === guardianId);
  if (!guardian) throw NotFoundError('没有找到这位接送人');
  child.guardians.pull({ _id: guardian._id });
  await child.save();
  return child;
}
