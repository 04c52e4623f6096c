import { Types } from 'mongoose';
import { Person } from '../../../../models/person.js';
import { acknowledgeUrgentAlert, findUrgentAlert, raiseUrgentHelp } from '../../../commands/urgentHelp.js';
import { NotFoundError } from '../../../errors.js';
import { authorize, recordOf } from '../../../policies/index.js';
import { presentUrgentAlert } from '../../../presenters/urgentAlert.js';
import type { ApiRouter } from '../../apiRouter.js';
import type { RouteDeps } from '../deps.js';
import { RaiseUrgentBody, UrgentAlertParams, UrgentAlertResponse } from './schema.js';

const tags = ['紧急求助'];

/**
 * 紧急求助 from the mini-program (the SOS button): the same command as the bot's distress
 * messages, so the same people are told; and the acknowledgement by the first who answers.
 * Not rate-limited beyond the resident class: an alarm must always get through.
 */
export function registerUrgentAlertRoutes(api: ApiRouter, deps: RouteDeps): void {
  const before = [deps.authenticate];

  api.route({
    method: 'post', path: '/urgent-alerts', operationId: 'urgentAlerts.raise', summary: '紧急求助（小程序一键求助）', tags, before,
    description: 'Tells the person\'s family (代办), the grid workers of their grid and the community\'s staff at once. One open alert per person: raising again while it is open adds the words and tells nobody twice. Answer with 120 / 110 / 119 and dutyPhone.',
    schema: { body: RaiseUrgentBody },
    responses: { 201: { description: 'Raised (or added to the open one)', schema: UrgentAlertResponse }, 403: { description: 'forbidden' }, 404: { description: 'not_found' } },
    handler: async (ctx) => {
      const { words = '', forPerson } = ctx.state.input.body as { words?: string; forPerson?: string };
      const user = ctx.state.user;
      const person = !forPerson || forPerson === user.id ? user.person : Types.ObjectId.isValid(forPerson) ? await Person.findById(forPerson).lean() : null;
      if (!person || person.status === 'anonymised') throw NotFoundError('没有找到这位居民');
      authorize(user, 'raiseUrgentHelp', person === user.person ? person : recordOf(Person, person));
      const { alert, dutyPhone } = await raiseUrgentHelp(deps.config.urgent, person, user.person._id, words, 'api');
      ctx.status = 201;
      ctx.body = presentUrgentAlert(alert, dutyPhone);
    },
  });

  api.route({
    method: 'post', path: '/urgent-alerts/:alertId/acknowledge', operationId: 'urgentAlerts.acknowledge', summary: '我来处理这条紧急求助', tags, before,
    description: 'The first who answers takes it; the person and the other recipients are told who comes.',
    schema: { params: UrgentAlertParams },
    responses: {
      200: { description: 'Acknowledged by the caller', schema: UrgentAlertResponse },
      403: { description: 'forbidden' }, 404: { description: 'not_found' }, 409: { description: 'urgent_already_acknowledged' },
    },
    handler: async (ctx) => {
      const alert = await findUrgentAlert(ctx.state.input.params.alertId as string);
      authorize(ctx.state.user, 'acknowledge', alert);
      ctx.body = presentUrgentAlert(await acknowledgeUrgentAlert(ctx.state.user, alert));
    },
  });
}
