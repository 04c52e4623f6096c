import Joi from 'joi';
import { ProxyLink } from '../../../../models/proxyLink.js';
import { Person, type PersonFields } from '../../../../models/person.js';
import type { AuthUser } from '../../../auth/user.js';
import { issueBindingCode } from '../../../commands/botBinding.js';
import { anonymisePerson } from '../../../commands/privacy.js';
import { updateProfile } from '../../../commands/residents.js';
import { authorize } from '../../../policies/index.js';
import { presentPerson } from '../../../presenters/person.js';
import { presentProxyLink } from '../../../presenters/proxyLink.js';
import type { ApiRouter } from '../../apiRouter.js';
import { PersonResponse, profileFields } from '../common.js';
import type { RouteDeps } from '../deps.js';
import { BindingCodeResponse } from '../residents/schema.js';
import { ProxyLinkResponse } from '../proxyLinks/schema.js';
import { registerMyExportRoutes } from './exports.js';
import { registerMyNotificationRoutes } from './notifications.js';

const tags = ['我的'];

/** The caller as a document, for the commands that change it (`user.person` is a plain record). */
const personDocOf = (user: AuthUser) => Person.hydrate(user.person);

/** The signed-in person's own record: profile, bot binding code, 代办 links, export, deletion. */
export function registerMeRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];
  registerMyNotificationRoutes(api, deps);
  registerMyExportRoutes(api, deps);

  api.route({
    method: 'get', path: '/me', operationId: 'me.get', summary: '我的资料', tags, before,
    responses: { 200: { description: 'My record, unmasked', schema: PersonResponse } },
    handler: (ctx) => {
      ctx.body = presentPerson(ctx.state.user.person, ctx.state.user);
    },
  });

  api.route({
    method: 'patch', path: '/me', operationId: 'me.update', summary: '完善或修改我的资料', tags, before,
    description: 'A new user completes the profile here (name, phone, community…); staff then verify it.',
    schema: { body: Joi.object(profileFields).min(1) },
    responses: { 200: { description: 'Updated', schema: PersonResponse }, 409: { description: 'community_locked' } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'update', user.person);
      const person = await updateProfile(user, personDocOf(user), ctx.state.input.body, ctx.state.requestId);
      ctx.body = presentPerson(person, user);
    },
  });

  api.route({
    method: 'post', path: '/me/binding-code', operationId: 'me.bindingCode', summary: '获取绑定聊天机器人的 6 位绑定码', tags,
    before: [...before, deps.limit('binding')],
    description: 'Send the code to the community WeChat bot within the validity period to bind that WeChat contact.',
    responses: { 201: { description: 'A one-time code', schema: BindingCodeResponse } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'issueBindingCode', user.person);
      ctx.status = 201;
      ctx.body = await issueBindingCode(deps.redis, user.person, deps.binding);
    },
  });

  api.route({
    method: 'get', path: '/me/proxy-links', operationId: 'me.proxyLinks', summary: '我的代办关联（我代办的和代办我的）', tags, before,
    responses: { 200: { description: 'Links', schema: Joi.object({ items: Joi.array().items(ProxyLinkResponse) }) } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      const links = await ProxyLink.find({ $or: [{ proxy: user.id }, { elder: user.id }] })
        .sort({ createdAt: -1 })
        .populate<{ proxy: PersonFields; elder: PersonFields }>(['proxy', 'elder']);
      ctx.body = { items: links.map(presentProxyLink) };
    },
  });

  api.route({
    method: 'post', path: '/me/deletion', operationId: 'me.delete', summary: '注销账号并删除个人信息', tags, before,
    description: 'Erases what identifies me; service statistics are kept anonymously. Signs out everywhere.',
    schema: { body: Joi.object({ confirm: Joi.string().valid('确认注销').required().label('确认文字') }) },
    responses: { 204: { description: 'Deleted' } },
    handler: async (ctx) => {
      const { user } = ctx.state;
      authorize(user, 'delete', user.person);
      await anonymisePerson(deps, personDocOf(user), ctx.state.requestId);
      ctx.status = 204;
    },
  });
}
