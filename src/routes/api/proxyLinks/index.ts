import { confirmProxyLink, findProxyLink, requestProxyLink, revokeProxyLink } from '../../../commands/proxyLinks.js';
import { authorize } from '../../../policies/index.js';
import { presentProxyLink, withParties } from '../../../presenters/proxyLink.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { LinkParams, ProxyLinkResponse, RequestProxyLinkBody } from './schema.js';

const tags = ['代办'];

/** 代办: a helper asks to act for an elder, the elder confirms, either party or staff revokes. */
export function registerProxyLinkRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  api.route({
    method: 'post', path: '/proxy-links', operationId: 'proxyLinks.request', summary: '申请为老人代办（需老人本人确认）', tags, before,
    schema: { body: RequestProxyLinkBody },
    responses: {
      201: { description: 'A pending link', schema: ProxyLinkResponse },
      404: { description: 'No resident with that name and phone' },
      409: { description: 'already_linked' },
    },
    handler: async (ctx) => {
      const { elderPhone, elderName, relation } = ctx.state.input.body as { elderPhone: string; elderName: string; relation: never };
      const link = await requestProxyLink(ctx.state.user, elderPhone, elderName, relation);
      ctx.status = 201;
      ctx.body = presentProxyLink(await withParties(link));
    },
  });

  api.route({
    method: 'post', path: '/proxy-links/:linkId/confirm', operationId: 'proxyLinks.confirm', summary: '老人确认代办申请', tags, before,
    schema: { params: LinkParams },
    responses: { 200: { description: 'Active', schema: ProxyLinkResponse }, 409: { description: 'proxy_link_not_pending' } },
    handler: async (ctx) => {
      const link = await findProxyLink(ctx.state.input.params.linkId as string);
      authorize(ctx.state.user, 'confirm', link);
      ctx.body = presentProxyLink(await withParties(await confirmProxyLink(ctx.state.user, link)));
    },
  });

  api.route({
    method: 'delete', path: '/proxy-links/:linkId', operationId: 'proxyLinks.revoke', summary: '撤销代办关联', tags, before,
    schema: { params: LinkParams },
    responses: { 200: { description: 'Revoked', schema: ProxyLinkResponse }, 409: { description: 'proxy_link_revoked' } },
    handler: async (ctx) => {
      const link = await findProxyLink(ctx.state.input.params.linkId as string);
      authorize(ctx.state.user, 'revoke', link);
      ctx.body = presentProxyLink(await withParties(await revokeProxyLink(ctx.state.user, link)));
    },
  });
}
