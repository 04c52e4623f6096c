/**
 * Every error a client can see. `code` is stable (clients and tests switch on it); `message`
 * is Chinese and says what to do next, because most of our users read nothing else.
 * Add new kinds here rather than building AppErrors inline.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Array<{ field: string; message: string }>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export type ErrorDetails = AppError['details'];

export const ValidationError = (message = '提交的内容有误，请检查后重试', details?: ErrorDetails) =>
  new AppError(400, 'validation_error', message, details);

export const InvalidJsonError = () =>
  new AppError(400, 'invalid_json', '提交的内容不是有效的 JSON，请检查格式后重试');

export const AuthenticationError = (message = '请先登录后再操作') =>
  new AppError(401, 'unauthenticated', message);

export const AuthorizationError = (message = '您没有权限进行此操作，如有疑问请联系社区工作人员') =>
  new AppError(403, 'forbidden', message);

export const NotFoundError = (message = '没有找到您要的内容，可能已被删除') =>
  new AppError(404, 'not_found', message);

export const RouteNotFoundError = () =>
  new AppError(404, 'route_not_found', '接口地址不存在，请检查地址是否正确');

export const MethodNotAllowedError = (allowed: string[]) =>
  new AppError(405, 'method_not_allowed', `此接口不支持该请求方式，请使用 ${allowed.join(' / ')}`, undefined, {
    Allow: allowed.join(', '),
  });

export const ConflictError = (message = '操作冲突，请刷新后重试', code = 'conflict') =>
  new AppError(409, code, message);

export const PayloadTooLargeError = () =>
  new AppError(413, 'payload_too_large', '提交的内容太大，请精简后重试');

export const UnsupportedMediaTypeError = () =>
  new AppError(415, 'unsupported_media_type', '请以 JSON 格式提交（Content-Type: application/json）');

export const RateLimitedError = (retryAfterSeconds: number) =>
  new AppError(429, 'rate_limited', `操作太频繁了，请 ${retryAfterSeconds} 秒后再试`, undefined, {
    'Retry-After': String(retryAfterSeconds),
  });

export const ServiceUnavailableError = (message = '服务暂时不可用，请稍后再试') =>
  new AppError(503, 'service_unavailable', message);

export const InternalError = () =>
  new AppError(500, 'internal_error', '系统出了点问题，请稍后再试；如果一直这样，请联系社区工作人员');
