/** WeChat's server APIs (login, access token, subscribe messages) and the local stand-in. */
export {
  WechatApiError,
  WechatClient,
  truncateSubscribeValue,
  type SubscribeFieldKind,
  type SubscribeMessage,
  type WechatClientOptions,
  type WechatSession,
} from './client.js';
export {
  WechatStandIn,
  startWechatStandIn,
  type SentSubscribeMessage,
  type WechatStandInFailure,
  type WechatStandInOptions,
  type WechatStandInPath,
} from './standIn.js';
